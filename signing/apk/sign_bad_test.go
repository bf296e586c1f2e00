package apk_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/elliptic"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/storesign/storesign/internal/zipx"
	"github.com/storesign/storesign/signing"
	"github.com/storesign/storesign/signing/apk"
	"github.com/storesign/storesign/signing/signingtest"
)

// corrupt returns a damaged copy of b.
func corrupt(b []byte, f func([]byte) []byte) []byte { return f(bytes.Clone(b)) }

// zipOf returns a zip of small deflated entries (names may repeat).
func zipOf(t testing.TB, names ...string) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range names {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, "content of "+n)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestSignBadInput feeds Sign inputs it must refuse, with the error
// callers branch on.
func TestSignBadInput(t *testing.T) {
	good := signingtest.APK(signingtest.APKOptions{})
	eocd := bytes.LastIndex(good, []byte("PK\x05\x06"))
	cdOff := int(binary.LittleEndian.Uint32(good[eocd+16:]))
	tests := []struct {
		name  string
		data  []byte
		want  error
		check func(error) bool
	}{
		{name: "empty", data: nil, check: func(err error) bool { return errors.Is(err, apk.ErrNotZip) && errors.Is(err, zipx.ErrEmpty) }},
		{name: "text", data: []byte("this is not a zip file, only words and more words"), want: apk.ErrNotZip},
		// Cut short, as a download that stopped early: damaged, not the
		// wrong kind of file.
		{name: "first half", data: good[:len(good)/2], check: func(err error) bool {
			return errors.Is(err, apk.ErrMalformed) && errors.Is(err, zipx.ErrCutShort) && !errors.Is(err, apk.ErrNotZip)
		}},
		{name: "first 5000 bytes", data: good[:5000], check: func(err error) bool { return errors.Is(err, zipx.ErrCutShort) }},
		{name: "entries cut out", data: corrupt(good, func(b []byte) []byte { return append(b[:100], b[cdOff-100:]...) }), want: apk.ErrMalformed},
		{name: "local header overwritten", data: corrupt(good, func(b []byte) []byte { copy(b, "XXXX"); return b }), want: apk.ErrMalformed},
		{name: "deflated data damaged", data: corrupt(good, func(b []byte) []byte {
			i := bytes.Index(b, []byte("classes.dex")) + 60
			for j := range 200 {
				b[i+j] ^= 0x5a
			}
			return b
		}), want: apk.ErrMalformed},
		{name: "duplicate entries", data: zipOf(t, "AndroidManifest.xml", "classes.dex", "classes.dex"), check: func(err error) bool {
			var dup *apk.DuplicateEntryError
			return errors.As(err, &dup) && dup.Name == "classes.dex"
		}},
		{name: "no manifest", data: zipOf(t, "classes.dex", "resources.arsc"), want: apk.ErrNotAPK},
		{name: "manifest not binary XML", data: zipOf(t, "AndroidManifest.xml"), check: func(err error) bool {
			return err != nil && strings.Contains(err.Error(), "minSdkVersion")
		}},
	}
	id := testIdentities()["rsa2048"]
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			_, err := apk.Sign(context.Background(), bytes.NewReader(tc.data), int64(len(tc.data)), &out, apk.Options{Identity: id})
			switch {
			case tc.check != nil && !tc.check(err):
				t.Errorf("err = %v", err)
			case tc.check == nil && !errors.Is(err, tc.want):
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

// TestSignBadOptions covers option and key mistakes.
func TestSignBadOptions(t *testing.T) {
	in := signingtest.APK(signingtest.APKOptions{MinSDK: 15})
	ids := testIdentities()
	off := false
	mismatch := &signing.Identity{Signer: signingtest.RSAKey("other", 2048), Certificate: ids["rsa2048"].Certificate}
	tests := []struct {
		name string
		id   *signing.Identity
		opts apk.Options
		want error
		text string
	}{
		{"no scheme", ids["rsa2048"], apk.Options{V1SigningEnabled: &off, V2SigningEnabled: &off, V3SigningEnabled: &off}, apk.ErrNoScheme, ""},
		{"key and certificate differ", mismatch, apk.Options{}, signing.ErrKeyMismatch, ""},
		{"EC key for Android 4.0", ids["ecp256"], apk.Options{}, signing.ErrUnsupportedKey, "minSdkVersion 18"},
		{"v4 without v2 or v3", ids["rsa2048"], apk.Options{V2SigningEnabled: &off, V3SigningEnabled: &off, V4SigningEnabled: true, V4Signature: io.Discard}, nil, "v4 signing needs v2 or v3"},
		{"no identity", nil, apk.Options{}, nil, "needs a private key"},
		{"library alignment too large", ids["rsa2048"], apk.Options{LibPageAlignment: 1 << 20}, nil, "too large"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := tc.opts
			opts.Identity = tc.id
			_, err := apk.Sign(context.Background(), bytes.NewReader(in), int64(len(in)), io.Discard, opts)
			if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) || !strings.Contains(err.Error(), tc.text) {
				t.Errorf("err = %v, want %v %q", err, tc.want, tc.text)
			}
		})
	}
	// An EC key is fine for Android 4.0 without v1.
	if _, err := apk.Sign(context.Background(), bytes.NewReader(in), int64(len(in)), io.Discard, apk.Options{Identity: ids["ecp256"], V1SigningEnabled: &off}); err != nil {
		t.Errorf("EC without v1: %v", err)
	}
}

// TestSignFileBadPaths checks the file wrapper's refusals: output equal
// to the input, missing output folder, missing input. Nothing is left
// behind and the input is unchanged.
func TestSignFileBadPaths(t *testing.T) {
	id := signingtest.SelfSigned("bad paths", signingtest.ECKey("bad paths", elliptic.P256()))
	dir := t.TempDir()
	in := signingtest.APK(signingtest.APKOptions{})
	inPath := filepath.Join(dir, "in.apk")
	if err := os.WriteFile(inPath, in, 0o644); err != nil {
		t.Fatal(err)
	}
	notzip := filepath.Join(dir, "notzip.apk")
	if err := os.WriteFile(notzip, []byte("no zip here"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, in, out, want string }{
		{"output is input", inPath, inPath, "is the input file"},
		{"output is input by another name", inPath, filepath.Join(dir, ".", "in.apk"), "is the input file"},
		{"missing folder", inPath, filepath.Join(dir, "nowhere", "out.apk"), "does not exist"},
		{"missing input", filepath.Join(dir, "missing.apk"), filepath.Join(dir, "out.apk"), "no such file"},
		{"input is a folder", dir, filepath.Join(dir, "out.apk"), "is a folder"},
		{"not a zip", notzip, filepath.Join(dir, "out.apk"), "not a zip"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := apk.SignFile(context.Background(), tc.in, tc.out, apk.Options{Identity: id})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
			assertNoOutput(t, dir, "in.apk", "notzip.apk")
			if b, _ := os.ReadFile(inPath); !bytes.Equal(b, in) {
				t.Error("input modified")
			}
		})
	}
}

// FuzzSignInput signs arbitrary bytes: Sign must return an error or a
// valid result, never panic, and what it signs must parse back.
func FuzzSignInput(f *testing.F) {
	id := signingtest.SelfSigned("fuzz", signingtest.ECKey("fuzz", elliptic.P256()))
	f.Add(signingtest.APK(signingtest.APKOptions{NativeABIs: []string{}}))
	signed, _ := signBytes(f, signingtest.APK(signingtest.APKOptions{NativeABIs: []string{}}), id, apk.Options{})
	f.Add(signed)
	f.Add(zipOf(f, "AndroidManifest.xml", "META-INF/MANIFEST.MF", "META-INF/CERT.SF"))
	for _, n := range []string{"golden-unaligned-in.apk", "golden-aligned-in.apk", "golden-legacy-aligned-in.apk"} {
		if b, err := os.ReadFile(filepath.Join(corpusDir(), "android", n)); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var out bytes.Buffer
		res, err := apk.Sign(context.Background(), bytes.NewReader(b), int64(len(b)), &out, apk.Options{Identity: id, MinSDKVersion: 24})
		if err != nil {
			return
		}
		if res.Size != int64(out.Len()) {
			t.Fatalf("Result.Size %d, wrote %d", res.Size, out.Len())
		}
		if _, err := zip.NewReader(bytes.NewReader(out.Bytes()), int64(out.Len())); err != nil {
			t.Fatalf("signed output does not parse: %v", err)
		}
	})
}

// corpusDir is the shared corpus, for seeding fuzz tests (which do not
// skip when it is absent).
func corpusDir() string {
	if d := os.Getenv("STORESIGN_CORPUS"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "..", "shared", "corpus")
}
