package atomicfile

import (
	"io"
	"os"
)

// CopyWithin copies n bytes of the temp file from offset src to offset
// dst (the ranges must not overlap): in the kernel where it can
// (copy_file_range on Linux), else through a 1 MiB buffer.
func (f *File) CopyWithin(dst, src, n int64) error {
	return CopyRange(f.File, dst, f.File, src, n)
}

// CopyFrom copies n bytes of src from offset srcOff into the temp file
// at offset dst, as [CopyRange] does.
func (f *File) CopyFrom(dst int64, src *os.File, srcOff, n int64) error {
	return CopyRange(f.File, dst, src, srcOff, n)
}

// CopyRange copies n bytes of src from offset srcOff to dst at offset
// dstOff: in the kernel where it can (copy_file_range on Linux), without
// passing through this process, else through a 1 MiB buffer. When src
// and dst are the same file, the ranges must not overlap.
func CopyRange(dst *os.File, dstOff int64, src *os.File, srcOff, n int64) error {
	if n <= 0 {
		return nil
	}
	done := copyFileRange(dst, dstOff, src, srcOff, n)
	if done == n {
		return nil
	}
	dstOff, srcOff, n = dstOff+done, srcOff+done, n-done
	buf := make([]byte, min(n, 1<<20))
	for n > 0 {
		k := min(n, int64(len(buf)))
		if _, err := src.ReadAt(buf[:k], srcOff); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		if _, err := dst.WriteAt(buf[:k], dstOff); err != nil {
			return err
		}
		dstOff, srcOff, n = dstOff+k, srcOff+k, n-k
	}
	return nil
}
