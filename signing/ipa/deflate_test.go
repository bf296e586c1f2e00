package ipa

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"crypto/sha1"
	"crypto/sha256"
	"errors"
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

func TestBlockReaderAt(t *testing.T) {
	for _, n := range []int{1, 1000, pblockSize, 5*pblockSize + 777} {
		data := make([]byte, n)
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
		src := bytes.NewReader(buf.Bytes())
		zr, _ := zip.NewReader(src, int64(buf.Len()))
		f := zr.File[0]
		r := newBlockReaderAt(src, f, d.index, true, &inflaters{})
		if r == nil {
			t.Fatalf("%d bytes: index %v refused", n, d.index)
		}
		if want := (n + pblockSize - 1) / pblockSize; len(d.index) != want {
			t.Fatalf("%d bytes: %d blocks, want %d", n, len(d.index), want)
		}
		// As macho.Verify reads: the header, the end, then in order.
		reads := []struct{ off, n int }{{0, 10}, {10, 5000}, {n - 100, 100}, {n - 10, 50}, {3*pblockSize - 5, 10}, {2*pblockSize - 5, 10}, {pblockSize - 5, pblockSize + 10}, {3*pblockSize - 5, 10}}
		for off := 0; off < n; off += 300000 {
			reads = append(reads, struct{ off, n int }{off, 300000})
		}
		for _, c := range reads {
			if c.off < 0 || c.off >= n {
				continue
			}
			p := make([]byte, c.n)
			got, err := r.ReadAt(p, int64(c.off))
			want := data[c.off:min(c.off+c.n, len(data))]
			if got != len(want) || !bytes.Equal(p[:got], want) || (got < c.n) != (err == io.EOF) {
				t.Errorf("%d bytes: ReadAt(%d, %d) = %d, %v", n, c.off, c.n, got, err)
			}
		}
		sum, err := r.finish()
		r.close()
		s1, s2 := sha1.Sum(data), sha256.Sum256(data)
		if err != nil || !bytes.Equal(sum.sha1, s1[:]) || !bytes.Equal(sum.sha256, s2[:]) {
			t.Errorf("%d bytes: finish = %x, %v", n, sum.sha256, err)
		}

		// A damaged block or a wrong CRC is reported.
		if n > pblockSize {
			bad := bytes.Clone(buf.Bytes())
			off, _ := f.DataOffset()
			bad[off+d.index[1]+100] ^= 0x55
			r := newBlockReaderAt(bytes.NewReader(bad), f, d.index, true, &inflaters{})
			_, err := r.finish()
			r.close()
			if err == nil {
				t.Errorf("%d bytes: damaged block not reported", n)
			}
		}
		f.CRC32++
		r = newBlockReaderAt(src, f, d.index, false, &inflaters{})
		if _, err := r.finish(); !errors.Is(err, zip.ErrChecksum) {
			t.Errorf("%d bytes: wrong CRC-32: %v", n, err)
		}
		r.close()
		if newBlockReaderAt(src, f, d.index[:len(d.index)-1], false, &inflaters{}) != nil && n > 1 {
			t.Errorf("%d bytes: short index accepted", n)
		}
	}
}
