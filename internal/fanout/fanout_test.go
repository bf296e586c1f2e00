package fanout

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"runtime"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"
)

func TestCopy(t *testing.T) {
	data := make([]byte, 5<<20+123)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	tests := []struct {
		name  string
		src   func() io.Reader
		limit int64
		want  []byte
		err   error
	}{
		{"all", func() io.Reader { return bytes.NewReader(data) }, -1, data, nil},
		{"one byte reads", func() io.Reader { return iotest.OneByteReader(bytes.NewReader(data[:100<<10])) }, -1, data[:100<<10], nil},
		{"limit", func() io.Reader { return bytes.NewReader(data) }, 3<<20 + 7, data[:3<<20+7], nil},
		{"short", func() io.Reader { return bytes.NewReader(data[:10]) }, 20, data[:10], io.ErrUnexpectedEOF},
		{"empty", func() io.Reader { return bytes.NewReader(nil) }, -1, nil, nil},
		{"read error", func() io.Reader { return io.MultiReader(bytes.NewReader(data[:3<<20]), iotest.ErrReader(errBoom)) }, -1, data[:3<<20], errBoom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			h := sha256.New()
			f := New(3, NewPool(256<<10), Writer(&out), Writer(h))
			n, err := f.Copy(tt.src(), tt.limit)
			if cerr := f.Close(); cerr != nil {
				t.Fatal(cerr)
			}
			if !errors.Is(err, tt.err) {
				t.Fatalf("err %v, want %v", err, tt.err)
			}
			if n != int64(len(tt.want)) || !bytes.Equal(out.Bytes(), tt.want) {
				t.Fatalf("got %d bytes (%d written), want %d", n, out.Len(), len(tt.want))
			}
			if want := sha256.Sum256(tt.want); !bytes.Equal(h.Sum(nil), want[:]) {
				t.Fatal("hash consumer saw other bytes")
			}
		})
	}
}

var errBoom = errors.New("boom")

type failAfter struct{ n int }

func (w *failAfter) Write(b []byte) (int, error) {
	if w.n -= len(b); w.n < 0 {
		return 0, errBoom
	}
	return len(b), nil
}

func TestConsumerError(t *testing.T) {
	var other bytes.Buffer
	f := New(2, NewPool(64<<10), Writer(&failAfter{n: 100 << 10}), Writer(&other))
	_, err := f.Copy(bytes.NewReader(make([]byte, 8<<20)), -1)
	if cerr := f.Close(); !errors.Is(cerr, errBoom) {
		t.Fatalf("Close: %v, want %v", cerr, errBoom)
	}
	// Copy stops early once it sees the error (it may finish first).
	if err != nil && !errors.Is(err, errBoom) {
		t.Fatalf("Copy: %v", err)
	}
	if f.Close() == nil {
		t.Fatal("second Close lost the error")
	}
}

type countingReader struct {
	n atomic.Int64
	r io.Reader
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// TestBounded checks that the reader waits for a slow consumer rather
// than reading ahead more than nbuf blocks.
func TestBounded(t *testing.T) {
	const nbuf, size = 4, 1 << 10
	release := make(chan struct{})
	f := New(nbuf, NewPool(size), func([]byte) error { <-release; return nil })
	src := &countingReader{r: bytes.NewReader(make([]byte, 64*size))}
	done := make(chan struct{})
	go func() {
		f.Copy(src, -1)
		close(done)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for src.n.Load() < nbuf*size && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	if n := src.n.Load(); n != nbuf*size {
		t.Errorf("read %d bytes ahead of the consumer, want %d", n, nbuf*size)
	}
	for range 64 {
		release <- struct{}{}
	}
	<-done
	f.Close()
}

// TestOrder checks that consumers of different speeds each see every
// block in order, with the buffers reused underneath them.
func TestOrder(t *testing.T) {
	const blocks, size = 200, 1 << 10
	var fast, slow bytes.Buffer
	slowly := func(b []byte) error {
		if b[0]%7 == 0 {
			time.Sleep(50 * time.Microsecond)
		}
		slow.Write(b)
		return nil
	}
	f := New(4, NewPool(size), Writer(&fast), slowly)
	var want bytes.Buffer
	for i := range blocks {
		b := f.Buffer()
		n := 1 + i%size
		for j := range n {
			(*b)[j] = byte(i + j)
		}
		want.Write((*b)[:n])
		f.Push(b, n)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fast.Bytes(), want.Bytes()) || !bytes.Equal(slow.Bytes(), want.Bytes()) {
		t.Fatal("a consumer saw other bytes or another order")
	}
}

// TestNoLeak checks that Close ends every consumer goroutine, after a
// clean copy, a consumer failure and an abandoned copy alike.
func TestNoLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	for range 20 {
		f := New(3, NewPool(4<<10), Writer(io.Discard), Writer(sha256.New()))
		f.Copy(bytes.NewReader(make([]byte, 100<<10)), -1)
		f.Close()

		f = New(3, NewPool(4<<10), Writer(&failAfter{n: 10 << 10}), Writer(io.Discard))
		f.Copy(bytes.NewReader(make([]byte, 100<<10)), -1)
		f.Close()

		f = New(3, NewPool(4<<10), Writer(io.Discard))
		f.Push(f.Buffer(), 100) // no Copy: a caller giving up half way
		f.Close()
	}
	n := runtime.NumGoroutine()
	for end := time.Now().Add(5 * time.Second); n > before && time.Now().Before(end); n = runtime.NumGoroutine() {
		time.Sleep(5 * time.Millisecond)
	}
	if n > before {
		t.Errorf("%d goroutines after, %d before", n, before)
	}
}
