package cms_test

import (
	"bytes"
	"crypto"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/storesign/storesign/internal/cms"
	"github.com/storesign/storesign/internal/limits"
	"github.com/storesign/storesign/internal/testenv"
	"github.com/storesign/storesign/signing"
	"github.com/storesign/storesign/signing/signingtest"
)

var testTime = time.Date(2026, 5, 17, 10, 30, 0, 0, time.UTC)

func testIdentities() map[string]*signing.Identity {
	ca := signingtest.NewRoot("cms test root")
	return map[string]*signing.Identity{
		"rsa":       signingtest.SelfSigned("cms rsa", nil),
		"ec-p256":   signingtest.SelfSigned("cms ec", signingtest.ECKey("cms ec", elliptic.P256())),
		"ec-p384":   signingtest.SelfSigned("cms ec384", signingtest.ECKey("cms ec384", elliptic.P384())),
		"rsa-chain": ca.Issue(signingtest.CertOptions{Subject: pkix.Name{CommonName: "cms leaf"}}),
	}
}

// The three forms the signers write.
var forms = []struct {
	name string
	opts cms.SignOptions
}{
	{"apksigner", cms.SignOptions{Naming: cms.NameKeyAlgorithm}},
	{"apksigner-sha1", cms.SignOptions{Hash: crypto.SHA1, Naming: cms.NameKeyAlgorithm}},
	{"jarsigner", cms.SignOptions{SignedAttributes: true, SigningTime: testTime, AlgorithmProtection: true}},
	{"jarsigner-sha512", cms.SignOptions{Hash: crypto.SHA512, SignedAttributes: true, AlgorithmProtection: true}},
	{"codesign", cms.SignOptions{SignedAttributes: true, SigningTime: testTime, Indefinite: true, Extra: []cms.Attribute{
		{Type: asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 9, 2}, Values: [][]byte{{0x30, 0x03, 0x04, 0x01, 0x02}, {0x30, 0x03, 0x04, 0x01, 0x01}}},
	}}},
}

func TestSignParseVerify(t *testing.T) {
	content := []byte("Signature-Version: 1.0\r\n\r\n")
	for name, id := range testIdentities() {
		for _, f := range forms {
			t.Run(name+"/"+f.name, func(t *testing.T) {
				der, err := cms.Sign(content, id.Signer, id.Certificates(), f.opts)
				if err != nil {
					t.Fatal(err)
				}
				if got := der[1] == 0x80; got != f.opts.Indefinite {
					t.Errorf("indefinite length = %v", got)
				}
				sd, err := cms.Parse(der, cms.ParseOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if sd.Content != nil || !sd.ContentType.Equal(cms.OIDData) || sd.Version != 1 || len(sd.Signers) != 1 {
					t.Fatalf("content %v type %v version %d signers %d", sd.Content, sd.ContentType, sd.Version, len(sd.Signers))
				}
				if len(sd.Certificates) != len(id.Certificates()) {
					t.Fatalf("%d certificates", len(sd.Certificates))
				}
				for i := 1; i < len(sd.RawCertificates); i++ {
					if bytes.Compare(sd.RawCertificates[i-1], sd.RawCertificates[i]) > 0 {
						t.Error("certificates are not in DER SET OF order")
					}
				}
				si := sd.Signers[0]
				cert := sd.SignerCertificate(si)
				if cert == nil || !cert.Equal(id.Certificate) {
					t.Fatal("SignerCertificate does not find the leaf")
				}
				if err := sd.Verify(si, cert, content); err != nil {
					t.Fatal(err)
				}
				if (si.SignedAttributes != nil) != f.opts.SignedAttributes {
					t.Errorf("signed attributes: %v", si.SignedAttributes)
				}
				if !bytes.Equal(si.DigestAlgorithm.Parameters, []byte{5, 0}) {
					t.Errorf("digest algorithm parameters %x, want NULL", si.DigestAlgorithm.Parameters)
				}
				if f.opts.SignedAttributes {
					var st time.Time
					a, err := si.Attribute(cms.OIDSigningTime)
					if err != nil {
						t.Fatal(err)
					}
					if f.opts.SigningTime.IsZero() != (a == nil) {
						t.Fatalf("signingTime attribute %v", a)
					}
					if a != nil {
						if err := a.Value(&st); err != nil || !st.Equal(testTime) {
							t.Errorf("signing time %v, %v", st, err)
						}
					}
					checkDEROrder(t, si.SignedAttributesDER())
				}
				if err := sd.Verify(si, cert, append([]byte("x"), content...)); !errors.Is(err, cms.ErrSignature) {
					t.Fatalf("tampered content: err = %v", err)
				}
				checkOpenSSL(t, der, content)
			})
		}
	}
}

// checkDEROrder checks that a SET OF attributes and each attribute's
// values are in DER order.
func checkDEROrder(t *testing.T, set []byte) {
	t.Helper()
	var attrs []asn1.RawValue
	rest := set[2:]
	if set[1]&0x80 != 0 {
		rest = set[2+int(set[1]&0x7f):]
	}
	for len(rest) > 0 {
		var a struct {
			Type   asn1.ObjectIdentifier
			Values []asn1.RawValue `asn1:"set"`
		}
		var raw asn1.RawValue
		var err error
		if rest, err = asn1.Unmarshal(rest, &raw); err != nil {
			t.Fatal(err)
		}
		if _, err := asn1.Unmarshal(raw.FullBytes, &a); err != nil {
			t.Fatal(err)
		}
		attrs = append(attrs, raw)
		for i := 1; i < len(a.Values); i++ {
			if bytes.Compare(a.Values[i-1].FullBytes, a.Values[i].FullBytes) > 0 {
				t.Errorf("values of %v not in DER order", a.Type)
			}
		}
	}
	for i := 1; i < len(attrs); i++ {
		if bytes.Compare(attrs[i-1].FullBytes, attrs[i].FullBytes) > 0 {
			t.Error("attributes not in DER order")
		}
	}
}

func checkOpenSSL(t *testing.T, der, content []byte) {
	t.Helper()
	openssl := testenv.Tool(t, "openssl")
	dir := t.TempDir()
	p7 := filepath.Join(dir, "sig.p7")
	data := filepath.Join(dir, "content")
	if err := os.WriteFile(p7, der, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(data, content, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(openssl, "cms", "-verify", "-binary", "-inform", "DER", "-in", p7, "-content", data, "-noverify", "-out", os.DevNull).CombinedOutput()
	if err != nil {
		t.Errorf("openssl cms -verify: %v\n%s", err, out)
	}
}

// TestSignDeterministic: RSA signatures are deterministic, so are the
// blocks, whatever the order of the certificates given.
func TestSignDeterministic(t *testing.T) {
	id := testIdentities()["rsa-chain"]
	opts := cms.SignOptions{SignedAttributes: true, SigningTime: testTime}
	a, err := cms.Sign([]byte("x"), id.Signer, id.Certificates(), opts)
	if err != nil {
		t.Fatal(err)
	}
	certs := id.Certificates()
	reversed := []*x509.Certificate{certs[0]}
	for i := len(certs) - 1; i > 0; i-- {
		reversed = append(reversed, certs[i])
	}
	b, _ := cms.Sign([]byte("x"), id.Signer, reversed, opts)
	if !bytes.Equal(a, b) {
		t.Fatal("signatures differ for the same input and time")
	}
}

// TestSignCodesignLayout pins codesign's layout of the outer layers:
// ContentInfo, [0], SignedData and the empty encapsulated ContentInfo
// with indefinite lengths, SHA-256 with NULL parameters.
func TestSignCodesignLayout(t *testing.T) {
	id := testIdentities()["rsa"]
	der, err := cms.Sign([]byte("cd"), id.Signer, id.Certificates(), forms[4].opts)
	if err != nil {
		t.Fatal(err)
	}
	head := []byte{
		0x30, 0x80, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02, // ContentInfo, signedData
		0xa0, 0x80, 0x30, 0x80, 0x02, 0x01, 0x01, // [0], SignedData, version 1
		0x31, 0x0f, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, // {sha256 NULL}
		0x30, 0x80, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01, 0x00, 0x00, // detached id-data
		0xa0, // certificates
	}
	if !bytes.HasPrefix(der, head) || !bytes.HasSuffix(der, make([]byte, 6)) {
		t.Errorf("layout\n got %x...%x\nwant %x...000000000000", der[:len(head)], der[len(der)-6:], head)
	}
}

func TestSignErrors(t *testing.T) {
	id := testIdentities()["rsa"]
	dsaID := struct{ crypto.Signer }{}
	for name, f := range map[string]func() error{
		"no key":         func() error { _, err := cms.Sign(nil, nil, id.Certificates(), cms.SignOptions{}); return err },
		"no certificate": func() error { _, err := cms.Sign(nil, id.Signer, nil, cms.SignOptions{}); return err },
		"bad hash": func() error {
			_, err := cms.Sign(nil, id.Signer, id.Certificates(), cms.SignOptions{Hash: crypto.MD5})
			return err
		},
		"unknown key": func() error {
			_, err := cms.Sign(nil, opaque{dsaID, "not a key"}, id.Certificates(), cms.SignOptions{})
			return err
		},
	} {
		if err := f(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

type opaque struct {
	crypto.Signer
	pub crypto.PublicKey
}

func (o opaque) Public() crypto.PublicKey { return o.pub }

// TestParseHostile feeds damaged and hostile encodings: each fails with
// ErrMalformed (a LimitError where a limit is passed), fast.
func TestParseHostile(t *testing.T) {
	id := testIdentities()["rsa-chain"]
	good, err := cms.Sign([]byte("x"), id.Signer, id.Certificates(), forms[2].opts)
	if err != nil {
		t.Fatal(err)
	}
	nest := func(n int) []byte { // SEQUENCEs of indefinite length, n deep
		return append(append(bytes.Repeat([]byte{0x30, 0x80}, n), 0x05, 0x00), make([]byte, 2*n)...)
	}
	hugeLen := []byte{0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x00}
	manyCerts := func(n int) []byte {
		// A SignedData with n copies of the leaf, built by hand.
		cert := id.Certificate.Raw
		var certs []byte
		for range n {
			certs = append(certs, cert...)
		}
		return ber(0x30, []byte{0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02},
			ber(0xa0, ber(0x30, []byte{2, 1, 1}, []byte{0x31, 0}, ber(0x30, []byte{0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01}),
				ber(0xa0, certs), []byte{0x31, 0})))
	}
	for _, c := range []struct {
		name  string
		der   []byte
		opts  cms.ParseOptions
		limit bool
	}{
		{"empty", nil, cms.ParseOptions{}, false},
		{"garbage", []byte("not der at all"), cms.ParseOptions{}, false},
		{"truncated", good[:len(good)-10], cms.ParseOptions{}, false},
		{"trailing", append(append([]byte{}, good...), 0), cms.ParseOptions{}, false},
		{"huge length", hugeLen, cms.ParseOptions{}, false},
		{"indefinite primitive", []byte{0x04, 0x80, 0x01, 0x00, 0x00}, cms.ParseOptions{}, false},
		{"unterminated indefinite", []byte{0x30, 0x80, 0x05, 0x00}, cms.ParseOptions{}, false},
		{"deep nesting", nest(100000), cms.ParseOptions{}, true},
		{"nesting past a lower limit", nest(10), cms.ParseOptions{Limits: cms.Limits{MaxDepth: 8}}, true},
		{"too large", good, cms.ParseOptions{Limits: cms.Limits{MaxSize: 100}}, true},
		{"too many certificates", manyCerts(5), cms.ParseOptions{Limits: cms.Limits{MaxCertificates: 4}}, true},
		{"no signers", manyCerts(1), cms.ParseOptions{}, false},
		{"high tag", []byte{0x3f, 0x81, 0x00, 0x00}, cms.ParseOptions{}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			sd, err := cms.Parse(c.der, c.opts)
			if c.name == "no signers" {
				// Parses (a certificate-only message); nothing to verify.
				if err != nil || len(sd.Signers) != 0 {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if !errors.Is(err, cms.ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
			var le *cms.LimitError
			if errors.As(err, &le) != c.limit || errors.Is(err, limits.ErrExceeded) != c.limit {
				t.Errorf("err = %v (%T), limit error %v", err, err, c.limit)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

// ber encodes a definite-length element (test helper).
func ber(tag byte, parts ...[]byte) []byte {
	content := bytes.Join(parts, nil)
	n := len(content)
	switch {
	case n < 0x80:
		return append([]byte{tag, byte(n)}, content...)
	case n < 0x100:
		return append([]byte{tag, 0x81, byte(n)}, content...)
	default:
		return append([]byte{tag, 0x82, byte(n >> 8), byte(n)}, content...)
	}
}

// TestParseCertificateHook: the parse hook sees every certificate, and
// its errors fail the parse.
func TestParseCertificateHook(t *testing.T) {
	id := testIdentities()["rsa-chain"]
	der, _ := cms.Sign([]byte("x"), id.Signer, id.Certificates(), cms.SignOptions{})
	n := 0
	_, err := cms.Parse(der, cms.ParseOptions{ParseCertificate: func(b []byte) (*x509.Certificate, error) {
		n++
		return x509.ParseCertificate(b)
	}})
	if err != nil || n != len(id.Certificates()) {
		t.Fatalf("%d calls, %v", n, err)
	}
	_, err = cms.Parse(der, cms.ParseOptions{ParseCertificate: func([]byte) (*x509.Certificate, error) { return nil, errors.New("no") }})
	if !errors.Is(err, cms.ErrMalformed) || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("err = %v", err)
	}
}

func TestMaxSignatureSize(t *testing.T) {
	for name, id := range testIdentities() {
		der, err := cms.Sign([]byte("x"), id.Signer, id.Certificates()[:1], cms.SignOptions{})
		if err != nil {
			t.Fatal(err)
		}
		sd, err := cms.Parse(der, cms.ParseOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if n, max := len(sd.Signers[0].Signature), cms.MaxSignatureSize(id.Signer.Public()); n > max {
			t.Errorf("%s: signature of %d bytes, bound %d", name, n, max)
		}
	}
}

// sha256Sum is a helper for the corpus tests.
func sha256Sum(b []byte) []byte {
	s := sha256.Sum256(b)
	return s[:]
}
