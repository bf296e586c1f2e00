//go:build !linux

package apk

import (
	"io"
	"os"
)

// directIO is Linux-only; elsewhere the pipeline reads and writes.
type directIO struct {
	data []byte
}

func newDirectIO(io.Writer, io.ReaderAt, int64) (*directIO, func()) { return nil, func() {} }

func (d *directIO) copy(off, n int64) error { panic("apk: internal error: no direct I/O") }

func mapForReading(f *os.File, size int64) (io.ReaderAt, func()) { return f, func() {} }
