package ipa

import (
	"archive/zip"
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"sync"

	"github.com/storesign/storesign/signing/macho"
)

// A mainLane signs the app's main executable beside everything else.
//
// Inflating a binary is the one step of re-signing that a second core
// cannot share, and the app's executable, usually the largest file, is
// signed last, since its CodeResources seals the nested code. Written in
// that order, the re-signing takes the time of inflating every binary one
// after the other. When the output is a file and the signed binaries are
// stored, ResignFile signs the executable from the start on a goroutine of
// its own, into a provisional place far past the end the archive can
// reach (a sparse region of the output file), while the rest of the
// archive is written from offset 0; its signature, at its end, waits for
// the CodeResources the rest produces
// (macho.SignOptions.CodeResourcesLater). The executable then becomes the
// archive's last entry: once the rest is written, the lane writes what is
// left of it into its place, after its local header, while the kernel
// copies what it wrote so far there (copy_file_range); the file is cut at
// the end of the central directory. A signed, thin executable is read once:
// its entitlements are fitted from its own signature, at its end, and its
// header is written last (macho.SignOptions.EntitlementsLater). The
// archive's bytes do not depend on the timing.
//
// The entry is stored, with its CRC-32 and sizes in its local header (no
// data descriptor), and the zip writer that writes the rest records it in
// the central directory as if it had written it.
type mainLane struct {
	e    *entry
	prov int64 // the provisional offset of its data in the file

	cr    chan []byte // its CodeResources, from the writer
	gotCR []byte      // what came on cr (the lane's goroutine only)
	done  chan struct{}

	announced int64 // set by Layout, before size is sent
	reuse     bool  // see resigner.reuse
	// room, when not 0, is how much of its binary the lane may write
	// into its provisional place: the scratch place follows (see
	// resigner.scratchAt).
	room int64

	// Where the lane writes (see laneTarget and move): byte n of its
	// binary goes to base+n; moved bytes were written at prov before
	// base moved to the binary's place in the archive.
	mu      sync.Mutex
	cond    *sync.Cond
	base    int64
	written int64
	moved   int64
	copying bool

	// Set before done is closed.
	res    *signed
	crc    uint32
	first  []byte // the first bytes written (see fixCRC)
	header []byte // the final Mach-O header, when written last
	err    error

	// Set by place, for finish.
	fh     *zip.FileHeader
	hdrAt  int64
	dataAt int64
}

// laneFile is the output file ResignFile writes (an atomicfile.File).
type laneFile interface {
	io.WriterAt
	io.ReaderAt
	// StartWriteback asks the kernel to start writing [off, off+n) to disk.
	StartWriteback(off, n int64)
	// CopyWithin copies n bytes from offset src to offset dst.
	CopyWithin(dst, src, n int64) error
	// CopyFrom copies n bytes of src from srcOff to offset dst.
	CopyFrom(dst int64, src *os.File, srcOff, n int64) error
	// Truncate cuts the file at size.
	Truncate(size int64) error
}

// laneMinSize is the size from which the app's executable gets a lane of
// its own.
const laneMinSize = smallEntry

// laneEligible reports whether the app's executable gets a lane of its
// own: the output is a file, the signed binaries are stored, and the
// executable is large enough for the lane to pay (and under 4 GiB).
// The output file must also take a write at the provisional offset (a
// file system whose files stop at 4 GiB does not); decided once.
func (r *resigner) laneEligible() bool {
	if r.laneOK != nil {
		return *r.laneOK
	}
	e := r.a.app.exeEntry
	threshold := uint64(laneMinSize)
	if r.opts.laneMin != 0 {
		threshold = r.opts.laneMin
	}
	ok := r.at != nil && r.opts.CompressionLevel == 0 && e != nil && !e.dropped &&
		e.f.UncompressedSize64 >= threshold && e.f.UncompressedSize64 < 0xffff0000
	if ok {
		p := r.provisional()
		r.prov = p
		_, err := r.at.WriteAt([]byte{0}, p)
		ok = err == nil && r.at.Truncate(0) == nil
		if !ok {
			r.log.Debug("no lane: the output file does not take the provisional offset", "offset", p, "err", err)
		}
	}
	r.laneOK = &ok
	return ok
}

// provisional returns an offset past any end the output archive can
// reach: twice what every entry could take, stored or as compressed, with
// its headers, and 1 GiB for what is written new. The region is sparse
// and cut off at the end.
func (r *resigner) provisional() int64 {
	var n int64
	for _, e := range r.a.entries {
		n += int64(max(e.f.UncompressedSize64, e.f.CompressedSize64)) + 2*int64(30+46+len(e.f.Name)+len(e.f.Extra)) + 64<<10
	}
	return alignUp(2*n+1<<30, 1<<20)
}

func alignUp(v, a int64) int64 { return (v + a - 1) &^ (a - 1) }

// startMain starts signing the app's executable on its own goroutine when
// that is possible (see mainLane), or returns nil. ctx must be cancelled
// when the writing stops, and the lane waited for (lane.wait); the lane
// calls fail when it fails.
func (r *resigner) startMain(ctx context.Context, fail func()) *mainLane {
	if !r.laneEligible() {
		return nil
	}
	b := r.a.app
	e := b.exeEntry
	p := r.plans[b]
	l := &mainLane{
		e:     e,
		prov:  r.prov,
		cr:    make(chan []byte, 1),
		done:  make(chan struct{}),
		reuse: r.reuse(e),
		base:  r.prov,
	}
	if r.scratch > 0 {
		l.room = r.scratch - r.prov
	}
	l.cond = sync.NewCond(&l.mu)
	so := macho.SignOptions{
		Identifier:   p.newID,
		Entitlements: p.ents,
		InfoPlist:    p.info,
		Layout: func(n int64) {
			l.announced = n
		},
		// Signing again (see signReusing) asks for it again: the writer
		// gives it once, so it is kept. (A fat binary asks before its
		// last slice finds no page hashes to reuse.)
		CodeResourcesLater: func(ctx context.Context) ([]byte, error) {
			if l.gotCR != nil {
				return l.gotCR, nil
			}
			// Its code is read: the rest may take every core.
			r.gate.openAll()
			select {
			case cr := <-l.cr:
				l.gotCR = cr
				return cr, nil
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		},
	}
	if r.lateApp {
		// Read once: the entitlements the executable was signed with
		// come from its end, and its header is written last.
		so.EntitlementsLater = func(signed []byte) ([]byte, error) {
			b.origEnts = signed
			ents, changes, err := fitEntitlements(signed, p.profile, p.newID, fitOptions{path: b.dir, drop: r.opts.DropUngrantedEntitlements, rename: r.renameID})
			if err != nil {
				return nil, err
			}
			p.ents, p.report.EntitlementChanges, p.report.Entitlements = ents, changes, string(ents)
			return ents, nil
		}
		so.HeaderLater = func(h []byte) error {
			l.header = h
			return nil
		}
	}
	r.log.Debug("signing on a lane of its own", "binary", e.name)
	go func() {
		defer close(l.done)
		defer r.gate.openAll()
		if l.err = r.signMain(ctx, l, so); l.err != nil {
			fail()
		}
	}()
	return l
}

// signMain is the lane's goroutine.
func (r *resigner) signMain(ctx context.Context, l *mainLane, so macho.SignOptions) error {
	e := l.e
	ra, size, done, err := r.openBinary(e, true)
	if err != nil {
		return err
	}
	defer done()
	so = r.signOptions(so)
	var bw *bufio.Writer
	var w *laneData
	res, err := r.signReusing(ctx, e, ra, size, so, l.reuse, func() io.Writer {
		bw = bufio.NewWriterSize(&laneTarget{l: l, f: r.at}, 1<<20)
		w = &laneData{w: bw}
		return w
	})
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return fmt.Errorf("signing %s: %w", e.name, err)
	}
	if w.n != l.announced {
		return fmt.Errorf("signing %s: %d bytes written, %d announced", e.name, w.n, l.announced)
	}
	l.res, l.crc, l.first = &signed{res, so.Identifier}, w.crc, w.first
	r.log.Debug("signed on its lane", "binary", e.name, "bytes", w.n)
	return nil
}

// laneTarget writes the lane's binary into the file: into its
// provisional place until the writer of the rest reaches it, then into
// its place in the archive (see mainLane.move).
type laneTarget struct {
	l *mainLane
	f io.WriterAt
	n int64 // bytes of the binary written
}

func (t *laneTarget) Write(p []byte) (int, error) {
	l := t.l
	l.mu.Lock()
	defer l.mu.Unlock()
	// Signing again (see signReusing) waits for the copy of what was
	// written before the move.
	for l.copying && t.n < l.moved {
		l.cond.Wait()
	}
	if l.room > 0 && l.base == l.prov && t.n+int64(len(p)) > l.room {
		return 0, fmt.Errorf("%d bytes signed, more than the %d its provisional place takes", t.n+int64(len(p)), l.room)
	}
	n, err := t.f.WriteAt(p, l.base+t.n)
	t.n += int64(n)
	l.written = t.n
	return n, err
}

// move makes the lane write the rest of its binary into its place in the
// archive, its data at start, and copies there what it wrote into its
// provisional place so far, while it goes on.
func (l *mainLane) move(f laneFile, start int64) error {
	l.mu.Lock()
	l.moved, l.base, l.copying = l.written, start, true
	l.mu.Unlock()
	err := f.CopyWithin(start, l.prov, l.moved)
	l.mu.Lock()
	l.copying = false
	l.cond.Broadcast()
	l.mu.Unlock()
	return err
}

// laneData writes the lane's binary (see laneTarget), keeping its CRC-32,
// size and first bytes.
type laneData struct {
	w     io.Writer
	crc   uint32
	n     int64
	first []byte // the first maxHeaderCopy bytes
}

// maxHeaderCopy bounds the bytes laneData keeps for a header written
// last: macho reads at most 1 MiB of load commands.
const maxHeaderCopy = 1<<20 + 32

func (w *laneData) Write(p []byte) (int, error) {
	w.crc = crc32.Update(w.crc, crc32.IEEETable, p)
	if len(w.first) < maxHeaderCopy {
		w.first = append(w.first, p[:min(len(p), maxHeaderCopy-len(w.first))]...)
	}
	w.n += int64(len(p))
	return w.w.Write(p)
}

// giveCR hands the lane its CodeResources.
func (l *mainLane) giveCR(cr []byte) { l.cr <- cr }

// place writes the lane's entry as the archive's last: its local header
// where the zip writer is, then, once the lane is done, its data, which
// the kernel copies from the provisional place; the zip writer skips over
// it. finish completes the headers.
func (l *mainLane) place(ctx context.Context, zw *zip.Writer, flush func() error, lw *laneWriter, f laneFile) error {
	fh := l.e.f.FileHeader
	fh.Method = zip.Store
	// Sizes and CRC-32 go in the local header (no data descriptor), set
	// by place and finish once known.
	fh.Flags &^= 0x8
	fh.CRC32 = 0
	fh.CompressedSize64, fh.UncompressedSize64 = 0, 0
	fh.Extra = withoutZip64(fh.Extra)
	if !hasUnixMode(&fh) {
		fh.SetMode(modeExec) // a zsign or Windows archive: no Unix mode
	}
	w, err := zw.CreateRaw(&fh)
	if err != nil {
		return fmt.Errorf("writing %s: %w", l.e.name, err)
	}
	if err := flush(); err != nil {
		return err
	}
	// CreateRaw closed the previous entry (its compressor may have held
	// bytes), then wrote the local header: it ends where the data starts.
	start := lw.pos
	hdrAt := start - int64(30+len(fh.Name)+len(fh.Extra))
	l.fh, l.hdrAt, l.dataAt = &fh, hdrAt, start
	// The rest of the binary goes to its place, and what is written of
	// it is copied there meanwhile. (The provisional place is past twice
	// what the archive can take: the binary's place ends before it.)
	if err := l.move(f, start); err != nil {
		return fmt.Errorf("writing %s: %w", l.e.name, err)
	}
	select {
	case <-l.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	if l.err != nil {
		return l.err
	}
	size := l.announced
	if start+size > l.prov {
		return fmt.Errorf("writing %s: internal error: the archive reached the provisional place", l.e.name)
	}
	f.StartWriteback(start, size)
	fh.CompressedSize64, fh.UncompressedSize64 = uint64(size), uint64(size)
	fh.CompressedSize, fh.UncompressedSize = uint32(size), uint32(size)
	lw.skip(start, size)
	// The zip writer counts the data as written; the lane wrote it.
	return writeZeros(w, size, make([]byte, 1<<20))
}

// finish completes the entry's headers: the Mach-O header when it was
// written last, the CRC-32 and sizes in the local header.
func (l *mainLane) finish(at io.WriterAt) (*signed, error) {
	crc := l.crc
	if l.header != nil {
		if _, err := at.WriteAt(l.header, l.dataAt); err != nil {
			return nil, fmt.Errorf("writing %s: %w", l.e.name, err)
		}
		crc = fixCRC(crc, l.first, l.header, int64(l.fh.UncompressedSize64))
	}
	l.fh.CRC32 = crc // for the central directory, written by zw.Close
	var b [12]byte
	binary.LittleEndian.PutUint32(b[:], crc)
	binary.LittleEndian.PutUint32(b[4:], uint32(l.fh.CompressedSize64))
	binary.LittleEndian.PutUint32(b[8:], uint32(l.fh.UncompressedSize64))
	if _, err := at.WriteAt(b[:], l.hdrAt+14); err != nil {
		return nil, fmt.Errorf("writing %s: %w", l.e.name, err)
	}
	return l.res, nil
}

// wait waits for the lane's goroutine to end (after ctx is cancelled,
// when the writing failed).
func (l *mainLane) wait() {
	if l != nil {
		<-l.done
	}
}

// laneWriter writes the zip writer's stream into the output file from
// offset 0, leaving out the ranges others write: the lane's data, which
// the lane writes itself, and large entries copied raw, which the kernel
// copies from the input (see resigner.copyData).
type laneWriter struct {
	f      laneFile
	pos    int64
	skips  []span // in increasing order, none behind pos
	hinted int64  // where the writeback was last started
}

// A span is n bytes of the file from off.
type span struct{ off, n int64 }

// skip leaves out the n bytes from off, at or past every range left out
// so far, when the zip writer's stream reaches them.
func (w *laneWriter) skip(off, n int64) { w.skips = append(w.skips, span{off, n}) }

func (w *laneWriter) Write(p []byte) (int, error) {
	n := len(p)
	defer func() {
		if w.pos-w.hinted >= 8<<20 {
			w.f.StartWriteback(w.hinted, w.pos-w.hinted)
			w.hinted = w.pos
		}
	}()
	for len(p) > 0 {
		for len(w.skips) > 0 && w.skips[0].off+w.skips[0].n <= w.pos {
			w.skips = w.skips[1:]
		}
		if len(w.skips) > 0 && w.pos >= w.skips[0].off {
			k := min(int64(len(p)), w.skips[0].off+w.skips[0].n-w.pos)
			w.pos += k
			p = p[k:]
			continue
		}
		k := int64(len(p))
		if len(w.skips) > 0 {
			k = min(k, w.skips[0].off-w.pos)
		}
		if _, err := w.f.WriteAt(p[:k], w.pos); err != nil {
			return 0, err
		}
		w.pos += k
		p = p[k:]
	}
	return n, nil
}

// withoutZip64 returns extra without a zip64 field, whose sizes would be
// the input's.
func withoutZip64(extra []byte) []byte {
	var out []byte
	for len(extra) >= 4 {
		id, n := binary.LittleEndian.Uint16(extra), int(binary.LittleEndian.Uint16(extra[2:]))
		if 4+n > len(extra) {
			break
		}
		if id != 0x0001 {
			out = append(out, extra[:4+n]...)
		}
		extra = extra[4+n:]
	}
	return out
}

// fixCRC returns the CRC-32 of n bytes whose CRC-32 is crc once their
// first len(head) bytes, written as old[:len(head)], are replaced by head.
// CRC-32 is affine, so for messages of the same length
// crc(A) ^ crc(B) = crc(A^B) ^ crc(zeros): only the changed bytes are
// hashed, and shifted past the rest of the message (crc32Shift).
func fixCRC(crc uint32, old, head []byte, n int64) uint32 {
	d := make([]byte, len(head))
	for i := range head {
		d[i] = old[i] ^ head[i]
	}
	delta := crc32.ChecksumIEEE(d) ^ crc32.ChecksumIEEE(make([]byte, len(head)))
	return crc ^ crc32Shift(delta, n-int64(len(head)))
}

// crc32Shift returns the CRC-32 register c advanced over n zero bytes
// without the final XOR's effect: crc(A||zeros(n)) = crc32Shift(crc(A), n)
// ^ crc(zeros(n)). It squares the GF(2) matrix of one zero bit, as zlib's
// crc32_combine does.
func crc32Shift(c uint32, n int64) uint32 {
	if n <= 0 {
		return c
	}
	var odd, even [32]uint32
	odd[0] = 0xedb88320 // the reflected polynomial: one zero bit
	for i, row := 1, uint32(1); i < 32; i, row = i+1, row<<1 {
		odd[i] = row
	}
	square(&even, &odd) // two zero bits
	square(&odd, &even) // four
	for {
		square(&even, &odd) // one zero byte, then 4, 16...
		if n&1 != 0 {
			c = times(&even, c)
		}
		if n >>= 1; n == 0 {
			return c
		}
		square(&odd, &even)
		if n&1 != 0 {
			c = times(&odd, c)
		}
		if n >>= 1; n == 0 {
			return c
		}
	}
}

func times(m *[32]uint32, v uint32) uint32 {
	var s uint32
	for i := 0; v != 0; i, v = i+1, v>>1 {
		if v&1 != 0 {
			s ^= m[i]
		}
	}
	return s
}

func square(dst, m *[32]uint32) {
	for i := range dst {
		dst[i] = times(m, m[i])
	}
}
