package apk

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// directIO lets the pipeline copy raw input ranges to the output inside
// the kernel (copy_file_range) and hash them straight from a read-only
// memory map of the input, when both are regular files: no copy through
// user space, and no read system calls.
type directIO struct {
	data  []byte // the input, memory-mapped
	in    int    // input file descriptor
	out   int    // output file descriptor
	nocfr bool   // copy_file_range failed: fall back to write
}

// fdFile is an open file: *os.File, or a type embedding one such as
// atomicfile.File.
type fdFile interface {
	Fd() uintptr
	Stat() (os.FileInfo, error)
}

// fileOf returns the file behind v, if it is one.
func fileOf(v any) fdFile {
	f, _ := v.(fdFile)
	return f
}

// newDirectIO maps src and returns the direct I/O helper and a function
// that releases it, or nil when src or dst is not a regular file.
func newDirectIO(dst io.Writer, src io.ReaderAt, size int64) (*directIO, func()) {
	in, out := fileOf(src), fileOf(dst)
	if in == nil || out == nil || size <= 0 || int64(int(size)) != size {
		return nil, func() {}
	}
	for _, f := range []fdFile{in, out} {
		if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
			return nil, func() {}
		}
	}
	data, err := unix.Mmap(int(in.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, func() {}
	}
	return &directIO{data: data, in: int(in.Fd()), out: int(out.Fd())}, func() { unix.Munmap(data) }
}

// copy copies n bytes of the input at off to the output's current
// offset.
func (d *directIO) copy(off, n int64) error {
	for n > 0 && !d.nocfr {
		k, err := unix.CopyFileRange(d.in, &off, d.out, nil, int(min(n, 1<<30)), 0)
		if err != nil {
			if errors.Is(err, syscall.EINTR) {
				continue
			}
			if errors.Is(err, syscall.ENOSYS) || errors.Is(err, syscall.EXDEV) || errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.EOPNOTSUPP) || errors.Is(err, syscall.EBADF) {
				d.nocfr = true
				break
			}
			return fmt.Errorf("copying input to output: %w", err)
		}
		if k == 0 {
			return fmt.Errorf("%w: the input ended early (was it changed while signing?)", ErrMalformed)
		}
		n -= int64(k)
	}
	for n > 0 {
		k, err := unix.Write(d.out, d.data[off:off+n])
		if err != nil {
			if errors.Is(err, syscall.EINTR) {
				continue
			}
			return fmt.Errorf("writing output: %w", err)
		}
		off += int64(k)
		n -= int64(k)
	}
	return nil
}

// mapForReading returns a reader of f's first size bytes served from a
// memory map (no read system calls), and a function releasing it; it
// falls back to f itself.
func mapForReading(f *os.File, size int64) (io.ReaderAt, func()) {
	if size <= 0 || int64(int(size)) != size {
		return f, func() {}
	}
	data, err := unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return f, func() {}
	}
	return bytes.NewReader(data), func() { unix.Munmap(data) }
}
