package ipa

import (
	"bytes"
	"errors"
	"io"
	"sync"
	"testing"
	"testing/iotest"
)

type closeCounter struct {
	io.Reader
	closed int
}

func (c *closeCounter) Close() error { c.closed++; return nil }

func TestReadAhead(t *testing.T) {
	data := make([]byte, 3*aheadChunkSize+12345)
	for i := range data {
		data[i] = byte(i * 7)
	}
	var pool sync.Pool
	for _, ahead := range []int{0, 1, 4} {
		src := &closeCounter{Reader: iotest.HalfReader(bytes.NewReader(data))}
		r := newReadAhead(src, ahead, &pool, nil)
		got, err := io.ReadAll(iotest.OneByteReader(io.LimitReader(r, 10)))
		if err != nil || !bytes.Equal(got, data[:10]) {
			t.Fatalf("ahead %d: first bytes %v %v", ahead, got, err)
		}
		rest, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(rest, data[10:]) {
			t.Fatalf("ahead %d: read %d bytes, %v", ahead, len(rest), err)
		}
		if n, err := r.Read(make([]byte, 1)); n != 0 || err != io.EOF {
			t.Errorf("ahead %d: after the end: %d, %v", ahead, n, err)
		}
		r.Close()
		r.Close()
		if src.closed != 1 {
			t.Errorf("ahead %d: source closed %d times", ahead, src.closed)
		}
	}
}

func TestReadAheadError(t *testing.T) {
	boom := errors.New("checksum")
	src := &closeCounter{Reader: io.MultiReader(bytes.NewReader(make([]byte, aheadChunkSize+5)), iotest.ErrReader(boom))}
	var pool sync.Pool
	r := newReadAhead(src, 2, &pool, nil)
	defer r.Close()
	got, err := io.ReadAll(r)
	if !errors.Is(err, boom) || len(got) != aheadChunkSize+5 {
		t.Fatalf("read %d bytes, %v; want %d and the source's error", len(got), err, aheadChunkSize+5)
	}
}

// Closing before the end stops the goroutine, even while it waits for a
// free buffer.
func TestReadAheadCloseEarly(t *testing.T) {
	src := &closeCounter{Reader: bytes.NewReader(make([]byte, 10*aheadChunkSize))}
	var pool sync.Pool
	r := newReadAhead(src, 2, &pool, nil)
	if _, err := r.Read(make([]byte, 100)); err != nil {
		t.Fatal(err)
	}
	r.Close()
	if src.closed != 1 {
		t.Errorf("source closed %d times", src.closed)
	}
	if _, err := r.Read(make([]byte, 1)); err == nil {
		t.Error("read after close")
	}
}
