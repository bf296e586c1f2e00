package zipx

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// Errors returned by [Read].
var (
	// ErrFormat means the data is not a zip archive (no End of Central
	// Directory record).
	ErrFormat = errors.New("zip: not a valid zip file")
	// ErrTruncated means the archive ends before a record it declares.
	ErrTruncated = errors.New("zip: archive is truncated or damaged")
)

// DuplicateError reports two central directory entries with one name.
type DuplicateError struct{ Name string }

func (e *DuplicateError) Error() string {
	return fmt.Sprintf("zip: duplicate entry %q", e.Name)
}

// Signatures and fixed sizes of zip records.
const (
	LocalHeaderSig     = 0x04034b50
	CentralHeaderSig   = 0x02014b50
	EOCDSig            = 0x06054b50
	Zip64EOCDSig       = 0x06064b50
	Zip64LocatorSig    = 0x07064b50
	DataDescriptorSig  = 0x08074b50
	LocalHeaderLen     = 30
	CentralHeaderLen   = 46
	EOCDLen            = 22
	zip64LocatorLen    = 20
	zip64EOCDLen       = 56
	maxCommentLen      = 0xffff
	FlagDataDescriptor = 0x0008
	FlagUTF8           = 0x0800
	Store              = 0
	Deflated           = 8
	AlignmentExtraID   = 0xd935
	zip64ExtraID       = 0x0001
)

// Archive is a parsed zip file: its sections and central directory.
type Archive struct {
	// Size is the size of the file.
	Size int64
	// CDOffset and CDSize locate the central directory. CDOffset is
	// also the end of the entries' section (including whatever sits
	// between the last entry and the directory, such as an APK Signing
	// Block).
	CDOffset, CDSize int64
	// EOCDOffset is where the End of Central Directory record starts (the
	// zip64 one when present).
	EOCDOffset int64
	// EOCD is the raw classic End of Central Directory record with its
	// comment.
	EOCD []byte
	// Zip64 reports a zip64 end record.
	Zip64 bool
	// Entries in central directory order.
	Entries []*Entry
}

// Entry is one central directory record.
type Entry struct {
	Name             string
	VersionMadeBy    uint16
	VersionNeeded    uint16
	Flags            uint16
	Method           uint16
	ModTime, ModDate uint16
	CRC32            uint32
	CompressedSize   int64
	UncompressedSize int64
	// HeaderOffset is the offset of the local file header.
	HeaderOffset int64
	// Extra and Comment are the central directory's.
	Extra, Comment []byte
	// Raw is the whole central directory record.
	Raw []byte
}

// IsDir reports whether the entry names a directory.
func (e *Entry) IsDir() bool { return len(e.Name) > 0 && e.Name[len(e.Name)-1] == '/' }

// Read parses the archive's end records and central directory. It
// checks that the directory is consistent (records in bounds, no duplicate
// names) but reads no local header.
func Read(r io.ReaderAt, size int64) (*Archive, error) {
	if size < EOCDLen {
		return nil, ErrFormat
	}
	tail := int64(EOCDLen + maxCommentLen)
	if tail > size {
		tail = size
	}
	buf := make([]byte, tail)
	if _, err := r.ReadAt(buf, size-tail); err != nil && err != io.EOF {
		return nil, fmt.Errorf("zip: reading end of archive: %w", err)
	}
	eocdPos := -1
	// Search backwards for an EOCD whose comment length fits exactly,
	// as apksig does; fall back to the last signature found.
	for i := len(buf) - EOCDLen; i >= 0; i-- {
		if binary.LittleEndian.Uint32(buf[i:]) != EOCDSig {
			continue
		}
		clen := int(binary.LittleEndian.Uint16(buf[i+20:]))
		if i+EOCDLen+clen == len(buf) {
			eocdPos = i
			break
		}
	}
	if eocdPos < 0 {
		return nil, ErrFormat
	}
	a := &Archive{Size: size}
	a.EOCDOffset = size - tail + int64(eocdPos)
	a.EOCD = append([]byte(nil), buf[eocdPos:]...)
	e := a.EOCD
	count := int64(binary.LittleEndian.Uint16(e[10:]))
	a.CDSize = int64(binary.LittleEndian.Uint32(e[12:]))
	a.CDOffset = int64(binary.LittleEndian.Uint32(e[16:]))
	if count == 0xffff || a.CDSize == 0xffffffff || a.CDOffset == 0xffffffff {
		if err := a.readZip64(r, &count); err != nil {
			return nil, err
		}
	}
	if a.CDOffset < 0 || a.CDSize < 0 || a.CDOffset+a.CDSize > a.EOCDOffset {
		return nil, fmt.Errorf("%w: central directory out of bounds", ErrTruncated)
	}
	if count > a.CDSize/CentralHeaderLen {
		return nil, fmt.Errorf("%w: %d entries cannot fit in a %d-byte central directory", ErrTruncated, count, a.CDSize)
	}
	cd := make([]byte, a.CDSize)
	if _, err := r.ReadAt(cd, a.CDOffset); err != nil {
		return nil, fmt.Errorf("zip: reading central directory: %w", err)
	}
	a.Entries = make([]*Entry, 0, count)
	seen := make(map[string]bool, count)
	p := 0
	for i := int64(0); i < count; i++ {
		ent, n, err := parseCentral(cd[p:])
		if err != nil {
			return nil, fmt.Errorf("%w: central directory record %d: %v", ErrTruncated, i+1, err)
		}
		ent.Raw = cd[p : p+n : p+n]
		p += n
		if ent.HeaderOffset+LocalHeaderLen > a.CDOffset {
			return nil, fmt.Errorf("%w: entry %q starts beyond the entries section", ErrTruncated, ent.Name)
		}
		if seen[ent.Name] {
			return nil, &DuplicateError{ent.Name}
		}
		seen[ent.Name] = true
		a.Entries = append(a.Entries, ent)
	}
	if p != len(cd) {
		return nil, fmt.Errorf("%w: %d unused bytes at the end of the central directory", ErrTruncated, len(cd)-p)
	}
	return a, nil
}

func (a *Archive) readZip64(r io.ReaderAt, count *int64) error {
	locOff := a.EOCDOffset - zip64LocatorLen
	if locOff < 0 {
		return nil // not really zip64; the 0xffff values are literal
	}
	loc := make([]byte, zip64LocatorLen)
	if _, err := r.ReadAt(loc, locOff); err != nil {
		return fmt.Errorf("zip: reading zip64 locator: %w", err)
	}
	if binary.LittleEndian.Uint32(loc) != Zip64LocatorSig {
		return nil
	}
	recOff := int64(binary.LittleEndian.Uint64(loc[8:]))
	if recOff < 0 || recOff+zip64EOCDLen > locOff {
		return fmt.Errorf("%w: zip64 end record out of bounds", ErrTruncated)
	}
	rec := make([]byte, zip64EOCDLen)
	if _, err := r.ReadAt(rec, recOff); err != nil {
		return fmt.Errorf("zip: reading zip64 end record: %w", err)
	}
	if binary.LittleEndian.Uint32(rec) != Zip64EOCDSig {
		return fmt.Errorf("%w: bad zip64 end record", ErrTruncated)
	}
	*count = int64(binary.LittleEndian.Uint64(rec[32:]))
	a.CDSize = int64(binary.LittleEndian.Uint64(rec[40:]))
	a.CDOffset = int64(binary.LittleEndian.Uint64(rec[48:]))
	if *count < 0 || a.CDSize < 0 || a.CDOffset < 0 {
		return fmt.Errorf("%w: bad zip64 end record", ErrTruncated)
	}
	a.EOCDOffset = recOff
	a.Zip64 = true
	return nil
}

func parseCentral(b []byte) (*Entry, int, error) {
	if len(b) < CentralHeaderLen {
		return nil, 0, errors.New("short record")
	}
	le := binary.LittleEndian
	if le.Uint32(b) != CentralHeaderSig {
		return nil, 0, errors.New("bad signature")
	}
	nl, xl, cl := int(le.Uint16(b[28:])), int(le.Uint16(b[30:])), int(le.Uint16(b[32:]))
	n := CentralHeaderLen + nl + xl + cl
	if len(b) < n {
		return nil, 0, errors.New("record overruns the directory")
	}
	e := &Entry{
		VersionMadeBy:    le.Uint16(b[4:]),
		VersionNeeded:    le.Uint16(b[6:]),
		Flags:            le.Uint16(b[8:]),
		Method:           le.Uint16(b[10:]),
		ModTime:          le.Uint16(b[12:]),
		ModDate:          le.Uint16(b[14:]),
		CRC32:            le.Uint32(b[16:]),
		CompressedSize:   int64(le.Uint32(b[20:])),
		UncompressedSize: int64(le.Uint32(b[24:])),
		HeaderOffset:     int64(le.Uint32(b[42:])),
		Name:             string(b[CentralHeaderLen : CentralHeaderLen+nl]),
		Extra:            b[CentralHeaderLen+nl : CentralHeaderLen+nl+xl : CentralHeaderLen+nl+xl],
		Comment:          b[CentralHeaderLen+nl+xl : n : n],
	}
	if e.UncompressedSize == 0xffffffff || e.CompressedSize == 0xffffffff || e.HeaderOffset == 0xffffffff {
		e.applyZip64(e.Extra)
	}
	if e.CompressedSize < 0 || e.UncompressedSize < 0 || e.HeaderOffset < 0 {
		return nil, 0, errors.New("bad zip64 sizes")
	}
	return e, n, nil
}

func (e *Entry) applyZip64(extra []byte) {
	le := binary.LittleEndian
	for len(extra) >= 4 {
		id, sz := le.Uint16(extra), int(le.Uint16(extra[2:]))
		if sz > len(extra)-4 {
			return
		}
		d := extra[4 : 4+sz]
		extra = extra[4+sz:]
		if id != zip64ExtraID {
			continue
		}
		next := func(v *int64) {
			if *v == 0xffffffff && len(d) >= 8 {
				*v = int64(le.Uint64(d))
				d = d[8:]
			}
		}
		next(&e.UncompressedSize)
		next(&e.CompressedSize)
		next(&e.HeaderOffset)
		return
	}
}

// Local is an entry's local file header as found in the file.
type Local struct {
	// Offset is where the local header starts.
	Offset int64
	// Header is the fixed 30-byte part.
	Header []byte
	// Name and Extra are the local header's.
	Name, Extra []byte
	// DataOffset is where the entry's (compressed) data starts, and
	// DataSize its length (the central directory's compressed size).
	DataOffset, DataSize int64
}

// ExtraOffset is the offset of the extra field from the header start.
func (l *Local) ExtraOffset() int64 { return LocalHeaderLen + int64(len(l.Name)) }

// End is the offset just past the entry's data.
func (l *Local) End() int64 { return l.DataOffset + l.DataSize }

// Local reads the entry's local file header. limit is the end of the
// entries' section (data must end before it).
func (e *Entry) Local(r io.ReaderAt, limit int64) (*Local, error) {
	hdr := make([]byte, LocalHeaderLen)
	if _, err := r.ReadAt(hdr, e.HeaderOffset); err != nil {
		return nil, fmt.Errorf("%w: reading local header of %q: %v", ErrTruncated, e.Name, err)
	}
	le := binary.LittleEndian
	if le.Uint32(hdr) != LocalHeaderSig {
		return nil, fmt.Errorf("%w: no local header for %q at offset %d", ErrTruncated, e.Name, e.HeaderOffset)
	}
	nl, xl := int64(le.Uint16(hdr[26:])), int64(le.Uint16(hdr[28:]))
	l := &Local{Offset: e.HeaderOffset, Header: hdr}
	l.DataOffset = e.HeaderOffset + LocalHeaderLen + nl + xl
	l.DataSize = e.CompressedSize
	if l.DataOffset > limit || l.DataSize > limit-l.DataOffset {
		return nil, fmt.Errorf("%w: data of %q runs past the entries section", ErrTruncated, e.Name)
	}
	ne := make([]byte, nl+xl)
	if _, err := r.ReadAt(ne, e.HeaderOffset+LocalHeaderLen); err != nil {
		return nil, fmt.Errorf("%w: reading local header of %q: %v", ErrTruncated, e.Name, err)
	}
	l.Name, l.Extra = ne[:nl:nl], ne[nl:]
	if string(l.Name) != e.Name {
		return nil, fmt.Errorf("%w: local header name %q differs from central directory name %q", ErrTruncated, l.Name, e.Name)
	}
	return l, nil
}

// Open returns the entry's uncompressed contents (stored or deflated),
// checking the size and CRC-32 at EOF. limit is as for [Entry.Local].
func (e *Entry) Open(r io.ReaderAt, limit int64) (io.ReadCloser, error) {
	l, err := e.Local(r, limit)
	if err != nil {
		return nil, err
	}
	raw := io.NewSectionReader(r, l.DataOffset, l.DataSize)
	var rc io.ReadCloser
	switch e.Method {
	case Store:
		rc = io.NopCloser(raw)
	case Deflated:
		rc = flate.NewReader(raw)
	default:
		return nil, fmt.Errorf("zip: entry %q uses unsupported compression method %d", e.Name, e.Method)
	}
	return &checkReader{rc: rc, e: e, h: crc32.NewIEEE()}, nil
}

// ReadAll returns the entry's uncompressed contents, refusing entries
// larger than max bytes.
func (e *Entry) ReadAll(r io.ReaderAt, limit, max int64) ([]byte, error) {
	if e.UncompressedSize > max {
		return nil, fmt.Errorf("zip: entry %q is too large (%d bytes)", e.Name, e.UncompressedSize)
	}
	rc, err := e.Open(r, limit)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var b bytes.Buffer
	b.Grow(int(e.UncompressedSize))
	if _, err := io.Copy(&b, io.LimitReader(rc, max+1)); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

type checkReader struct {
	rc io.ReadCloser
	e  *Entry
	h  interface {
		io.Writer
		Sum32() uint32
	}
	n int64
}

func (c *checkReader) Read(p []byte) (int, error) {
	n, err := c.rc.Read(p)
	c.h.Write(p[:n])
	c.n += int64(n)
	if c.n > c.e.UncompressedSize {
		return n, fmt.Errorf("%w: entry %q is longer than declared", ErrTruncated, c.e.Name)
	}
	if err == io.EOF {
		if c.n != c.e.UncompressedSize {
			return n, fmt.Errorf("%w: entry %q is shorter than declared", ErrTruncated, c.e.Name)
		}
		if c.h.Sum32() != c.e.CRC32 {
			return n, fmt.Errorf("%w: entry %q fails its CRC-32 check", ErrTruncated, c.e.Name)
		}
	} else if err == io.ErrUnexpectedEOF {
		err = fmt.Errorf("%w: entry %q: %v", ErrTruncated, c.e.Name, err)
	}
	return n, err
}

func (c *checkReader) Close() error { return c.rc.Close() }
