package ipa

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"hash/crc32"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/storesign/storesign/signing/signingtest"
)

// TestResignShortEntry re-signs IPAs with a resource whose deflated data
// ends before the size the central directory gives (its stream cut, or
// complete but short), small enough to be read through a window or
// large enough to be read on its own: Resign fails naming it, instead of
// sealing what it could read.
func TestResignShortEntry(t *testing.T) {
	f := newFixture(t)
	const name = "Payload/Example.app/res.bin"
	for _, tt := range []struct {
		name string
		size int
		// raw returns the compressed data of content, and the size
		// claimed.
		raw func(content []byte) ([]byte, int)
	}{
		{"cut, small", 64 << 10, func(c []byte) ([]byte, int) { d := deflate(t, c); return d[:len(d)/2], len(c) }},
		{"short, small", 64 << 10, func(c []byte) ([]byte, int) { return deflate(t, c[:len(c)-100]), len(c) }},
		{"cut, large", 3 << 20, func(c []byte) ([]byte, int) { d := deflate(t, c); return d[:len(d)-(512<<10)], len(c) }},
		{"short, large", 3 << 20, func(c []byte) ([]byte, int) { return deflate(t, c[:len(c)-100]), len(c) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			content := make([]byte, tt.size)
			rng := rand.New(rand.NewPCG(1, 2))
			for i := range content {
				content[i] = byte(rng.IntN(16)) // compresses, a little
			}
			raw, claimed := tt.raw(content)
			var buf bytes.Buffer
			zw := zip.NewWriter(&buf)
			for _, sf := range signingtest.IPAFiles(signingtest.IPAOptions{Minimal: true}) {
				w, err := zw.Create(sf.Name)
				if err != nil {
					t.Fatal(err)
				}
				w.Write(sf.Data)
			}
			h := &zip.FileHeader{Name: name, Method: zip.Deflate, CRC32: crc32.ChecksumIEEE(content), CompressedSize64: uint64(len(raw)), UncompressedSize64: uint64(claimed)}
			w, err := zw.CreateRaw(h)
			if err != nil {
				t.Fatal(err)
			}
			w.Write(raw)
			if err := zw.Close(); err != nil {
				t.Fatal(err)
			}
			in := buf.Bytes()
			_, err = Resign(context.Background(), bytes.NewReader(in), int64(len(in)), &bytes.Buffer{}, f.opts())
			if err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("Resign: %v, want an error naming %s", err, name)
			}
		})
	}
}

func deflate(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	fw, err := flate.NewWriter(&buf, flate.DefaultCompression)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(b)
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestLocate checks that scan takes the data offsets of the entries from
// checkArchive's records, and that an entry whose compressed size is not
// the one checkArchive checked its data against keeps none (its data is
// then read through archive/zip).
func TestLocate(t *testing.T) {
	in := signingtest.IPA(signingtest.IPAOptions{})
	src := bytes.NewReader(in)
	a, err := scan(src, int64(len(in)))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range a.entries {
		if off, err := e.f.DataOffset(); err != nil || e.data != off || e.runEnd < e.data+int64(e.f.CompressedSize64) {
			t.Errorf("%s: data at %d (run to %d), archive/zip says %d (%v)", e.name, e.data, e.runEnd, off, err)
		}
	}
	recs, err := checkArchive(src, int64(len(in)))
	if err != nil {
		t.Fatal(err)
	}
	const name = "Payload/Example.app/Info.plist"
	for i := range recs {
		if recs[i].Entry.Name == name {
			recs[i].DataSize++
		}
	}
	for _, e := range a.entries {
		e.data, e.runEnd = -1, 0
	}
	a.locate(recs)
	for _, e := range a.entries {
		if known := e.data >= 0; known != (e.name != name) {
			t.Errorf("%s: data at %d", e.name, e.data)
		}
	}

	// A window asked for bytes out of bounds says so.
	w := newWindow(src, int64(len(in)))
	for _, r := range [][3]int64{{-1, 10, 10}, {0, -1, 10}, {0, windowSize + 1, 10}, {int64(len(in)) + 1, 0, 0}, {1 << 62, 1, 1 << 62}} {
		if _, err := w.get(r[0], r[1], r[2]); err == nil {
			t.Errorf("get(%d, %d, %d): no error", r[0], r[1], r[2])
		}
	}
	if _, err := w.get(int64(len(in))-4, 8, int64(len(in))); err == nil {
		t.Error("a read past the end: no error")
	}
}
