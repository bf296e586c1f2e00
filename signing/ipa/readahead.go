package ipa

import (
	"io"
	"sync"
)

// readAhead reads a stream on a goroutine of its own, up to a fixed
// number of 1 MiB chunks ahead of its reader. Inflating a binary is the
// one part of re-signing that cannot be split across cores, so the
// binaries are inflated ahead: each while it is signed (its inflating
// overlaps the hashing and writing of what was read before), and the
// largest one from the start, beside the signing of the others, so that
// most of it is ready when its turn comes.
//
// Memory: at most ahead+2 chunks, taken from a pool shared by the
// archive's readers.
type readAhead struct {
	src    io.ReadCloser
	chunks chan aheadChunk
	free   chan []byte
	stop   chan struct{}
	done   chan struct{}
	pool   *sync.Pool // of *[]byte of aheadChunkSize
	gate   *cpuGate   // each chunk is inflated through it

	cur  []byte // unread part of the chunk being read
	buf  []byte // that chunk's buffer
	err  error  // sticky, once the chunks are exhausted
	once sync.Once
}

type aheadChunk struct {
	b   []byte
	err error
}

const aheadChunkSize = 1 << 20

func newReadAhead(src io.ReadCloser, ahead int, pool *sync.Pool, gate *cpuGate) *readAhead {
	r := &readAhead{
		gate:   gate,
		src:    src,
		chunks: make(chan aheadChunk, ahead),
		free:   make(chan []byte, ahead+2),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
		pool:   pool,
	}
	go r.run(ahead + 2)
	return r
}

func (r *readAhead) run(limit int) {
	defer close(r.done)
	defer close(r.chunks)
	taken := 0
	for {
		var buf []byte
		select {
		case buf = <-r.free:
		default:
			if taken < limit {
				buf = r.take()
				taken++
				break
			}
			select {
			case buf = <-r.free:
			case <-r.stop:
				return
			}
		}
		leave := r.gate.enter()
		n, err := io.ReadFull(r.src, buf)
		leave()
		if err == io.ErrUnexpectedEOF {
			err = io.EOF
		}
		select {
		case r.chunks <- aheadChunk{buf[:n], err}:
		case <-r.stop:
			r.give(buf)
			return
		}
		if err != nil {
			return
		}
	}
}

func (r *readAhead) take() []byte {
	if p, ok := r.pool.Get().(*[]byte); ok {
		return (*p)[:aheadChunkSize]
	}
	return make([]byte, aheadChunkSize)
}

func (r *readAhead) give(b []byte) {
	if cap(b) >= aheadChunkSize {
		b = b[:aheadChunkSize]
		r.pool.Put(&b)
	}
}

func (r *readAhead) Read(p []byte) (int, error) {
	for len(r.cur) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		if r.buf != nil {
			r.free <- r.buf // never blocks: free holds every buffer
			r.buf = nil
		}
		c, ok := <-r.chunks
		if !ok {
			r.err = io.ErrClosedPipe
			return 0, r.err
		}
		r.cur, r.buf = c.b, c.b
		if c.err != nil {
			r.err = c.err
		}
	}
	n := copy(p, r.cur)
	r.cur = r.cur[n:]
	return n, nil
}

// Close stops the goroutine, closes the stream and returns the buffers
// to the pool.
func (r *readAhead) Close() error {
	var err error
	r.once.Do(func() {
		close(r.stop)
		<-r.done
		err = r.src.Close()
		if r.buf != nil {
			r.give(r.buf)
			r.buf, r.cur = nil, nil
		}
		for c := range r.chunks {
			r.give(c.b)
		}
		for {
			select {
			case b := <-r.free:
				r.give(b)
				continue
			default:
			}
			break
		}
		if r.err == nil {
			r.err = io.ErrClosedPipe
		}
	})
	return err
}
