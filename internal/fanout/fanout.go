package fanout

import (
	"io"
	"sync"
	"sync/atomic"
)

// Fanout is one stream's pipeline. Use it from one goroutine: Buffer,
// Push, ..., Close.
type Fanout struct {
	pool   *sync.Pool
	size   int
	tokens chan struct{} // one per buffer that may be in flight
	outs   []chan block
	wg     sync.WaitGroup
	mu     sync.Mutex
	err    error
	closed bool
}

type block struct {
	buf  *[]byte
	n    int
	refs *atomic.Int32
}

// NewPool returns a pool of size-byte buffers for [New].
func NewPool(size int) *sync.Pool {
	return &sync.Pool{New: func() any {
		b := make([]byte, size)
		return &b
	}}
}

// New starts one goroutine per consumer. At most nbuf buffers from pool
// (a [NewPool]; nil makes one of 1 MiB buffers) are in flight at once;
// buffers go back to the pool when every consumer is done with them, so
// an idle Fanout holds none. After a consumer fails it sees no more
// blocks, and [Fanout.Err] reports its error.
func New(nbuf int, pool *sync.Pool, consumers ...func([]byte) error) *Fanout {
	if pool == nil {
		pool = NewPool(1 << 20)
	}
	f := &Fanout{pool: pool, tokens: make(chan struct{}, nbuf)}
	for range nbuf {
		f.tokens <- struct{}{}
	}
	for _, fn := range consumers {
		ch := make(chan block, nbuf)
		f.outs = append(f.outs, ch)
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			failed := false
			for b := range ch {
				if !failed {
					if err := fn((*b.buf)[:b.n]); err != nil {
						failed = true
						f.setErr(err)
					}
				}
				f.release(b)
			}
		}()
	}
	return f
}

func (f *Fanout) release(b block) {
	if b.refs.Add(-1) == 0 {
		f.pool.Put(b.buf)
		f.tokens <- struct{}{}
	}
}

func (f *Fanout) setErr(err error) {
	f.mu.Lock()
	if f.err == nil {
		f.err = err
	}
	f.mu.Unlock()
}

// Err returns the first consumer error so far.
func (f *Fanout) Err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// Buffer waits until fewer than nbuf buffers are in flight and returns a
// free one, to be filled and handed to [Fanout.Push].
func (f *Fanout) Buffer() *[]byte {
	<-f.tokens
	return f.pool.Get().(*[]byte)
}

// Push hands the first n bytes of buf (from Buffer) to every consumer;
// with n == 0 it just gives buf back.
func (f *Fanout) Push(buf *[]byte, n int) {
	if n == 0 || len(f.outs) == 0 {
		f.pool.Put(buf)
		f.tokens <- struct{}{}
		return
	}
	refs := new(atomic.Int32)
	refs.Store(int32(len(f.outs)))
	for _, ch := range f.outs {
		ch <- block{buf: buf, n: n, refs: refs}
	}
}

// Close waits for the consumers to finish the blocks pushed so far and
// returns their first error. It may be called more than once.
func (f *Fanout) Close() error {
	if !f.closed {
		f.closed = true
		for _, ch := range f.outs {
			close(ch)
		}
	}
	f.wg.Wait()
	return f.Err()
}

// Copy pushes blocks read from src until EOF, a read error, limit
// bytes (all when limit < 0) or a consumer error, and returns the bytes
// pushed. Each block is filled as far as the buffer goes (io.ReadFull), so
// consumers see few, large writes. Hitting EOF before limit is
// io.ErrUnexpectedEOF. It does not Close f.
func (f *Fanout) Copy(src io.Reader, limit int64) (int64, error) {
	var read int64
	for limit < 0 || read < limit {
		if err := f.Err(); err != nil {
			return read, err
		}
		b := f.Buffer()
		p := *b
		if limit >= 0 {
			p = p[:min(int64(len(p)), limit-read)]
		}
		n, err := io.ReadFull(src, p)
		read += int64(n)
		f.Push(b, n)
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			if limit >= 0 && read < limit {
				return read, io.ErrUnexpectedEOF
			}
			return read, nil
		}
		if err != nil {
			return read, err
		}
	}
	return read, nil
}

// Writer adapts an io.Writer to a consumer.
func Writer(w io.Writer) func([]byte) error {
	return func(b []byte) error {
		_, err := w.Write(b)
		return err
	}
}
