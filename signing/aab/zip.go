package aab

import (
	"bytes"
	"cmp"
	"context"
	"crypto"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/storesign/storesign/internal/jar"
	"github.com/storesign/storesign/internal/zipx"
)

// maxMetaFile bounds the manifest and signature files read into memory.
const maxMetaFile = 64 << 20

// openBundle reads the archive's central directory and checks that it
// is an app bundle storesign can rewrite.
//
// Zip64 bundles (65,535 entries or more, 4 GiB or more) are read and
// written. What zipx refuses is refused (unsafe names, unsupported
// methods, encryption, multi-disk records, records that disagree with the
// central directory or overlap, limits): the error is zipx's typed error.
func openBundle(r io.ReaderAt, size int64) (*zipx.Archive, error) {
	a, err := zipx.Read(r, size)
	if err != nil {
		return nil, err
	}
	if _, err := a.CheckRecords(r, a.CDOffset); err != nil {
		return nil, err
	}
	var config, manifest bool
	for _, e := range a.Entries {
		switch e.Name {
		case BundleConfigName:
			config = true
		case BaseManifestName:
			manifest = true
		}
	}
	switch {
	case !config:
		return nil, fmt.Errorf("%w: it has no %s", ErrNotBundle, BundleConfigName)
	case !manifest:
		return nil, fmt.Errorf("%w: it has no %s", ErrNotBundle, BaseManifestName)
	}
	return a, nil
}

// isSigned reports whether an entry is signed: a file that is not part of
// the JAR signature itself.
func isSigned(e *zipx.Entry) bool {
	return !e.IsDir() && !jar.IsSignatureFile(e.Name)
}

// isMetaInf reports whether jarsigner writes the entry in its first group.
func isMetaInf(name string) bool { return strings.HasPrefix(name, "META-INF/") }

// digestJob asks for the digests of one entry's uncompressed contents.
type digestJob struct {
	entry  *zipx.Entry
	hashes []crypto.Hash
}

// digestEntries computes the jobs' digests on up to workers goroutines
// and returns them in job order, or the error of the first failing job.
// The largest entries go first, so that the workers finish together.
// Each entry is read once, in 256 KiB reads, inflated by the worker's
// [inflater] and checked against its CRC-32 and size.
func digestEntries(ctx context.Context, r io.ReaderAt, limit int64, jobs []digestJob, n int) ([][][]byte, error) {
	nw := max(1, min(workers(n), len(jobs)))
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	order := make([]int, len(jobs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return cmp.Compare(jobs[b].entry.UncompressedSize, jobs[a].entry.UncompressedSize)
	})
	out := make([][][]byte, len(jobs))
	errs := make([]error, len(jobs))
	next := make(chan int)
	var wg sync.WaitGroup
	for range nw {
		wg.Go(func() {
			d := digester{buf: make([]byte, 256<<10)}
			for i := range next {
				out[i], errs[i] = d.digest(r, limit, jobs[i])
				if errs[i] != nil {
					cancel()
				}
			}
		})
	}
feed:
	for _, i := range order {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	for _, i := range order {
		if errs[i] != nil {
			return nil, errs[i]
		}
	}
	if err := parent.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// workers is the number of goroutines that share work: n, or
// GOMAXPROCS when n is 0 or less.
func workers(n int) int {
	if n <= 0 {
		return runtime.GOMAXPROCS(0)
	}
	return n
}

// digester is one worker's state: a read buffer and an inflater, made
// once and reused for every entry.
type digester struct {
	buf []byte
	inf *inflater
}

// digest returns the digests of one entry's uncompressed contents,
// checking them against the entry's CRC-32 and size: the inflater's
// output is trusted only once that check, which does not depend on it,
// passes.
func (d *digester) digest(r io.ReaderAt, limit int64, job digestJob) ([][]byte, error) {
	e := job.entry
	l, err := e.Local(r, limit)
	if err != nil {
		return nil, err
	}
	hs := make([]hash.Hash, len(job.hashes))
	for i, h := range job.hashes {
		hs[i] = h.New()
	}
	crc := uint32(0)
	n := int64(0)
	emit := func(p []byte) error {
		crc = crc32.Update(crc, crc32.IEEETable, p)
		n += int64(len(p))
		for _, h := range hs {
			h.Write(p)
		}
		return nil
	}
	switch e.Method {
	case zipx.Store:
		if l.DataSize != e.UncompressedSize {
			return nil, fmt.Errorf("%w: stored entry %q has a compressed size of %d and a size of %d", zipx.ErrTruncated, e.Name, l.DataSize, e.UncompressedSize)
		}
		for off := l.DataOffset; off < l.End(); {
			k := int(min(int64(len(d.buf)), l.End()-off))
			if got, err := r.ReadAt(d.buf[:k], off); got < k {
				return nil, fmt.Errorf("%w: reading %q: %v", zipx.ErrTruncated, e.Name, err)
			}
			emit(d.buf[:k])
			off += int64(k)
		}
	case zipx.Deflated:
		if d.inf == nil {
			d.inf = newInflater()
		}
		err := d.inf.inflate(r, l.DataOffset, l.DataSize, e.UncompressedSize, emit)
		switch {
		case errors.Is(err, errTooLong):
			return nil, fmt.Errorf("%w: entry %q is longer than declared", zipx.ErrTruncated, e.Name)
		case err != nil:
			return nil, fmt.Errorf("%w: entry %q: %v", zipx.ErrTruncated, e.Name, err)
		}
	default:
		return nil, fmt.Errorf("zip: entry %q uses unsupported compression method %d", e.Name, e.Method)
	}
	switch {
	case n != e.UncompressedSize:
		return nil, fmt.Errorf("%w: entry %q is shorter than declared", zipx.ErrTruncated, e.Name)
	case crc != e.CRC32:
		return nil, fmt.Errorf("%w: entry %q fails its CRC-32 check", zipx.ErrTruncated, e.Name)
	}
	sums := make([][]byte, len(hs))
	for i, h := range hs {
		sums[i] = h.Sum(nil)
	}
	return sums, nil
}

// zipWriter writes a new archive: entries copied raw from the source and
// entries created from bytes, then the central directory.
type zipWriter struct {
	out     output
	n       int64 // bytes written
	central [][]byte
}

func (z *zipWriter) write(p []byte) error {
	_, err := z.out.Write(p)
	z.n += int64(len(p))
	return err
}

// copyRaw copies e's local record and data unchanged, except that the
// local header takes its CRC-32 and sizes from the central directory and
// a data descriptor is dropped (flag bit 3 cleared), as the header now
// holds what it would say. A local header that already says so is
// copied with the data, in one range.
func (z *zipWriter) copyRaw(r io.ReaderAt, limit int64, e *zipx.Entry) error {
	l, err := e.Local(r, limit)
	if err != nil {
		return err
	}
	off := z.n
	// The central directory is what readers and digests go by; make the
	// local header agree with it (zip64 fields where sizes or the offset
	// need them).
	hdr := zipx.LocalWithZip64(l.LocalHeaderWithExtra(l.Extra), e.UncompressedSize, e.CompressedSize)
	central := zipx.WithZip64(e.Raw, e.UncompressedSize, e.CompressedSize, off)
	le := binary.LittleEndian
	if e.Flags&zipx.FlagDataDescriptor != 0 {
		flags := le.Uint16(hdr[6:]) &^ zipx.FlagDataDescriptor
		le.PutUint16(hdr[6:], flags)
		le.PutUint16(central[8:], e.Flags&^zipx.FlagDataDescriptor)
	}
	le.PutUint32(hdr[14:], e.CRC32)
	if l.DataOffset-l.Offset == int64(len(hdr)) && sameHeader(hdr, l) {
		err = z.out.CopyFrom(l.Offset, l.End()-l.Offset)
	} else if err = z.write(hdr); err == nil {
		err = z.out.CopyFrom(l.DataOffset, l.DataSize)
	}
	if err != nil {
		return fmt.Errorf("copying %s: %w", e.Name, err)
	}
	z.n = off + int64(len(hdr)) + l.DataSize
	z.central = append(z.central, central)
	return nil
}

// sameHeader reports whether hdr is byte for byte l's header, name and
// extra field.
func sameHeader(hdr []byte, l *zipx.Local) bool {
	h, rest := hdr[:len(l.Header)], hdr[len(l.Header):]
	return bytes.Equal(h, l.Header) && len(rest) == len(l.Name)+len(l.Extra) &&
		bytes.Equal(rest[:len(l.Name)], l.Name) && bytes.Equal(rest[len(l.Name):], l.Extra)
}

// create writes a new deflated entry, as java.util.zip does at the
// default level.
func (z *zipWriter) create(name string, data []byte, mod time.Time) error {
	off := z.n
	if off >= 0xffffffff || int64(len(data)) >= 0xffffffff {
		return fmt.Errorf("aab: internal error: %s written at offset %d", name, off)
	}
	comp := zipx.Deflate(data, 6)
	dosTime, dosDate := dosDateTime(mod)
	h := zipx.FileHeader{
		Name:             name,
		Method:           zipx.Deflated,
		ModTime:          dosTime,
		ModDate:          dosDate,
		CRC32:            crc32IEEE(data),
		CompressedSize:   uint32(len(comp)),
		UncompressedSize: uint32(len(data)),
	}
	if err := z.write(h.LocalHeader()); err != nil {
		return err
	}
	if err := z.write(comp); err != nil {
		return err
	}
	z.central = append(z.central, h.CentralHeader(off))
	return nil
}

// close writes the central directory and the end record (zip64 ones
// when needed), keeping the source's archive comment, and flushes the
// output.
func (z *zipWriter) close(eocd []byte) error {
	cdOff := z.n
	for _, c := range z.central {
		if err := z.write(c); err != nil {
			return err
		}
	}
	if err := z.write(zipx.EndRecords(eocd, len(z.central), z.n-cdOff, cdOff)); err != nil {
		return err
	}
	return z.out.Flush()
}

// dosDateTime converts t (its wall clock in UTC) to MS-DOS date and time.
func dosDateTime(t time.Time) (tm, date uint16) {
	t = t.UTC()
	if t.Year() < 1980 {
		t = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	date = uint16(t.Year()-1980)<<9 | uint16(t.Month())<<5 | uint16(t.Day())
	tm = uint16(t.Hour())<<11 | uint16(t.Minute())<<5 | uint16(t.Second()/2)
	return tm, date
}

func crc32IEEE(b []byte) uint32 { return crc32.ChecksumIEEE(b) }
