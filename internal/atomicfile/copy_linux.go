//go:build linux

package atomicfile

import "golang.org/x/sys/unix"

// copyRange copies with copy_file_range(2) and returns how many bytes it
// copied; the caller copies the rest, if any (the call is not supported
// everywhere).
func copyRange(f *File, dst, src, n int64) (int64, error) {
	rc, err := f.File.SyscallConn()
	if err != nil {
		return 0, nil
	}
	var done int64
	rc.Control(func(fd uintptr) {
		for done < n {
			in, out := src+done, dst+done
			k, err := unix.CopyFileRange(int(fd), &in, int(fd), &out, int(n-done), 0)
			if err != nil || k <= 0 {
				return // fall back to the buffer for the rest
			}
			done += int64(k)
		}
	})
	return done, nil
}
