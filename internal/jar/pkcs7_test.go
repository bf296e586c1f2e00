package jar

import (
	"bytes"
	"crypto"
	"crypto/elliptic"
	"crypto/x509/pkix"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/storesign/storesign/internal/cms"
	"github.com/storesign/storesign/internal/testenv"
	"github.com/storesign/storesign/signing"
	"github.com/storesign/storesign/signing/signingtest"
)

var testTime = time.Date(2026, 5, 17, 10, 30, 0, 0, time.UTC)

func testIdentities(t testing.TB) map[string]*signing.Identity {
	ca := signingtest.NewRoot("jar test root")
	return map[string]*signing.Identity{
		"rsa":       signingtest.SelfSigned("jar rsa", nil),
		"ec-p256":   signingtest.SelfSigned("jar ec", signingtest.ECKey("jar ec", elliptic.P256())),
		"ec-p384":   signingtest.SelfSigned("jar ec384", signingtest.ECKey("jar ec384", elliptic.P384())),
		"rsa-chain": ca.Issue(signingtest.CertOptions{Subject: pkix.Name{CommonName: "jar leaf"}}),
	}
}

func TestSignPKCS7RoundTrip(t *testing.T) {
	content := []byte("Signature-Version: 1.0\r\n\r\n")
	for name, id := range testIdentities(t) {
		for _, opts := range []PKCS7Options{
			{SignedAttributes: true, Now: func() time.Time { return testTime }},
			{KeyAlgorithmOID: true},
			{Hash: crypto.SHA1, KeyAlgorithmOID: true},
			{Hash: crypto.SHA512, SignedAttributes: true},
		} {
			t.Run(name, func(t *testing.T) {
				der, err := SignPKCS7(id.Signer, id.Certificates(), content, opts)
				if err != nil {
					t.Fatal(err)
				}
				sd, err := ParsePKCS7(der)
				if err != nil {
					t.Fatal(err)
				}
				if len(sd.Certificates) != len(id.Certificates()) || !sd.Detached {
					t.Fatalf("certificates %d, detached %v", len(sd.Certificates), sd.Detached)
				}
				certs, err := sd.Verify(content)
				if err != nil {
					t.Fatal(err)
				}
				if !certs[0].Equal(id.Certificate) {
					t.Fatal("wrong signer certificate")
				}
				s := sd.Signers[0]
				if s.SignedAttributes != opts.SignedAttributes {
					t.Fatalf("SignedAttributes = %v", s.SignedAttributes)
				}
				if opts.Now != nil && !s.SigningTime.Equal(testTime) {
					t.Errorf("SigningTime = %v", s.SigningTime)
				}
				if opts.SignedAttributes && !s.AlgorithmProtection {
					t.Error("no CMSAlgorithmProtection")
				}
				if _, err := sd.Verify(append([]byte("x"), content...)); !errors.Is(err, ErrSignature) {
					t.Fatalf("tampered content: err = %v", err)
				}
			})
		}
	}
}

func TestSignPKCS7Deterministic(t *testing.T) {
	id := testIdentities(t)["rsa"]
	opts := PKCS7Options{SignedAttributes: true, Now: func() time.Time { return testTime }}
	a, _ := SignPKCS7(id.Signer, id.Certificates(), []byte("x"), opts)
	b, _ := SignPKCS7(id.Signer, id.Certificates(), []byte("x"), opts)
	if !bytes.Equal(a, b) {
		t.Fatal("RSA signature blocks differ for the same input and time")
	}
}

func TestParsePKCS7Errors(t *testing.T) {
	id := testIdentities(t)["rsa"]
	good, _ := SignPKCS7(id.Signer, id.Certificates(), []byte("x"), PKCS7Options{})
	for name, der := range map[string][]byte{
		"empty":     nil,
		"garbage":   []byte("not der"),
		"truncated": good[:len(good)-10],
		"trailing":  append(append([]byte{}, good...), 0),
	} {
		if _, err := ParsePKCS7(der); !errors.Is(err, ErrPKCS7) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	// Past internal/cms's limits: ErrPKCS7, with the limit as data.
	huge := append([]byte{0x30, 0x84, 0x00, 0x50, 0x00, 0x00}, make([]byte, 0x500000)...)
	_, err := ParsePKCS7(huge)
	var le *cms.LimitError
	if !errors.Is(err, ErrPKCS7) || !errors.As(err, &le) || !strings.HasPrefix(err.Error(), "jar: malformed signature block: CMS size (bytes): ") {
		t.Errorf("huge block: err = %v", err)
	}
	// A block without the signer's certificate parses but does not verify.
	noCert, _ := SignPKCS7(id.Signer, id.Certificates(), []byte("x"), PKCS7Options{})
	sd, err := ParsePKCS7(noCert)
	if err != nil {
		t.Fatal(err)
	}
	sd.Signers[0].Certificate = nil
	if _, err := sd.Verify([]byte("x")); err == nil {
		t.Fatal("verified without a certificate")
	}
}

// TestPKCS7OpenSSL checks our blocks with openssl cms -verify.
func TestPKCS7OpenSSL(t *testing.T) {
	openssl := testenv.Tool(t, "openssl")
	dir := t.TempDir()
	content := []byte("Signature-Version: 1.0\r\nCreated-By: test\r\n\r\n")
	sfPath := filepath.Join(dir, "x.sf")
	os.WriteFile(sfPath, content, 0o644)
	for name, id := range testIdentities(t) {
		for _, signed := range []bool{false, true} {
			der, err := SignPKCS7(id.Signer, id.Certificates(), content, PKCS7Options{SignedAttributes: signed, KeyAlgorithmOID: !signed, Now: func() time.Time { return testTime }})
			if err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(dir, "x.p7")
			os.WriteFile(p, der, 0o644)
			out, err := exec.Command(openssl, "cms", "-verify", "-binary", "-inform", "DER", "-in", p, "-content", sfPath, "-noverify", "-out", os.DevNull).CombinedOutput()
			if err != nil {
				t.Errorf("%s signed=%v: openssl cms -verify: %v\n%s", name, signed, err, out)
			}
		}
	}
}

func FuzzParsePKCS7(f *testing.F) {
	for _, id := range testIdentities(f) {
		for _, signed := range []bool{false, true} {
			der, err := SignPKCS7(id.Signer, id.Certificates(), []byte("x"), PKCS7Options{SignedAttributes: signed, Now: func() time.Time { return testTime }})
			if err != nil {
				f.Fatal(err)
			}
			f.Add(der)
		}
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		sd, err := ParsePKCS7(der)
		if err != nil {
			return
		}
		_, _ = sd.Verify([]byte("x"))
	})
}
