package ipa

import (
	"bytes"
	"compress/flate"
	"io"
	"sync"
	"testing"

	"github.com/storesign/storesign/signing/signingtest"
)

func TestParallelDeflater(t *testing.T) {
	pool := &sync.Pool{}
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
