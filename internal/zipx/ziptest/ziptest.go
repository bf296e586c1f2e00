// Package ziptest builds zip archives byte by byte for tests: valid ones
// with every field under control (methods, flags, data descriptors,
// zip64, DOS or Unix attributes), and the table of hostile variants
// storesign's readers must refuse ([Hostile]).
//
// Nothing here is for production use: the builder trusts its input.
package ziptest

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"hash/crc32"
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
	count, cdSize, cdOff := len(entries), len(cd), a.CDOffset
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
