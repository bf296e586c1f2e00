package aab_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/storesign/storesign/signing/aab"
	"github.com/storesign/storesign/signing/signingtest"
)

// TestVerifyVerdict checks the verdict style shared with apk and ipa: a
// bundle that does not verify gives an error wrapping the package's
// sentinel and a non-nil result; one that is not a bundle, a nil result.
func TestVerifyVerdict(t *testing.T) {
	id := signingtest.SelfSigned("verdict", nil)
	bundle := signingtest.Bundle(signingtest.APKOptions{})
	var signed bytes.Buffer
	if _, err := aab.Sign(context.Background(), bytes.NewReader(bundle), int64(len(bundle)), &signed, aab.Options{Identity: id}); err != nil {
		t.Fatal(err)
	}
	tampered := rewrite(t, signed.Bytes())
	tests := []struct {
		name    string
		data    []byte
		want    error
		wantRes bool
	}{
		{"signed", signed.Bytes(), nil, true},
		{"unsigned", bundle, aab.ErrNotSigned, true},
		{"tampered", tampered, aab.ErrInvalidSignature, true},
		{"not-a-bundle", notBundle(t), aab.ErrNotBundle, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := aab.Verify(context.Background(), bytes.NewReader(tc.data), int64(len(tc.data)), aab.VerifyOptions{})
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if (res != nil) != tc.wantRes {
				t.Fatalf("result %v, want one: %v", res, tc.wantRes)
			}
		})
	}
}

// rewrite copies a zip archive with the content of its first entry
// outside META-INF/ changed.
func rewrite(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	changed := false
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if !changed && !strings.HasPrefix(f.Name, "META-INF/") && !strings.HasSuffix(f.Name, "/") {
			data = append(data, '!')
			changed = true
		}
		w, err := zw.Create(f.Name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// notBundle returns a zip archive that is not an app bundle.
func notBundle(t *testing.T) []byte {
	t.Helper()
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	w, err := zw.Create("readme.txt")
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("not a bundle"))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}
