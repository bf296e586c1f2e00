package ipa

import (
	"archive/zip"
	"bufio"
	"compress/flate"
	"crypto/sha1"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"runtime"
	"sync"
)

// blockReaderAt reads a deflated entry that parallelDeflater wrote, using
// the block index the writer recorded, so that checking a large binary
// uses every core: reads in increasing order are served by inflating the
// next blocks ahead on worker goroutines, each block on its own; a read
// elsewhere (the load commands, the signature at the end) inflates only
// the block it needs.
//
// It is the independent check of what Resign wrote: it does not read
// through archive/zip (whose reader is no part of how it was written), it
// checks that each block inflates to
// exactly its 1 MiB (the last one to the rest, ending the stream), and
// [blockReaderAt.finish] checks the CRC-32 and size of the whole entry
// against its zip header and returns its SHA-1 and SHA-256, computed from
// the inflated bytes as they are read in order.
type blockReaderAt struct {
	f     *zip.File
	src   io.ReaderAt
	data  int64 // offset of the compressed data in src
	size  int64
	index blockIndex
	ahead int

	inflaters *inflaters

	mu     sync.Mutex
	cur    int             // the block at queue[0], or the next to start
	queue  []*inflateBlock // started in order: cur, cur+1, ...
	hashed int64           // bytes of the in-order stream hashed so far
	crc    uint32
	h1, h2 hash.Hash // nil: no file hash wanted
	random [2]*inflateBlock
	free   [][]byte
	err    error
}

type inflateBlock struct {
	i    int
	buf  []byte
	err  error
	done chan struct{}
}

// newBlockReaderAt returns a reader of f, an entry of src whose deflated
// data starts at data and whose block index is index, or nil when the
// index does not fit the entry. With withHash, finish returns the
// entry's SHA-1 and SHA-256.
func newBlockReaderAt(src io.ReaderAt, f *zip.File, index blockIndex, withHash bool, pool *inflaters) *blockReaderAt {
	size := int64(f.UncompressedSize64)
	if f.Method != zip.Deflate || size == 0 || int64(len(index)) != (size+pblockSize-1)/pblockSize {
		return nil
	}
	data, err := f.DataOffset()
	if err != nil {
		return nil
	}
	for i, off := range index {
		if off < 0 || off > int64(f.CompressedSize64) || i > 0 && off <= index[i-1] {
			return nil
		}
	}
	r := &blockReaderAt{f: f, src: src, data: data, size: size, index: index, ahead: max(runtime.GOMAXPROCS(0), 1) + 1, inflaters: pool}
	if withHash {
		r.h1, r.h2 = sha1.New(), sha256.New()
	}
	return r
}

func (r *blockReaderAt) blocks() int { return len(r.index) }

// blockLen is the uncompressed size of block i.
func (r *blockReaderAt) blockLen(i int) int {
	return int(min(pblockSize, r.size-int64(i)*pblockSize))
}

func (r *blockReaderAt) buffer() []byte {
	if n := len(r.free); n > 0 {
		b := r.free[n-1]
		r.free = r.free[:n-1]
		return b
	}
	return make([]byte, pblockSize)
}

// inflate decodes block i into b.buf: exactly blockLen(i) bytes, after
// which the stream must end (the last block) or stop at the next block's
// boundary (any other block).
func (r *blockReaderAt) inflate(b *inflateBlock) {
	i := b.i
	end := int64(r.f.CompressedSize64)
	if i+1 < len(r.index) {
		end = r.index[i+1]
	}
	zr := r.inflaters.open(io.NewSectionReader(r.src, r.data+r.index[i], end-r.index[i]))
	defer zr.Close()
	b.buf = b.buf[:r.blockLen(i)]
	if _, err := io.ReadFull(zr, b.buf); err != nil {
		b.err = fmt.Errorf("reading %s: block %d: %w", r.f.Name, i, err)
		return
	}
	var one [1]byte
	n, err := zr.Read(one[:])
	last := i == len(r.index)-1
	switch {
	case n > 0:
		b.err = fmt.Errorf("reading %s: block %d inflates to more than %d bytes", r.f.Name, i, len(b.buf))
	case last && err != io.EOF:
		b.err = fmt.Errorf("reading %s: the last block does not end the stream: %v", r.f.Name, err)
	case !last && !errors.Is(err, io.ErrUnexpectedEOF):
		b.err = fmt.Errorf("reading %s: block %d does not end at the next one: %v", r.f.Name, i, err)
	}
}

// fill starts the blocks after the queue, up to ahead of them.
func (r *blockReaderAt) fill() {
	for len(r.queue) < r.ahead {
		i := r.cur + len(r.queue)
		if i >= r.blocks() {
			return
		}
		b := &inflateBlock{i: i, buf: r.buffer(), done: make(chan struct{})}
		r.queue = append(r.queue, b)
		go func() {
			defer close(b.done)
			r.inflate(b)
		}()
	}
}

// pop consumes queue[0]: its bytes go to the in-order hashes.
func (r *blockReaderAt) pop() error {
	b := r.queue[0]
	<-b.done
	r.queue = r.queue[1:]
	r.cur++
	if b.err == nil && r.hashed == int64(b.i)*pblockSize {
		r.crc = crc32.Update(r.crc, crc32.IEEETable, b.buf)
		if r.h1 != nil {
			r.h1.Write(b.buf)
			r.h2.Write(b.buf)
		}
		r.hashed += int64(len(b.buf))
	}
	r.free = append(r.free, b.buf[:cap(b.buf)])
	return b.err
}

// block returns the inflated bytes of block i.
func (r *blockReaderAt) block(i int) ([]byte, error) {
	if r.err != nil {
		return nil, r.err
	}
	if i == r.cur || i == r.cur+1 {
		// In order: move the window to i.
		for r.cur < i {
			if len(r.queue) == 0 {
				r.fill()
			}
			if err := r.pop(); err != nil {
				r.err = err
				return nil, err
			}
		}
		r.fill()
		b := r.queue[0]
		<-b.done
		if b.err != nil {
			r.err = b.err
			return nil, b.err
		}
		return b.buf, nil
	}
	// Elsewhere: the two blocks read last are kept, for a read that
	// spans them.
	for k, b := range r.random {
		if b != nil && b.i == i {
			r.random[0], r.random[k] = b, r.random[0]
			return b.buf, nil
		}
	}
	b := r.random[1]
	if b == nil {
		b = &inflateBlock{buf: r.buffer()}
	}
	b.i, b.err, b.buf = i, nil, b.buf[:cap(b.buf)]
	r.inflate(b)
	if b.err != nil {
		r.random[1] = nil
		return nil, b.err
	}
	r.random[0], r.random[1] = b, r.random[0]
	return b.buf, nil
}

func (r *blockReaderAt) ReadAt(p []byte, off int64) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if off < 0 {
		return 0, errors.New("ipa: negative offset")
	}
	n := 0
	for n < len(p) && off < r.size {
		i := int(off / pblockSize)
		b, err := r.block(i)
		if err != nil {
			return n, err
		}
		k := copy(p[n:], b[off-int64(i)*pblockSize:])
		n += k
		off += int64(k)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// finish inflates what has not been read in order yet, checks the CRC-32
// and size of the whole entry, and returns its hashes (nil without
// withHash).
func (r *blockReaderAt) finish() (fileSum, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return fileSum{}, r.err
	}
	// The window only moves forward from block 0, so every block is
	// hashed once, in order.
	for r.fill(); len(r.queue) > 0; r.fill() {
		if err := r.pop(); err != nil {
			r.err = err
			return fileSum{}, err
		}
	}
	if r.hashed != r.size || r.crc != r.f.CRC32 {
		return fileSum{}, fmt.Errorf("reading %s: %w", r.f.Name, zip.ErrChecksum)
	}
	if r.h1 == nil {
		return fileSum{}, nil
	}
	return fileSum{r.h1.Sum(nil), r.h2.Sum(nil)}, nil
}

// close waits for the blocks in flight.
func (r *blockReaderAt) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, b := range r.queue {
		<-b.done
	}
	r.queue, r.free, r.random = nil, nil, [2]*inflateBlock{}
	if r.err == nil {
		r.err = errors.New("ipa: read after close")
	}
}

// inflaters pools the decompressors of one archive. Each reads its input
// through a 256 KiB buffer: archive/zip's own reads 4 KiB at a time, a
// system call each when the archive is a file.
type inflaters struct {
	pool  sync.Pool // *inflater
	bytes sync.Pool // *byteInflater
}

type inflater struct {
	br *bufio.Reader
	fr io.ReadCloser // flate reader over br
}

const inflateBuffer = 256 << 10

// open returns a decompressor of r; its Close returns it to the pool.
func (p *inflaters) open(r io.Reader) io.ReadCloser {
	in, ok := p.pool.Get().(*inflater)
	if ok {
		in.br.Reset(r)
		in.fr.(flate.Resetter).Reset(in.br, nil)
	} else {
		in = &inflater{br: bufio.NewReaderSize(r, inflateBuffer)}
		in.fr = flate.NewReader(in.br)
	}
	return &pooledInflater{in: in, pool: p}
}

type pooledInflater struct {
	in   *inflater
	pool *inflaters
}

func (f *pooledInflater) Read(p []byte) (int, error) {
	if f.in == nil {
		return 0, errors.New("ipa: read after close")
	}
	return f.in.fr.Read(p)
}

func (f *pooledInflater) Close() error {
	if f.in == nil {
		return nil
	}
	err := f.in.fr.Close()
	f.in.br.Reset(nil)
	f.pool.pool.Put(f.in)
	f.in = nil
	return err
}
