package atomicfile

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestCopyWithin copies a range of the temp file to another place in it,
// far beyond and back, as the IPA lane does.
func TestCopyWithin(t *testing.T) {
	f, err := Create(filepath.Join(t.TempDir(), "out.bin"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Abort()
	data := make([]byte, 3<<20+17)
	for i := range data {
		data[i] = byte(i * 31)
	}
	const far = 1 << 34 // sparse
	if _, err := f.WriteAt(data, far); err != nil {
		t.Fatal(err)
	}
	if err := f.CopyWithin(100, far, int64(len(data))); err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(100 + int64(len(data))); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got[100:], data) || !bytes.Equal(got[:100], make([]byte, 100)) {
		t.Error("the copy differs")
	}
}
