package main

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/storesign/storesign/signing/ipa"
	"github.com/storesign/storesign/signing/signingtest"
)

// TestIPAInputError: the error line of an IPA that cannot be read, as
// ipa resign, verify, inspect and check print it.
func TestIPAInputError(t *testing.T) {
	dir := t.TempDir()
	good := signingtest.IPA(signingtest.IPAOptions{Minimal: true})
	files := map[string][]byte{
		"empty.ipa":  nil,
		"trunc.ipa":  good[:5000],
		"half.ipa":   good[:len(good)/2],
		"notzip.ipa": []byte("this is not a zip file, only words and more words"),
		"nopayload.ipa": func() []byte {
			var b bytes.Buffer
			zw := zip.NewWriter(&b)
			if _, err := zw.Create("readme.txt"); err != nil {
				t.Fatal(err)
			}
			if err := zw.Close(); err != nil {
				t.Fatal(err)
			}
			return b.Bytes()
		}(),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct{ file, want string }{
		{"empty.ipa", "empty.ipa is empty: download it again"},
		{"trunc.ipa", "trunc.ipa is truncated (a zip cut short): download it again"},
		{"half.ipa", "half.ipa is truncated (a zip cut short): download it again"},
		{"notzip.ipa", "notzip.ipa is not an IPA (not a zip archive): pass a .ipa file"},
		{"nopayload.ipa", "nopayload.ipa: not an iOS app archive (want a zip with Payload/<name>.app): no Payload/*.app folder"},
		{"missing.ipa", "missing.ipa: no such file or directory"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			_, err := ipa.InspectFile(context.Background(), filepath.Join(dir, tc.file), ipa.VerifyOptions{})
			if err == nil {
				t.Fatal("no error")
			}
			got := ipaInputError(tc.file, err)
			if got.Error() != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
			if !errors.Is(got, err) && !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%v does not wrap %v", got, err)
			}
		})
	}
}
