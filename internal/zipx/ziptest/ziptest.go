// Package ziptest builds zip archives byte by byte for tests: valid ones
// with every field under control (methods, flags, data descriptors,
// zip64, DOS or Unix attributes), and the table of hostile variants
// storesign's readers must refuse ([Hostile]).
//
// Nothing here is for production use: the builder trusts its input.
package ziptest

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"hash/crc32"
	"io"
)

// Entry is one entry to build.
type Entry struct {
	Name string
	// Data is the uncompressed content.
	Data []byte
	// Deflate compresses Data (method 8); otherwise it is stored.
	Deflate bool
	// Raw, when not nil, is written as the entry's data instead of
	// Data's encoding (the CRC-32 and sizes still describe Data).
	Raw []byte
	// Method, when not zero, overrides the method written.
	Method uint16
	// Flags are added to the general purpose flags (bit 3 also writes
	// a data descriptor with a signature).
	Flags uint16
	// MadeBy is the "version made by" (0: Unix, 3<<8|20).
	MadeBy uint16
	// ExternalAttrs is the external attributes field (0: a Unix mode of
	// 0644 for files, 0755 for folders).
	ExternalAttrs uint32
	// DOS, when true, leaves the made-by host as MS-DOS and the external
	// attributes as MadeBy/ExternalAttrs say (zero if unset).
	DOS bool
	// LocalExtra and CentralExtra are the extra fields.
	LocalExtra, CentralExtra []byte
	// Modified is the MS-DOS time and date.
	ModTime, ModDate uint16
}

// Archive is a built archive and where its records are.
type Archive struct {
	Bytes []byte
	// Local[i] is the offset of entry i's local header, Central[i] of its
	// central directory record.
	Local, Central []int
	// Descriptor[i] is the offset of entry i's data descriptor, or -1.
	Descriptor []int
	// CDOffset, EOCDOffset locate the central directory and the classic
	// end record.
	CDOffset, EOCDOffset int
}

// Options tune [Build].
type Options struct {
	// Prefix is written before the first entry (an APK Signing Block
	// would sit after the last one: see Gap).
	Prefix []byte
	// Gap is written between the last entry and the central directory.
	Gap []byte
	// Zip64 writes a zip64 end record and locator (with the classic
	// record's fields set to their maximum).
	Zip64 bool
	// Comment is the archive comment.
	Comment string
}

// Encode returns what e's data is written as, its CRC-32 and size.
func (e *Entry) Encode() (data []byte, method uint16) {
	method = e.Method
	switch {
	case e.Raw != nil:
		data = e.Raw
	case e.Deflate:
		var b bytes.Buffer
		w, _ := flate.NewWriter(&b, flate.DefaultCompression)
		w.Write(e.Data)
		w.Close()
		data = b.Bytes()
	default:
		data = e.Data
	}
	if method == 0 && e.Deflate {
		method = 8
	}
	return data, method
}

// Build writes the entries as one archive.
func Build(entries []Entry, opts Options) *Archive {
	le := binary.LittleEndian
	a := &Archive{}
	var out, cd []byte
	out = append(out, opts.Prefix...)
	for _, e := range entries {
		data, method := e.Encode()
		crc := crc32.ChecksumIEEE(e.Data)
		dd := e.Flags&0x8 != 0
		madeBy, attrs := e.MadeBy, e.ExternalAttrs
		if !e.DOS {
			if madeBy == 0 {
				madeBy = 3<<8 | 20
			}
			if attrs == 0 {
				attrs = 0o100644 << 16
				if len(e.Name) > 0 && e.Name[len(e.Name)-1] == '/' {
					attrs = 0o40755<<16 | 0x10
				}
			}
		}
		a.Local = append(a.Local, len(out))
		h := make([]byte, 30)
		le.PutUint32(h, 0x04034b50)
		le.PutUint16(h[4:], 20)
		le.PutUint16(h[6:], e.Flags)
		le.PutUint16(h[8:], method)
		le.PutUint16(h[10:], e.ModTime)
		le.PutUint16(h[12:], e.ModDate)
		if !dd {
			le.PutUint32(h[14:], crc)
			le.PutUint32(h[18:], uint32(len(data)))
			le.PutUint32(h[22:], uint32(len(e.Data)))
		}
		le.PutUint16(h[26:], uint16(len(e.Name)))
		le.PutUint16(h[28:], uint16(len(e.LocalExtra)))
		off := len(out)
		out = append(out, h...)
		out = append(out, e.Name...)
		out = append(out, e.LocalExtra...)
		out = append(out, data...)
		if dd {
			a.Descriptor = append(a.Descriptor, len(out))
			out = le.AppendUint32(out, 0x08074b50)
			out = le.AppendUint32(out, crc)
			out = le.AppendUint32(out, uint32(len(data)))
			out = le.AppendUint32(out, uint32(len(e.Data)))
		} else {
			a.Descriptor = append(a.Descriptor, -1)
		}
		c := make([]byte, 46)
		le.PutUint32(c, 0x02014b50)
		le.PutUint16(c[4:], madeBy)
		le.PutUint16(c[6:], 20)
		le.PutUint16(c[8:], e.Flags)
		le.PutUint16(c[10:], method)
		le.PutUint16(c[12:], e.ModTime)
		le.PutUint16(c[14:], e.ModDate)
		le.PutUint32(c[16:], crc)
		le.PutUint32(c[20:], uint32(len(data)))
		le.PutUint32(c[24:], uint32(len(e.Data)))
		le.PutUint16(c[28:], uint16(len(e.Name)))
		le.PutUint16(c[30:], uint16(len(e.CentralExtra)))
		le.PutUint32(c[38:], attrs)
		le.PutUint32(c[42:], uint32(off))
		a.Central = append(a.Central, len(cd))
		cd = append(cd, c...)
		cd = append(cd, e.Name...)
		cd = append(cd, e.CentralExtra...)
	}
	out = append(out, opts.Gap...)
	a.CDOffset = len(out)
	for i := range a.Central {
		a.Central[i] += a.CDOffset
	}
	out = append(out, cd...)
	count, cdSize, cdOff := len(entries), int64(len(cd)), int64(a.CDOffset)
	if opts.Zip64 {
		rec := len(out)
		out = le.AppendUint32(out, 0x06064b50)
		out = le.AppendUint64(out, 44)
		out = le.AppendUint16(out, 45)
		out = le.AppendUint16(out, 45)
		out = le.AppendUint32(out, 0)
		out = le.AppendUint32(out, 0)
		out = le.AppendUint64(out, uint64(count))
		out = le.AppendUint64(out, uint64(count))
		out = le.AppendUint64(out, uint64(cdSize))
		out = le.AppendUint64(out, uint64(cdOff))
		out = le.AppendUint32(out, 0x07064b50)
		out = le.AppendUint32(out, 0)
		out = le.AppendUint64(out, uint64(rec))
		out = le.AppendUint32(out, 1)
		count, cdSize, cdOff = 0xffff, 0xffffffff, 0xffffffff
	}
	a.EOCDOffset = len(out)
	out = le.AppendUint32(out, 0x06054b50)
	out = le.AppendUint16(out, 0)
	out = le.AppendUint16(out, 0)
	out = le.AppendUint16(out, uint16(min(count, 0xffff)))
	out = le.AppendUint16(out, uint16(min(count, 0xffff)))
	out = le.AppendUint32(out, uint32(cdSize))
	out = le.AppendUint32(out, uint32(cdOff))
	out = le.AppendUint16(out, uint16(len(opts.Comment)))
	out = append(out, opts.Comment...)
	a.Bytes = out
	return a
}

// EntriesOf returns the entries of a zip archive (read with archive/zip)
// as [Entry] values to rebuild it with [Build]: names, contents, methods
// and Unix modes are kept; flags, extra fields and times are not.
func EntriesOf(b []byte) ([]Entry, error) {
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, err
	}
	out := make([]Entry, 0, len(zr.File))
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			return nil, err
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return nil, err
		}
		e := Entry{Name: f.Name, Data: data, Deflate: f.Method == zip.Deflate, MadeBy: f.CreatorVersion, ExternalAttrs: f.ExternalAttrs}
		if e.MadeBy>>8 != 3 {
			e.MadeBy, e.ExternalAttrs = 0, 0
		}
		out = append(out, e)
	}
	return out, nil
}

// Zeros describes an entry of Size zero bytes, stored, that
// [BuildSparse] does not hold in memory.
type Zeros struct {
	Name string
	Size int64
}

// BuildSparse returns an archive of the entries followed by big (stored,
// with zip64 fields), with a zip64 end record, as a reader that makes
// big's zeros up on the fly: archives of several GiB without the disk or
// memory.
func BuildSparse(entries []Entry, big Zeros) (*SparseBuffer, error) {
	small := Build(entries, Options{})
	le := binary.LittleEndian
	s := &SparseBuffer{}
	s.Write(small.Bytes[:small.CDOffset])
	bigOff := s.Size()
	crc := crc32.NewIEEE()
	zero := make([]byte, 1<<20)
	for n := big.Size; n > 0; n -= int64(len(zero)) {
		crc.Write(zero[:min(n, int64(len(zero)))])
	}
	z64 := le.AppendUint64(le.AppendUint64([]byte{1, 0, 16, 0}, uint64(big.Size)), uint64(big.Size))
	h := make([]byte, 30)
	le.PutUint32(h, 0x04034b50)
	le.PutUint16(h[4:], 45)
	le.PutUint32(h[14:], crc.Sum32())
	le.PutUint32(h[18:], 0xffffffff)
	le.PutUint32(h[22:], 0xffffffff)
	le.PutUint16(h[26:], uint16(len(big.Name)))
	le.PutUint16(h[28:], uint16(len(z64)))
	s.Write(append(append(h, big.Name...), z64...))
	if _, err := s.WriteZeros(big.Size); err != nil {
		return nil, err
	}
	cdOff := s.Size()
	cd := bytes.Clone(small.Bytes[small.CDOffset:small.EOCDOffset])
	c := make([]byte, 46)
	le.PutUint32(c, 0x02014b50)
	le.PutUint16(c[4:], 3<<8|45)
	le.PutUint16(c[6:], 45)
	le.PutUint32(c[16:], crc.Sum32())
	le.PutUint32(c[20:], 0xffffffff)
	le.PutUint32(c[24:], 0xffffffff)
	le.PutUint16(c[28:], uint16(len(big.Name)))
	le.PutUint16(c[30:], uint16(len(z64)))
	le.PutUint32(c[38:], 0o100644<<16)
	le.PutUint32(c[42:], uint32(bigOff))
	cd = append(append(append(cd, c...), big.Name...), z64...)
	s.Write(cd)
	count := len(entries) + 1
	rec := s.Size()
	var end []byte
	end = le.AppendUint32(end, 0x06064b50)
	end = le.AppendUint64(end, 44)
	end = le.AppendUint16(end, 45)
	end = le.AppendUint16(end, 45)
	end = le.AppendUint64(end, 0)
	end = le.AppendUint64(end, uint64(count))
	end = le.AppendUint64(end, uint64(count))
	end = le.AppendUint64(end, uint64(len(cd)))
	end = le.AppendUint64(end, uint64(cdOff))
	end = le.AppendUint32(end, 0x07064b50)
	end = le.AppendUint32(end, 0)
	end = le.AppendUint64(end, uint64(rec))
	end = le.AppendUint32(end, 1)
	end = le.AppendUint32(end, 0x06054b50)
	end = le.AppendUint32(end, 0)
	end = le.AppendUint16(end, uint16(count))
	end = le.AppendUint16(end, uint16(count))
	end = le.AppendUint32(end, uint32(len(cd)))
	end = le.AppendUint32(end, 0xffffffff)
	end = le.AppendUint16(end, 0)
	s.Write(end)
	return s, nil
}

// SparseBuffer is an in-memory file that does not store runs of zeros:
// an io.Writer and io.ReaderAt for archives of several GiB made mostly of
// zeros.
type SparseBuffer struct {
	segs []segment
	size int64
	zero []byte
}

type segment struct {
	off  int64
	data []byte
}

const sparseBlock = 64 << 10

// Size is the number of bytes written.
func (s *SparseBuffer) Size() int64 { return s.size }

// Write appends p, keeping only its blocks that are not all zeros.
func (s *SparseBuffer) Write(p []byte) (int, error) {
	n := len(p)
	if s.zero == nil {
		s.zero = make([]byte, sparseBlock)
	}
	for len(p) > 0 {
		k := min(len(p), sparseBlock)
		if !bytes.Equal(p[:k], s.zero[:k]) {
			if l := len(s.segs); l > 0 && s.segs[l-1].off+int64(len(s.segs[l-1].data)) == s.size {
				s.segs[l-1].data = append(s.segs[l-1].data, p[:k]...)
			} else {
				s.segs = append(s.segs, segment{off: s.size, data: bytes.Clone(p[:k])})
			}
		}
		s.size += int64(k)
		p = p[k:]
	}
	return n, nil
}

// WriteZeros appends n zero bytes.
func (s *SparseBuffer) WriteZeros(n int64) (int64, error) {
	s.size += n
	return n, nil
}

// ReadAt reads as from a file holding what was written.
func (s *SparseBuffer) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, io.ErrUnexpectedEOF
	}
	if off >= s.size {
		return 0, io.EOF
	}
	n := len(p)
	var err error
	if int64(n) > s.size-off {
		n, err = int(s.size-off), io.EOF
	}
	p = p[:n]
	clear(p)
	end := off + int64(n)
	// First segment that may overlap: binary search on ends.
	lo, hi := 0, len(s.segs)
	for lo < hi {
		m := (lo + hi) / 2
		if s.segs[m].off+int64(len(s.segs[m].data)) <= off {
			lo = m + 1
		} else {
			hi = m
		}
	}
	for _, sg := range s.segs[lo:] {
		if sg.off >= end {
			break
		}
		from, to := max(sg.off, off), min(sg.off+int64(len(sg.data)), end)
		copy(p[from-off:to-off], sg.data[from-sg.off:to-sg.off])
	}
	return n, err
}
