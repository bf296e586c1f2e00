package apk

import (
	"os"
	"syscall"
)

// mapFile maps the first size bytes of f read-only. It is used only on
// files storesign itself wrote and nobody else changes (the signed output
// before its rename), where a mapping cannot shrink under the reader.
func mapFile(f *os.File, size int64) ([]byte, func(), error) {
	if size <= 0 || int64(int(size)) != size {
		return nil, nil, syscall.EINVAL
	}
	b, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, nil, err
	}
	return b, func() { syscall.Munmap(b) }, nil
}
