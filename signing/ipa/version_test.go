package ipa

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/storesign/storesign/signing/signingtest"
)

func TestValidVersions(t *testing.T) {
	for _, c := range []struct {
		v            string
		short, build bool
	}{
		{"42", true, true},
		{"1.4.2", true, true},
		{"0", true, true},
		{"1.0", true, true},
		{"007.01", true, true},
		{"2024011512", false, true}, // a build number of ten digits; no version has one
		{"", false, false},
		{"abc", false, false},
		{"1.2.3.4", false, false},
		{"1.2.3.4.5", false, false},
		{" 42", false, false},
		{"42 ", false, false},
		{"1..2", false, false},
		{".1", false, false},
		{"1.", false, false},
		{"-1", false, false},
		{"+1", false, false},
		{"1.2b", false, false},
		{"١٢", false, false}, // Arabic-Indic digits
	} {
		if got := ValidShortVersion(c.v); got != c.short {
			t.Errorf("ValidShortVersion(%q) = %v, want %v", c.v, got, c.short)
		}
		if got := ValidBundleVersion(c.v); got != c.build {
			t.Errorf("ValidBundleVersion(%q) = %v, want %v", c.v, got, c.build)
		}
	}
}

// TestResignRefusesVersions: a ShortVersion or BundleVersion App Store
// Connect would refuse is refused before anything is read or written.
func TestResignRefusesVersions(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "in.ipa")
	data := signingtest.IPA(signingtest.IPAOptions{})
	if err := os.WriteFile(in, data, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		short, build string
		key          string
	}{
		{"", "abc", "CFBundleVersion"},
		{"", "1.2.3.4", "CFBundleVersion"},
		{"", " 42", "CFBundleVersion"},
		{"1.2.3.4.5", "", "CFBundleShortVersionString"},
		{"2.0 beta", "42", "CFBundleShortVersionString"},
	} {
		opts := f.opts()
		opts.ShortVersion, opts.BundleVersion = c.short, c.build
		var out bytes.Buffer
		_, err := Resign(context.Background(), bytes.NewReader(data), int64(len(data)), &out, opts)
		var ve *VersionError
		if !errors.As(err, &ve) || ve.Key != c.key {
			t.Errorf("Resign(ShortVersion %q, BundleVersion %q): err = %v, want a VersionError for %s", c.short, c.build, err, c.key)
		}
		if out.Len() != 0 {
			t.Errorf("Resign(ShortVersion %q, BundleVersion %q) wrote %d bytes", c.short, c.build, out.Len())
		}
		outPath := filepath.Join(dir, "out.ipa")
		if _, err := ResignFile(context.Background(), in, outPath, opts); !errors.As(err, &ve) {
			t.Errorf("ResignFile(ShortVersion %q, BundleVersion %q): err = %v, want a VersionError", c.short, c.build, err)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 1 {
			t.Errorf("ResignFile(ShortVersion %q, BundleVersion %q) left %d files, want only the input", c.short, c.build, len(entries)-1)
		}
	}
	err := (&VersionError{Key: "CFBundleVersion", Value: "abc"}).Error()
	if want := `ipa: CFBundleVersion "abc" is not a build number App Store Connect takes (ITMS-90058): give one to three numbers with dots, such as 42 or 1.4.2`; err != want {
		t.Errorf("Error() = %q, want %q", err, want)
	}

	// Valid versions are set.
	opts := f.opts()
	opts.ShortVersion, opts.BundleVersion = "2.0.1", "2024011512"
	_, rep := resign(t, data, opts)
	if rep.Version != "2.0.1" || rep.Build != "2024011512" {
		t.Errorf("version %q build %q, want 2.0.1 (2024011512)", rep.Version, rep.Build)
	}
}
