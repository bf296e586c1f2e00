//go:build linux

package aab

import (
	"os"

	"golang.org/x/sys/unix"
)

// copyFileRange copies n bytes of src at srcOff to dst at dstOff with
// copy_file_range(2), and returns how many it copied: the caller copies
// the rest, if any (the call is not supported everywhere).
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
					return
				}
				done += int64(k)
			}
		})
	})
	return done
}
