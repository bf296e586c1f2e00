package aab

import (
	"bufio"
	"io"
	"os"

	"github.com/storesign/storesign/internal/atomicfile"
)

// output is where Sign writes the signed bundle: bytes it makes (headers,
// the signature files, the central directory) and ranges of the source
// copied unchanged (the entries).
type output interface {
	io.Writer
	// CopyFrom appends n bytes of the source at off.
	CopyFrom(off, n int64) error
	// Flush writes what is buffered.
	Flush() error
}

// streamOutput writes to any io.Writer through a 256 KiB buffer; copied
// ranges are read from the source straight into that buffer.
type streamOutput struct {
	*bufio.Writer
	src io.ReaderAt
}

func newStreamOutput(src io.ReaderAt, dst io.Writer) *streamOutput {
	return &streamOutput{Writer: bufio.NewWriterSize(dst, 256<<10), src: src}
}

func (s *streamOutput) CopyFrom(off, n int64) error {
	k, err := s.Writer.ReadFrom(io.NewSectionReader(s.src, off, n))
	if err == nil && k != n {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// fileOutput writes a file from a source file: copied ranges are copied
// by the kernel (copy_file_range on Linux) without passing through this
// process, consecutive ones in one call; made bytes are buffered and
// written at their offset. Every writebackStep bytes, writeback (when not
// nil) is asked to start writing what was written to disk.
type fileOutput struct {
	src, dst  *os.File
	off       int64  // where the next byte goes in dst
	buf       []byte // made bytes not yet written, for dst at off
	runOff    int64  // pending copy: n bytes of src at runOff, for dst at off
	runN      int64
	written   int64 // bytes written since the last writeback request
	writeback func(off, n int64)
}

const writebackStep = 8 << 20

func newFileOutput(src, dst *os.File, writeback func(off, n int64)) *fileOutput {
	return &fileOutput{src: src, dst: dst, buf: make([]byte, 0, 256<<10), writeback: writeback}
}

func (f *fileOutput) Write(p []byte) (int, error) {
	if err := f.flushRun(); err != nil {
		return 0, err
	}
	if len(f.buf)+len(p) > cap(f.buf) {
		if err := f.flushBuf(); err != nil {
			return 0, err
		}
		if len(p) > cap(f.buf) {
			if _, err := f.dst.WriteAt(p, f.off); err != nil {
				return 0, err
			}
			f.advance(int64(len(p)))
			return len(p), nil
		}
	}
	f.buf = append(f.buf, p...)
	return len(p), nil
}

func (f *fileOutput) CopyFrom(off, n int64) error {
	if err := f.flushBuf(); err != nil {
		return err
	}
	if f.runN > 0 && f.runOff+f.runN == off {
		f.runN += n
		return nil
	}
	if err := f.flushRun(); err != nil {
		return err
	}
	f.runOff, f.runN = off, n
	return nil
}

func (f *fileOutput) Flush() error {
	if err := f.flushBuf(); err != nil {
		return err
	}
	return f.flushRun()
}

func (f *fileOutput) flushBuf() error {
	if len(f.buf) == 0 {
		return nil
	}
	if _, err := f.dst.WriteAt(f.buf, f.off); err != nil {
		return err
	}
	f.advance(int64(len(f.buf)))
	f.buf = f.buf[:0]
	return nil
}

// flushRun copies the pending range. (Copies into one file do not go
// faster on more threads: the file system serializes its writes.)
func (f *fileOutput) flushRun() error {
	if f.runN == 0 {
		return nil
	}
	src, n := f.runOff, f.runN
	f.runN = 0
	if err := f.copyRange(f.off, src, n); err != nil {
		return err
	}
	f.advance(n)
	return nil
}

// copyRange copies n bytes of the source at src to dst at off.
func (f *fileOutput) copyRange(off, src, n int64) error {
	return atomicfile.CopyRange(f.dst, off, f.src, src, n)
}

func (f *fileOutput) advance(n int64) {
	f.off += n
	f.written += n
	if f.written >= writebackStep && f.writeback != nil {
		f.writeback(f.off-f.written, f.written)
		f.written = 0
	}
}
