package ipa

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"io"
	"testing"

	"github.com/storesign/storesign/signing/signingtest"
)

func TestParallelDeflater(t *testing.T) {
	pool := &deflatePools{}
	for _, n := range []int{0, 1, 1000, pblockSize - 1, pblockSize, pblockSize + 1, 5*pblockSize + 12345} {
		data := make([]byte, n)
		io.ReadFull(signingtest.Reader("deflate"), data)
		for i := range data {
			if i%4 != 0 {
				data[i] = byte(i % 7)
			}
		}
		var buf bytes.Buffer
		d := newParallelDeflater(&buf, flate.BestSpeed, pool)
		// Odd write sizes.
		for off := 0; off < n; off += 77777 {
			d.Write(data[off:min(off+77777, n)])
		}
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(flate.NewReader(&buf))
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("%d bytes: round trip failed: %v", n, err)
		}
	}
}

func TestIndexedReaderAt(t *testing.T) {
	data := make([]byte, 5*pblockSize+777)
	io.ReadFull(signingtest.Reader("indexed"), data)
	for i := range data {
		if i%3 != 0 {
			data[i] = byte(i / 1000)
		}
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	var d *parallelDeflater
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		d = newParallelDeflater(w, flate.BestSpeed, &deflatePools{})
		return d, nil
	})
	w, _ := zw.Create("big")
	w.Write(data)
	zw.Close()
	zr, _ := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	f := zr.File[0]
	off, _ := f.DataOffset()
	r := &indexedReaderAt{f: f, src: bytes.NewReader(buf.Bytes()), data: off, size: int64(len(data)), index: d.index}
	defer r.close()
	if len(d.index) != 6 {
		t.Fatalf("%d blocks", len(d.index))
	}
	for _, c := range []struct{ off, n int }{{len(data) - 100, 100}, {0, 10}, {10, 5000}, {3*pblockSize - 5, 10}, {pblockSize, pblockSize}, {len(data) - 10, 50}} {
		p := make([]byte, c.n)
		n, err := r.ReadAt(p, int64(c.off))
		want := data[c.off:min(c.off+c.n, len(data))]
		if n != len(want) || !bytes.Equal(p[:n], want) || (n < c.n) != (err == io.EOF) {
			t.Errorf("ReadAt(%d, %d) = %d, %v", c.off, c.n, n, err)
		}
	}
}
