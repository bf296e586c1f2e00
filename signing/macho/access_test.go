package macho_test

import (
	"bytes"
	"context"
	"io"
	"sync"
	"testing"

	gomacho "github.com/blacktop/go-macho"

	"github.com/storesign/storesign/signing/macho"
	"github.com/storesign/storesign/signing/signingtest"
)

type readAt struct{ off, n int64 }

// recordingReader records every ReadAt.
type recordingReader struct {
	r     io.ReaderAt
	mu    sync.Mutex
	reads []readAt
}

func (r *recordingReader) ReadAt(p []byte, off int64) (int, error) {
	r.mu.Lock()
	r.reads = append(r.reads, readAt{off, int64(len(p))})
	r.mu.Unlock()
	return r.r.ReadAt(p, off)
}

// TestSignAccessPattern checks the access pattern the package documents
// and signing/ipa relies on to read binaries straight from a zip entry's
// decompressor: offsets go back at most once (from the headers to the
// start of the code), reads are sequential after that, and the old
// signature is never read.
func TestSignAccessPattern(t *testing.T) {
	fat := signingtest.FatIOSMachO(t, "10.0")
	signed, _ := signBytes(t, fat, macho.SignOptions{Entitlements: testEntitlements})
	// The old signatures, as file ranges.
	var sigs []readAt
	ff, err := gomacho.NewFatFile(bytes.NewReader(signed))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range ff.Arches {
		cs := a.CodeSignature()
		sigs = append(sigs, readAt{int64(a.Offset) + int64(cs.Offset), int64(cs.Size)})
	}
	for _, in := range [][]byte{fat, signed, signingtest.IOSMachO(t, "arm64", "15.0")} {
		rr := &recordingReader{r: bytes.NewReader(in)}
		var out bytes.Buffer
		if _, err := macho.Sign(context.Background(), rr, int64(len(in)), &out, macho.SignOptions{Identity: testApple().Identity, Identifier: testIdentifier, Now: fixedNow}); err != nil {
			t.Fatal(err)
		}
		back := 0
		var prev readAt
		for i, r := range rr.reads {
			if i > 0 && r.off < prev.off {
				back++
			} else if back == 1 && r.off < prev.off+prev.n {
				t.Errorf("read %d at %d overlaps the previous one (%d+%d)", i, r.off, prev.off, prev.n)
			}
			if r.n > 1<<20 {
				t.Errorf("read of %d bytes", r.n)
			}
			if bytes.Equal(in, signed) {
				for _, s := range sigs {
					if r.off < s.off+s.n && s.off < r.off+r.n {
						t.Errorf("read %d+%d reads the old signature at %d+%d", r.off, r.n, s.off, s.n)
					}
				}
			}
			prev = r
		}
		if back > 1 {
			t.Errorf("offsets went back %d times", back)
		}
	}
}
