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
