package apk

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"testing"

	"github.com/storesign/storesign/internal/zipx"
	"github.com/storesign/storesign/signing"
	"github.com/storesign/storesign/signing/signingtest"
)

func vBool(b bool) *bool { return &b }

// vSigned returns a synthetic APK signed by Sign.
func vSigned(t testing.TB, apkOpts signingtest.APKOptions, id *signing.Identity, opts Options) []byte {
	t.Helper()
	in := signingtest.APK(apkOpts)
	var out bytes.Buffer
	opts.Rand = signingtest.Reader("verify-test")
	opts.Identity = id
	if _, err := Sign(context.Background(), bytes.NewReader(in), int64(len(in)), &out, opts); err != nil {
		t.Fatalf("Sign: %v", err)
	}
	return out.Bytes()
}

func vVerifyBytes(t testing.TB, apk []byte, opts VerifyOptions) (*VerifyResult, error) {
	t.Helper()
	return Verify(context.Background(), bytes.NewReader(apk), int64(len(apk)), opts)
}

func TestVerifySignedBySign(t *testing.T) {
	rsaID := signingtest.SelfSigned("verify rsa", signingtest.RSAKey("verify rsa", 2048))
	ecID := signingtest.SelfSigned("verify ec", signingtest.ECKey("verify ec", elliptic.P256()))
	tests := []struct {
		name           string
		minSDK         int
		id             *signing.Identity
		opts           Options
		v1, v2, v3     bool
		wantVerifyErrs bool
	}{
		{name: "rsa-minsdk21-default", minSDK: 21, id: rsaID, v1: true, v2: true, v3: true},
		{name: "rsa-minsdk24-default", minSDK: 24, id: rsaID, v2: true, v3: true},
		{name: "ec-minsdk21-default", minSDK: 21, id: ecID, v1: true, v2: true, v3: true},
		{name: "ec-minsdk28-v3only", minSDK: 28, id: ecID, opts: Options{V2SigningEnabled: vBool(false)}, v3: true},
		{name: "rsa-minsdk18-v2only-rejected", minSDK: 18, id: rsaID, opts: Options{V1SigningEnabled: vBool(false), V3SigningEnabled: vBool(false)}, wantVerifyErrs: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			apk := vSigned(t, signingtest.APKOptions{MinSDK: tc.minSDK}, tc.id, tc.opts)
			res, err := vVerifyBytes(t, apk, VerifyOptions{})
			if tc.wantVerifyErrs {
				// The verdict style: an error wrapping ErrNotVerified,
				// and the result with the detail.
				if !errors.Is(err, ErrNotVerified) || res == nil || res.Verified || !errors.Is(res.Err(), ErrNotVerified) {
					t.Fatalf("err=%v, result %v, want ErrNotVerified with a result", err, res)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !res.Verified {
				t.Fatalf("does not verify: %q", res.Errors)
			}
			if res.Err() != nil {
				t.Errorf("Err() = %v for a verified APK", res.Err())
			}
			if res.V1 != tc.v1 || res.V2 != tc.v2 || res.V3 != tc.v3 {
				t.Errorf("schemes v1=%v v2=%v v3=%v, want %v %v %v", res.V1, res.V2, res.V3, tc.v1, tc.v2, tc.v3)
			}
			if len(res.Signers) != 1 || !res.Signers[0].Certificate.Equal(tc.id.Certificate) {
				t.Errorf("signers %v, want the identity's certificate", res.Signers)
			}
			if res.MinSDK != tc.minSDK {
				t.Errorf("MinSDK = %d, want %d", res.MinSDK, tc.minSDK)
			}
		})
	}
}

// vCorrupt returns a copy of data changed by fn.
func vCorrupt(data []byte, fn func([]byte) []byte) []byte {
	return fn(bytes.Clone(data))
}

func TestVerifyDamaged(t *testing.T) {
	id := signingtest.SelfSigned("verify rsa", signingtest.RSAKey("verify rsa", 2048))
	good := vSigned(t, signingtest.APKOptions{MinSDK: 21}, id, Options{})
	a, err := zipx.Read(bytes.NewReader(good), int64(len(good)))
	if err != nil {
		t.Fatal(err)
	}
	entryOffset := func(name string) int64 {
		for _, e := range a.Entries {
			if e.Name == name {
				l, err := e.Local(bytes.NewReader(good), a.CDOffset)
				if err != nil {
					t.Fatal(err)
				}
				return l.DataOffset + l.DataSize/2
			}
		}
		t.Fatalf("no entry %s", name)
		return 0
	}
	unsigned := signingtest.APK(signingtest.APKOptions{MinSDK: 21})
	tests := []struct {
		name    string
		data    []byte
		opts    VerifyOptions
		wantErr error // an error from Verify
		readErr bool  // any error from Verify
	}{
		{name: "not-a-zip", data: []byte("hello, this is not an APK at all"), wantErr: ErrNotZip},
		{name: "empty", data: nil, wantErr: ErrNotZip},
		{name: "empty-says-so", data: nil, wantErr: zipx.ErrEmpty},
		{name: "truncated", data: good[:len(good)/2], wantErr: ErrMalformed},
		{name: "truncated-cut-short", data: good[:len(good)/2], wantErr: zipx.ErrCutShort},
		{name: "truncated-entries", data: vCorrupt(good, func(b []byte) []byte { return append(b[:100:100], b[len(b)-4096:]...) }), readErr: true},
		{name: "unsigned", data: unsigned},
		{name: "stored-entry-byte", data: vCorrupt(good, func(b []byte) []byte { b[entryOffset("resources.arsc")] ^= 1; return b })},
		{name: "stored-entry-byte-v1-only-checked", data: vCorrupt(good, func(b []byte) []byte { b[entryOffset("resources.arsc")] ^= 1; return b }), opts: VerifyOptions{MaxSDK: 23}},
		{name: "central-directory", data: vCorrupt(good, func(b []byte) []byte { b[a.CDOffset+38] ^= 1; return b })},
		{name: "signing-block", data: vCorrupt(good, func(b []byte) []byte { b[vBlockStart(good, a)+8+12+200] ^= 1; return b })},
		{name: "no-manifest", data: vNoManifestZip(t), wantErr: ErrNotAPK},
		{name: "min-above-max", data: good, opts: VerifyOptions{MinSDK: 30, MaxSDK: 20}, readErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := vVerifyBytes(t, tc.data, tc.opts)
			switch {
			case tc.wantErr != nil:
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
			case tc.readErr:
				if err == nil {
					t.Fatalf("no error; result verified=%v", res.Verified)
				}
			default:
				if !errors.Is(err, ErrNotVerified) || res == nil {
					t.Fatalf("err = %v, want ErrNotVerified and a result with errors", err)
				}
				if res.Verified || len(res.Errors) == 0 {
					t.Fatalf("verified=%v errors=%q, want rejection", res.Verified, res.Errors)
				}
			}
		})
	}
}

// vBlockStart returns the offset of the APK Signing Block.
func vBlockStart(apk []byte, a *zipx.Archive) int64 {
	return a.CDOffset - int64(binary.LittleEndian.Uint64(apk[a.CDOffset-24:])) - 8
}

func vNoManifestZip(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	w, err := zw.Create("classes.dex")
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("dex\n035\x00"))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestVerifyFile(t *testing.T) {
	id := signingtest.SelfSigned("verify rsa", signingtest.RSAKey("verify rsa", 2048))
	dir := t.TempDir()
	p := filepath.Join(dir, "app.apk")
	if err := os.WriteFile(p, vSigned(t, signingtest.APKOptions{}, id, Options{}), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := VerifyFile(context.Background(), p, VerifyOptions{})
	if err != nil || !res.Verified {
		t.Fatalf("VerifyFile: %v %v", err, res)
	}
	if _, err := VerifyFile(context.Background(), filepath.Join(dir, "missing.apk"), VerifyOptions{}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: err = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := VerifyFile(ctx, p, VerifyOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v", err)
	}
}

func ExampleVerify() {
	id := signingtest.SelfSigned("example", signingtest.RSAKey("example", 2048))
	in := signingtest.APK(signingtest.APKOptions{MinSDK: 21})
	var signed bytes.Buffer
	if _, err := Sign(context.Background(), bytes.NewReader(in), int64(len(in)), &signed, Options{Identity: id}); err != nil {
		fmt.Println(err)
		return
	}
	res, err := Verify(context.Background(), bytes.NewReader(signed.Bytes()), int64(signed.Len()), VerifyOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("verified:", res.Verified)
	fmt.Println("schemes:", res.V1, res.V2, res.V3)
	fmt.Println("signer:", res.Signers[0].Certificate.Subject.CommonName)
	// Output:
	// verified: true
	// schemes: true true true
	// signer: example
}

func TestVerifyManifestParser(t *testing.T) {
	mf := "Manifest-Version: 1.0\r\nCreated-By: 1.0 (Android)\r\n\r\n" +
		"Name: res/a very long name that is continued on the next line becau\r\n se it is long\r\nSHA-256-Digest: AAA=\r\n\r\n\r\n" +
		"Name : spaced\r\nSHA-256-Digest: BBB=\r\n\r\n" +
		"NoColonHeader\r\nName: last\r\n"
	main, secs := vParseMF([]byte(mf))
	if v, _ := main.get("created-by"); v != "1.0 (Android)" {
		t.Errorf("Created-By = %q", v)
	}
	if got := mf[main.start : main.start+main.size]; got != "Manifest-Version: 1.0\r\nCreated-By: 1.0 (Android)\r\n\r\n" {
		t.Errorf("main section bytes %q", got)
	}
	want := []struct {
		name  string
		named bool
		raw   string
	}{
		{"res/a very long name that is continued on the next line because it is long", true,
			"Name: res/a very long name that is continued on the next line becau\r\n se it is long\r\nSHA-256-Digest: AAA=\r\n\r\n"},
		{"", false, "Name : spaced\r\nSHA-256-Digest: BBB=\r\n\r\n"},
		{"", false, "NoColonHeader\r\nName: last\r\n"},
	}
	if len(secs) != len(want) {
		t.Fatalf("%d sections, want %d", len(secs), len(want))
	}
	for i, w := range want {
		s := secs[i]
		if s.name != w.name || s.named != w.named || mf[s.start:s.start+s.size] != w.raw {
			t.Errorf("section %d: name %q named %v raw %q; want %q %v %q", i, s.name, s.named, mf[s.start:s.start+s.size], w.name, w.named, w.raw)
		}
	}
}

// TestVerifyLenientCertificate checks certificates crypto/x509 refuses but
// Android accepts: here a negative serial number.
func TestVerifyLenientCertificate(t *testing.T) {
	key := signingtest.RSAKey("negative serial", 2048)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(0x123456),
		Subject:      pkix.Name{CommonName: "negative serial"},
		NotBefore:    signingtest.Epoch,
		NotAfter:     signingtest.Epoch.AddDate(30, 0, 0),
	}
	der, err := x509.CreateCertificate(signingtest.Reader("negative serial"), tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	orig, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	// Make the serial INTEGER 0x123456 read as negative (the certificate
	// signature breaks, which signers' certificates need not carry).
	i := bytes.Index(der, []byte{0x02, 0x03, 0x12, 0x34, 0x56})
	if i < 0 {
		t.Fatal("serial not found")
	}
	der[i+2] |= 0x80
	if _, err := x509.ParseCertificate(der); err == nil {
		t.Skip("crypto/x509 accepts negative serials here")
	}
	c, err := vParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	if c.SerialNumber.Sign() >= 0 {
		t.Errorf("serial %v, want negative", c.SerialNumber)
	}
	if !bytes.Equal(c.RawSubjectPublicKeyInfo, orig.RawSubjectPublicKeyInfo) || !bytes.Equal(c.Raw, der) {
		t.Error("raw fields differ")
	}
	if c.Subject.CommonName != "negative serial" {
		t.Errorf("subject %q", c.Subject.CommonName)
	}
	if _, ok := c.PublicKey.(*rsa.PublicKey); !ok {
		t.Errorf("public key %T", c.PublicKey)
	}
}
