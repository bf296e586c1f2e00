package apk

import (
	"bufio"
	"compress/flate"
	"crypto"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/storesign/storesign/internal/zipx"
)

// record is an entry's local file record as apksig reads it: local
// header, data and, when the entry has one, its data descriptor.
type record struct {
	e *zipx.Entry
	// start is the offset of the local header; size the length of the
	// whole record.
	start, size int64
	// dataStart is the offset of the data inside the record, dataSize
	// its length.
	dataStart, dataSize int64
	// head is the local header's fixed part and name; extra its extra
	// field.
	head, extra []byte
	// compressed is true for any method but stored.
	compressed bool
}

// readRecord reads e's local record, checking it against the central
// directory as apksig's LocalFileRecord does. cdStart bounds the entries
// section.
func readRecord(r io.ReaderAt, e *zipx.Entry, cdStart int64) (*record, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: entry %q: %s", ErrMalformed, e.Name, fmt.Sprintf(format, args...))
	}
	cdNameLen := int64(len(e.Name))
	if e.HeaderOffset+zipx.LocalHeaderLen+cdNameLen > cdStart {
		return nil, bad("local header extends beyond the start of the central directory")
	}
	hdr := make([]byte, zipx.LocalHeaderLen+cdNameLen)
	if _, err := r.ReadAt(hdr, e.HeaderOffset); err != nil {
		return nil, bad("reading local header: %v", err)
	}
	le := binary.LittleEndian
	if le.Uint32(hdr) != zipx.LocalHeaderSig {
		return nil, bad("no local header at offset %d", e.HeaderOffset)
	}
	flags := le.Uint16(hdr[6:])
	dd := flags&zipx.FlagDataDescriptor != 0
	if dd != (e.Flags&zipx.FlagDataDescriptor != 0) {
		return nil, bad("data descriptor flag differs between local header and central directory")
	}
	nameLen := int64(le.Uint16(hdr[26:]))
	if nameLen > cdNameLen || string(hdr[zipx.LocalHeaderLen:zipx.LocalHeaderLen+nameLen]) != e.Name {
		return nil, bad("local header name differs from the central directory's")
	}
	extraLen := int64(le.Uint16(hdr[28:]))
	rec := &record{e: e, start: e.HeaderOffset, head: hdr[:zipx.LocalHeaderLen+nameLen], compressed: e.Method != zipx.Store}
	rec.dataStart = zipx.LocalHeaderLen + nameLen + extraLen
	rec.dataSize = e.UncompressedSize
	if rec.compressed {
		rec.dataSize = e.CompressedSize
	}
	dataEnd := rec.start + rec.dataStart + rec.dataSize
	if dataEnd > cdStart || dataEnd < rec.start {
		return nil, bad("data overlaps the central directory")
	}
	if extraLen > 0 {
		rec.extra = make([]byte, extraLen)
		if _, err := r.ReadAt(rec.extra, rec.start+zipx.LocalHeaderLen+nameLen); err != nil {
			return nil, bad("reading extra field: %v", err)
		}
	}
	if !dd {
		crc := le.Uint32(hdr[14:])
		csize, usize := int64(le.Uint32(hdr[18:])), int64(le.Uint32(hdr[22:]))
		if csize == 0xffffffff || usize == 0xffffffff {
			csize, usize = zipx.LocalZip64(rec.extra, csize, usize)
		}
		switch {
		case crc != e.CRC32:
			return nil, bad("CRC-32 differs between local header and central directory")
		case csize != e.CompressedSize:
			return nil, bad("compressed size differs between local header and central directory")
		case usize != e.UncompressedSize:
			return nil, bad("uncompressed size differs between local header and central directory")
		}
	}
	end := dataEnd
	if dd {
		// The descriptor's signature is optional; like Android, take
		// four bytes equal to it as the signature.
		end += 12
		if end > cdStart {
			return nil, bad("data descriptor overlaps the central directory")
		}
		var sig [4]byte
		if _, err := r.ReadAt(sig[:], dataEnd); err != nil {
			return nil, bad("reading data descriptor: %v", err)
		}
		if le.Uint32(sig[:]) == zipx.DataDescriptorSig {
			end += 4
			if end > cdStart {
				return nil, bad("data descriptor overlaps the central directory")
			}
		}
	}
	rec.size = end - rec.start
	return rec, nil
}

// alignment returns the alignment apksig wants for rec's data: none for
// compressed entries, the one an apksig alignment extra field asks for,
// else libAlign for native libraries and 4 for anything else.
func (rec *record) alignment(libAlign int) int {
	if rec.compressed {
		return 1
	}
	le := binary.LittleEndian
	extra := rec.extra
	for len(extra) >= 4 {
		id, sz := le.Uint16(extra), int(le.Uint16(extra[2:]))
		if sz > len(extra)-4 {
			break
		}
		if id == zipx.AlignmentExtraID {
			if sz < 2 {
				break
			}
			return int(le.Uint16(extra[4:]))
		}
		extra = extra[4+sz:]
	}
	if strings.HasSuffix(rec.e.Name, ".so") {
		return libAlign
	}
	return 4
}

// uncompressed returns a reader of rec's uncompressed data.
func (rec *record) uncompressed(r io.ReaderAt) io.ReadCloser {
	raw := io.NewSectionReader(r, rec.start+rec.dataStart, rec.dataSize)
	if rec.compressed {
		return flate.NewReader(raw)
	}
	return io.NopCloser(raw)
}

// scratch is a worker's reusable read buffer, inflater and its input
// buffer (flate reads a byte at a time: without a large buffer of its
// own it would read the file 4 KiB at a time).
type scratch struct {
	buf      []byte
	inflater io.ReadCloser
	br       *bufio.Reader
}

// digest hashes rec's uncompressed data, checking its size as apksig
// does. pool recycles buffers and inflaters between calls.
func (rec *record) digest(r io.ReaderAt, h crypto.Hash, pool *sync.Pool) ([]byte, error) {
	s, _ := pool.Get().(*scratch)
	if s == nil {
		s = &scratch{buf: make([]byte, 256<<10)}
	}
	defer pool.Put(s)
	var src io.Reader = io.NewSectionReader(r, rec.start+rec.dataStart, rec.dataSize)
	if rec.compressed {
		if s.br == nil {
			s.br = bufio.NewReaderSize(src, 256<<10)
		} else {
			s.br.Reset(src)
		}
		src = s.br
		if s.inflater == nil {
			s.inflater = flate.NewReader(src)
		} else if err := s.inflater.(flate.Resetter).Reset(src, nil); err != nil {
			return nil, err
		}
		src = s.inflater
	}
	d := h.New()
	n, err := io.CopyBuffer(d, src, s.buf)
	if err != nil {
		return nil, fmt.Errorf("%w: entry %q: reading data: %v", ErrMalformed, rec.e.Name, err)
	}
	if n != rec.e.UncompressedSize {
		return nil, fmt.Errorf("%w: entry %q: %d bytes of data, the central directory says %d", ErrMalformed, rec.e.Name, n, rec.e.UncompressedSize)
	}
	return d.Sum(nil), nil
}

// readAll returns rec's uncompressed data, up to max bytes.
func (rec *record) readAll(r io.ReaderAt, max int64) ([]byte, error) {
	if rec.e.UncompressedSize > max {
		return nil, fmt.Errorf("entry %q is too large (%d bytes)", rec.e.Name, rec.e.UncompressedSize)
	}
	rc := rec.uncompressed(r)
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, max+1))
	if err != nil {
		return nil, fmt.Errorf("%w: entry %q: reading data: %v", ErrMalformed, rec.e.Name, err)
	}
	if int64(len(b)) != rec.e.UncompressedSize {
		return nil, fmt.Errorf("%w: entry %q: %d bytes of data, the central directory says %d", ErrMalformed, rec.e.Name, len(b), rec.e.UncompressedSize)
	}
	return b, nil
}
