package apk

import "io"

// memReaderAt reads an APK held in memory (a mapping of the output of
// [SignFile]). [Verify] recognizes it and hashes from it directly,
// without copying the data out first.
type memReaderAt struct{ b []byte }

func (m memReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, io.EOF
	}
	if off >= int64(len(m.b)) {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	n := copy(p, m.b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// apkBytes returns the whole APK.
func (m memReaderAt) apkBytes() []byte { return m.b }

// vInMemory is implemented by readers whose bytes Verify may use in
// place.
type vInMemory interface{ apkBytes() []byte }
