// Package atomicfile writes an output file so that it either appears
// complete and checked, or not at all: the bytes go to a 0600 temp file in
// the target's folder, which is renamed over the target only on Commit.
package atomicfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// File is an output being written. Call Commit to publish it, or Abort
// (safe to defer; a no-op after Commit) to remove it.
type File struct {
	*os.File
	target string
	done   bool
}

// Create starts writing target. It fails at once, before any work, when
// the target's folder does not exist or target is the same file as any of
// inputs.
func Create(target string, inputs ...string) (*File, error) {
	dir := filepath.Dir(target)
	fi, err := os.Stat(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("output folder %s does not exist: create it or choose another --out", dir)
		}
		return nil, fmt.Errorf("output folder %s: %w", dir, unwrapPath(err))
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("output folder %s is not a folder", dir)
	}
	if err := CheckDistinct(target, inputs...); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(target)+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("creating output in %s: %w", dir, unwrapPath(err))
	}
	return &File{File: f, target: target}, nil
}

// CheckDistinct fails when target names the same file as one of inputs,
// so that an input is never overwritten by its own output.
func CheckDistinct(target string, inputs ...string) error {
	tAbs, _ := filepath.Abs(target)
	tfi, terr := os.Stat(target)
	for _, in := range inputs {
		iAbs, _ := filepath.Abs(in)
		if tAbs == iAbs {
			return fmt.Errorf("output %s is the input file: choose another --out", target)
		}
		if terr == nil {
			if ifi, err := os.Stat(in); err == nil && os.SameFile(tfi, ifi) {
				return fmt.Errorf("output %s is the input file: choose another --out", target)
			}
		}
	}
	return nil
}

// Commit syncs and closes the temp file and renames it over the target
// with mode 0644.
func (f *File) Commit() error {
	if f.done {
		return errors.New("atomicfile: already committed or aborted")
	}
	if err := f.File.Sync(); err != nil {
		f.Abort()
		return fmt.Errorf("writing %s: %w", f.target, unwrapPath(err))
	}
	if err := f.File.Close(); err != nil {
		f.Abort()
		return fmt.Errorf("writing %s: %w", f.target, unwrapPath(err))
	}
	if err := os.Chmod(f.File.Name(), 0o644); err != nil {
		f.Abort()
		return err
	}
	if err := os.Rename(f.File.Name(), f.target); err != nil {
		f.Abort()
		return fmt.Errorf("writing %s: %w", f.target, unwrapPath(err))
	}
	f.done = true
	return nil
}

// Abort closes and removes the temp file. It is safe to call after Commit.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.File.Close()
	os.Remove(f.File.Name())
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
