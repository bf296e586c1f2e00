package drive

import (
	"os"
	"strconv"
)

// reopen opens f's file again through /proc/self/fd, for a file offset of
// its own (a dup would share f's). It returns nil when that fails or
// yields another file.
func reopen(f *os.File) *os.File {
	rc, err := f.SyscallConn()
	if err != nil {
		return nil
	}
	var name string
	if rc.Control(func(fd uintptr) { name = "/proc/self/fd/" + strconv.FormatUint(uint64(fd), 10) }) != nil {
		return nil
	}
	g, err := os.Open(name)
	if err != nil {
		return nil
	}
	a, err1 := f.Stat()
	b, err2 := g.Stat()
	if err1 != nil || err2 != nil || !b.Mode().IsRegular() || !os.SameFile(a, b) {
		g.Close()
		return nil
	}
	return g
}
