package atomicfile

import (
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
