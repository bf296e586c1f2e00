package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/storesign/storesign/internal/limits"
)

// TestHostileInputs opens and reads inputs that are not regular files, or
// are too large, and expects a typed error at once: never a block in open
// (FIFO), never a read without end (/dev/zero).
func TestHostileInputs(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.p12")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	sparse := filepath.Join(dir, "sparse.p12")
	if err := os.WriteFile(sparse, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(sparse, 1<<40); err != nil { // 1 TiB, no blocks
		t.Fatal(err)
	}
	small := filepath.Join(dir, "ok.p12")
	if err := os.WriteFile(small, []byte("0123456789"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.p12")
	if err := os.Symlink("/dev/zero", link); err != nil {
		t.Fatal(err)
	}
	notRegular := func(kind string) func(*testing.T, error) {
		return func(t *testing.T, err error) {
			var nr *NotRegularError
			if !errors.As(err, &nr) || nr.Kind != kind {
				t.Fatalf("err = %v, want a NotRegularError for %s", err, kind)
			}
		}
	}
	tooBig := func(t *testing.T, err error) {
		var le *limits.Error
		if !errors.As(err, &le) || le.Limit != 8 {
			t.Fatalf("err = %v, want a limits.Error with limit 8", err)
		}
	}
	for _, c := range []struct {
		name, path string
		check      func(*testing.T, error)
	}{
		{"fifo", fifo, notRegular("a named pipe (FIFO)")},
		{"dev-zero", "/dev/zero", notRegular("a character device")},
		{"dev-null", "/dev/null", notRegular("a character device")},
		{"symlink-to-device", link, notRegular("a character device")},
		{"folder", dir, notRegular("a folder")},
		{"sparse-1TiB", sparse, tooBig},
		{"larger-than-cap", small, tooBig},
	} {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			done := make(chan error, 1)
			go func() {
				_, err := ReadInput(c.path, "a keystore", 8)
				done <- err
			}()
			select {
			case err := <-done:
				c.check(t, err)
				if !strings.Contains(err.Error(), c.path) {
					t.Errorf("the message does not name the file: %v", err)
				}
			case <-time.After(2 * time.Second):
				t.Fatal("ReadInput blocked")
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
	if b, err := ReadInput(small, "a keystore", 10); err != nil || string(b) != "0123456789" {
		t.Errorf("ReadInput at the cap = %q, %v", b, err)
	}
}

func writeFile(t *testing.T, name, data string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		return "<" + err.Error() + ">"
	}
	return string(b)
}

// TestCommitAll checks that two outputs appear together or not at all and
// that a failure leaves the previous outputs as they were.
func TestCommitAll(t *testing.T) {
	t.Run("both", func(t *testing.T) {
		dir := t.TempDir()
		a, b := filepath.Join(dir, "out.apk"), filepath.Join(dir, "out.apk.idsig")
		writeFile(t, a, "old apk")
		fa, _ := Create(a)
		fb, _ := Create(b)
		fa.WriteString("new apk")
		fb.WriteString("new idsig")
		if err := CommitAll(fa, fb); err != nil {
			t.Fatal(err)
		}
		if readFile(t, a) != "new apk" || readFile(t, b) != "new idsig" {
			t.Fatalf("got %q, %q", readFile(t, a), readFile(t, b))
		}
		assertOnly(t, dir, "out.apk", "out.apk.idsig")
	})
	t.Run("second-is-a-folder-at-create", func(t *testing.T) {
		dir := t.TempDir()
		a, b := filepath.Join(dir, "out.apk"), filepath.Join(dir, "out.apk.idsig")
		os.Mkdir(b, 0o755)
		if _, err := Create(b); err == nil || !strings.Contains(err.Error(), "is a folder") {
			t.Fatalf("Create over a folder: %v", err)
		}
		_ = a
	})
	t.Run("second-becomes-a-folder", func(t *testing.T) {
		dir := t.TempDir()
		a, b := filepath.Join(dir, "out.apk"), filepath.Join(dir, "out.apk.idsig")
		writeFile(t, a, "old apk")
		fa, _ := Create(a)
		fb, _ := Create(b)
		fa.WriteString("new apk")
		fb.WriteString("new idsig")
		os.Mkdir(b, 0o755)
		os.WriteFile(filepath.Join(b, "x"), nil, 0o644)
		err := CommitAll(fa, fb)
		if err == nil || !strings.Contains(err.Error(), "is a folder") {
			t.Fatalf("CommitAll: %v", err)
		}
		if readFile(t, a) != "old apk" {
			t.Fatalf("previous output lost: %q", readFile(t, a))
		}
		assertOnly(t, dir, "out.apk", "out.apk.idsig")
	})
	for _, old := range []bool{true, false} {
		name := "rename-fails-no-previous"
		if old {
			name = "rename-fails-with-previous"
		}
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			a, b := filepath.Join(dir, "out.apk"), filepath.Join(dir, "out.apk.idsig")
			want := []string{}
			if old {
				writeFile(t, a, "old apk")
				writeFile(t, b, "old idsig")
				want = []string{"out.apk", "out.apk.idsig"}
			}
			fa, _ := Create(a)
			fb, _ := Create(b)
			fa.WriteString("new apk")
			fb.WriteString("new idsig")
			fb.rename = func(string, string) error { return syscall.ENOSPC }
			if err := CommitAll(fa, fb); !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("CommitAll: %v", err)
			}
			if old && (readFile(t, a) != "old apk" || readFile(t, b) != "old idsig") {
				t.Fatalf("previous outputs not restored: %q, %q", readFile(t, a), readFile(t, b))
			}
			assertOnly(t, dir, want...)
		})
	}
}

// assertOnly fails unless dir holds exactly names: no temp file or backup
// left behind.
func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Errorf("folder holds %v, want %v", got, names)
	}
}
