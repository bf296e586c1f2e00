package aab

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// inflater decompresses raw DEFLATE streams (RFC 1951) read from an
// io.ReaderAt and hands the output, in chunks, to a function: the digest
// of an entry needs its bytes once, in order, and nothing else. It does
// the work of compress/flate about twice as fast: one table lookup per
// code (two for codes longer than the table), a 64-bit bit buffer
// refilled eight bytes at a time, matches copied eight bytes at a time,
// and no copy between a window and the caller's buffer.
//
// It is as strict as zlib: over-subscribed or incomplete codes (but a
// single code of length 1), distances before the start of the output,
// lengths and distances with invalid symbols, and stored blocks whose
// length is not confirmed are refused. What it produces is checked
// against the entry's CRC-32 by the caller, a check that does not depend
// on this code: a wrong byte out of it fails the digest job, it never
// goes into a manifest.
//
// An inflater is reused across entries; it is not safe for concurrent
// use.
type inflater struct {
	src       io.ReaderAt
	off, end  int64 // compressed bytes still to read from src: [off, end)
	in        []byte
	ip, inEnd int // read position and end of valid bytes in in
	realEnd   int // end of the stream's bytes in in once src is exhausted (then in holds zero padding after it), else -1

	bits  uint64 // bit buffer, next bit lowest
	nbits uint

	out  []byte // output window: 32 KiB of history, then new output
	o    int    // write position in out
	mark int    // start of output not yet handed on
	emit func([]byte) error
	max  int64 // most bytes the stream may inflate to
	n    int64 // bytes handed on

	lit, dist      table
	fixedLit       table
	fixedDist      table
	lens           [maxLit + maxDist]uint8
	clen           table
	count, offsets [maxCodeLen + 2]uint16
	sorted         [maxLit]uint16
}

const (
	maxCodeLen = 15
	maxLit     = 288 // literal/length symbols, including the two invalid ones of the fixed code
	maxDist    = 32  // distance symbols, including the two invalid ones
	history    = 32 << 10
	inChunk    = 256 << 10
	outChunk   = 256 << 10
	// outMargin is the room the decoding loop needs past the write
	// position: the longest match, written 8 bytes at a time.
	outMargin = 258 + 8
	litRoot   = 10
	distRoot  = 8
	clenRoot  = 7
)

// A table entry: bits 0-7 the code length (bits to drop), bits 8-15 the
// kind, bits 16-31 the value.
const (
	kindLiteral = 0x00 // value: the byte
	kindPair    = 0x01 // two literals; value: the first byte, then the second
	kindBase    = 0x10 // | extra bits; value: base length or distance
	kindEnd     = 0x20 // end of block
	kindLink    = 0x40 // | sub-table index bits; value: offset of the sub-table
	kindInvalid = 0x80
)

type table struct {
	e    []uint32
	root uint
}

// Base values and extra bits of the length symbols 257..285 and distance
// symbols 0..29 (RFC 1951, 3.2.5).
var (
	lengthBase  = [29]uint16{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lengthExtra = [29]uint8{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase    = [30]uint16{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra   = [30]uint8{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
	clenOrder   = [19]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}
)

// errCorrupt is wrapped by the errors of a stream that does not inflate.
var errCorrupt = errors.New("invalid deflate data")

func newInflater() *inflater {
	f := &inflater{
		in:  make([]byte, inChunk+8),
		out: make([]byte, history+outChunk+outMargin),
	}
	var lens [maxLit + maxDist]uint8
	for i := range maxLit {
		switch {
		case i < 144:
			lens[i] = 8
		case i < 256:
			lens[i] = 9
		case i < 280:
			lens[i] = 7
		default:
			lens[i] = 8
		}
	}
	for i := range maxDist {
		lens[maxLit+i] = 5
	}
	if err := f.build(&f.fixedLit, lens[:maxLit], litRoot, litCode); err != nil {
		panic("aab: internal error: fixed literal code: " + err.Error())
	}
	if err := f.build(&f.fixedDist, lens[maxLit:], distRoot, distCode); err != nil {
		panic("aab: internal error: fixed distance code: " + err.Error())
	}
	return f
}

// inflate decompresses the size bytes of src at off, handing every
// chunk of output to emit in order. The output may not exceed max
// bytes.
func (f *inflater) inflate(src io.ReaderAt, off, size, max int64, emit func([]byte) error) error {
	f.src, f.off, f.end = src, off, off+size
	f.ip, f.inEnd, f.realEnd = 0, 0, -1
	f.bits, f.nbits = 0, 0
	f.o, f.mark = 0, 0
	f.emit, f.max, f.n = emit, max, 0
	defer func() { f.src, f.emit = nil, nil }()
	for {
		if err := f.refill(); err != nil {
			return err
		}
		final := f.bits&1 == 1
		typ := (f.bits >> 1) & 3
		f.drop(3)
		var err error
		switch typ {
		case 0:
			err = f.stored()
		case 1:
			err = f.codes(&f.fixedLit, &f.fixedDist)
		case 2:
			if err = f.dynamic(); err == nil {
				err = f.codes(&f.lit, &f.dist)
			}
		default:
			err = fmt.Errorf("%w: reserved block type", errCorrupt)
		}
		if err != nil {
			return err
		}
		if final {
			break
		}
	}
	if f.realEnd >= 0 && f.ip*8-int(f.nbits) > f.realEnd*8 {
		return io.ErrUnexpectedEOF
	}
	return f.flush(true)
}

func (f *inflater) drop(n uint) {
	f.bits >>= n
	f.nbits -= n
}

// refill fills the bit buffer to at least 56 bits. Past the end of the
// stream it reads zero bytes, so that the decoder may look ahead; using
// them is an error that inflate reports when the stream ends, or refill
// once more than 8 of them are read.
func (f *inflater) refill() error {
	if f.ip+8 > f.inEnd {
		if err := f.fill(); err != nil {
			return err
		}
	}
	f.bits |= binary.LittleEndian.Uint64(f.in[f.ip:]) << f.nbits
	f.ip += int((63 - f.nbits) >> 3)
	f.nbits |= 56
	return nil
}

// fill moves the unread input to the start of the buffer and reads more
// after it, or pads it with zeros once the stream is read.
func (f *inflater) fill() error {
	if f.realEnd >= 0 {
		if f.ip > f.realEnd+8 {
			return io.ErrUnexpectedEOF
		}
		// Padding: as much as the buffer holds, all zeros.
		n := copy(f.in, f.in[f.ip:f.inEnd])
		f.realEnd -= f.ip
		clear(f.in[n:])
		f.ip, f.inEnd = 0, len(f.in)
		return nil
	}
	n := copy(f.in, f.in[f.ip:f.inEnd])
	f.ip = 0
	want := min(int64(inChunk+8-n), f.end-f.off)
	if want > 0 {
		k, err := f.src.ReadAt(f.in[n:n+int(want)], f.off)
		if k < int(want) {
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		f.off += want
		n += k
	}
	f.inEnd = n
	if f.off == f.end && n < len(f.in) {
		f.realEnd = n
		clear(f.in[n:])
		f.inEnd = len(f.in)
	}
	return nil
}

// flush hands on the output not yet handed on; unless last, it then
// keeps only the history window.
func (f *inflater) flush(last bool) error {
	if f.o > f.mark {
		f.n += int64(f.o - f.mark)
		if f.n > f.max {
			return errTooLong
		}
		if err := f.emit(f.out[f.mark:f.o]); err != nil {
			return err
		}
	}
	if !last && f.o > history {
		copy(f.out, f.out[f.o-history:f.o])
		f.o = history
	}
	f.mark = f.o
	return nil
}

// errTooLong is returned when the stream inflates to more than its
// entry declares.
var errTooLong = errors.New("inflates to more than its declared size")

// stored copies a stored block.
func (f *inflater) stored() error {
	f.drop(f.nbits & 7)
	if err := f.refill(); err != nil {
		return err
	}
	n := int(f.bits & 0xffff)
	if int(f.bits>>16&0xffff) != n^0xffff {
		return fmt.Errorf("%w: stored block length not confirmed", errCorrupt)
	}
	f.drop(32)
	// The whole bytes still in the bit buffer come first: give them
	// back to the input.
	f.ip -= int(f.nbits >> 3)
	f.bits, f.nbits = 0, 0
	for n > 0 {
		if f.ip >= f.inEnd || (f.realEnd >= 0 && f.ip >= f.realEnd) {
			if f.realEnd >= 0 {
				return io.ErrUnexpectedEOF
			}
			if err := f.fill(); err != nil {
				return err
			}
			continue
		}
		if f.o+outMargin >= len(f.out) {
			if err := f.flush(false); err != nil {
				return err
			}
		}
		avail := f.inEnd - f.ip
		if f.realEnd >= 0 {
			avail = f.realEnd - f.ip
		}
		k := min(n, avail, len(f.out)-outMargin-f.o)
		copy(f.out[f.o:], f.in[f.ip:f.ip+k])
		f.o += k
		f.ip += k
		n -= k
	}
	return nil
}

// dynamic reads the code lengths of a dynamic block and builds its
// tables.
func (f *inflater) dynamic() error {
	if err := f.refill(); err != nil {
		return err
	}
	nlit := int(f.bits&31) + 257
	ndist := int(f.bits>>5&31) + 1
	nclen := int(f.bits>>10&15) + 4
	f.drop(14)
	if nlit > 286 || ndist > 30 {
		return fmt.Errorf("%w: too many length or distance symbols", errCorrupt)
	}
	var cl [19]uint8
	for i := range nclen {
		if f.nbits < 3 {
			if err := f.refill(); err != nil {
				return err
			}
		}
		cl[clenOrder[i]] = uint8(f.bits & 7)
		f.drop(3)
	}
	if err := f.build(&f.clen, cl[:], clenRoot, lenCode); err != nil {
		return err
	}
	lens := f.lens[:nlit+ndist]
	for i := 0; i < len(lens); {
		if f.nbits < 16 {
			if err := f.refill(); err != nil {
				return err
			}
		}
		e := f.clen.e[f.bits&(1<<clenRoot-1)]
		if e>>8&0xff == kindInvalid {
			return fmt.Errorf("%w: invalid code length code", errCorrupt)
		}
		f.drop(uint(e & 0xff))
		sym := e >> 16
		if sym < 16 {
			lens[i] = uint8(sym)
			i++
			continue
		}
		var rep int
		var v uint8
		switch sym {
		case 16:
			if i == 0 {
				return fmt.Errorf("%w: repeated code length with no previous length", errCorrupt)
			}
			v, rep = lens[i-1], 3+int(f.bits&3)
			f.drop(2)
		case 17:
			rep = 3 + int(f.bits&7)
			f.drop(3)
		default:
			rep = 11 + int(f.bits&127)
			f.drop(7)
		}
		if i+rep > len(lens) {
			return fmt.Errorf("%w: code lengths overflow", errCorrupt)
		}
		for range rep {
			lens[i] = v
			i++
		}
	}
	if lens[256] == 0 {
		return fmt.Errorf("%w: no end-of-block code", errCorrupt)
	}
	if err := f.build(&f.lit, lens[:nlit], litRoot, litCode); err != nil {
		return err
	}
	return f.build(&f.dist, lens[nlit:], distRoot, distCode)
}

// The three codes of a block.
const (
	litCode  = iota // literal/length
	distCode        // distance
	lenCode         // code length (of a dynamic block's header)
)

// build makes the lookup table of a canonical Huffman code of a kind
// given its code lengths.
func (f *inflater) build(t *table, lens []uint8, root uint, kind int) error {
	clear(f.count[:])
	maxLen := uint(0)
	for _, l := range lens {
		f.count[l]++
		maxLen = max(maxLen, uint(l))
	}
	f.count[0] = 0
	// Check the code: over-subscribed is an error, incomplete too but
	// for a single code of length 1 (as zlib allows), or no code at all
	// for distances.
	left := 1
	for l := 1; l <= maxCodeLen; l++ {
		left = left<<1 - int(f.count[l])
		if left < 0 {
			return fmt.Errorf("%w: over-subscribed code", errCorrupt)
		}
	}
	if left > 0 && (maxLen > 1 || kind == lenCode && maxLen > 0) {
		return fmt.Errorf("%w: incomplete code", errCorrupt)
	}
	f.offsets[1] = 0
	for l := 1; l <= maxCodeLen; l++ {
		f.offsets[l+1] = f.offsets[l] + f.count[l]
	}
	for s, l := range lens {
		if l != 0 {
			f.sorted[f.offsets[l]] = uint16(s)
			f.offsets[l]++
		}
	}
	size := 1 << root
	if maxLen > root {
		// Sub-tables of 2^(maxLen-root) entries, one per root prefix of a
		// longer code: at most one per such code.
		long := 0
		for l := root + 1; l <= maxLen; l++ {
			long += int(f.count[l])
		}
		size += long << (maxLen - root)
	}
	if cap(t.e) < size {
		t.e = make([]uint32, size)
	}
	t.e = t.e[:size]
	t.root = root
	invalid := uint32(kindInvalid) << 8
	for i := range t.e[:1<<root] {
		t.e[i] = invalid
	}
	next := 1 << root
	subBits := maxLen - root
	code := 0 // canonical code, MSB first
	idx := 0
	for l := uint(1); l <= maxLen; l++ {
		for range f.count[l] {
			s := f.sorted[idx]
			idx++
			e := entry(s, l, kind)
			rev := reverse(code, l)
			if l <= root {
				for k := rev; k < 1<<root; k += 1 << l {
					t.e[k] = e
				}
			} else {
				p := rev & (1<<root - 1)
				if t.e[p]>>8&0xff != kindLink|uint32(subBits) {
					for k := next; k < next+1<<subBits; k++ {
						t.e[k] = invalid
					}
					t.e[p] = uint32(next)<<16 | uint32(kindLink|subBits)<<8 | uint32(root)
					next += 1 << subBits
				}
				base := int(t.e[p] >> 16)
				for k := rev >> root; k < 1<<subBits; k += 1 << (l - root) {
					t.e[base+k] = e
				}
			}
			code++
		}
		code <<= 1
	}
	t.e = t.e[:next]
	if kind == litCode {
		// Two literals whose codes fit in the root bits together make
		// one entry. Entries are read before they are replaced: i>>l is
		// below i but for i == 0, read first.
		for i := 1<<root - 1; i >= 0; i-- {
			e := t.e[i]
			l := uint(e & 0xff)
			if e>>8&0xff != kindLiteral || l >= root {
				continue
			}
			e2 := t.e[i>>l]
			l2 := uint(e2 & 0xff)
			if e2>>8&0xff != kindLiteral || l+l2 > root {
				continue
			}
			t.e[i] = (e>>16|e2>>16<<8)<<16 | kindPair<<8 | uint32(l+l2)
		}
	}
	return nil
}

// entry is the table entry of symbol s with a code of l bits.
func entry(s uint16, l uint, kind int) uint32 {
	switch {
	case kind == lenCode:
		return uint32(s)<<16 | uint32(kindLiteral)<<8 | uint32(l)
	case kind == distCode && s < 30:
		return uint32(distBase[s])<<16 | uint32(kindBase|distExtra[s])<<8 | uint32(l)
	case kind == litCode && s < 256:
		return uint32(s)<<16 | uint32(kindLiteral)<<8 | uint32(l)
	case kind == litCode && s == 256:
		return uint32(kindEnd)<<8 | uint32(l)
	case kind == litCode && s <= 285:
		return uint32(lengthBase[s-257])<<16 | uint32(kindBase|lengthExtra[s-257])<<8 | uint32(l)
	}
	return uint32(kindInvalid)<<8 | uint32(l)
}

func reverse(code int, n uint) int {
	r := 0
	for range n {
		r = r<<1 | code&1
		code >>= 1
	}
	return r
}

// codes decodes a block coded with the tables lit and dist. The state
// of the hot loop (bit buffer, input and output positions) is kept in
// locals, written back around calls.
func (f *inflater) codes(lit, dist *table) error {
	le := binary.LittleEndian
	lt, dt := lit.e, dist.e
	// The root tables as arrays: lookups in them need no bounds check.
	lr := (*[1 << litRoot]uint32)(lt)
	dr := (*[1 << distRoot]uint32)(dt)
	out := f.out
	bits, nbits, ip, o := f.bits, f.nbits, f.ip, f.o
	save := func() { f.bits, f.nbits, f.ip, f.o = bits, nbits, ip, o }
	load := func() { bits, nbits, ip, o = f.bits, f.nbits, f.ip, f.o }
	for {
		if o+outMargin > len(out) {
			save()
			if err := f.flush(false); err != nil {
				return err
			}
			load()
		}
		if nbits < 48 {
			if ip+8 <= f.inEnd {
				bits |= le.Uint64(f.in[ip:]) << (nbits & 63)
				ip += int((63 - nbits) >> 3)
				nbits |= 56
			} else {
				save()
				if err := f.refill(); err != nil {
					return err
				}
				load()
			}
		}
		e := lr[bits&(1<<litRoot-1)]
		if e&(kindLink<<8) != 0 {
			e = lt[int(e>>16)+int(bits>>litRoot&(1<<(e>>8&7)-1))]
		}
		n := uint(e & 63) // code lengths are below 64: no shift check
		bits >>= n
		nbits -= n
		kind := e >> 8 & 0xff
		if kind <= kindPair {
			// One literal or two: two bytes are written either way (the
			// margin takes them), kind+1 kept.
			le.PutUint16(out[o:o+2], uint16(e>>16))
			o += int(kind) + 1
			// Most codes are short: more literals often need no
			// refill.
			if nbits < maxCodeLen {
				continue
			}
			e = lr[bits&(1<<litRoot-1)]
			if e>>8&0xff > kindPair {
				continue // decoded again at the top
			}
			n = uint(e & 63)
			bits >>= n
			nbits -= n
			le.PutUint16(out[o:o+2], uint16(e>>16))
			o += int(e>>8&0xff) + 1
			continue
		}
		if kind&kindBase == 0 {
			save()
			if kind == kindEnd {
				return nil
			}
			return fmt.Errorf("%w: invalid literal/length code", errCorrupt)
		}
		extra := uint(kind & 0xf)
		length := int(e>>16) + int(bits&(1<<extra-1))
		bits >>= extra
		nbits -= extra

		e = dr[bits&(1<<distRoot-1)]
		if e&(kindLink<<8) != 0 {
			e = dt[int(e>>16)+int(bits>>distRoot&(1<<(e>>8&7)-1))]
		}
		n = uint(e & 63)
		bits >>= n
		nbits -= n
		kind = e >> 8 & 0xff
		if kind&kindBase == 0 {
			return fmt.Errorf("%w: invalid distance code", errCorrupt)
		}
		extra = uint(kind & 0xf)
		d := int(e>>16) + int(bits&(1<<extra-1))
		bits >>= extra
		nbits -= extra
		if d > o {
			return fmt.Errorf("%w: distance too far back", errCorrupt)
		}
		s := o - d
		switch {
		case d >= 8:
			// Two words cover most matches; the margin after o takes
			// what is written past the match.
			dst, src := out[o:o+outMargin], out[s:s+outMargin]
			le.PutUint64(dst, le.Uint64(src))
			le.PutUint64(dst[8:], le.Uint64(src[8:]))
			for i := 16; i < length; i += 8 {
				le.PutUint64(dst[i:], le.Uint64(src[i:]))
			}
		case d == 1:
			b := out[s]
			for i := range length {
				out[o+i] = b
			}
		default:
			for i := range length {
				out[o+i] = out[s+i]
			}
		}
		o += length
	}
}
