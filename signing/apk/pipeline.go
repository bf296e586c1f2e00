package apk

import (
	"context"
	"crypto"
	"encoding/binary"
	"fmt"
	"hash"
	"io"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
)

// chunkSize is the chunk of APK Signature Scheme v2/v3 content digests
// (apksig's CONTENT_DIGESTED_CHUNK_MAX_SIZE_BYTES).
const chunkSize = 1 << 20

// v4BlockSize is the block of the v4 (fs-verity style) Merkle tree.
const v4BlockSize = 4096

// pipeline writes the output in order, one chunk at a time, on a writer
// goroutine, while worker goroutines hash the same chunks (and run other
// jobs such as the v1 entry digests). The producer only reads the input
// into chunk buffers, so reading, writing and hashing overlap. Memory is
// bounded by the buffer pool: a chunk buffer returns to it once it is
// written and hashed.
type pipeline struct {
	ctx  context.Context
	dst  io.Writer
	hash crypto.Hash // chunk digests; 0 computes none
	// hash2 is a second chunk digest, for signers whose content digests
	// differ (a key rotated to a stronger one); 0 computes none.
	hash2 crypto.Hash
	v4    bool // also hash 4 KiB leaves for the v4 Merkle tree
	// verity also hashes salted 4 KiB leaves for the
	// VERITY_CHUNKED_SHA256 content digest.
	verity bool

	cur     *chunkBuf // chunk being filled
	buf     []byte    // cur's bytes so far
	feeds   []feed    // entry data in buf to hash for the JAR manifest
	pool    chan *chunkBuf
	nbuf    int // buffers allocated so far, at most cap(pool)
	jobs    chan func()
	wg      sync.WaitGroup // running jobs
	workers sync.WaitGroup

	writes  chan *chunkBuf
	pending sync.WaitGroup // chunks queued for the writer
	writer  sync.WaitGroup

	written int64
	chunks  []*chunkResult

	// scratch recycles the workers' read buffers and inflaters.
	scratch sync.Pool

	mu  sync.Mutex
	err error
}

// chunkBuf is one chunk buffer. refs counts its holders: the producer
// while it fills it, then the writer, the chunk's hashing job and any
// entry piece waiting to be hashed.
type chunkBuf struct {
	b    []byte
	refs atomic.Int32
	pool chan *chunkBuf
}

func (c *chunkBuf) hold() { c.refs.Add(1) }

func (c *chunkBuf) release() {
	if c.refs.Add(-1) == 0 {
		c.b = c.b[:0]
		c.pool <- c
	}
}

// chunkResult is what the workers compute for one chunk.
type chunkResult struct {
	digest  []byte   // H(0xa5 || uint32 len || chunk)
	digest2 []byte   // the same with pipeline.hash2
	leaves  [][]byte // SHA-256 of each 4 KiB block, for v4
	vleaves [][]byte // the same with the verity salt
}

// poolBuffers is the number of chunk buffers: enough for the writer to
// lag behind the workers (or the reverse) for a while.
const poolBuffers = 16

func newPipeline(ctx context.Context, dst io.Writer, hash crypto.Hash, v4 bool) *pipeline {
	n := runtime.GOMAXPROCS(0)
	// A queue lets the producer run ahead of the workers (memory stays
	// bounded by the buffer pool, jobs hold no data of their own).
	p := &pipeline{ctx: ctx, dst: dst, hash: hash, v4: v4, jobs: make(chan func(), 256)}
	p.pool = make(chan *chunkBuf, max(poolBuffers, 2*n+2))
	p.writes = make(chan *chunkBuf, cap(p.pool))
	p.cur = p.getBuffer()
	p.buf = p.cur.b
	p.workers.Add(n)
	for range n {
		go func() {
			defer p.workers.Done()
			for job := range p.jobs {
				job()
				p.wg.Done()
			}
		}()
	}
	p.writer.Add(1)
	go func() {
		defer p.writer.Done()
		failed := false
		for c := range p.writes {
			if !failed {
				if _, err := p.dst.Write(c.b); err != nil {
					p.fail(fmt.Errorf("writing output: %w", err))
					failed = true
				}
			}
			c.release()
			p.pending.Done()
		}
	}()
	return p
}

// getBuffer returns a free chunk buffer held by the producer, allocating
// one while fewer than the pool's capacity exist (small APKs need one or
// two), else waiting for one to be written and hashed.
func (p *pipeline) getBuffer() *chunkBuf {
	var c *chunkBuf
	select {
	case c = <-p.pool:
	default:
		if p.nbuf < cap(p.pool) {
			p.nbuf++
			c = &chunkBuf{b: make([]byte, 0, chunkSize), pool: p.pool}
		} else {
			c = <-p.pool
		}
	}
	c.refs.Store(1)
	return c
}

// fail records the first error.
func (p *pipeline) fail(err error) {
	p.mu.Lock()
	if p.err == nil {
		p.err = err
	}
	p.mu.Unlock()
}

func (p *pipeline) failed() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// run queues a job for the workers.
func (p *pipeline) run(job func()) {
	p.wg.Add(1)
	p.jobs <- job
}

// close stops the workers and the writer after the queued jobs finish.
func (p *pipeline) close() {
	close(p.jobs)
	p.workers.Wait()
	close(p.writes)
	p.writer.Wait()
}

// Write appends b to the output.
func (p *pipeline) Write(b []byte) (int, error) {
	n := len(b)
	for len(b) > 0 {
		k := min(len(b), chunkSize-len(p.buf))
		p.buf = append(p.buf, b[:k]...)
		b = b[k:]
		if len(p.buf) == chunkSize {
			if err := p.flush(); err != nil {
				return n - len(b), err
			}
		}
	}
	return n, nil
}

// copyFrom appends n bytes of r at off to the output. When eh is not
// nil, the bytes of its entry's data range among them are fed to it.
func (p *pipeline) copyFrom(r io.ReaderAt, off, n int64, eh *entryHash) error {
	for n > 0 {
		k := min(n, int64(chunkSize-len(p.buf)))
		l := len(p.buf)
		if eh != nil {
			lo, hi := max(off, eh.start), min(off+k, eh.start+eh.size)
			if lo < hi {
				p.feeds = append(p.feeds, feed{eh: eh, seq: eh.pieces, a: l + int(lo-off), b: l + int(hi-off), last: hi == eh.start+eh.size})
				eh.pieces++
			}
		}
		p.buf = p.buf[:l+int(k)]
		if _, err := r.ReadAt(p.buf[l:], off); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return fmt.Errorf("reading input at offset %d: %w", off, err)
		}
		off += k
		n -= k
		if len(p.buf) == chunkSize {
			if err := p.flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

// zeros appends n zero bytes.
func (p *pipeline) zeros(n int64) error {
	var z [4096]byte
	for n > 0 {
		k := min(n, int64(len(z)))
		if _, err := p.Write(z[:k]); err != nil {
			return err
		}
		n -= k
	}
	return nil
}

// flush hands the current (possibly partial) chunk to the writer and to
// the workers for hashing.
func (p *pipeline) flush() error {
	if len(p.buf) == 0 {
		return nil
	}
	if err := p.ctx.Err(); err != nil {
		return err
	}
	if err := p.failed(); err != nil {
		return err
	}
	c, feeds := p.cur, p.feeds
	c.b = p.buf
	p.feeds = nil
	p.written += int64(len(c.b))
	c.hold()
	p.pending.Add(1)
	p.writes <- c
	if p.hash != 0 || p.hash2 != 0 || p.v4 || p.verity || len(feeds) > 0 {
		res := new(chunkResult)
		if p.hash != 0 || p.hash2 != 0 || p.v4 || p.verity {
			p.chunks = append(p.chunks, res)
		}
		h, h2, v4, verity := p.hash, p.hash2, p.v4, p.verity
		c.hold()
		p.run(func() {
			if h != 0 {
				res.digest = chunkDigest(h, c.b)
			}
			if h2 != 0 {
				res.digest2 = chunkDigest(h2, c.b)
			}
			if v4 {
				res.leaves = merkleLeaves(c.b, nil)
			}
			if verity {
				res.vleaves = merkleLeaves(c.b, veritySalt())
			}
			for _, f := range feeds {
				f.eh.feed(f, c)
			}
			c.release()
		})
	}
	c.release() // the producer's hold
	p.cur = p.getBuffer()
	p.buf = p.cur.b
	return nil
}

// finish flushes the last chunk and waits for every job and write.
func (p *pipeline) finish() error {
	err := p.flush()
	p.wg.Wait()
	p.pending.Wait()
	if err != nil {
		return err
	}
	return p.failed()
}

// entryHash is the JAR digest of a stored entry, computed from the
// output chunks its data is copied in. Chunk jobs run in parallel and
// the pieces of an entry must be hashed in order: a job whose piece
// comes early leaves it queued (holding its chunk buffer) for the job
// hashing the piece before it, so no worker ever waits.
type entryHash struct {
	start, size int64 // the data's range in the input
	pieces      int   // pieces queued so far (written by the producer)

	mu     sync.Mutex
	next   int // next piece to hash
	queue  []queuedPiece
	active bool // a worker is hashing this entry's pieces
	d      hash.Hash
	slot   *v1Digest
}

type queuedPiece struct {
	f feed
	c *chunkBuf
}

func newEntryHash(h crypto.Hash, slot *v1Digest, start, size int64) *entryHash {
	return &entryHash{start: start, size: size, d: h.New(), slot: slot}
}

// feed is one piece of an entry's data in a chunk buffer.
type feed struct {
	eh   *entryHash
	seq  int
	a, b int
	last bool
}

// feed hashes piece f of chunk c, with any queued pieces that follow it,
// or queues it when an earlier piece is still to come.
func (eh *entryHash) feed(f feed, c *chunkBuf) {
	c.hold()
	eh.mu.Lock()
	eh.queue = append(eh.queue, queuedPiece{f, c})
	if eh.active {
		eh.mu.Unlock()
		return
	}
	eh.active = true
	for {
		i := slices.IndexFunc(eh.queue, func(q queuedPiece) bool { return q.f.seq == eh.next })
		if i < 0 {
			eh.active = false
			eh.mu.Unlock()
			return
		}
		q := eh.queue[i]
		eh.queue = slices.Delete(eh.queue, i, i+1)
		eh.mu.Unlock()
		eh.d.Write(q.c.b[q.f.a:q.f.b])
		if q.f.last {
			eh.slot.sum = eh.d.Sum(nil)
		}
		q.c.release()
		eh.mu.Lock()
		eh.next++
	}
}

// drainFeeds hashes the entry data in the chunk still being filled (its
// job runs only when it is full), so that every JAR digest is known once
// the queued jobs are done.
func (p *pipeline) drainFeeds() {
	p.cur.b = p.buf
	for _, f := range p.feeds {
		f.eh.feed(f, p.cur)
	}
	p.feeds = nil
}

// finish sets the digest of an entry with no data.
func (eh *entryHash) finish() { eh.slot.sum = eh.d.Sum(nil) }

// chunkDigest is apksig's digest of one content chunk.
func chunkDigest(h crypto.Hash, b []byte) []byte {
	d := h.New()
	var pre [5]byte
	pre[0] = 0xa5
	binary.LittleEndian.PutUint32(pre[1:], uint32(len(b)))
	d.Write(pre[:])
	d.Write(b)
	return d.Sum(nil)
}

// chunkDigests digests b (a whole section) in chunkSize chunks.
func chunkDigests(h crypto.Hash, b []byte) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		k := min(len(b), chunkSize)
		out = append(out, chunkDigest(h, b[:k]))
		b = b[k:]
	}
	return out
}

// topDigest combines chunk digests: H(0x5a || uint32 count || digests).
func topDigest(h crypto.Hash, chunks [][]byte) []byte {
	d := h.New()
	var pre [5]byte
	pre[0] = 0x5a
	binary.LittleEndian.PutUint32(pre[1:], uint32(len(chunks)))
	d.Write(pre[:])
	for _, c := range chunks {
		d.Write(c)
	}
	return d.Sum(nil)
}
