package zipx

import (
	"encoding/binary"
	"fmt"
	"io"
	"slices"
)

// checkWindow is how much CheckRecords reads at once to cover the local
// headers of neighbouring small entries with one read.
const checkWindow = 64 << 10

// Record is where an entry's local record lies in the file, as
// [Archive.CheckRecords] found it.
type Record struct {
	Entry *Entry
	// Offset is the local header's offset; DataOffset and DataSize
	// locate the (compressed) data; End is just past the record (its data
	// descriptor included).
	Offset, DataOffset, DataSize, End int64
}

// CheckRecords reads every entry's local header, and the data descriptor
// of those that have one, and checks them against the central directory:
// the same name, method and flags; the same CRC-32 and sizes (a local
// header of an entry with a data descriptor may hold zeros instead); every
// record inside the entries section, which ends at limit (the central
// directory, or an APK Signing Block), and no two records sharing a byte.
// It returns the records in file order.
//
// Neighbouring headers are read together, so that an archive of many
// small files costs a few large reads, not one per entry.
func (a *Archive) CheckRecords(r io.ReaderAt, limit int64) ([]Record, error) {
	if limit > a.CDOffset || limit < 0 {
		limit = a.CDOffset
	}
	sorted := slices.Clone(a.Entries)
	slices.SortStableFunc(sorted, func(x, y *Entry) int {
		switch {
		case x.HeaderOffset < y.HeaderOffset:
			return -1
		case x.HeaderOffset > y.HeaderOffset:
			return 1
		}
		return 0
	})
	w := &window{r: r, limit: limit}
	recs := make([]Record, 0, len(sorted))
	var prev *Record
	for i, e := range sorted {
		if prev != nil && e.HeaderOffset < prev.End {
			return nil, &OverlapError{Name: prev.Entry.Name, Other: e.Name}
		}
		// Prefetch this header and those of the next entries that fit
		// in one window.
		need := e.HeaderOffset + LocalHeaderLen + int64(len(e.Name)) + 256
		end := need
		for _, n := range sorted[i+1:] {
			ne := n.HeaderOffset + LocalHeaderLen + int64(len(n.Name)) + 256
			if ne-e.HeaderOffset > checkWindow {
				break
			}
			end = ne
		}
		w.prefetch(e.HeaderOffset, need, end)
		rec, err := checkRecord(w, e, limit)
		if err != nil {
			return nil, err
		}
		recs = append(recs, rec)
		prev = &recs[len(recs)-1]
	}
	return recs, nil
}

func checkRecord(w *window, e *Entry, limit int64) (Record, error) {
	le := binary.LittleEndian
	rec := Record{Entry: e, Offset: e.HeaderOffset}
	hdr, err := w.get(e.HeaderOffset, LocalHeaderLen)
	if err != nil {
		return rec, fmt.Errorf("%w: reading local header of %q: %v", ErrTruncated, e.Name, err)
	}
	if le.Uint32(hdr) != LocalHeaderSig {
		return rec, fmt.Errorf("%w: no local header for %q at offset %d", ErrTruncated, e.Name, e.HeaderOffset)
	}
	flags, method := le.Uint16(hdr[6:]), le.Uint16(hdr[8:])
	crc := le.Uint32(hdr[14:])
	csize, usize := int64(le.Uint32(hdr[18:])), int64(le.Uint32(hdr[22:]))
	nl, xl := int64(le.Uint16(hdr[26:])), int64(le.Uint16(hdr[28:]))
	if err := checkEntryFeatures(e.Name, flags, method); err != nil {
		return rec, err
	}
	mismatch := func(where, field string) error { return &MismatchError{Name: e.Name, Where: where, Field: field} }
	if method != e.Method {
		return rec, mismatch("local header", "compression method")
	}
	dd := flags&FlagDataDescriptor != 0
	if dd != (e.Flags&FlagDataDescriptor != 0) {
		return rec, mismatch("local header", "data descriptor flag")
	}
	rec.DataOffset = e.HeaderOffset + LocalHeaderLen + nl + xl
	rec.DataSize = e.CompressedSize
	if rec.DataOffset > limit || rec.DataSize > limit-rec.DataOffset {
		return rec, fmt.Errorf("%w: data of %q runs past the entries section", ErrTruncated, e.Name)
	}
	ne, err := w.get(e.HeaderOffset+LocalHeaderLen, nl+xl)
	if err != nil {
		return rec, fmt.Errorf("%w: reading local header of %q: %v", ErrTruncated, e.Name, err)
	}
	if string(ne[:nl]) != e.Name {
		return rec, mismatch("local header", "name")
	}
	extra := ne[nl:]
	if csize == 0xffffffff || usize == 0xffffffff {
		csize, usize = LocalZip64(extra, csize, usize)
	}
	// A header followed by a data descriptor may leave its CRC-32 and
	// sizes zero; any value it does hold must be the right one.
	if !(dd && crc == 0) && crc != e.CRC32 {
		return rec, mismatch("local header", "CRC-32")
	}
	if !(dd && csize == 0) && csize != e.CompressedSize {
		return rec, mismatch("local header", "compressed size")
	}
	if !(dd && usize == 0) && usize != e.UncompressedSize {
		return rec, mismatch("local header", "uncompressed size")
	}
	rec.End = rec.DataOffset + rec.DataSize
	if dd {
		n, err := checkDescriptor(w, e, rec.End, limit, hasZip64(extra))
		if err != nil {
			return rec, err
		}
		rec.End += n
	}
	return rec, nil
}

// checkDescriptor checks the data descriptor of e at off and returns its
// length. The signature is optional; the sizes are 8 bytes each for a
// zip64 entry (sizes of 4 GiB or more, or a zip64 local extra field),
// else 4.
func checkDescriptor(w *window, e *Entry, off, limit int64, zip64 bool) (int64, error) {
	le := binary.LittleEndian
	avail := min(limit-off, 24)
	b, err := w.get(off, avail)
	if err != nil {
		return 0, fmt.Errorf("%w: reading data descriptor of %q: %v", ErrTruncated, e.Name, err)
	}
	n := int64(0)
	if len(b) >= 4 && le.Uint32(b) == DataDescriptorSig {
		b, n = b[4:], 4
	}
	wide := zip64 || e.CompressedSize >= 0xffffffff || e.UncompressedSize >= 0xffffffff
	need := 12
	if wide {
		need = 20
	}
	if len(b) < need {
		return 0, fmt.Errorf("%w: data descriptor of %q overlaps the central directory", ErrTruncated, e.Name)
	}
	var cs, us int64
	if wide {
		cs, us = int64(le.Uint64(b[4:])), int64(le.Uint64(b[12:]))
	} else {
		cs, us = int64(le.Uint32(b[4:])), int64(le.Uint32(b[8:]))
	}
	switch {
	case le.Uint32(b) != e.CRC32:
		return 0, &MismatchError{Name: e.Name, Where: "data descriptor", Field: "CRC-32"}
	case cs != e.CompressedSize:
		return 0, &MismatchError{Name: e.Name, Where: "data descriptor", Field: "compressed size"}
	case us != e.UncompressedSize:
		return 0, &MismatchError{Name: e.Name, Where: "data descriptor", Field: "uncompressed size"}
	}
	return n + int64(need), nil
}

// LocalZip64 reads the sizes marked 0xffffffff from a local header's zip64
// extra field (uncompressed size first), and returns them with the others
// as given.
func LocalZip64(extra []byte, csize, usize int64) (int64, int64) {
	le := binary.LittleEndian
	for len(extra) >= 4 {
		id, sz := le.Uint16(extra), int(le.Uint16(extra[2:]))
		if sz > len(extra)-4 {
			break
		}
		d := extra[4 : 4+sz]
		extra = extra[4+sz:]
		if id != zip64ExtraID {
			continue
		}
		if usize == 0xffffffff && len(d) >= 8 {
			usize, d = int64(le.Uint64(d)), d[8:]
		}
		if csize == 0xffffffff && len(d) >= 8 {
			csize = int64(le.Uint64(d))
		}
		break
	}
	return csize, usize
}

// hasZip64 reports whether an extra field holds a zip64 field.
func hasZip64(extra []byte) bool {
	le := binary.LittleEndian
	for len(extra) >= 4 {
		id, sz := le.Uint16(extra), int(le.Uint16(extra[2:]))
		if sz > len(extra)-4 {
			return false
		}
		if id == zip64ExtraID {
			return true
		}
		extra = extra[4+sz:]
	}
	return false
}

// window serves small reads from one larger read when it covers them.
type window struct {
	r     io.ReaderAt
	limit int64
	off   int64
	buf   []byte
}

// prefetch reads [off, end) (clipped to the limit) unless the window
// already holds [off, need).
func (w *window) prefetch(off, need, end int64) {
	end, need = min(end, w.limit), min(need, w.limit)
	if off >= end || (off >= w.off && need <= w.off+int64(len(w.buf))) {
		return
	}
	if cap(w.buf) < checkWindow {
		w.buf = make([]byte, checkWindow)
	}
	n, _ := w.r.ReadAt(w.buf[:min(end-off, checkWindow)], off)
	w.off, w.buf = off, w.buf[:n]
}

// get returns n bytes at off, from the window when it holds them. A
// slice of the window is valid until the next prefetch.
func (w *window) get(off, n int64) ([]byte, error) {
	if n < 0 || off < 0 || n > w.limit || off > w.limit-n {
		return nil, io.ErrUnexpectedEOF
	}
	if off >= w.off && off+n <= w.off+int64(len(w.buf)) {
		return w.buf[off-w.off : off-w.off+n], nil
	}
	b := make([]byte, n)
	if m, err := w.r.ReadAt(b, off); int64(m) < n {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return b, nil
}
