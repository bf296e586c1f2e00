package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func tracked(name string) bool {
	temps.mu.Lock()
	defer temps.mu.Unlock()
	return temps.names[name]
}

// TestTempsTracked checks that a temp file is tracked from Create until
// Commit or Abort.
func TestTempsTracked(t *testing.T) {
	dir := t.TempDir()
	for _, commit := range []bool{false, true} {
		f, err := Create(filepath.Join(dir, "out.bin"))
		if err != nil {
			t.Fatal(err)
		}
		tmp := f.File.Name()
		if !tracked(tmp) {
			t.Fatalf("%s not tracked after Create", tmp)
		}
		if commit {
			if err := f.Commit(); err != nil {
				t.Fatal(err)
			}
		} else {
			f.Abort()
		}
		if tracked(tmp) {
			t.Errorf("commit=%v: %s still tracked", commit, tmp)
		}
	}
}

// TestRemoveTemps checks that removeAll removes the live temp files and
// that nothing is created or published after it.
func TestRemoveTemps(t *testing.T) {
	dir := t.TempDir()
	s := &tempSet{names: map[string]bool{}}
	var names []string
	for _, n := range []string{"a", "b"} {
		name := filepath.Join(dir, "."+n+".1.tmp")
		if err := os.WriteFile(name, []byte(n), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := s.track(name); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	if got := s.removeAll(); got != 2 {
		t.Errorf("removed %d, want 2", got)
	}
	for _, name := range names {
		if _, err := os.Stat(name); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s not removed: %v", name, err)
		}
	}
	if err := s.track(filepath.Join(dir, "c")); !errors.Is(err, ErrStopped) {
		t.Errorf("track after removeAll: %v, want ErrStopped", err)
	}
	renamed := false
	err := s.publish(names[0], filepath.Join(dir, "a"), func(string, string) error { renamed = true; return nil })
	if !errors.Is(err, ErrStopped) || renamed {
		t.Errorf("publish after removeAll: %v (renamed %v), want ErrStopped and no rename", err, renamed)
	}
}
