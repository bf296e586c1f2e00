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
