package ipa

import (
	"archive/zip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/storesign/storesign/internal/zipx"
	"github.com/storesign/storesign/signing/macho"
)

// ErrUnsafeArchive is returned for an IPA whose zip structure storesign
// refuses: compression methods other than stored and deflate, encrypted
// entries, multi-disk records, local headers or data descriptors that
// disagree with the central directory, overlapping entries, or counts and
// sizes beyond the limits. The wrapped error says which entry and what
// to do. (Unsafe names wrap [ErrUnsafePath].)
var ErrUnsafeArchive = errors.New("ipa: unsafe or unsupported zip archive")

// ErrIncomplete is returned for an IPA that is empty, or a zip cut short
// (it has no end of central directory record): a download or copy that
// stopped early, not the wrong kind of file. The fix is to download it
// again.
var ErrIncomplete = errors.New("ipa: the IPA is incomplete")

// checkArchive checks the zip structure of an IPA with zipx, which
// archive/zip does not: its records, names, methods and limits. It
// returns the local records, in file order.
func checkArchive(src io.ReaderAt, size int64) ([]zipx.Record, error) {
	a, err := zipx.Read(src, size)
	if errors.Is(err, zipx.ErrFormat) {
		// Bytes after the end record, which unzip and archive/zip
		// ignore: check the archive that ends before them.
		if end, ok := archiveEnd(src, size); ok && end < size {
			a, err = zipx.Read(src, end)
		}
	}
	var recs []zipx.Record
	if err == nil {
		recs, err = a.CheckRecords(src, a.CDOffset)
	}
	var name *zipx.NameError
	var dup *zipx.DuplicateError
	switch {
	case err == nil:
		return recs, nil
	case errors.Is(err, zipx.ErrEmpty), errors.Is(err, zipx.ErrCutShort):
		return nil, fmt.Errorf("%w: %w: download it again", ErrIncomplete, err)
	case errors.As(err, &name):
		return nil, fmt.Errorf("%w: %w", ErrUnsafePath, err)
	case errors.As(err, &dup):
		return nil, fmt.Errorf("%w: %s appears twice", ErrNotIPA, dup.Name)
	case errors.Is(err, zipx.ErrUnsafe):
		return nil, fmt.Errorf("%w: %w", ErrUnsafeArchive, err)
	}
	return nil, fmt.Errorf("%w: %w", ErrNotIPA, err)
}

// archiveEnd returns where the archive ends when bytes follow its end
// record: just past the last End of Central Directory record whose
// comment fits in the file.
func archiveEnd(src io.ReaderAt, size int64) (int64, bool) {
	tail := min(size, zipx.EOCDLen+0xffff)
	buf := make([]byte, tail)
	if n, _ := src.ReadAt(buf, size-tail); int64(n) != tail {
		return 0, false
	}
	le := binary.LittleEndian
	for i := len(buf) - zipx.EOCDLen; i >= 0; i-- {
		if le.Uint32(buf[i:]) != zipx.EOCDSig {
			continue
		}
		if end := i + zipx.EOCDLen + int(le.Uint16(buf[i+20:])); end <= len(buf) {
			return size - tail + int64(end), true
		}
	}
	return 0, false
}

// Unix modes written for entries that have none (archives made on
// Windows or by zsign carry MS-DOS attributes only).
const (
	modeDir  = fs.ModeDir | 0o755
	modeFile = 0o644
	modeExec = 0o755
)

// hasUnixMode reports whether an entry carries Unix permissions: made by
// a Unix or macOS host, with a mode in the high external attributes.
func hasUnixMode(h *zip.FileHeader) bool {
	host := h.CreatorVersion >> 8
	return (host == 3 || host == 19) && h.ExternalAttrs>>16 != 0
}

// cleanDir reports whether a directory entry can be copied as it is: its
// name ends with a slash, it is stored and empty, and it has a Unix mode.
func cleanDir(h *zip.FileHeader) bool {
	return len(h.Name) > 0 && h.Name[len(h.Name)-1] == '/' && h.Method == zip.Store &&
		h.CompressedSize64 == 0 && h.UncompressedSize64 == 0 && hasUnixMode(h)
}

// dirHeader returns a clean directory entry's header: stored, empty,
// Unix mode 0755, the time of like when there is one.
func dirHeader(name string, like *zip.FileHeader) *zip.FileHeader {
	h := &zip.FileHeader{Name: name + "/", Method: zip.Store}
	if like != nil {
		h.Modified = like.Modified
		h.ModifiedTime, h.ModifiedDate = like.ModifiedTime, like.ModifiedDate
	}
	h.SetMode(modeDir)
	return h
}

// writeDir writes a clean directory entry for the folder name (no
// trailing slash), like the input's entry when there is one.
func (r *resigner) writeDir(name string, like *entry) error {
	var lh *zip.FileHeader
	if like != nil {
		lh = &like.f.FileHeader
	}
	if _, err := r.zw.CreateHeader(dirHeader(name, lh)); err != nil {
		return fmt.Errorf("writing %s/: %w", name, err)
	}
	return nil
}

// copyEntry copies e's data raw. A directory is written as a clean
// directory entry unless it already is one (zsign stores folders as
// 5-byte deflate streams, which zip.Writer refuses to copy); a file
// without a Unix mode gets 0644, or 0755 for a Mach-O file.
func (r *resigner) copyEntry(e *entry) error {
	hdr := e.f.FileHeader
	if e.dir {
		if cleanDir(&hdr) {
			if _, err := r.zw.CreateRaw(&hdr); err != nil {
				return fmt.Errorf("writing %s: %w", e.name, err)
			}
			return nil
		}
		return r.writeDir(e.name, e)
	}
	if !hasUnixMode(&hdr) {
		mode := fs.FileMode(modeFile)
		if e.isMachO || sniffMachO(e.f) {
			mode = modeExec
		}
		hdr.SetMode(mode)
	}
	w, err := r.zw.CreateRaw(&hdr)
	if err != nil {
		return fmt.Errorf("writing %s: %w", e.name, err)
	}
	if done, err := r.copyData(w, e); done {
		return err
	}
	if e.data >= 0 {
		// Through the writer's window: one read for many small entries.
		if r.win == nil {
			r.win = newWindow(r.a.src, r.a.size)
		}
		for off, n := e.data, int64(e.f.CompressedSize64); n > 0; {
			k := min(n, windowSize)
			b, err := r.win.get(off, k, e.runEnd)
			if err != nil {
				return fmt.Errorf("reading %s: %w", e.name, err)
			}
			if _, err := w.Write(b); err != nil {
				return fmt.Errorf("copying %s: %w", e.name, err)
			}
			off, n = off+k, n-k
		}
		return nil
	}
	rc, err := e.f.OpenRaw()
	if err != nil {
		return fmt.Errorf("reading %s: %w", e.name, err)
	}
	if _, err := io.Copy(w, rc); err != nil {
		return fmt.Errorf("copying %s: %w", e.name, err)
	}
	return nil
}

// sniffMachO reports whether an entry starts with a Mach-O or fat magic
// number (read only for entries without a Unix mode, outside bundles).
func sniffMachO(f *zip.File) bool {
	if f.UncompressedSize64 < 4 {
		return false
	}
	rc, err := f.Open()
	if err != nil {
		return false
	}
	defer rc.Close()
	var head [8]byte
	n, _ := io.ReadFull(rc, head[:])
	return macho.IsMachO(head[:n])
}

// modeFor returns the external attributes and creator version a rewritten
// entry takes from like: like's own when it has a Unix mode, else mode.
func modeFor(like *zip.FileHeader, mode uint32) (creator uint16, attrs uint32) {
	if like != nil && hasUnixMode(like) {
		return like.CreatorVersion, like.ExternalAttrs
	}
	return 3<<8 | 20, mode << 16
}

// kernelCopyMin is the size from which an entry copied raw is copied by
// the kernel: below it, the two flushes it takes cost more than the copy
// through this process.
const kernelCopyMin = 256 << 10

// copyData copies the data of e, whose local header w was just made for,
// from the input file to the output file in the kernel (copy_file_range
// on Linux), without passing it through this process, when both are files
// and e is large; it reports whether it did. The zip writer is fed as
// many zero bytes, which the lane writer leaves out of the file: it counts
// them, and writes the central directory after them. The bytes are those
// the hash pass read (the same range of the same file), so the check of
// the output trusts them as it trusts entries copied through the process.
func (r *resigner) copyData(w io.Writer, e *entry) (bool, error) {
	n := int64(e.f.CompressedSize64)
	if r.srcFile == nil || r.lw == nil || n < kernelCopyMin {
		return false, nil
	}
	off := e.data
	if off < 0 {
		var err error
		if off, err = e.f.DataOffset(); err != nil {
			return false, nil // OpenRaw says what is wrong
		}
	}
	if err := r.flush(); err != nil {
		return true, err
	}
	at := r.lw.pos
	leave := r.gate.enter()
	err := r.at.CopyFrom(at, r.srcFile, off, n)
	leave()
	if err != nil {
		return true, fmt.Errorf("copying %s: %w", e.name, err)
	}
	r.lw.skip(at, n)
	r.kernelCopied += n
	if r.zeros == nil {
		r.zeros = make([]byte, 1<<20)
	}
	if err := writeZeros(w, n, r.zeros); err != nil {
		return true, fmt.Errorf("copying %s: %w", e.name, err)
	}
	return true, nil
}

// writeZeros writes n zero bytes to w, in writes of len(zeros) bytes
// (zeros holds zero bytes): at 1 MiB, they pass through bufio.Writers
// without being copied into their buffers.
func writeZeros(w io.Writer, n int64, zeros []byte) error {
	for n > 0 {
		k := min(n, int64(len(zeros)))
		if _, err := w.Write(zeros[:k]); err != nil {
			return err
		}
		n -= k
	}
	return nil
}
