//go:build linux

package atomicfile

import (
	"os"

	"golang.org/x/sys/unix"
)

// copyFileRange copies up to n bytes of src at srcOff to dst at dstOff
// in the kernel, with copy_file_range(2), and returns how many it copied:
// the caller copies the rest, if any, itself (the call is not supported
// by every file system, nor across every pair of them).
func copyFileRange(dst *os.File, dstOff int64, src *os.File, srcOff, n int64) int64 {
	rs, err := src.SyscallConn()
	if err != nil {
		return 0
	}
	rd, err := dst.SyscallConn()
	if err != nil {
		return 0
	}
	var done int64
	rs.Control(func(sfd uintptr) {
		rd.Control(func(dfd uintptr) {
			for done < n {
				in, out := srcOff+done, dstOff+done
				k, err := unix.CopyFileRange(int(sfd), &in, int(dfd), &out, int(min(n-done, 1<<30)), 0)
				if err != nil || k <= 0 {
					return // the caller copies the rest
				}
				done += int64(k)
			}
		})
	})
	return done
}
