package zipx

import (
	"encoding/binary"
	"fmt"
	"io"
)

// AlignExtra returns the local-header extra field that makes an entry's
// data start at a multiple of align, given that the extra field will
// start at file offset extraStart. It keeps the fields of extra except
// old alignment fields (id 0xd935, and empty fields of id 0 that
// zipalign-style padding leaves) and appends
// {0xd935, size, uint16 align, zero padding}, as apksig does. An align
// of 1 or less returns extra unchanged.
func AlignExtra(extra []byte, extraStart int64, align int) []byte {
	return alignExtra(extra, extraStart, align, binary.LittleEndian)
}

// alignExtra is AlignExtra reading the old fields' IDs and sizes in the
// given byte order.
func alignExtra(extra []byte, extraStart int64, align int, order binary.ByteOrder) []byte {
	if align <= 1 {
		return extra
	}
	out := make([]byte, 0, len(extra)+6+align)
	for len(extra) >= 4 {
		id, sz := order.Uint16(extra), int(order.Uint16(extra[2:]))
		if sz > len(extra)-4 {
			break
		}
		if !((id == 0 && sz == 0) || id == AlignmentExtraID) {
			out = append(out, extra[:4+sz]...)
		}
		extra = extra[4+sz:]
	}
	return appendAlignment(out, extraStart, align)
}

// appendAlignment appends the 0xd935 field that aligns data following an
// extra field that starts at extraStart and holds out so far.
func appendAlignment(out []byte, extraStart int64, align int) []byte {
	le := binary.LittleEndian
	minData := extraStart + int64(len(out)) + 6
	pad := int((int64(align) - minData%int64(align)) % int64(align))
	out = le.AppendUint16(out, AlignmentExtraID)
	out = le.AppendUint16(out, uint16(2+pad))
	out = le.AppendUint16(out, uint16(align))
	return append(out, make([]byte, pad)...)
}

// AlignExtraLikeApksigner35 is [AlignExtra] as apksig 0.9 (apksigner
// 35.0.2) actually behaves: it walks the old extra field with big-endian
// IDs and sizes (its ByteBuffer slice loses the little-endian order), so
// it stops at the first field whose byte-swapped size overruns the field,
// which in practice drops every old field, and it never recognizes an old
// alignment field as such. Fields it does walk past are copied as they
// are. Byte-identical output with apksigner 35 needs this variant.
func AlignExtraLikeApksigner35(extra []byte, extraStart int64, align int) []byte {
	return alignExtra(extra, extraStart, align, binary.BigEndian)
}

// AlignmentOf returns the alignment an entry's local extra field asks
// for with an apksig 0xd935 field, or 0 when it has none.
func AlignmentOf(extra []byte) int {
	le := binary.LittleEndian
	for len(extra) >= 4 {
		id, sz := le.Uint16(extra), int(le.Uint16(extra[2:]))
		if sz > len(extra)-4 {
			return 0
		}
		if id == AlignmentExtraID {
			if sz < 2 {
				return 0
			}
			return int(le.Uint16(extra[4:]))
		}
		extra = extra[4+sz:]
	}
	return 0
}

// LocalHeaderWithExtra returns l's local header with its extra field
// replaced (the 30 fixed bytes, name, extra).
func (l *Local) LocalHeaderWithExtra(extra []byte) []byte {
	b := make([]byte, 0, LocalHeaderLen+len(l.Name)+len(extra))
	b = append(b, l.Header...)
	binary.LittleEndian.PutUint16(b[28:], uint16(len(extra)))
	b = append(b, l.Name...)
	return append(b, extra...)
}

// WithHeaderOffset returns a copy of the raw central directory record
// raw with its local header offset set to off. Offsets of 4 GiB or more
// are refused (the writer does not produce zip64).
func WithHeaderOffset(raw []byte, off int64) ([]byte, error) {
	if off >= 0xffffffff {
		return nil, fmt.Errorf("zip: offset %d needs zip64, which is not supported", off)
	}
	b := append([]byte(nil), raw...)
	binary.LittleEndian.PutUint32(b[42:], uint32(off))
	return b, nil
}

// FileHeader describes an entry a writer creates from scratch.
type FileHeader struct {
	Name             string
	Method           uint16
	ModTime, ModDate uint16
	CRC32            uint32
	CompressedSize   uint32
	UncompressedSize uint32
}

// LocalHeader returns the local file header apksig writes for a new
// entry: version 2.0, UTF-8 flag, no extra field.
func (h *FileHeader) LocalHeader() []byte {
	le := binary.LittleEndian
	b := make([]byte, LocalHeaderLen, LocalHeaderLen+len(h.Name))
	le.PutUint32(b, LocalHeaderSig)
	le.PutUint16(b[4:], 20)
	le.PutUint16(b[6:], FlagUTF8)
	le.PutUint16(b[8:], h.Method)
	le.PutUint16(b[10:], h.ModTime)
	le.PutUint16(b[12:], h.ModDate)
	le.PutUint32(b[14:], h.CRC32)
	le.PutUint32(b[18:], h.CompressedSize)
	le.PutUint32(b[22:], h.UncompressedSize)
	le.PutUint16(b[26:], uint16(len(h.Name)))
	return append(b, h.Name...)
}

// CentralHeader returns the central directory record apksig writes for a
// new entry whose local header is at off.
func (h *FileHeader) CentralHeader(off int64) []byte {
	le := binary.LittleEndian
	b := make([]byte, CentralHeaderLen, CentralHeaderLen+len(h.Name))
	le.PutUint32(b, CentralHeaderSig)
	le.PutUint16(b[4:], 20)
	le.PutUint16(b[6:], 20)
	le.PutUint16(b[8:], FlagUTF8)
	le.PutUint16(b[10:], h.Method)
	le.PutUint16(b[12:], h.ModTime)
	le.PutUint16(b[14:], h.ModDate)
	le.PutUint32(b[16:], h.CRC32)
	le.PutUint32(b[20:], h.CompressedSize)
	le.PutUint32(b[24:], h.UncompressedSize)
	le.PutUint16(b[28:], uint16(len(h.Name)))
	le.PutUint32(b[42:], uint32(off))
	return append(b, h.Name...)
}

// EOCDWith returns a copy of the End of Central Directory record eocd
// (with its comment) describing count entries in a central directory of
// cdSize bytes at cdOffset.
func EOCDWith(eocd []byte, count int, cdSize, cdOffset int64) ([]byte, error) {
	if count >= 0xffff || cdSize >= 0xffffffff || cdOffset >= 0xffffffff {
		return nil, fmt.Errorf("zip: archive needs zip64, which is not supported")
	}
	b := append([]byte(nil), eocd...)
	le := binary.LittleEndian
	le.PutUint16(b[8:], uint16(count))
	le.PutUint16(b[10:], uint16(count))
	le.PutUint32(b[12:], uint32(cdSize))
	le.PutUint32(b[16:], uint32(cdOffset))
	return b, nil
}

// CountingWriter counts the bytes written through it.
type CountingWriter struct {
	W io.Writer
	N int64
}

func (c *CountingWriter) Write(p []byte) (int, error) {
	n, err := c.W.Write(p)
	c.N += int64(n)
	return n, err
}

// CopyRange copies n bytes at off in r to w.
func CopyRange(w io.Writer, r io.ReaderAt, off, n int64) error {
	_, err := io.Copy(w, io.NewSectionReader(r, off, n))
	return err
}

// needs64 reports whether a size or offset needs a zip64 field.
func needs64(v int64) bool { return v >= 0xffffffff }

// WithZip64 returns a copy of the raw central directory record raw
// describing an entry of usize bytes (csize compressed) whose local header
// is at off, with a zip64 extended information field holding the values
// that do not fit in 32 bits (in APPNOTE's order: size, compressed size,
// offset) and version needed 4.5 when there is one. Any zip64 field raw
// had is dropped first, so an entry that no longer needs zip64 loses it.
func WithZip64(raw []byte, usize, csize, off int64) []byte {
	le := binary.LittleEndian
	nl, xl, cl := int(le.Uint16(raw[28:])), int(le.Uint16(raw[30:])), int(le.Uint16(raw[32:]))
	name := raw[CentralHeaderLen : CentralHeaderLen+nl]
	extra := raw[CentralHeaderLen+nl : CentralHeaderLen+nl+xl]
	comment := raw[CentralHeaderLen+nl+xl : CentralHeaderLen+nl+xl+cl]
	var z []byte
	for _, v := range []int64{usize, csize, off} {
		if needs64(v) {
			z = le.AppendUint64(z, uint64(v))
		}
	}
	kept := withoutField(extra, zip64ExtraID)
	if z == nil && len(kept) == len(extra) {
		b := append([]byte(nil), raw...)
		le.PutUint32(b[20:], uint32(csize))
		le.PutUint32(b[24:], uint32(usize))
		le.PutUint32(b[42:], uint32(off))
		return b
	}
	b := make([]byte, CentralHeaderLen, CentralHeaderLen+nl+len(kept)+4+len(z)+cl)
	copy(b, raw[:CentralHeaderLen])
	set := func(field int, v int64) {
		if needs64(v) {
			le.PutUint32(b[field:], 0xffffffff)
		} else {
			le.PutUint32(b[field:], uint32(v))
		}
	}
	set(24, usize)
	set(20, csize)
	set(42, off)
	b = append(b, name...)
	if z != nil {
		if le.Uint16(b[6:]) < 45 {
			le.PutUint16(b[6:], 45)
		}
		b = le.AppendUint16(b, zip64ExtraID)
		b = le.AppendUint16(b, uint16(len(z)))
		b = append(b, z...)
	}
	b = append(b, kept...)
	le.PutUint16(b[30:], uint16(len(b)-CentralHeaderLen-nl))
	return append(b, comment...)
}

// LocalWithZip64 returns a copy of the local header hdr (fixed part, name,
// extra) whose sizes are usize and csize: when either needs 64 bits, both
// fields are 0xffffffff and a zip64 field holds both (as APPNOTE asks of
// local headers), replacing any zip64 field hdr had.
func LocalWithZip64(hdr []byte, usize, csize int64) []byte {
	le := binary.LittleEndian
	if !needs64(usize) && !needs64(csize) {
		b := append([]byte(nil), hdr...)
		le.PutUint32(b[18:], uint32(csize))
		le.PutUint32(b[22:], uint32(usize))
		return b
	}
	nl := int(le.Uint16(hdr[26:]))
	extra := withoutField(hdr[LocalHeaderLen+nl:], zip64ExtraID)
	b := make([]byte, 0, LocalHeaderLen+nl+20+len(extra))
	b = append(b, hdr[:LocalHeaderLen+nl]...)
	le.PutUint32(b[18:], 0xffffffff)
	le.PutUint32(b[22:], 0xffffffff)
	if le.Uint16(b[4:]) < 45 {
		le.PutUint16(b[4:], 45)
	}
	b = le.AppendUint16(b, zip64ExtraID)
	b = le.AppendUint16(b, 16)
	b = le.AppendUint64(b, uint64(usize))
	b = le.AppendUint64(b, uint64(csize))
	b = append(b, extra...)
	le.PutUint16(b[28:], uint16(len(b)-LocalHeaderLen-nl))
	return b
}

// withoutField returns extra without its fields of the given id (a
// malformed tail is kept as it is).
func withoutField(extra []byte, id uint16) []byte {
	le := binary.LittleEndian
	out := make([]byte, 0, len(extra))
	for len(extra) >= 4 {
		fid, sz := le.Uint16(extra), int(le.Uint16(extra[2:]))
		if sz > len(extra)-4 {
			break
		}
		if fid != id {
			out = append(out, extra[:4+sz]...)
		}
		extra = extra[4+sz:]
	}
	return append(out, extra...)
}

// EndRecords returns the end of an archive whose central directory of
// count records and cdSize bytes starts at cdOffset: the classic End of
// Central Directory record eocd (its comment kept) and, when a value does
// not fit it, a zip64 end record and locator before it, as
// java.util.zip.ZipOutputStream writes them (version 4.5, one disk; the
// classic record's fields that do not fit set to their maximum).
func EndRecords(eocd []byte, count int, cdSize, cdOffset int64) []byte {
	le := binary.LittleEndian
	end := append([]byte(nil), eocd...)
	le.PutUint16(end[4:], 0)
	le.PutUint16(end[6:], 0)
	z := count >= 0xffff || needs64(cdSize) || needs64(cdOffset)
	le.PutUint16(end[8:], uint16(min(count, 0xffff)))
	le.PutUint16(end[10:], uint16(min(count, 0xffff)))
	le.PutUint32(end[12:], uint32(min(cdSize, 0xffffffff)))
	le.PutUint32(end[16:], uint32(min(cdOffset, 0xffffffff)))
	if !z {
		return end
	}
	b := make([]byte, 0, zip64EOCDLen+zip64LocatorLen+len(end))
	b = le.AppendUint32(b, Zip64EOCDSig)
	b = le.AppendUint64(b, zip64EOCDLen-12)
	b = le.AppendUint16(b, 45)
	b = le.AppendUint16(b, 45)
	b = le.AppendUint32(b, 0)
	b = le.AppendUint32(b, 0)
	b = le.AppendUint64(b, uint64(count))
	b = le.AppendUint64(b, uint64(count))
	b = le.AppendUint64(b, uint64(cdSize))
	b = le.AppendUint64(b, uint64(cdOffset))
	b = le.AppendUint32(b, Zip64LocatorSig)
	b = le.AppendUint32(b, 0)
	b = le.AppendUint64(b, uint64(cdOffset+cdSize))
	b = le.AppendUint32(b, 1)
	return append(b, end...)
}
