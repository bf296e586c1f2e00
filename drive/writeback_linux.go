//go:build linux && (amd64 || arm64)

package drive

import (
	"os"
	"syscall"
)

// startWriteback asks the kernel to start writing [off, off+n) of f to
// disk without waiting for it (sync_file_range SYNC_FILE_RANGE_WRITE).
// It is advice: errors are ignored, and a later fsync still decides.
func startWriteback(f *os.File, off, n int64) {
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	const syncFileRangeWrite = 0x2
	rc.Control(func(fd uintptr) {
		syscall.SyncFileRange(int(fd), off, n, syncFileRangeWrite)
	})
}
