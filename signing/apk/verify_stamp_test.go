package apk_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/storesign/storesign/internal/testenv"
	"github.com/storesign/storesign/signing/apk"
	"github.com/storesign/storesign/signing/signingtest"
)

// TestVerifySourceStampCorpus checks the stamped APKs of apksig's
// verifier corpus with the verdicts and messages of `apksigner verify
// --verify-source-stamp` 35.
func TestVerifySourceStampCorpus(t *testing.T) {
	cases := []struct {
		name  string
		ok    bool
		issue string
	}{
		{"stamp-1-v31-tgt-33-signer.apk", true, ""},
		{"stamp-2-v31-tgt-signers.apk", true, ""},
		{"stamp-apk-hash-mismatch.apk", false, "No SourceStamp signature"},
		{"stamp-certificate-mismatch.apk", false, "Certificate mismatch between SourceStamp block in APK signing block and SourceStamp file in APK: <681b0e56a796350c08647352a4db800cc44b2adc8f4c72fa350bd05d4d50264d> vs <fb5dbd3c669af9fc236c6991e6387b7f11ff0590997f22d0f5c74ff40e04fca8>"},
		{"stamp-invalid-v31-signer.apk", true, ""},
		{"stamp-lineage-valid.apk", true, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := readCorpus(t, "android", "verify", c.name)
			res, err := apk.VerifySourceStamp(t.Context(), bytes.NewReader(b), int64(len(b)))
			if c.ok {
				if err != nil {
					t.Fatalf("not verified: %v", err)
				}
				return
			}
			if !errors.Is(err, apk.ErrStampNotVerified) {
				t.Fatalf("error %v, want ErrStampNotVerified", err)
			}
			if issues := strings.Join(append(res.Errors, res.Warnings...), "\n"); !strings.Contains(issues, c.issue) {
				t.Errorf("issues %q, want %q", issues, c.issue)
			}
		})
	}
}

// TestVerifySourceStampOurs verifies the stamps storesign writes, with
// a lineage and a time, and finds no stamp in an APK without one.
func TestVerifySourceStampOurs(t *testing.T) {
	signer := loadKeyCert(t, testenv.Corpus(t, "android", "rsa-2048.pk8"), testenv.Corpus(t, "android", "rsa-2048.x509.pem"))
	stamp := loadKeyCert(t, testenv.Corpus(t, "android", "rsa-2048_2.pk8"), testenv.Corpus(t, "android", "rsa-2048_2.x509.pem"))
	lin, err := apk.ReadLineage(readCorpus(t, "android", "rsa-2048-lineage-2-signers"))
	if err != nil {
		t.Fatal(err)
	}
	in := signingtest.APK(signingtest.APKOptions{MinSDK: 21})
	when := time.Unix(1764806400, 0)
	out, _ := signBytes(t, in, signer, apk.Options{StampSigner: stamp, StampLineage: lin, Now: func() time.Time { return when }})
	res, err := apk.VerifySourceStamp(t.Context(), bytes.NewReader(out), int64(len(out)))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Certificate.Equal(stamp.Certificate) || len(res.Lineage) != 2 || !res.Time.Equal(when) {
		t.Errorf("certificate %s, lineage of %d, time %v", res.Certificate.Subject, len(res.Lineage), res.Time)
	}
	plain, _ := signBytes(t, in, signer, apk.Options{})
	if _, err := apk.VerifySourceStamp(t.Context(), bytes.NewReader(plain), int64(len(plain))); !errors.Is(err, apk.ErrNoStamp) {
		t.Errorf("unstamped APK: %v", err)
	}
	// A damaged stamp signature (the first one, after the certificate).
	at := bytes.LastIndex(out, stamp.Certificate.Raw)
	if at < 0 {
		t.Fatal("stamp certificate not found")
	}
	bad := corrupt(out, func(b []byte) []byte { b[at+len(stamp.Certificate.Raw)+28+10] ^= 1; return b })
	res, err = apk.VerifySourceStamp(t.Context(), bytes.NewReader(bad), int64(len(bad)))
	if !errors.Is(err, apk.ErrStampNotVerified) || res.Verified || !strings.Contains(err.Error(), "did not verify") {
		t.Errorf("damaged stamp signature: %v", err)
	}
}

// FuzzVerifySourceStamp reads arbitrary APKs' source stamps: no panic,
// and a result for every stamp found.
func FuzzVerifySourceStamp(f *testing.F) {
	for _, name := range []string{"stamp-lineage-valid.apk", "stamp-certificate-mismatch.apk"} {
		if b, err := os.ReadFile(filepath.Join(corpusDir(), "android", "verify", name)); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := apk.VerifySourceStamp(t.Context(), bytes.NewReader(data), int64(len(data)))
		if errors.Is(err, apk.ErrStampNotVerified) && res == nil {
			t.Fatal("ErrStampNotVerified without a result")
		}
	})
}
