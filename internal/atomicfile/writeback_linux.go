//go:build linux && !arm

package atomicfile

import "syscall"

// StartWriteback asks the kernel to start writing [off, off+n) of the
// temp file to disk without waiting (sync_file_range with
// SYNC_FILE_RANGE_WRITE): the data then reaches the disk while the rest is
// written and checked, and the sync in Commit finds little left to do. It
// is advice: errors are ignored, and Commit's sync decides.
func (f *File) StartWriteback(off, n int64) {
	rc, err := f.File.SyscallConn()
	if err != nil {
		return
	}
	const syncFileRangeWrite = 0x2
	rc.Control(func(fd uintptr) {
		_ = syscall.SyncFileRange(int(fd), off, n, syncFileRangeWrite)
	})
}
