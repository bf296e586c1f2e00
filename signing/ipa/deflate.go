package ipa

import (
	"bytes"
	"compress/flate"
	"io"
	"runtime"
	"sync"
)

// parallelDeflater compresses a stream in 1 MiB blocks on every core, as
// pigz does, and writes the blocks in order: each block is a deflate
// stream ended with a sync flush (byte-aligned, not final), so their
// concatenation, closed by one final empty block, is a valid deflate
// stream. Each block loses the previous block's dictionary, which costs
// well under 1% of the ratio. Memory: a few blocks in flight.
type parallelDeflater struct {
	w       io.Writer
	level   int
	pool    *sync.Pool
	cur     []byte
	pending []*pblock
	limit   int
	err     error

	// index records where each block starts in the output.
	index   blockIndex
	written int64
}

type pblock struct {
	in   []byte
	out  bytes.Buffer
	done chan struct{}
}

const pblockSize = 1 << 20

func newParallelDeflater(w io.Writer, level int, pool *sync.Pool) *parallelDeflater {
	return &parallelDeflater{w: w, level: level, pool: pool, limit: max(runtime.GOMAXPROCS(0), 1) + 1}
}

func (d *parallelDeflater) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		if d.err != nil {
			return n, d.err
		}
		if d.cur == nil {
			d.cur = make([]byte, 0, pblockSize)
		}
		k := min(len(p), pblockSize-len(d.cur))
		d.cur = append(d.cur, p[:k]...)
		p, n = p[k:], n+k
		if len(d.cur) == pblockSize {
			d.launch()
		}
	}
	return n, d.err
}

func (d *parallelDeflater) launch() {
	b := &pblock{in: d.cur, done: make(chan struct{})}
	d.cur = nil
	go func() {
		defer close(b.done)
		fw, _ := d.pool.Get().(*flate.Writer)
		if fw == nil {
			fw, _ = flate.NewWriter(&b.out, d.level)
		} else {
			fw.Reset(&b.out)
		}
		fw.Write(b.in)
		fw.Flush()
		d.pool.Put(fw)
		b.in = nil
	}()
	d.pending = append(d.pending, b)
	for len(d.pending) >= d.limit {
		d.drainOne()
	}
}

func (d *parallelDeflater) drainOne() {
	b := d.pending[0]
	d.pending = d.pending[1:]
	<-b.done
	if d.err == nil {
		d.index = append(d.index, d.written)
		var n int
		n, d.err = d.w.Write(b.out.Bytes())
		d.written += int64(n)
	}
}

func (d *parallelDeflater) Close() error {
	if len(d.cur) > 0 {
		d.launch()
	}
	for len(d.pending) > 0 {
		d.drainOne()
	}
	if d.err != nil {
		return d.err
	}
	// The final, empty block.
	fw, err := flate.NewWriter(d.w, flate.NoCompression)
	if err != nil {
		return err
	}
	return fw.Close()
}
