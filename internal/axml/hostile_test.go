package axml

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
	"time"
)

// rawElement returns a start-element chunk whose name is string 0 and
// whose attributes are named by the given string indexes (int values).
func rawElement(names []uint32) []byte {
	le := binary.LittleEndian
	var b []byte
	b = le.AppendUint16(b, chunkStartElement)
	b = le.AppendUint16(b, 16)
	b = le.AppendUint32(b, uint32(36+20*len(names)))
	b = le.AppendUint32(b, 1)
	b = le.AppendUint32(b, 0xFFFFFFFF)
	b = le.AppendUint32(b, 0xFFFFFFFF)
	b = le.AppendUint32(b, 0)
	b = le.AppendUint16(b, 20)
	b = le.AppendUint16(b, 20)
	b = le.AppendUint16(b, uint16(len(names)))
	b = append(b, 0, 0, 0, 0, 0, 0)
	for _, n := range names {
		b = le.AppendUint32(b, 0xFFFFFFFF)
		b = le.AppendUint32(b, n)
		b = le.AppendUint32(b, 0xFFFFFFFF)
		b = le.AppendUint16(b, 8)
		b = append(b, 0, typeIntDec)
		b = le.AppendUint32(b, 7)
	}
	return b
}

// rawDoc wraps a string pool of count strings whose offsets all point at
// one UTF-8 string s, then the chunks.
func rawDoc(count int, s string, chunks ...[]byte) []byte {
	le := binary.LittleEndian
	data := appendLen8(appendLen8(nil, len(s)), len(s))
	data = append(data, s...)
	data = append(data, 0)
	for len(data)%4 != 0 {
		data = append(data, 0)
	}
	var pool []byte
	pool = le.AppendUint16(pool, chunkStringPool)
	pool = le.AppendUint16(pool, 28)
	pool = le.AppendUint32(pool, uint32(28+4*count+len(data)))
	pool = le.AppendUint32(pool, uint32(count))
	pool = le.AppendUint32(pool, 0)
	pool = le.AppendUint32(pool, 0x100)
	pool = le.AppendUint32(pool, uint32(28+4*count))
	pool = le.AppendUint32(pool, 0)
	pool = append(pool, make([]byte, 4*count)...)
	pool = append(pool, data...)
	body := pool
	for _, c := range chunks {
		body = append(body, c...)
	}
	var out []byte
	out = le.AppendUint16(out, chunkXML)
	out = le.AppendUint16(out, 8)
	out = le.AppendUint32(out, uint32(8+len(body)))
	return append(out, body...)
}

type hostileDoc struct {
	name  string
	data  []byte
	limit bool // a *LimitError is expected
}

// hostileDocs are crafted manifests the parser must refuse quickly.
func hostileDocs() []hostileDoc {
	le := binary.LittleEndian
	var docs []hostileDoc
	{
		var chunks [][]byte
		for range maxDepth + 10 {
			chunks = append(chunks, rawElement(nil))
		}
		docs = append(docs, hostileDoc{"nested 4106 deep", rawDoc(1, "manifest", chunks...), true})
	}
	{
		names := make([]uint32, maxAttributes+1)
		docs = append(docs, hostileDoc{"4097 attributes", rawDoc(1, "manifest", rawElement(names)), true})
	}
	{
		// 8,000 attribute names, each a distinct string index whose
		// offset is that of one 32 KiB string: 250 MiB to decode.
		long := string(bytes.Repeat([]byte("x"), 0x7fff))
		var chunks [][]byte
		for e := range 2 {
			names := make([]uint32, 4000)
			for i := range names {
				names[i] = uint32(1 + e*4000 + i)
			}
			chunks = append(chunks, rawElement(names))
		}
		docs = append(docs, hostileDoc{"one long string under 8000 names", rawDoc(8001, long, chunks...), true})
	}
	{
		d := rawDoc(1, "manifest", rawElement(nil))
		le.PutUint32(d[4:], 0xffffffff)
		docs = append(docs, hostileDoc{"document size 2^32-1", d, false})
		d = rawDoc(1, "manifest", rawElement(nil))
		le.PutUint32(d[8+8:], 1<<30)
		docs = append(docs, hostileDoc{"string count 2^30", d, false})
		d = rawDoc(1, "manifest", rawElement(nil))
		le.PutUint32(d[8+4:], 0xfffffff0)
		docs = append(docs, hostileDoc{"string pool size 2^32-16", d, false})
		d = rawDoc(1, "manifest", rawElement([]uint32{0x7fffffff}))
		docs = append(docs, hostileDoc{"attribute name index 2^31-1", d, false})
		d = rawDoc(2, "manifest", rawElement([]uint32{1}))
		le.PutUint32(d[8+28+4:], 0xfffffff0)
		docs = append(docs, hostileDoc{"string offset 2^32-16", d, false})
		d = rawDoc(1, "m", rawElement(nil))
		d[8+28+4] = 0xff // UTF-8 length 0x7fff, data 1 byte
		d[8+28+5] = 0xff
		d[8+28+6] = 0xff
		d[8+28+7] = 0xff
		docs = append(docs, hostileDoc{"string length beyond the pool", d, false})
		el := rawElement([]uint32{0})
		le.PutUint16(el[16+8:], 0xfff0) // attribute start
		docs = append(docs, hostileDoc{"attributes start 65520", rawDoc(1, "manifest", el), false})
	}
	big := make([]byte, maxDocument+1)
	copy(big, rawDoc(1, "manifest", rawElement(nil)))
	le.PutUint32(big[4:], uint32(len(big)))
	docs = append(docs, hostileDoc{"33 MiB document", big, true})
	return docs
}

func TestHostileManifests(t *testing.T) {
	for _, tc := range hostileDocs() {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			_, err := ParseManifest(tc.data)
			if el := time.Since(start); el > 5*time.Second {
				t.Errorf("took %v", el)
			}
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
			var le *LimitError
			if tc.limit != errors.As(err, &le) {
				t.Errorf("err = %v (%T); want a LimitError: %v", err, err, tc.limit)
			}
		})
	}
}

// FuzzParseHostile starts from the hostile table (the oversized document
// left out): no panic, and a bounded time per input.
func FuzzParseHostile(f *testing.F) {
	for _, d := range hostileDocs() {
		if len(d.data) <= maxDocument {
			f.Add(d.data)
		}
	}
	f.Add(rawDoc(3, "manifest", rawElement([]uint32{1, 2})))
	f.Fuzz(func(t *testing.T, data []byte) {
		start := time.Now()
		_, err := ParseManifest(data)
		if el := time.Since(start); el > 5*time.Second {
			t.Fatalf("took %v (err %v)", el, err)
		}
		_ = fmt.Sprint(err)
	})
}
