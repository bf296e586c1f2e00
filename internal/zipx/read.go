package zipx

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"strings"
)

// Errors returned by [Read] and [Archive.CheckRecords]. Errors about
// one entry or one limit are typed ([NameError], [UnsupportedError],
// [LimitError], [OverlapError], [MismatchError], [DuplicateError]); all of
// them match [ErrUnsafe] with errors.Is.
var (
	// ErrFormat means the data is not a zip archive (no End of Central
	// Directory record).
	ErrFormat = errors.New("zip: not a valid zip file")
	// ErrTruncated means the archive ends before a record it declares.
	ErrTruncated = errors.New("zip: archive is truncated or damaged")
	// ErrUnsafe is matched by every error about an archive that is well
	// formed enough to read but that storesign refuses: unsafe names,
	// unsupported features, records that disagree or overlap, limits.
	ErrUnsafe = errors.New("zip: unsafe or unsupported archive")
	// ErrEmpty means the input has no bytes at all, as a download that
	// never started. It matches [ErrFormat] too.
	ErrEmpty error = &inputError{"zip: the file is empty", ErrFormat}
	// ErrCutShort means the input starts as a zip archive (a local file
	// header) but has no End of Central Directory record, as a download
	// or copy that stopped early. It matches [ErrTruncated] too.
	ErrCutShort error = &inputError{"zip: the archive is cut short (it starts as a zip but has no end of central directory record)", ErrTruncated}
)

// inputError is a sentinel that also matches a broader one.
type inputError struct {
	msg   string
	broad error
}

func (e *inputError) Error() string { return e.msg }
func (e *inputError) Unwrap() error { return e.broad }

// rebuild is the fix most archive errors suggest.
const rebuild = "rebuild the archive with the platform's own tools (Xcode, Android Gradle Plugin, bundletool) or a standard zip tool"

// DuplicateError reports two central directory entries with one name.
type DuplicateError struct{ Name string }

func (e *DuplicateError) Error() string {
	return fmt.Sprintf("zip: duplicate entry %q: tools disagree on which copy counts; %s", e.Name, rebuild)
}

// Unwrap returns [ErrUnsafe].
func (e *DuplicateError) Unwrap() error { return ErrUnsafe }

// NameError reports an entry name that could escape the folder it is
// extracted to or that tools read differently: absolute, with a ".."
// element, a backslash, NUL or another control character, or empty.
type NameError struct {
	Name   string
	Reason string
}

func (e *NameError) Error() string {
	return fmt.Sprintf("zip: unsafe entry name %q: %s; rebuild the archive with relative names of printable characters", e.Name, e.Reason)
}

// Unwrap returns [ErrUnsafe].
func (e *NameError) Unwrap() error { return ErrUnsafe }

// UnsupportedError reports an archive feature storesign refuses: a
// compression method other than stored and deflate, encryption, or an
// archive split over several disks. Name is empty for archive-wide
// features.
type UnsupportedError struct {
	Name    string
	Feature string
	// Method is the compression method refused, or 0 (stored, always
	// supported) when the feature is not a method.
	Method uint16
}

func (e *UnsupportedError) Error() string {
	if e.Name == "" {
		return fmt.Sprintf("zip: %s, which app stores do not accept; %s", e.Feature, rebuild)
	}
	return fmt.Sprintf("zip: entry %q %s, which app stores do not accept; %s", e.Name, e.Feature, rebuild)
}

// Unwrap returns [ErrUnsafe].
func (e *UnsupportedError) Unwrap() error { return ErrUnsafe }

// LimitError reports a count or size beyond one of the [Limits].
type LimitError struct {
	What         string
	Value, Limit int64
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("zip: %s is %d, above storesign's limit of %d: the archive is damaged or hostile; if it is a real app, report it", e.What, e.Value, e.Limit)
}

// Unwrap returns [ErrUnsafe].
func (e *LimitError) Unwrap() error { return ErrUnsafe }

// OverlapError reports two entries whose records share bytes of the
// file (a zip bomb or an archive read differently by different tools).
type OverlapError struct{ Name, Other string }

func (e *OverlapError) Error() string {
	return fmt.Sprintf("zip: entries %q and %q overlap in the file: the archive is damaged or crafted; %s", e.Name, e.Other, rebuild)
}

// Unwrap returns [ErrUnsafe].
func (e *OverlapError) Unwrap() error { return ErrUnsafe }

// MismatchError reports a local file header or data descriptor whose
// field disagrees with the central directory (Where is "local header" or
// "data descriptor", Field what differs), or a central directory record
// that disagrees with itself (Where is "central directory", Field says
// how).
type MismatchError struct {
	Name, Where, Field string
}

func (e *MismatchError) Error() string {
	if e.Where == "central directory" {
		return fmt.Sprintf("zip: entry %q: %s: the archive is damaged or crafted; %s", e.Name, e.Field, rebuild)
	}
	return fmt.Sprintf("zip: entry %q: the %s's %s differs from the central directory's: the archive is damaged or crafted; %s", e.Name, e.Where, e.Field, rebuild)
}

// Unwrap returns [ErrUnsafe].
func (e *MismatchError) Unwrap() error { return ErrUnsafe }

// Limits bound what [ReadLimits] accepts. A zero field takes its default
// (the Default* constants), sized for the largest real apps: games with
// a few hundred thousand files.
type Limits struct {
	// MaxEntries bounds the number of entries.
	MaxEntries int
	// MaxCentralDirectory bounds the size of the central directory,
	// which is read into memory.
	MaxCentralDirectory int64
	// MaxNameLen bounds the length of an entry name in bytes.
	MaxNameLen int
	// MaxExtraLen bounds a central directory record's extra field and
	// comment together.
	MaxExtraLen int
	// MaxTotalSize bounds the sum of the entries' uncompressed sizes,
	// and so the work of inflating them (a deflate stream expands at
	// most about 1,000 times).
	MaxTotalSize int64
}

// Default limits (see [Limits]).
const (
	DefaultMaxEntries          = 1 << 20
	DefaultMaxCentralDirectory = 256 << 20
	DefaultMaxNameLen          = 4096
	DefaultMaxExtraLen         = 16 << 10
	DefaultMaxTotalSize        = 64 << 30
)

func (l Limits) withDefaults() Limits {
	if l.MaxEntries <= 0 {
		l.MaxEntries = DefaultMaxEntries
	}
	if l.MaxCentralDirectory <= 0 {
		l.MaxCentralDirectory = DefaultMaxCentralDirectory
	}
	if l.MaxNameLen <= 0 {
		l.MaxNameLen = DefaultMaxNameLen
	}
	if l.MaxExtraLen <= 0 {
		l.MaxExtraLen = DefaultMaxExtraLen
	}
	if l.MaxTotalSize <= 0 {
		l.MaxTotalSize = DefaultMaxTotalSize
	}
	return l
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

// Flags of the general purpose bit field that storesign refuses.
const (
	flagEncrypted       = 0x0001
	flagStrongEncrypted = 0x0040
	flagMaskedHeaders   = 0x2000
)

// Read is [ReadLimits] with the default limits.
func Read(r io.ReaderAt, size int64) (*Archive, error) {
	return ReadLimits(r, size, Limits{})
}

// ReadLimits parses the archive's end records and central directory. It
// checks that the directory is consistent (records in bounds, sizes that
// add up without overflow, no duplicate names, one disk) and refuses
// unsafe names ([NameError]), compression methods other than stored and
// deflate and encrypted entries ([UnsupportedError]) and anything beyond
// lim ([LimitError]). It reads no local header: see
// [Archive.CheckRecords].
func ReadLimits(r io.ReaderAt, size int64, lim Limits) (*Archive, error) {
	lim = lim.withDefaults()
	if size == 0 {
		return nil, ErrEmpty
	}
	if size < EOCDLen {
		return nil, notZip(r, nil)
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
	// as apksig does.
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
		return nil, notZip(r, buf)
	}
	a := &Archive{Size: size}
	a.EOCDOffset = size - tail + int64(eocdPos)
	a.EOCD = append([]byte(nil), buf[eocdPos:]...)
	e := a.EOCD
	le := binary.LittleEndian
	disk, cdDisk := le.Uint16(e[4:]), le.Uint16(e[6:])
	diskCount := int64(le.Uint16(e[8:]))
	count := int64(le.Uint16(e[10:]))
	a.CDSize = int64(le.Uint32(e[12:]))
	a.CDOffset = int64(le.Uint32(e[16:]))
	if count == 0xffff || a.CDSize == 0xffffffff || a.CDOffset == 0xffffffff || disk == 0xffff || cdDisk == 0xffff {
		if err := a.readZip64(r, &count); err != nil {
			return nil, err
		}
	}
	// Overflow-safe bounds: every value is checked against what is
	// already known to lie in the file before it is added to anything.
	if a.CDOffset < 0 || a.CDSize < 0 || a.CDOffset > a.EOCDOffset || a.CDSize > a.EOCDOffset-a.CDOffset {
		return nil, fmt.Errorf("%w: central directory out of bounds", ErrTruncated)
	}
	if a.CDSize > lim.MaxCentralDirectory {
		return nil, &LimitError{What: "the central directory size", Value: a.CDSize, Limit: lim.MaxCentralDirectory}
	}
	if count > a.CDSize/CentralHeaderLen {
		return nil, fmt.Errorf("%w: %d entries cannot fit in a %d-byte central directory", ErrTruncated, count, a.CDSize)
	}
	if !a.Zip64 && (disk != 0 || cdDisk != 0 || diskCount != count) {
		return nil, &UnsupportedError{Feature: "is split over several disks (multi-disk records)"}
	}
	if count > int64(lim.MaxEntries) {
		return nil, &LimitError{What: "the number of entries", Value: count, Limit: int64(lim.MaxEntries)}
	}
	cd := make([]byte, a.CDSize)
	if _, err := r.ReadAt(cd, a.CDOffset); err != nil {
		return nil, fmt.Errorf("%w: reading central directory: %v", ErrTruncated, err)
	}
	a.Entries = make([]*Entry, 0, count)
	seen := make(map[string]struct{}, count)
	p := 0
	total := int64(0)
	for i := int64(0); i < count; i++ {
		ent, n, err := parseCentral(cd[p:], lim)
		if err != nil {
			if errors.Is(err, ErrUnsafe) {
				return nil, err
			}
			return nil, fmt.Errorf("%w: central directory record %d: %v", ErrTruncated, i+1, err)
		}
		ent.Raw = cd[p : p+n : p+n]
		p += n
		if ent.HeaderOffset > a.CDOffset-LocalHeaderLen-int64(len(ent.Name)) {
			return nil, fmt.Errorf("%w: entry %q starts beyond the entries section", ErrTruncated, ent.Name)
		}
		if ent.UncompressedSize > lim.MaxTotalSize-total {
			return nil, &LimitError{What: fmt.Sprintf("the uncompressed size of the entries up to %q", ent.Name), Value: total + min(ent.UncompressedSize, math.MaxInt64-total), Limit: lim.MaxTotalSize}
		}
		total += ent.UncompressedSize
		if _, dup := seen[ent.Name]; dup {
			return nil, &DuplicateError{ent.Name}
		}
		seen[ent.Name] = struct{}{}
		a.Entries = append(a.Entries, ent)
	}
	if p != len(cd) {
		return nil, fmt.Errorf("%w: %d unused bytes at the end of the central directory", ErrTruncated, len(cd)-p)
	}
	return a, nil
}

// notZip is the error for an input without an End of Central Directory
// record, whose last bytes are tail: [ErrCutShort] when it starts with a
// local file header and no end record signature lies in tail (bytes
// after an end record are not a cut), else [ErrFormat].
func notZip(r io.ReaderAt, tail []byte) error {
	var head [4]byte
	if n, _ := r.ReadAt(head[:], 0); n < len(head) || binary.LittleEndian.Uint32(head[:]) != LocalHeaderSig {
		return ErrFormat
	}
	var sig [4]byte
	binary.LittleEndian.PutUint32(sig[:], EOCDSig)
	if bytes.Contains(tail, sig[:]) {
		return ErrFormat
	}
	return ErrCutShort
}

func (a *Archive) readZip64(r io.ReaderAt, count *int64) error {
	locOff := a.EOCDOffset - zip64LocatorLen
	if locOff < 0 {
		return nil // not really zip64; the 0xffff values are literal
	}
	loc := make([]byte, zip64LocatorLen)
	if _, err := r.ReadAt(loc, locOff); err != nil {
		return fmt.Errorf("%w: reading zip64 locator: %v", ErrTruncated, err)
	}
	le := binary.LittleEndian
	if le.Uint32(loc) != Zip64LocatorSig {
		return nil
	}
	if le.Uint32(loc[4:]) != 0 || le.Uint32(loc[16:]) > 1 {
		return &UnsupportedError{Feature: "is split over several disks (zip64 multi-disk records)"}
	}
	u := le.Uint64(loc[8:])
	if u > uint64(locOff) || uint64(locOff)-u < zip64EOCDLen {
		return fmt.Errorf("%w: zip64 end record out of bounds", ErrTruncated)
	}
	recOff := int64(u)
	rec := make([]byte, zip64EOCDLen)
	if _, err := r.ReadAt(rec, recOff); err != nil {
		return fmt.Errorf("%w: reading zip64 end record: %v", ErrTruncated, err)
	}
	if le.Uint32(rec) != Zip64EOCDSig {
		return fmt.Errorf("%w: bad zip64 end record", ErrTruncated)
	}
	if le.Uint32(rec[16:]) != 0 || le.Uint32(rec[20:]) != 0 || le.Uint64(rec[24:]) != le.Uint64(rec[32:]) {
		return &UnsupportedError{Feature: "is split over several disks (zip64 multi-disk records)"}
	}
	c, cs, co := le.Uint64(rec[32:]), le.Uint64(rec[40:]), le.Uint64(rec[48:])
	// Each must lie before the zip64 end record: anything larger is
	// refused before it can overflow a sum.
	if c > uint64(recOff) || cs > uint64(recOff) || co > uint64(recOff) {
		return fmt.Errorf("%w: zip64 end record points beyond itself", ErrTruncated)
	}
	*count, a.CDSize, a.CDOffset = int64(c), int64(cs), int64(co)
	a.EOCDOffset = recOff
	a.Zip64 = true
	return nil
}

func parseCentral(b []byte, lim Limits) (*Entry, int, error) {
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
	if nl > lim.MaxNameLen {
		return nil, 0, &LimitError{What: fmt.Sprintf("the name length of entry %q", e.Name[:min(len(e.Name), 64)]+"..."), Value: int64(nl), Limit: int64(lim.MaxNameLen)}
	}
	if xl+cl > lim.MaxExtraLen {
		return nil, 0, &LimitError{What: fmt.Sprintf("the extra field and comment length of entry %q", e.Name), Value: int64(xl + cl), Limit: int64(lim.MaxExtraLen)}
	}
	if err := CheckName(e.Name); err != nil {
		return nil, 0, err
	}
	diskStart := le.Uint16(b[34:])
	if e.UncompressedSize == 0xffffffff || e.CompressedSize == 0xffffffff || e.HeaderOffset == 0xffffffff || diskStart == 0xffff {
		e.applyZip64(e.Extra, &diskStart)
	}
	if diskStart != 0 && diskStart != 0xffff {
		return nil, 0, &UnsupportedError{Name: e.Name, Feature: "lies on another disk (multi-disk records)"}
	}
	if e.CompressedSize < 0 || e.UncompressedSize < 0 || e.HeaderOffset < 0 {
		return nil, 0, errors.New("bad zip64 sizes")
	}
	if err := checkEntryFeatures(e.Name, e.Flags, e.Method); err != nil {
		return nil, 0, err
	}
	if e.Method == Store && e.CompressedSize != e.UncompressedSize {
		return nil, 0, &MismatchError{Name: e.Name, Where: "central directory", Field: "stored, but its compressed and uncompressed sizes differ"}
	}
	return e, n, nil
}

// checkEntryFeatures refuses encryption and compression methods other
// than stored and deflate.
func checkEntryFeatures(name string, flags, method uint16) error {
	if flags&(flagEncrypted|flagStrongEncrypted|flagMaskedHeaders) != 0 {
		return &UnsupportedError{Name: name, Feature: "is encrypted"}
	}
	if method != Store && method != Deflated {
		return &UnsupportedError{Name: name, Feature: fmt.Sprintf("uses compression method %d (only stored and deflate are supported)", method), Method: method}
	}
	return nil
}

// CheckName refuses an entry name that is empty, absolute (a leading
// slash or a drive letter), has a ".." element, a backslash, NUL or
// another control character: names that escape the folder an archive is
// extracted to, or that tools read differently. It returns a
// [*NameError].
func CheckName(name string) error {
	reason := ""
	switch {
	case name == "":
		reason = "it is empty"
	case name[0] == '/':
		reason = "it is absolute"
	case len(name) >= 2 && name[1] == ':' && (name[0]|0x20 >= 'a' && name[0]|0x20 <= 'z'):
		reason = "it starts with a drive letter"
	}
	for i := 0; reason == "" && i < len(name); i++ {
		switch c := name[i]; {
		case c == '\\':
			reason = "it contains a backslash"
		case c == 0:
			reason = "it contains a NUL byte"
		case c < 0x20 || c == 0x7f:
			reason = "it contains a control character"
		}
	}
	if reason == "" {
		for rest := name; rest != ""; {
			var part string
			part, rest, _ = strings.Cut(rest, "/")
			if part == ".." {
				reason = `it has a ".." element`
				break
			}
		}
	}
	if reason != "" {
		return &NameError{Name: name, Reason: reason}
	}
	return nil
}

// applyZip64 takes the fields marked 0xffffffff (0xffff for the disk)
// from the zip64 extended information extra field, in its order:
// uncompressed size, compressed size, header offset, disk.
func (e *Entry) applyZip64(extra []byte, disk *uint16) {
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
		if *disk == 0xffff && len(d) >= 4 {
			if le.Uint32(d) == 0 {
				*disk = 0
			} else {
				*disk = 1
			}
		}
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
