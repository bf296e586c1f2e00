package ipa

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"sync"
)

// smallEntry is the size up to which an entry is inflated into memory when
// random access is needed; larger deflated entries are read through a
// re-openable decompressor instead.
const smallEntry = 16 << 20

// entryReaderAt gives random access to the uncompressed content of a zip
// entry without holding it in memory: stored entries are read in place;
// deflated ones through a decompressor that is restarted when an offset
// lower than the current one is asked for (macho.Sign reads its input in
// two forward passes). The first headSize bytes are kept, since load
// commands are read several times.
type entryReaderAt struct {
	f    *zip.File
	src  io.ReaderAt
	size int64

	mu   sync.Mutex
	rc   io.ReadCloser
	pos  int64
	head []byte
	data int64 // data offset for stored entries; -1 otherwise

	// ahead, when not 0, makes each decompressor a readAhead of that
	// many chunks from pool.
	ahead int
	pool  *sync.Pool
	gate  *cpuGate // the readAhead's (see cpuGate)
}

const headSize = 256 << 10

// openEntry returns random access to f's content and a closer.
func openEntry(src io.ReaderAt, f *zip.File) (io.ReaderAt, int64, func(), error) {
	size := int64(f.UncompressedSize64)
	if f.Method == zip.Store {
		off, err := f.DataOffset()
		if err != nil {
			return nil, 0, nil, err
		}
		return io.NewSectionReader(src, off, size), size, func() {}, nil
	}
	if size <= smallEntry {
		b, err := readAll(f, smallEntry)
		if err != nil {
			return nil, 0, nil, err
		}
		return bytes.NewReader(b), int64(len(b)), func() {}, nil
	}
	r := &entryReaderAt{f: f, src: src, size: size, data: -1}
	return r, size, r.close, nil
}

// openEntryStream is openEntry for callers that read little of the
// entry, or read it once in order: deflated entries are always streamed.
func openEntryStream(src io.ReaderAt, f *zip.File) (io.ReaderAt, int64, func(), error) {
	if f.Method == zip.Store {
		return openEntry(src, f)
	}
	size := int64(f.UncompressedSize64)
	r := &entryReaderAt{f: f, src: src, size: size, data: -1}
	return r, size, r.close, nil
}

func (r *entryReaderAt) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.rc != nil {
		r.rc.Close()
		r.rc = nil
	}
}

func (r *entryReaderAt) ReadAt(p []byte, off int64) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if off < 0 {
		return 0, fmt.Errorf("ipa: negative offset")
	}
	if off >= r.size {
		return 0, io.EOF
	}
	n := 0
	if r.head == nil {
		if err := r.reopen(); err != nil {
			return 0, err
		}
		h := make([]byte, min(int64(headSize), r.size))
		if _, err := io.ReadFull(r.rc, h); err != nil {
			return 0, fmt.Errorf("reading %s: %w", r.f.Name, err)
		}
		r.head, r.pos = h, int64(len(h))
	}
	if off < int64(len(r.head)) {
		n = copy(p, r.head[off:])
		if n == len(p) {
			return n, nil
		}
		off += int64(n)
	}
	if off < r.pos || r.rc == nil {
		if err := r.reopen(); err != nil {
			return n, err
		}
	}
	if off > r.pos {
		if _, err := io.CopyN(io.Discard, r.rc, off-r.pos); err != nil {
			return n, fmt.Errorf("reading %s: %w", r.f.Name, err)
		}
		r.pos = off
	}
	want := p[n:]
	if rem := r.size - off; int64(len(want)) > rem {
		want = want[:rem]
	}
	m, err := io.ReadFull(r.rc, want)
	r.pos += int64(m)
	n += m
	if err != nil {
		return n, fmt.Errorf("reading %s: %w", r.f.Name, err)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (r *entryReaderAt) reopen() error {
	if r.rc != nil {
		r.rc.Close()
	}
	rc, err := r.f.Open()
	if err != nil {
		return fmt.Errorf("opening %s: %w", r.f.Name, err)
	}
	if r.ahead > 0 {
		rc = newReadAhead(rc, r.ahead, r.pool, r.gate)
	}
	r.rc, r.pos = rc, 0
	return nil
}

// readAll reads a whole entry, refusing more than limit bytes. The
// buffer is allocated once, at the size the entry declares.
func readAll(f *zip.File, limit int64) ([]byte, error) {
	if f.UncompressedSize64 > uint64(limit) {
		return nil, fmt.Errorf("%s is %d bytes, more than the %d allowed", f.Name, f.UncompressedSize64, limit)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", f.Name, err)
	}
	defer rc.Close()
	b := make([]byte, f.UncompressedSize64)
	if _, err := io.ReadFull(rc, b); err != nil {
		return nil, fmt.Errorf("reading %s: %w", f.Name, err)
	}
	// Read to the end, so that the zip reader checks the CRC-32 and the
	// size.
	var one [1]byte
	if n, err := rc.Read(one[:]); n > 0 || err != io.EOF {
		if err == nil || err == io.EOF {
			err = fmt.Errorf("more data than the %d bytes declared", len(b))
		}
		return nil, fmt.Errorf("reading %s: %w", f.Name, err)
	}
	return b, nil
}

// blockIndex locates the independent 1 MiB blocks of an entry written by
// parallelDeflater: offs[i] is where block i (uncompressed offset
// i*pblockSize) starts in the compressed data.
type blockIndex []int64
