package provision_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/storesign/storesign/internal/atomicfile"
	"github.com/storesign/storesign/internal/limits"
	"github.com/storesign/storesign/signing/provision"
	"github.com/storesign/storesign/signing/signingtest"
)

// hostileProfiles are profiles a studio or a damaged download could hand
// over; each must be refused with the error named, at once.
func hostileProfiles(apple *signingtest.Apple) []struct {
	name string
	data []byte
	want error
} {
	deepPlist := []byte(`<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><dict><key>Entitlements</key>` +
		strings.Repeat("<array>", 1<<19) + strings.Repeat("</array>", 1<<19) + `</dict></plist>`)
	deepBER := append(bytes.Repeat([]byte{0x30, 0x80}, 1<<21), bytes.Repeat([]byte{0, 0}, 1<<21)...)
	good := apple.Profile(signingtest.ProfileOptions{})
	return []struct {
		name string
		data []byte
		want error
	}{
		{"larger-than-8MiB", append(bytes.Clone(good), make([]byte, provision.MaxSize)...), limits.ErrExceeded},
		{"cms-nested-4M-deep", deepBER, limits.ErrExceeded},
		{"cms-nested-300-deep-in-a-profile", append(bytes.Repeat([]byte{0x30, 0x80}, 300), append(good, bytes.Repeat([]byte{0, 0}, 300)...)...), limits.ErrExceeded},
		{"plist-nested-512K-deep", apple.SignProfile(deepPlist), limits.ErrExceeded},
		{"plist-binary-cycle", apple.SignProfile([]byte("bplist00\xa1\x00\x08\x0a\x00\x00\x00\x00\x00\x00\x01\x01\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x0a")), provision.ErrNotProfile},
		{"empty", nil, provision.ErrNotProfile},
		{"truncated", good[:len(good)/2], provision.ErrNotProfile},
	}
}

// TestHostileProfiles parses hostile profiles: each fails with its error
// within 2 s and 64 MiB of allocations, and no parser crashes the process
// on deep nesting.
func TestHostileProfiles(t *testing.T) {
	apple := signingtest.NewApple(signingtest.AppleOptions{})
	for _, c := range hostileProfiles(apple) {
		t.Run(c.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			start := time.Now()
			_, err := provision.Parse(c.data)
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v", d)
			}
			runtime.ReadMemStats(&after)
			if n := after.TotalAlloc - before.TotalAlloc; n > 64<<20 {
				t.Errorf("allocated %d MiB", n>>20)
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if !strings.HasPrefix(err.Error(), "provision: ") || strings.Contains(err.Error(), "\n") {
				t.Errorf("message %q is not one line starting with provision: ", err)
			}
		})
	}
}

// TestHostileProfileFiles reads profiles that are not regular files or are
// too large: refused before reading, without blocking.
func TestHostileProfileFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.mobileprovision")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	sparse := filepath.Join(dir, "sparse.mobileprovision")
	os.WriteFile(sparse, nil, 0o600)
	if err := os.Truncate(sparse, 1<<40); err != nil {
		t.Fatal(err)
	}
	var nr *atomicfile.NotRegularError
	for _, c := range []struct {
		name, path string
		check      func(error) bool
	}{
		{"fifo", fifo, func(err error) bool { return errors.As(err, &nr) }},
		{"dev-zero", "/dev/zero", func(err error) bool { return errors.As(err, &nr) }},
		{"folder", dir, func(err error) bool { return errors.As(err, &nr) }},
		{"sparse-1TiB", sparse, func(err error) bool { return errors.Is(err, limits.ErrExceeded) }},
		{"missing", filepath.Join(dir, "missing"), func(err error) bool { return errors.Is(err, os.ErrNotExist) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() {
				_, err := provision.ReadFile(c.path)
				done <- err
			}()
			select {
			case err := <-done:
				if err == nil || !c.check(err) {
					t.Fatalf("err = %v", err)
				}
			case <-time.After(2 * time.Second):
				t.Fatal("ReadFile blocked")
			}
		})
	}
}

// TestMessagesOneLine: strings from a profile or a bundle never break the
// one-line message of an error.
func TestMessagesOneLine(t *testing.T) {
	p := &provision.Profile{Name: "n\nstoresign: forged", UUID: "u\nforged", ApplicationIdentifier: "T.a\nb", ExpirationDate: time.Unix(1, 0)}
	for _, err := range []error{
		p.CheckValid(time.Unix(100, 0)),
		&provision.NoProfileError{BundleID: "com.x\ny", TeamID: "T", Tried: []string{"T.a\nb"}},
		&provision.NoProfileError{BundleID: "com.x\ny"},
	} {
		if err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q", err)
		}
	}
}
