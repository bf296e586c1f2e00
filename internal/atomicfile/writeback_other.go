//go:build !linux || arm

package atomicfile

// StartWriteback does nothing: the early writeback hint is Linux's.
func (f *File) StartWriteback(off, n int64) {}
