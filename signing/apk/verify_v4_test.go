package apk

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/storesign/storesign/signing/signingtest"
)

// v4Signed returns an APK signed by Sign with v4, and its .idsig.
func v4Signed(t testing.TB, name string, minSDK int) (apk, idsig []byte) {
	t.Helper()
	id := signingtest.SelfSigned(name, signingtest.RSAKey(name, 1024))
	var in bytes.Buffer
	zw := zip.NewWriter(&in)
	w, _ := zw.Create("AndroidManifest.xml")
	w.Write(signingtest.AndroidManifest(signingtest.APKOptions{MinSDK: minSDK}))
	w, _ = zw.CreateHeader(&zip.FileHeader{Name: "classes.dex", Method: zip.Store})
	w.Write(bytes.Repeat([]byte("dex\n035\x00 v4 test "), 600))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	var out, sig bytes.Buffer
	if _, err := Sign(context.Background(), bytes.NewReader(in.Bytes()), int64(in.Len()), &out, Options{Identity: id, V4SigningEnabled: true, V4Signature: &sig}); err != nil {
		t.Fatal(err)
	}
	return out.Bytes(), sig.Bytes()
}

// TestVerifyV4 checks .idsig files against the APK they were made with
// and against damaged or foreign ones: a v4 problem sets V4 false and
// fills V4Errors, but does not change the verdict, as in apksigner.
func TestVerifyV4(t *testing.T) {
	apk, idsig := v4Signed(t, "v4 test", 24)
	_, other := v4Signed(t, "v4 other", 24)
	flip := func(b []byte, off int) []byte {
		b = bytes.Clone(b)
		b[off] ^= 1
		return b
	}
	// Offsets: version, hashing info (length-prefixed, the root hash
	// last), signing info (length-prefixed, the signature last), tree.
	hashingEnd := 8 + int(binary.LittleEndian.Uint32(idsig[4:]))
	signingEnd := hashingEnd + 4 + int(binary.LittleEndian.Uint32(idsig[hashingEnd:]))
	tests := []struct {
		name    string
		sig     []byte
		wantV4  bool
		wantErr error
	}{
		{"own", idsig, true, nil},
		{"tree-cut", idsig[:len(idsig)-100], true, nil}, // apksig does not read the tree either
		{"root-hash-flipped", flip(idsig, hashingEnd-1), false, nil},
		{"signature-flipped", flip(idsig, signingEnd-1), false, nil},
		{"tree-flipped", flip(idsig, signingEnd+10), false, nil},
		{"other-apk", other, false, nil},
		{"bad-version", flip(idsig, 0), false, ErrV4Malformed},
		{"truncated", idsig[:20], false, ErrV4Malformed},
		{"empty", nil, false, ErrV4Malformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := vVerifyBytes(t, apk, VerifyOptions{V4Signature: bytes.NewReader(tc.sig), V4SignatureSize: int64(len(tc.sig))})
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.V4 != tc.wantV4 || res.V4 == (len(res.V4Errors) > 0) {
				t.Fatalf("V4 = %v (%q), want %v", res.V4, res.V4Errors, tc.wantV4)
			}
		})
	}
	// Without V4Signature nothing is checked.
	res, err := vVerifyBytes(t, apk, VerifyOptions{})
	if err != nil || res.V4 || res.V4Errors != nil {
		t.Fatalf("no v4 file: V4 %v %q, err %v", res.V4, res.V4Errors, err)
	}
}

// TestVerifyFileV4SignatureBeside checks the .idsig beside the APK
// only when asked to (apksigner never does): its own, a damaged one,
// none, and one given that takes precedence.
func TestVerifyFileV4SignatureBeside(t *testing.T) {
	apk, idsig := v4Signed(t, "v4 test", 24)
	dir := t.TempDir()
	path := filepath.Join(dir, "app.apk")
	write := func(name string, b []byte) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("app.apk", apk)
	damaged := bytes.Clone(idsig)
	damaged[len(damaged)-1] ^= 1
	tests := []struct {
		name     string
		beside   []byte // nil: no .idsig
		opts     VerifyOptions
		wantV4   bool
		wantFile bool
	}{
		{"own", idsig, VerifyOptions{V4SignatureBeside: true}, true, true},
		{"not-asked", idsig, VerifyOptions{}, false, false},
		{"damaged", damaged, VerifyOptions{V4SignatureBeside: true}, false, true},
		{"none", nil, VerifyOptions{V4SignatureBeside: true}, false, false},
		{"given-wins", damaged, VerifyOptions{V4SignatureBeside: true, V4Signature: bytes.NewReader(idsig), V4SignatureSize: int64(len(idsig))}, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			os.Remove(path + ".idsig")
			if tc.beside != nil {
				write("app.apk.idsig", tc.beside)
			}
			res, err := VerifyFile(t.Context(), path, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if res.V4 != tc.wantV4 || (res.V4SignatureFile != "") != tc.wantFile {
				t.Fatalf("V4 = %v (%q), file %q; want %v, %v", res.V4, res.V4Errors, res.V4SignatureFile, tc.wantV4, tc.wantFile)
			}
		})
	}
}

// FuzzV4Signature runs the .idsig parser and the v4 check on arbitrary
// files against a signed APK: no panic, and a parsed file re-encodes its
// signed data without panicking.
func FuzzV4Signature(f *testing.F) {
	apk, idsig := v4Signed(f, "v4 fuzz", 24)
	f.Add(idsig)
	f.Add(idsig[:len(idsig)/2])
	hashingEnd := 8 + int(binary.LittleEndian.Uint32(idsig[4:]))
	signingEnd := hashingEnd + 4 + int(binary.LittleEndian.Uint32(idsig[hashingEnd:]))
	f.Fuzz(func(t *testing.T, data []byte) {
		if s, err := readV4Signature(bytes.NewReader(data), int64(len(data))); err == nil {
			s.signedData(int64(len(apk)))
		}
		res, err := Verify(context.Background(), bytes.NewReader(apk), int64(len(apk)), VerifyOptions{V4Signature: bytes.NewReader(data), V4SignatureSize: int64(len(data))})
		// Only a tree cut short may differ (apksig skips it too).
		if err == nil && res.V4 && !bytes.HasPrefix(data, idsig[:signingEnd]) && !bytes.HasPrefix(idsig, data) {
			t.Fatalf("a v4 signature that is not the APK's verified")
		}
	})
}
