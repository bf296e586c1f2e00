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

// TestCopyFrom copies a range of another file into the temp file, as the
// IPA writer copies large entries it keeps as they are.
func TestCopyFrom(t *testing.T) {
	dir := t.TempDir()
	data := make([]byte, 2<<20+5)
	for i := range data {
		data[i] = byte(i * 7)
	}
	in := filepath.Join(dir, "in.bin")
	if err := os.WriteFile(in, data, 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	f, err := Create(filepath.Join(dir, "out.bin"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Abort()
	if _, err := f.WriteAt([]byte("head"), 0); err != nil {
		t.Fatal(err)
	}
	if err := f.CopyFrom(4, src, 3, int64(len(data)-3)); err != nil {
		t.Fatal(err)
	}
	if err := f.CopyFrom(4, src, int64(len(data)), 1); err == nil {
		t.Error("a copy past the end of the source did not fail")
	}
	got, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	if string(got[:4]) != "head" || !bytes.Equal(got[4:], data[3:]) {
		t.Error("the copy differs")
	}
}
