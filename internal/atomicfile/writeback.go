package atomicfile

import "io"

// writebackStep is how much output is written before the kernel is asked
// to start writing it to disk.
const writebackStep = 8 << 20

// Writeback returns a writer to f, at its current offset, that asks the
// kernel to start writing each few MiB to disk as soon as it is written
// (see StartWriteback).
func (f *File) Writeback() io.Writer {
	return &writeback{f: f}
}

type writeback struct {
	f          *File
	off, start int64
}

func (w *writeback) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.off += int64(n)
	if w.off-w.start >= writebackStep {
		w.f.StartWriteback(w.start, w.off-w.start)
		w.start = w.off
	}
	return n, err
}

// WritebackAt returns a writer to f from offset off, through WriteAt,
// that starts the writeback as Writeback does. Several may write
// different parts of f at once.
func (f *File) WritebackAt(off int64) io.Writer {
	return &writebackAt{f: f, off: off, start: off}
}

type writebackAt struct {
	f          *File
	off, start int64
}

func (w *writebackAt) Write(p []byte) (int, error) {
	n, err := w.f.WriteAt(p, w.off)
	w.off += int64(n)
	if w.off-w.start >= writebackStep {
		w.f.StartWriteback(w.start, w.off-w.start)
		w.start = w.off
	}
	return n, err
}
