package apk

import (
	"io"
	"os"
	"syscall"
)

// writebackStep is how much output is written before the kernel is asked
// to start writing it to disk.
const writebackStep = 8 << 20

// writeback is the output file of [SignFile]. It asks the kernel to start
// writing each few MiB to disk as soon as they are written
// (sync_file_range), so that the data reaches the disk while the rest is
// signed and the output checked, and the sync before the rename finds
// little left to do.
type writeback struct {
	w          io.Writer
	fd         int
	off, start int64
}

func newWriteback(w io.Writer, f *os.File) io.Writer {
	return &writeback{w: w, fd: int(f.Fd())}
}

func (wb *writeback) Write(p []byte) (int, error) {
	n, err := wb.w.Write(p)
	wb.off += int64(n)
	if wb.off-wb.start >= writebackStep {
		// Only a hint: an error here shows again in the final sync.
		_ = syscall.SyncFileRange(wb.fd, wb.start, wb.off-wb.start, 0x2 /* SYNC_FILE_RANGE_WRITE */)
		wb.start = wb.off
	}
	return n, err
}
