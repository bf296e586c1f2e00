package ziptest

import (
	"bytes"
	"encoding/binary"
	"slices"
	"strings"
)

// Kinds of failure a hostile case expects; each format maps them to its
// own typed errors.
const (
	WantFormat      = "format"      // not a zip at all
	WantTruncated   = "truncated"   // cut short, records out of bounds, overflowing sizes
	WantName        = "name"        // unsafe entry name
	WantUnsupported = "unsupported" // method, encryption, multi-disk
	WantLimit       = "limit"       // beyond a size or count limit
	WantOverlap     = "overlap"     // records sharing bytes
	WantMismatch    = "mismatch"    // local header or descriptor disagrees
	WantDuplicate   = "duplicate"   // two entries with one name
)

// Case is one hostile archive.
type Case struct {
	Name  string
	Bytes []byte
	// Want is one of the Want* kinds.
	Want string
}

// Hostile returns hostile variants of the valid archive made of base
// (which must hold at least one file with data): each one is refused by
// a careful reader with the error kind it names. The cases are the
// known classes: zip64 records whose sums overflow, multi-disk records,
// unsupported methods, encryption, lying data descriptors and local
// headers, overlapping records, duplicate and unsafe names, sizes beyond
// limits.
func Hostile(base []Entry) []Case {
	le := binary.LittleEndian
	victim := -1
	for i, e := range base {
		if len(e.Data) > 0 && !strings.HasSuffix(e.Name, "/") {
			victim = i
		}
	}
	if victim < 0 {
		panic("ziptest: Hostile needs an entry with data")
	}
	clone := func() []Entry {
		out := slices.Clone(base)
		return out
	}
	build := func(es []Entry, opts Options) *Archive { return Build(es, opts) }
	good := build(base, Options{})
	patch := func(a *Archive, f func(b []byte, a *Archive)) []byte {
		b := bytes.Clone(a.Bytes)
		f(b, a)
		return b
	}
	var cases []Case
	add := func(name, want string, b []byte) { cases = append(cases, Case{Name: name, Bytes: b, Want: want}) }

	// End records.
	z64 := build(base, Options{Zip64: true})
	rec := z64.EOCDOffset - 20 - 56
	add("zip64 directory offset plus size overflows", WantTruncated, patch(z64, func(b []byte, a *Archive) {
		le.PutUint64(b[rec+40:], 0x7fffffffffffff00)
		le.PutUint64(b[rec+48:], 0x0000000000000200)
	}))
	add("zip64 directory size near 2^64", WantTruncated, patch(z64, func(b []byte, a *Archive) {
		le.PutUint64(b[rec+40:], 0xffffffffffffff00)
	}))
	add("zip64 locator offset near 2^64", WantTruncated, patch(z64, func(b []byte, a *Archive) {
		le.PutUint64(b[a.EOCDOffset-20+8:], 0xfffffffffffffff0)
	}))
	add("zip64 locator offset near 2^63", WantTruncated, patch(z64, func(b []byte, a *Archive) {
		le.PutUint64(b[a.EOCDOffset-20+8:], 0x7ffffffffffffff0)
	}))
	add("zip64 entry count 2^40", WantTruncated, patch(z64, func(b []byte, a *Archive) {
		le.PutUint64(b[rec+24:], 1<<40)
		le.PutUint64(b[rec+32:], 1<<40)
	}))
	add("zip64 several disks", WantUnsupported, patch(z64, func(b []byte, a *Archive) {
		le.PutUint32(b[a.EOCDOffset-20+16:], 3)
	}))
	add("zip64 directory on disk 2", WantUnsupported, patch(z64, func(b []byte, a *Archive) {
		le.PutUint32(b[rec+20:], 2)
	}))
	add("end record on disk 1", WantUnsupported, patch(good, func(b []byte, a *Archive) {
		le.PutUint16(b[a.EOCDOffset+4:], 1)
		le.PutUint16(b[a.EOCDOffset+6:], 1)
	}))
	add("entry on disk 2", WantUnsupported, patch(good, func(b []byte, a *Archive) {
		le.PutUint16(b[a.Central[victim]+34:], 2)
	}))
	add("directory size overflows the file", WantTruncated, patch(good, func(b []byte, a *Archive) {
		le.PutUint32(b[a.EOCDOffset+12:], 0xfffffff0)
	}))
	add("more entries than the directory holds", WantTruncated, patch(good, func(b []byte, a *Archive) {
		le.PutUint16(b[a.EOCDOffset+8:], 0xfff0)
		le.PutUint16(b[a.EOCDOffset+10:], 0xfff0)
	}))
	add("cut in half", WantTruncated, good.Bytes[:len(good.Bytes)/2])
	add("entry offset past the directory", WantTruncated, patch(good, func(b []byte, a *Archive) {
		le.PutUint32(b[a.Central[victim]+42:], uint32(a.CDOffset+10))
	}))
	{
		es := clone()
		es[victim].CentralExtra = zip64Extra(0x7ffffffffffffff0)
		a := build(es, Options{})
		add("zip64 entry offset near 2^63", WantTruncated, patch(a, func(b []byte, a *Archive) {
			le.PutUint32(b[a.Central[victim]+42:], 0xffffffff)
		}))
	}
	{
		es := clone()
		es[victim].CentralExtra = zip64Extra(1 << 62)
		es[victim].Deflate = true
		a := build(es, Options{})
		add("zip64 entry of 2^62 bytes", WantLimit, patch(a, func(b []byte, a *Archive) {
			le.PutUint32(b[a.Central[victim]+24:], 0xffffffff)
		}))
	}

	// Entry features.
	add("LZMA method", WantUnsupported, patch(good, func(b []byte, a *Archive) {
		le.PutUint16(b[a.Central[victim]+10:], 14)
		le.PutUint16(b[a.Local[victim]+8:], 14)
	}))
	add("method 21 in the directory only", WantUnsupported, patch(good, func(b []byte, a *Archive) {
		le.PutUint16(b[a.Central[victim]+10:], 21)
	}))
	add("encrypted", WantUnsupported, patch(good, func(b []byte, a *Archive) {
		b[a.Central[victim]+8] |= 1
		b[a.Local[victim]+6] |= 1
	}))
	add("encrypted in the local header only", WantUnsupported, patch(good, func(b []byte, a *Archive) {
		b[a.Local[victim]+6] |= 1
	}))
	add("strong encryption", WantUnsupported, patch(good, func(b []byte, a *Archive) {
		b[a.Central[victim]+8] |= 0x40
	}))

	// Local headers and data descriptors that lie.
	{
		es := clone()
		es[victim].Flags |= 0x8
		dd := build(es, Options{})
		add("data descriptor with a wrong CRC-32", WantMismatch, patch(dd, func(b []byte, a *Archive) {
			b[a.Descriptor[victim]+4] ^= 0xff
		}))
		add("data descriptor with a wrong size", WantMismatch, patch(dd, func(b []byte, a *Archive) {
			le.PutUint32(b[a.Descriptor[victim]+12:], le.Uint32(b[a.Descriptor[victim]+12:])+1)
		}))
		add("data descriptor with a wrong compressed size", WantMismatch, patch(dd, func(b []byte, a *Archive) {
			le.PutUint32(b[a.Descriptor[victim]+8:], le.Uint32(b[a.Descriptor[victim]+8:])+7)
		}))
		add("data descriptor flag in the directory only", WantMismatch, patch(good, func(b []byte, a *Archive) {
			b[a.Central[victim]+8] |= 0x8
		}))
	}
	add("local header name differs", WantMismatch, patch(good, func(b []byte, a *Archive) {
		b[a.Local[victim]+30] ^= 0x20
	}))
	add("local header CRC-32 differs", WantMismatch, patch(good, func(b []byte, a *Archive) {
		b[a.Local[victim]+14] ^= 0xff
	}))
	add("local header size differs", WantMismatch, patch(good, func(b []byte, a *Archive) {
		le.PutUint32(b[a.Local[victim]+22:], le.Uint32(b[a.Local[victim]+22:])+1)
	}))
	add("local header method differs", WantMismatch, patch(good, func(b []byte, a *Archive) {
		m := le.Uint16(b[a.Local[victim]+8:])
		le.PutUint16(b[a.Local[victim]+8:], 8-m)
	}))

	// Overlaps: an entry whose data quotes another entry's whole record,
	// both listed in the directory.
	{
		inner := Build([]Entry{{Name: "quoted.bin", Data: []byte("inner data")}}, Options{})
		innerRec := inner.Bytes[:inner.CDOffset]
		es := append(clone(), Entry{Name: "outer.bin", Data: innerRec})
		a := build(es, Options{})
		innerCD := bytes.Clone(inner.Bytes[inner.CDOffset:inner.EOCDOffset])
		le.PutUint32(innerCD[42:], uint32(a.Local[len(es)-1]+30+len("outer.bin")))
		add("record inside another's data", WantOverlap, insertCentral(a, innerCD))
		// Two directory records of one local header (the second renamed
		// entries would be a mismatch; same name is a duplicate).
		twin := bytes.Clone(a.Bytes[a.Central[victim] : a.Central[victim]+46+len(es[victim].Name)])
		add("two directory records for one local record", WantDuplicate, insertCentral(a, twin))
	}
	{
		es := append(clone(), base[victim])
		add("duplicate name", WantDuplicate, build(es, Options{}).Bytes)
	}

	// Names.
	for _, n := range []struct{ label, name string }{
		{"absolute name", "/etc/passwd"},
		{"dot-dot name", "../../evil.so"},
		{"inner dot-dot name", "assets/../../../evil"},
		{"backslash name", `assets\..\evil`},
		{"NUL in name", "lib/a.so\x00.txt"},
		{"newline in name", "ok.txt\npath=/etc/passwd"},
		{"escape in name", "ok\x1b[2J.txt"},
		{"DEL in name", "ok\x7f.txt"},
		{"drive letter", "C:/Windows/evil"},
		{"empty name", ""},
	} {
		es := append(clone(), Entry{Name: n.name, Data: []byte("x")})
		add(n.label, WantName, build(es, Options{}).Bytes)
	}

	// Limits.
	{
		es := append(clone(), Entry{Name: strings.Repeat("n", 5000), Data: []byte("x")})
		add("5000-byte name", WantLimit, build(es, Options{}).Bytes)
		es = clone()
		es[victim].CentralExtra = bytes.Repeat([]byte{0x99, 0x99, 0xfc, 0x7f}, 1)
		es[victim].CentralExtra = append(es[victim].CentralExtra, make([]byte, 0x7ffc)...)
		add("32 KiB extra field", WantLimit, build(es, Options{}).Bytes)
	}
	{
		es := clone()
		es[victim].Method = 0
		es[victim].Deflate = false
		a := build(es, Options{})
		add("stored entry whose sizes differ", WantMismatch, patch(a, func(b []byte, a *Archive) {
			le.PutUint32(b[a.Central[victim]+24:], le.Uint32(b[a.Central[victim]+24:])+100)
		}))
	}
	return cases
}

// zip64Extra returns a zip64 extended information field holding one
// 8-byte value.
func zip64Extra(v uint64) []byte {
	b := []byte{1, 0, 8, 0}
	return binary.LittleEndian.AppendUint64(b, v)
}

// insertCentral returns a's archive with rec appended to its central
// directory (the classic end record updated; no zip64, no comment).
func insertCentral(a *Archive, rec []byte) []byte {
	le := binary.LittleEndian
	b := bytes.Clone(a.Bytes[:a.EOCDOffset])
	b = append(b, rec...)
	eocd := bytes.Clone(a.Bytes[a.EOCDOffset:])
	n := le.Uint16(eocd[10:]) + 1
	le.PutUint16(eocd[8:], n)
	le.PutUint16(eocd[10:], n)
	le.PutUint32(eocd[12:], le.Uint32(eocd[12:])+uint32(len(rec)))
	return append(b, eocd...)
}
