package plistx

import (
	"encoding/binary"
	"math"
	"time"
	"unicode/utf16"
)

// appleEpochUnix is 2001-01-01T00:00:00Z, the zero of CFAbsoluteTime, in
// Unix seconds.
const appleEpochUnix = 978307200

// MarshalBinary encodes v as a bplist00 in the layout of Xcode's
// Info.plists (see the package documentation).
func MarshalBinary(v any) ([]byte, error) {
	n, err := normalize(v, "")
	if err != nil {
		return nil, err
	}
	var f flattener
	f.uniq = map[uniqKey]int{}
	f.flatten(n)

	refSize := byteCount(uint64(len(f.objs)))
	out := []byte("bplist00")
	offsets := make([]uint64, len(f.objs))
	for i, o := range f.objs {
		offsets[i] = uint64(len(out))
		out = f.appendObject(out, o, refSize)
	}
	tableAt := uint64(len(out))
	offSize := byteCount(tableAt)
	for _, off := range offsets {
		out = appendSized(out, off, offSize)
	}
	var trailer [32]byte
	trailer[6] = byte(offSize)
	trailer[7] = byte(refSize)
	binary.BigEndian.PutUint64(trailer[8:], uint64(len(f.objs)))
	binary.BigEndian.PutUint64(trailer[16:], 0)
	binary.BigEndian.PutUint64(trailer[24:], tableAt)
	return append(out, trailer[:]...), nil
}

// uniqKey identifies equal strings, numbers, dates and data: each is
// written once. Integers and reals never share an object, as in CF's
// __plistNumberEqual; a float32 and a float64 of equal value do.
type uniqKey struct {
	kind kind
	s    string
	n    uint64
}

// flattener numbers objects depth first as CF's _flattenPlist does.
type flattener struct {
	objs []*node
	uniq map[uniqKey]int
	ref  map[*node]int
}

func (f *flattener) key(n *node) (uniqKey, bool) {
	switch n.kind {
	case kString:
		return uniqKey{kind: kString, s: n.s}, true
	case kInt:
		return uniqKey{kind: kInt, n: uint64(n.i)}, true
	case kUint:
		return uniqKey{kind: kInt, n: n.u, s: "u"}, true
	case kReal:
		f := n.f
		if f == 0 {
			f = 0 // -0 equals 0
		}
		return uniqKey{kind: kReal, n: math.Float64bits(f)}, !math.IsNaN(n.f)
	case kDate:
		return uniqKey{kind: kDate, n: math.Float64bits(absoluteTime(n.t))}, true
	case kData:
		return uniqKey{kind: kData, s: string(n.b)}, true
	case kBool:
		if n.bl {
			return uniqKey{kind: kBool, n: 1}, true
		}
		return uniqKey{kind: kBool}, true
	}
	return uniqKey{}, false
}

func (f *flattener) flatten(n *node) {
	if f.ref == nil {
		f.ref = map[*node]int{}
	}
	if k, ok := f.key(n); ok {
		if i, seen := f.uniq[k]; seen {
			f.ref[n] = i
			return
		}
		f.uniq[k] = len(f.objs)
	}
	f.ref[n] = len(f.objs)
	f.objs = append(f.objs, n)
	switch n.kind {
	case kDict:
		for _, k := range n.keys {
			f.flatten(&node{kind: kString, s: k})
		}
		for _, c := range n.vals {
			f.flatten(c)
		}
	case kArray:
		for _, c := range n.arr {
			f.flatten(c)
		}
	}
}

// refOf returns the object number of a key or a value already flattened.
func (f *flattener) refOf(n *node) int {
	if r, ok := f.ref[n]; ok {
		return r
	}
	k, _ := f.key(n)
	return f.uniq[k]
}

func (f *flattener) appendObject(out []byte, n *node, refSize int) []byte {
	switch n.kind {
	case kString:
		return appendString(out, n.s)
	case kBool:
		if n.bl {
			return append(out, 0x09)
		}
		return append(out, 0x08)
	case kInt:
		return appendInt(out, uint64(n.i))
	case kUint:
		out = append(out, 0x14)
		out = binary.BigEndian.AppendUint64(out, 0)
		return binary.BigEndian.AppendUint64(out, n.u)
	case kReal:
		if n.f32 {
			out = append(out, 0x22)
			return binary.BigEndian.AppendUint32(out, math.Float32bits(float32(n.f)))
		}
		out = append(out, 0x23)
		return binary.BigEndian.AppendUint64(out, math.Float64bits(n.f))
	case kDate:
		out = append(out, 0x33)
		return binary.BigEndian.AppendUint64(out, math.Float64bits(absoluteTime(n.t)))
	case kData:
		out = appendMarker(out, 0x40, len(n.b))
		return append(out, n.b...)
	case kArray:
		out = appendMarker(out, 0xA0, len(n.arr))
		for _, c := range n.arr {
			out = appendSized(out, uint64(f.refOf(c)), refSize)
		}
		return out
	case kDict:
		out = appendMarker(out, 0xD0, len(n.keys))
		for _, k := range n.keys {
			out = appendSized(out, uint64(f.uniq[uniqKey{kind: kString, s: k}]), refSize)
		}
		for _, c := range n.vals {
			out = appendSized(out, uint64(f.refOf(c)), refSize)
		}
		return out
	}
	panic("plistx: internal error: unknown node kind")
}

// appendString writes s in ASCII when it is, else in UTF-16BE; the count
// is of bytes or of UTF-16 code units.
func appendString(out []byte, s string) []byte {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		out = appendMarker(out, 0x50, len(s))
		return append(out, s...)
	}
	u := utf16.Encode([]rune(s))
	out = appendMarker(out, 0x60, len(u))
	for _, c := range u {
		out = binary.BigEndian.AppendUint16(out, c)
	}
	return out
}

// appendMarker writes a type marker with its count in the low nibble, or
// 0xF and the count as an integer object.
func appendMarker(out []byte, marker byte, count int) []byte {
	if count < 15 {
		return append(out, marker|byte(count))
	}
	out = append(out, marker|0xF)
	return appendInt(out, uint64(count))
}

// appendInt writes an integer object in 1, 2, 4 or 8 bytes (a negative
// one, as a uint64, in 8).
func appendInt(out []byte, v uint64) []byte {
	switch {
	case v <= 0xFF:
		return append(out, 0x10, byte(v))
	case v <= 0xFFFF:
		return binary.BigEndian.AppendUint16(append(out, 0x11), uint16(v))
	case v <= 0xFFFFFFFF:
		return binary.BigEndian.AppendUint32(append(out, 0x12), uint32(v))
	}
	return binary.BigEndian.AppendUint64(append(out, 0x13), v)
}

// appendSized writes v big-endian in size bytes.
func appendSized(out []byte, v uint64, size int) []byte {
	for i := size - 1; i >= 0; i-- {
		out = append(out, byte(v>>(8*i)))
	}
	return out
}

// byteCount is CF's _byteCount: the fewest of 1, 2, 4 or 8 bytes that
// hold v.
func byteCount(v uint64) int {
	switch {
	case v <= 0xFF:
		return 1
	case v <= 0xFFFF:
		return 2
	case v <= 0xFFFFFFFF:
		return 4
	}
	return 8
}

// absoluteTime is t as a CFAbsoluteTime: seconds since 2001-01-01 UTC.
func absoluteTime(t time.Time) float64 {
	return float64(t.Unix()-appleEpochUnix) + float64(t.Nanosecond())/1e9
}
