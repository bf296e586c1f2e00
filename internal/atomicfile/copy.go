package atomicfile

import "io"

// CopyWithin copies n bytes of the temp file from offset src to offset
// dst (the ranges must not overlap): in the kernel where it can
// (copy_file_range on Linux), else through a 1 MiB buffer.
func (f *File) CopyWithin(dst, src, n int64) error {
	if n <= 0 {
		return nil
	}
	done, err := copyRange(f, dst, src, n)
	if err != nil || done == n {
		return err
	}
	dst, src, n = dst+done, src+done, n-done
	buf := make([]byte, min(n, 1<<20))
	for n > 0 {
		k := min(n, int64(len(buf)))
		if _, err := f.ReadAt(buf[:k], src); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		if _, err := f.WriteAt(buf[:k], dst); err != nil {
			return err
		}
		dst, src, n = dst+k, src+k, n-k
	}
	return nil
}
