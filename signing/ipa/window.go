package ipa

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"errors"
	"hash/crc32"
	"io"
)

// windowSize is how much of the archive a window holds: the data of
// dozens of small entries, read with one system call instead of several
// each (archive/zip reads an entry's local header, then its data, then
// its data descriptor).
const windowSize = 1 << 20

// A window reads an archive's bytes through one buffer: the entries read
// in the order of their data, as they are hashed and copied, take one
// read for many.
type window struct {
	src  io.ReaderAt
	size int64 // of src
	buf  []byte
	off  int64 // of buf[0] in src
}

func newWindow(src io.ReaderAt, size int64) *window {
	return &window{src: src, size: size, buf: make([]byte, 0, windowSize)}
}

// get returns the n bytes of the archive at off, n at most windowSize;
// they are valid until the next call. When it reads, it reads ahead up
// to end (at most windowSize bytes in all): the data of the entries
// likely to be asked for next.
func (w *window) get(off, n, end int64) ([]byte, error) {
	if n > windowSize || off < 0 || n < 0 || off > w.size {
		return nil, errors.New("ipa: internal error: a window read out of bounds")
	}
	if off >= w.off && off+n <= w.off+int64(len(w.buf)) {
		return w.buf[off-w.off : off-w.off+n], nil
	}
	buf := w.buf[:max(n, min(windowSize, w.size-off, end-off))]
	k, err := w.src.ReadAt(buf, off)
	if int64(k) < n {
		w.buf = w.buf[:0]
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	w.buf, w.off = buf[:k], off
	return w.buf[:n], nil
}

// openWindow returns e's content read from its compressed data through
// w, checked as archive/zip checks it (size and CRC-32 at the end), or
// nil when e is not known to checkArchive or does not fit in a window.
func (a *archive) openWindow(e *entry, w *window) io.ReadCloser {
	f := e.f
	if w == nil || e.data < 0 || f.CompressedSize64 > windowSize {
		return nil
	}
	raw, err := w.get(e.data, int64(f.CompressedSize64), e.runEnd)
	if err != nil {
		return &checkedReader{err: err}
	}
	switch f.Method {
	case zip.Store:
		return &checkedReader{r: bytes.NewReader(raw), f: f}
	case zip.Deflate:
		in := a.inflaters.openBytes(raw)
		return &checkedReader{r: in, f: f, close: in.Close}
	}
	return nil
}

// checkedReader reads an entry's content and checks, as archive/zip
// does, that it has the size and CRC-32 the central directory gives
// (checkArchive checked a data descriptor against it).
type checkedReader struct {
	r     io.Reader
	f     *zip.File
	n     uint64
	crc   uint32
	err   error
	close func() error
}

func (c *checkedReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.r.Read(p)
	c.crc = crc32.Update(c.crc, crc32.IEEETable, p[:n])
	c.n += uint64(n)
	if c.n > c.f.UncompressedSize64 {
		c.err = zip.ErrFormat
		return 0, c.err
	}
	if err == io.EOF {
		switch {
		case c.n != c.f.UncompressedSize64:
			err = io.ErrUnexpectedEOF
		case (c.f.CRC32 != 0 || c.f.Flags&0x8 != 0) && c.crc != c.f.CRC32:
			err = zip.ErrChecksum
		}
	}
	if err != nil {
		c.err = err
	}
	return n, err
}

func (c *checkedReader) Close() error {
	if c.close == nil {
		return nil
	}
	err := c.close()
	c.close = nil
	return err
}

// byteInflater inflates bytes in memory: flate reads them through
// bytes.Reader's ReadByte, without a buffer of its own.
type byteInflater struct {
	br bytes.Reader
	fr io.ReadCloser
}

// openBytes returns a decompressor of b; its Close returns it to the
// pool.
func (p *inflaters) openBytes(b []byte) io.ReadCloser {
	in, ok := p.bytes.Get().(*byteInflater)
	if ok {
		in.br.Reset(b)
		in.fr.(flate.Resetter).Reset(&in.br, nil)
	} else {
		in = &byteInflater{}
		in.br.Reset(b)
		in.fr = flate.NewReader(&in.br)
	}
	return &pooledBytes{in: in, pool: p}
}

type pooledBytes struct {
	in   *byteInflater
	pool *inflaters
}

func (f *pooledBytes) Read(p []byte) (int, error) {
	if f.in == nil {
		return 0, errors.New("ipa: read after close")
	}
	return f.in.fr.Read(p)
}

func (f *pooledBytes) Close() error {
	if f.in == nil {
		return nil
	}
	err := f.in.fr.Close()
	f.in.br.Reset(nil)
	f.pool.bytes.Put(f.in)
	f.in = nil
	return err
}
