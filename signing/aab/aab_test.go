package aab

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto"
	"crypto/elliptic"
	"crypto/x509/pkix"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/storesign/storesign/internal/jar"
	"github.com/storesign/storesign/internal/zipx"
	"github.com/storesign/storesign/signing"
	"github.com/storesign/storesign/signing/signingtest"
)

var testTime = time.Date(2026, 5, 17, 10, 30, 0, 0, time.UTC)

func testOptions(id *signing.Identity) Options {
	return Options{Identity: id, Now: func() time.Time { return testTime }, Rand: signingtest.Reader("aab ecdsa")}
}

// testIdentities returns the identities the tests sign with, by name
// (made once: the 4096-bit key takes a while).
var testIdentities = sync.OnceValue(func() map[string]*signing.Identity {
	ca := signingtest.NewRoot("aab test root")
	ids := map[string]*signing.Identity{
		"rsa-2048":  signingtest.SelfSigned("aab upload rsa", nil),
		"rsa-4096":  signingtest.SelfSigned("aab upload rsa4096", signingtest.RSAKey("aab upload rsa4096", 4096)),
		"ec-p256":   signingtest.SelfSigned("aab upload ec", signingtest.ECKey("aab upload ec", elliptic.P256())),
		"ec-p384":   signingtest.SelfSigned("aab upload ec384", signingtest.ECKey("aab upload ec384", elliptic.P384())),
		"rsa-chain": ca.Issue(signingtest.CertOptions{Subject: pkix.Name{CommonName: "aab leaf", Organization: []string{"Example Corp"}}}),
	}
	for _, id := range ids {
		id.Alias = "upload"
	}
	return ids
})

func sign(t testing.TB, in []byte, id *signing.Identity, opts Options) ([]byte, *Result) {
	t.Helper()
	var out bytes.Buffer
	opts.Identity = id
	res, err := Sign(context.Background(), bytes.NewReader(in), int64(len(in)), &out, opts)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	if res.Size != int64(out.Len()) {
		t.Fatalf("Result.Size = %d, wrote %d", res.Size, out.Len())
	}
	return out.Bytes(), res
}

func verify(b []byte) (*Result, error) {
	return Verify(context.Background(), bytes.NewReader(b), int64(len(b)), VerifyOptions{})
}

// entries reads every entry of a zip with archive/zip, an independent
// reader.
func entries(t testing.TB, b []byte) ([]string, map[string][]byte) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("archive/zip: %v", err)
	}
	var names []string
	files := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		if err != nil {
			t.Fatalf("archive/zip reading %s: %v", f.Name, err)
		}
		names = append(names, f.Name)
		files[f.Name] = data
	}
	return names, files
}

// rewrite rebuilds a zip with archive/zip, passing each entry through
// edit, which returns the new content and whether to keep the entry;
// extra entries are appended.
func rewrite(t testing.TB, b []byte, edit func(name string, data []byte) ([]byte, bool), extra map[string][]byte) []byte {
	t.Helper()
	names, files := entries(t, b)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(n string, d []byte) {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: n, Method: zip.Deflate, Modified: signingtest.Epoch})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(d)
	}
	for _, n := range names {
		d, keep := files[n], true
		if edit != nil {
			d, keep = edit(n, d)
		}
		if keep {
			add(n, d)
		}
	}
	for n, d := range extra {
		add(n, d)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestSignVerify(t *testing.T) {
	in := signingtest.Bundle(signingtest.APKOptions{Assets: 20, NativeABIs: []string{"arm64-v8a", "x86_64"}})
	_, inFiles := entries(t, in)
	for name, id := range testIdentities() {
		t.Run(name, func(t *testing.T) {
			out, res := sign(t, in, id, testOptions(id))
			names, files := entries(t, out)
			ext := jar.BlockExtension(id.KeyAlgorithm())
			wantFirst := []string{"META-INF/MANIFEST.MF", "META-INF/UPLOAD.SF", "META-INF/UPLOAD." + ext}
			if strings.Join(names[:3], " ") != strings.Join(wantFirst, " ") {
				t.Fatalf("first entries %q, want %q", names[:3], wantFirst)
			}
			for n, d := range inFiles {
				if !bytes.Equal(files[n], d) {
					t.Errorf("%s changed", n)
				}
			}
			if len(names) != len(inFiles)+3 {
				t.Errorf("%d entries, want %d", len(names), len(inFiles)+3)
			}
			if res.Entries != len(inFiles) {
				t.Errorf("Result.Entries = %d, want %d", res.Entries, len(inFiles))
			}
			v, err := verify(out)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if len(v.Signers) != 1 || !v.Signers[0].Certificate.Equal(id.Certificate) {
				t.Fatalf("Verify signers = %+v", v.Signers)
			}
			s, rs := v.Signers[0], res.Signers[0]
			if s.Name != "UPLOAD" || s.SignatureAlgorithm != rs.SignatureAlgorithm || s.BlockDigest != rs.BlockDigest ||
				s.DigestAlgorithm != crypto.SHA256 || !s.SigningTime.Equal(testTime) || v.Entries != res.Entries ||
				s.Fingerprint() != id.Fingerprint() || len(s.Chain) != len(id.Chain) {
				t.Errorf("Verify signer %+v, Sign signer %+v", s, rs)
			}
			// Signing again (our own output) gives the same bytes: the old
			// signature is replaced, not added to.
			if id.KeyAlgorithm() == "RSA" {
				again, _ := sign(t, out, id, testOptions(id))
				if !bytes.Equal(again, out) {
					t.Error("re-signing a signed bundle changed it")
				}
			}
		})
	}
}

func TestSignatureAlgorithms(t *testing.T) {
	want := map[string]string{
		"rsa-2048": "SHA256withRSA", "rsa-4096": "SHA384withRSA", "rsa-chain": "SHA256withRSA",
		"ec-p256": "SHA256withECDSA", "ec-p384": "SHA384withECDSA",
	}
	in := signingtest.Bundle(signingtest.APKOptions{})
	for name, id := range testIdentities() {
		_, res := sign(t, in, id, testOptions(id))
		if got := res.Signers[0].SignatureAlgorithm; got != want[name] {
			t.Errorf("%s: %s, want %s", name, got, want[name])
		}
	}
}

func TestSignDeterministic(t *testing.T) {
	in := signingtest.Bundle(signingtest.APKOptions{Assets: 50})
	id := testIdentities()["rsa-2048"]
	a, _ := sign(t, in, id, testOptions(id))
	for _, workers := range []int{1, 3, 16} {
		opts := testOptions(id)
		opts.Workers = workers
		b, _ := sign(t, in, id, opts)
		if !bytes.Equal(a, b) {
			t.Fatalf("output differs with %d workers", workers)
		}
	}
}

func TestSignerName(t *testing.T) {
	in := signingtest.Bundle(signingtest.APKOptions{})
	id := *testIdentities()["rsa-2048"]
	for _, tc := range []struct{ alias, opt, want string }{
		{"upload", "", "UPLOAD"},
		{"my.upload-key", "", "MY_UPLOA"},
		{"", "", "CERT"},
		{"upload", "release", "RELEASE"},
	} {
		id.Alias = tc.alias
		opts := testOptions(&id)
		opts.SignerName = tc.opt
		out, res := sign(t, in, &id, opts)
		_, files := entries(t, out)
		if res.Signers[0].Name != tc.want || files["META-INF/"+tc.want+".SF"] == nil {
			t.Errorf("alias %q option %q: signer %q, want %q", tc.alias, tc.opt, res.Signers[0].Name, tc.want)
		}
	}
}

// TestSignKeepsManifest checks that an existing manifest keeps its main
// and per-entry attributes, loses stale digests and sections, and that
// other signers' files are dropped.
func TestSignKeepsManifest(t *testing.T) {
	base := signingtest.Bundle(signingtest.APKOptions{})
	in := rewrite(t, base, nil, map[string][]byte{
		"META-INF/MANIFEST.MF": []byte("Manifest-Version: 1.0\r\nCreated-By: Studio 1.0\r\nBuilt-By: example\r\n\r\n" +
			"Name: base/dex/classes.dex\r\nSHA1-Digest: AAAA\r\nX-Custom: kept\r\n\r\n" +
			"Name: gone.txt\r\nSHA-256-Digest: AAAA\r\n\r\n"),
		"META-INF/OLD.SF":  []byte("Signature-Version: 1.0\r\n\r\n"),
		"META-INF/OLD.RSA": []byte("junk"),
		"META-INF/SIG-X":   []byte("junk"),
	})
	out, _ := sign(t, in, testIdentities()["rsa-2048"], testOptions(nil))
	if _, err := verify(out); err != nil {
		t.Fatal(err)
	}
	_, files := entries(t, out)
	for _, n := range []string{"META-INF/OLD.SF", "META-INF/OLD.RSA", "META-INF/SIG-X"} {
		if files[n] != nil {
			t.Errorf("%s kept", n)
		}
	}
	mf, err := jar.ParseManifest(files["META-INF/MANIFEST.MF"])
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := mf.Main.Get("Built-By"); v != "example" {
		t.Error("main attribute Built-By lost")
	}
	if v, _ := mf.Main.Get("Created-By"); v != "Studio 1.0" {
		t.Errorf("Created-By = %q", v)
	}
	dex := mf.Section("base/dex/classes.dex")
	if v, _ := dex.Attrs.Get("X-Custom"); v != "kept" {
		t.Error("per-entry attribute lost")
	}
	if _, ok := dex.Attrs.Get("SHA1-Digest"); ok {
		t.Error("stale SHA1-Digest kept")
	}
	if mf.Section("gone.txt") != nil {
		t.Error("section of a missing entry kept")
	}
}

func TestSignDataDescriptors(t *testing.T) {
	// archive/zip writes data descriptors for every entry.
	in := rewrite(t, signingtest.Bundle(signingtest.APKOptions{}), nil, map[string][]byte{"base/assets/dir/": nil})
	out, _ := sign(t, in, testIdentities()["rsa-2048"], testOptions(nil))
	a, err := zipx.Read(bytes.NewReader(out), int64(len(out)))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range a.Entries {
		if e.Flags&zipx.FlagDataDescriptor != 0 {
			t.Errorf("%s keeps its data descriptor flag", e.Name)
		}
	}
	if _, err := verify(out); err != nil {
		t.Fatal(err)
	}
	entries(t, out) // archive/zip reads every entry, checking CRCs
}

func TestSignRejects(t *testing.T) {
	id := testIdentities()["rsa-2048"]
	bundle := signingtest.Bundle(signingtest.APKOptions{})
	truncated := bundle[:len(bundle)/2]
	noConfig := rewrite(t, bundle, func(n string, d []byte) ([]byte, bool) { return d, n != BundleConfigName }, nil)
	noManifest := rewrite(t, bundle, func(n string, d []byte) ([]byte, bool) { return d, n != BaseManifestName }, nil)
	badCRC := corrupt(t, bundle, "base/dex/classes.dex")
	for _, tc := range []struct {
		name string
		in   []byte
		want error
		msg  string
	}{
		{"not a zip", []byte("hello, not a zip at all"), zipx.ErrFormat, ""},
		{"empty", nil, zipx.ErrEmpty, ""},
		{"truncated", truncated, zipx.ErrCutShort, ""},
		{"apk", signingtest.APK(signingtest.APKOptions{}), ErrNotBundle, "BundleConfig.pb"},
		{"no BundleConfig.pb", noConfig, ErrNotBundle, "BundleConfig.pb"},
		{"no base manifest", noManifest, ErrNotBundle, BaseManifestName},
		{"damaged entry", badCRC, zipx.ErrTruncated, "classes.dex"},
		{"duplicate names", duplicate(t, bundle), nil, "duplicate entry"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Sign(context.Background(), bytes.NewReader(tc.in), int64(len(tc.in)), io.Discard, testOptions(id))
			if err == nil || tc.want != nil && !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err = %v, want %v containing %q", err, tc.want, tc.msg)
			}
			_, err = verify(tc.in)
			if err == nil {
				t.Fatal("Verify accepted it")
			}
		})
	}
}

// corrupt flips a byte in the middle of an entry's compressed data.
func corrupt(t testing.TB, b []byte, name string) []byte {
	t.Helper()
	a, err := zipx.Read(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range a.Entries {
		if e.Name == name {
			l, err := e.Local(bytes.NewReader(b), a.CDOffset)
			if err != nil {
				t.Fatal(err)
			}
			c := bytes.Clone(b)
			c[l.DataOffset+l.DataSize/2] ^= 0x55
			return c
		}
	}
	t.Fatalf("no entry %s", name)
	return nil
}

// duplicate adds a second BundleConfig.pb.
func duplicate(t testing.TB, b []byte) []byte {
	t.Helper()
	return rewrite(t, b, nil, map[string][]byte{BundleConfigName: []byte("again")})
}

func TestVerifyTampered(t *testing.T) {
	id := testIdentities()["rsa-2048"]
	signed, _ := sign(t, signingtest.Bundle(signingtest.APKOptions{Assets: 3}), id, testOptions(id))
	edit := func(target string, f func([]byte) []byte) []byte {
		return rewrite(t, signed, func(n string, d []byte) ([]byte, bool) {
			if n == target {
				return f(bytes.Clone(d)), true
			}
			return d, true
		}, nil)
	}
	flip := func(d []byte) []byte { d[len(d)/2] ^= 1; return d }
	for name, tc := range map[string]struct {
		in   []byte
		want error
	}{
		"entry changed":      {edit("base/dex/classes.dex", flip), ErrInvalidSignature},
		"entry added":        {rewrite(t, signed, nil, map[string][]byte{"base/assets/extra.txt": []byte("x")}), ErrInvalidSignature},
		"entry removed":      {rewrite(t, signed, func(n string, d []byte) ([]byte, bool) { return d, n != "base/assets/data0001.bin" }, nil), nil},
		"manifest changed":   {edit("META-INF/MANIFEST.MF", func(d []byte) []byte { return bytes.Replace(d, []byte("Name: base/"), []byte("Name: base/x"), 1) }), ErrInvalidSignature},
		"sf changed":         {edit("META-INF/UPLOAD.SF", func(d []byte) []byte { return append(d, "Name: x\r\n\r\n"...) }), ErrInvalidSignature},
		"block changed":      {edit("META-INF/UPLOAD.RSA", func(d []byte) []byte { d[len(d)-5] ^= 1; return d }), ErrInvalidSignature},
		"block removed":      {rewrite(t, signed, func(n string, d []byte) ([]byte, bool) { return d, n != "META-INF/UPLOAD.RSA" }, nil), ErrInvalidSignature},
		"unsigned":           {signingtest.Bundle(signingtest.APKOptions{}), ErrNotSigned},
		"manifest only":      {rewrite(t, signed, func(n string, d []byte) ([]byte, bool) { return d, !strings.HasPrefix(n, "META-INF/UPLOAD") }, nil), ErrNotSigned},
		"data damaged (crc)": {corrupt(t, signed, "base/res/drawable/icon.png"), zipx.ErrTruncated},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := verify(tc.in)
			if tc.want == nil {
				// Removing an entry keeps the rest valid, as jarsigner says.
				if err != nil {
					t.Fatalf("err = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}
