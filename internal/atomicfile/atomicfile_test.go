package atomicfile

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCommitAndAbort(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "out.bin")
	f, err := Create(target)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("hello")
	if _, err := os.Stat(target); !os.IsNotExist(err) {
		t.Fatal("target exists before Commit")
	}
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	f.Abort()
	if b, _ := os.ReadFile(target); string(b) != "hello" {
		t.Fatalf("target = %q", b)
	}

	g, err := Create(filepath.Join(dir, "other.bin"))
	if err != nil {
		t.Fatal(err)
	}
	g.WriteString("half")
	g.Abort()
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("left behind: %v", entries)
	}
}

func TestCreateErrors(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.apk")
	os.WriteFile(in, []byte("x"), 0o644)
	if _, err := Create(in, in); err == nil || !strings.Contains(err.Error(), "is the input file") {
		t.Fatalf("same file: %v", err)
	}
	if _, err := Create(filepath.Join(dir, "nope", "out.apk")); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("missing folder: %v", err)
	}
}

// The writeback writer writes what it is given; the writeback it starts
// is only advice.
func TestWriteback(t *testing.T) {
	target := filepath.Join(t.TempDir(), "out")
	f, err := Create(target)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Abort()
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<20) // 16 MiB: starts writeback
	if _, err := f.Writeback().Write(big); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("tail"), int64(len(big))); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("HEAD"), 4); err != nil {
		t.Fatal(err)
	}
	f.StartWriteback(0, 1<<30)
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(target)
	if err != nil {
		t.Fatal(err)
	}
	want := append(append([]byte(nil), big...), "tail"...)
	copy(want[4:], "HEAD")
	if !bytes.Equal(got, want) {
		t.Fatal("the file does not hold what was written")
	}
}

func TestOpenInput(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "in.apk")
	if err := os.WriteFile(name, []byte("12345"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, size, err := OpenInput(name, "an APK")
	if err != nil || size != 5 {
		t.Fatalf("OpenInput = %d, %v", size, err)
	}
	f.Close()
	if _, _, err := OpenInput(dir, "an APK"); err == nil || err.Error() != dir+" is a folder, not an APK: pass the file itself" {
		t.Errorf("folder: %v", err)
	}
	var pe *os.PathError
	if _, _, err := OpenInput(filepath.Join(dir, "missing.apk"), "an APK"); !errors.As(err, &pe) {
		t.Errorf("missing file: %v, want the os package's error", err)
	}
}
