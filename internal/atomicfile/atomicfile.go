// Package atomicfile writes an output file so that it either appears
// complete and checked, or not at all: the bytes go to a 0600 temp file in
// the target's folder, which is renamed over the target only on Commit.
// [CommitAll] publishes outputs that belong together (an APK and its
// .idsig) all or nothing, and never loses the previous ones on failure.
//
// It also opens inputs: [OpenInput] for the archives the *File functions
// read, [ReadInput] for small files read whole (keystores, keys, profiles,
// entitlements, passwords) with a size cap. Both refuse anything but a
// regular file (a folder, a FIFO, a device) with a *[NotRegularError],
// without blocking in open.
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
	// rename is os.Rename; tests replace it to fail a commit half way.
	rename func(oldpath, newpath string) error
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
	if err := checkTarget(target); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(target)+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("creating output in %s: %w", dir, unwrapPath(err))
	}
	if err := temps.track(f.Name()); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
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
// with mode 0644. On failure the temp file is removed and the target is
// left as it was.
func (f *File) Commit() error {
	return CommitAll(f)
}

// CommitAll publishes several outputs that belong together (an APK and its
// .idsig) all or nothing: every target is checked and every temp file
// synced before the first rename, and when a rename fails the targets
// already replaced get their previous content back (or are removed when
// there was none). Either every target holds its new content, or every
// target is as it was before and every temp file is removed.
func CommitAll(files ...*File) error {
	for _, f := range files {
		if f.done {
			abortAll(files)
			return errors.New("atomicfile: already committed or aborted")
		}
	}
	for _, f := range files {
		if err := f.finish(); err != nil {
			abortAll(files)
			return err
		}
	}
	for _, f := range files {
		if err := checkTarget(f.target); err != nil {
			abortAll(files)
			return err
		}
	}
	// Keep each previous target under a backup name (a hard link, so
	// that the target never disappears), replace it, and drop the backups
	// only when all are in place.
	backups := make([]string, len(files))
	restore := func(n int) {
		for i := n - 1; i >= 0; i-- {
			if backups[i] != "" {
				os.Rename(backups[i], files[i].target)
				// Renaming a link over the same file does nothing.
				os.Remove(backups[i])
			} else {
				os.Remove(files[i].target)
			}
		}
	}
	for i, f := range files {
		b, err := backup(f.target)
		if err != nil {
			restore(i)
			abortAll(files)
			return err
		}
		backups[i] = b
		rename := f.rename
		if rename == nil {
			rename = os.Rename
		}
		if err := temps.publish(f.File.Name(), f.target, rename); err != nil {
			restore(i + 1)
			abortAll(files)
			return fmt.Errorf("writing %s: %w", f.target, unwrapPath(err))
		}
		f.done = true
	}
	for _, b := range backups {
		if b != "" {
			os.Remove(b)
		}
	}
	return nil
}

// finish syncs, closes and chmods the temp file.
func (f *File) finish() error {
	if err := f.File.Sync(); err != nil {
		return fmt.Errorf("writing %s: %w", f.target, unwrapPath(err))
	}
	if err := f.File.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", f.target, unwrapPath(err))
	}
	if err := os.Chmod(f.File.Name(), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", f.target, unwrapPath(err))
	}
	return nil
}

// backup links an existing target to a fresh name beside it and returns
// that name; "" when there is no target. Where hard links are not
// possible the target is renamed instead.
func backup(target string) (string, error) {
	if _, err := os.Lstat(target); errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	dir := filepath.Dir(target)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(target)+".*.old")
	if err != nil {
		return "", fmt.Errorf("writing %s: %w", target, unwrapPath(err))
	}
	name := tmp.Name()
	tmp.Close()
	os.Remove(name)
	if err := os.Link(target, name); err == nil {
		return name, nil
	}
	if err := os.Rename(target, name); err != nil {
		return "", fmt.Errorf("writing %s: %w", target, unwrapPath(err))
	}
	return name, nil
}

// checkTarget refuses a target that exists and is not a regular file (or a
// symbolic link, which the rename replaces): renaming over a folder fails
// only after all the work, and over a device it would replace the device.
func checkTarget(target string) error {
	fi, err := os.Lstat(target)
	if err != nil || fi.Mode().IsRegular() || fi.Mode()&os.ModeSymlink != 0 {
		return nil
	}
	if fi.IsDir() {
		return fmt.Errorf("output %s is a folder: remove it or choose another --out", target)
	}
	return fmt.Errorf("output %s exists and is not a regular file: remove it or choose another --out", target)
}

func abortAll(files []*File) {
	for _, f := range files {
		f.Abort()
	}
}

// Abort closes and removes the temp file. It is safe to call after Commit.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.File.Close()
	os.Remove(f.File.Name())
	temps.untrack(f.File.Name())
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
