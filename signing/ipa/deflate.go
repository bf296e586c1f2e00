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
// well under 1% of the ratio; in exchange a reader can start at any block
// (see indexedReaderAt). Memory: a few blocks in flight, reused.
type parallelDeflater struct {
	w       io.Writer
	level   int
	pools   *deflatePools
	cur     *pblock
	pending []*pblock
	limit   int
	err     error

	// index records where each block starts in the output.
	index   blockIndex
	written int64
}

// deflatePools are shared by the compressors of one archive.
type deflatePools struct {
	writers sync.Pool // *flate.Writer
	blocks  sync.Pool // *pblock
}

type pblock struct {
	in   []byte
	out  bytes.Buffer
	done chan struct{}
}

const pblockSize = 1 << 20

func newParallelDeflater(w io.Writer, level int, pools *deflatePools) *parallelDeflater {
	return &parallelDeflater{w: w, level: level, pools: pools, limit: max(runtime.GOMAXPROCS(0), 1) + 1}
}

// newBlock returns an empty block, reused from earlier ones when possible.
func (d *parallelDeflater) newBlock() *pblock {
	if b, ok := d.pools.blocks.Get().(*pblock); ok {
		b.in = b.in[:0]
		b.out.Reset()
		return b
	}
	b := &pblock{in: make([]byte, 0, pblockSize)}
	b.out.Grow(pblockSize + pblockSize/8)
	return b
}

func (d *parallelDeflater) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		if d.err != nil {
			return n, d.err
		}
		if d.cur == nil {
			d.cur = d.newBlock()
		}
		k := min(len(p), pblockSize-len(d.cur.in))
		d.cur.in = append(d.cur.in, p[:k]...)
		p, n = p[k:], n+k
		if len(d.cur.in) == pblockSize {
			d.launch()
		}
	}
	return n, d.err
}

func (d *parallelDeflater) launch() {
	b := d.cur
	d.cur = nil
	b.done = make(chan struct{})
	go func() {
		defer close(b.done)
		fw, _ := d.pools.writers.Get().(*flate.Writer)
		if fw == nil {
			fw, _ = flate.NewWriter(&b.out, d.level)
		} else {
			fw.Reset(&b.out)
		}
		fw.Write(b.in)
		fw.Flush()
		d.pools.writers.Put(fw)
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
	d.pools.blocks.Put(b)
}

func (d *parallelDeflater) Close() error {
	if d.cur != nil && len(d.cur.in) > 0 {
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
