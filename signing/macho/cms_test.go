package macho

import (
	"bytes"
	"crypto"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.mozilla.org/pkcs7"

	"github.com/storesign/storesign/internal/testenv"
	"github.com/storesign/storesign/signing"
	"github.com/storesign/storesign/signing/signingtest"
)

// opaqueSigner hides the key's type, as a KMS or HSM signer does.
type opaqueSigner struct{ crypto.Signer }

var cmsNow = signingtest.Epoch.Add(400 * 24 * time.Hour)

type cmsCase struct {
	name  string
	apple *signingtest.Apple
}

func cmsCases() []cmsCase {
	return []cmsCase{
		{"rsa-2048", signingtest.NewApple(signingtest.AppleOptions{})},
		{"ecdsa-p256", signingtest.NewApple(signingtest.AppleOptions{Key: signingtest.ECKey("macho cms p256", elliptic.P256())})},
		{"ecdsa-p384", signingtest.NewApple(signingtest.AppleOptions{Key: signingtest.ECKey("macho cms p384", elliptic.P384())})},
	}
}

// testCMSInput returns made-up CodeDirectories of the given hash types,
// signed by id.
func testCMSInput(id *signing.Identity, types []uint8, now time.Time) cmsInput {
	in := cmsInput{certs: append([]*x509.Certificate{id.Certificate}, id.Chain...), signer: id.Signer, time: now, cdTypes: types}
	for i := range types {
		cd := bytes.Repeat([]byte{byte(0x10 + i)}, 300+100*i)
		in.cds = append(in.cds, cd)
	}
	in.primaryCD = in.cds[0]
	return in
}

var cdTypeSets = []struct {
	name  string
	types []uint8
}{
	{"sha256", []uint8{hashTypeSHA256}},
	{"sha1+sha256", []uint8{hashTypeSHA1, hashTypeSHA256}},
}

// TestCMSMatchesPKCS7 checks that the signature written for signers
// pkcs7 does not take, and the size estimate, are the structure pkcs7
// writes, byte for byte but for the signature value.
func TestCMSMatchesPKCS7(t *testing.T) {
	// A stand-in for the signature over the signed attributes, the same
	// in both builders.
	fakeSign := func(digest []byte) ([]byte, error) {
		return bytes.Repeat(digest, 3), nil
	}
	for _, c := range cmsCases() {
		for _, ts := range cdTypeSets {
			for _, now := range []time.Time{cmsNow, time.Date(2051, 3, 4, 5, 6, 7, 0, time.UTC)} {
				t.Run(c.name+"/"+ts.name+"/"+now.Format("2006"), func(t *testing.T) {
					in := testCMSInput(c.apple.Identity, ts.types, now)
					extra := appleAttributes(in)
					lib, err := pkcs7SignedData(in, extra, fakeSign)
					if err != nil {
						t.Fatal(err)
					}
					own, err := derSignedData(in, extra, fakeSign)
					if err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(lib, own) {
						t.Errorf("derSignedData differs from pkcs7:\npkcs7 %x\nours  %x", lib, own)
					}
				})
			}
		}
	}
}

// TestCMSSigned checks the signed blobs of both builders: pkcs7 and
// openssl cms -verify accept them, they carry one signing time, the
// injected one, and the estimate bounds their size.
func TestCMSSigned(t *testing.T) {
	openssl := testenv.Tool(t, "openssl")
	for _, c := range cmsCases() {
		for _, ts := range cdTypeSets {
			t.Run(c.name+"/"+ts.name, func(t *testing.T) {
				in := testCMSInput(c.apple.Identity, ts.types, cmsNow)
				estimate, err := buildCMS(in, true)
				if err != nil {
					t.Fatal(err)
				}
				var blobs [][]byte
				for _, signer := range []crypto.Signer{in.signer, opaqueSigner{in.signer}} {
					in.signer = signer
					b, err := buildCMS(in, false)
					if err != nil {
						t.Fatalf("%T: %v", signer, err)
					}
					blobs = append(blobs, b)
					if len(b) > len(estimate) {
						t.Errorf("%T: %d bytes, estimate %d", signer, len(b), len(estimate))
					}
					checkCMSBlob(t, openssl, c.apple, in, b)
				}
				if c.name == "rsa-2048" && !bytes.Equal(blobs[0], blobs[1]) {
					t.Error("an opaque RSA signer gives other bytes than the *rsa.PrivateKey")
				}
			})
		}
	}
}

func checkCMSBlob(t *testing.T, openssl string, apple *signingtest.Apple, in cmsInput, b []byte) {
	t.Helper()
	p7, err := pkcs7.Parse(b)
	if err != nil {
		t.Fatalf("parsing: %v", err)
	}
	p7.Content = in.primaryCD
	if err := p7.Verify(); err != nil {
		t.Errorf("pkcs7 Verify: %v", err)
	}
	times := 0
	for _, a := range p7.Signers[0].AuthenticatedAttributes {
		if a.Type.Equal(oidSigningTime) {
			times++
		}
	}
	var st time.Time
	if err := p7.UnmarshalSignedAttribute(oidSigningTime, &st); err != nil || times != 1 || !st.Equal(cmsNow) {
		t.Errorf("%d signing times, %v (%v), want one, %v", times, st, err, cmsNow)
	}
	if err := checkCDHashAttributes(p7, parsedCDs(in)); err != nil {
		t.Error(err)
	}
	if len(p7.Certificates) != len(in.certs) || !p7.Certificates[0].Equal(in.certs[0]) {
		t.Errorf("%d certificates embedded, want %d, leaf first", len(p7.Certificates), len(in.certs))
	}

	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	root := write("root.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: apple.Root.Certificate.Raw}))
	sig := write("sig.der", b)
	verify := func(content []byte) error {
		out, err := exec.Command(openssl, "cms", "-verify", "-inform", "DER", "-in", sig, "-binary", "-content", write("cd.bin", content),
			"-CAfile", root, "-purpose", "any", "-ignore_critical", "-attime", strconv.FormatInt(cmsNow.Unix(), 10), "-out", os.DevNull).CombinedOutput()
		if err != nil {
			return errors.New(strings.TrimSpace(string(out)))
		}
		return nil
	}
	if err := verify(in.primaryCD); err != nil {
		t.Errorf("openssl cms -verify: %v", err)
	}
	bad := append([]byte(nil), in.primaryCD...)
	bad[0] ^= 1
	if err := verify(bad); err == nil {
		t.Error("openssl cms -verify accepts another CodeDirectory")
	}
}

func parsedCDs(in cmsInput) []*parsedCD {
	var cds []*parsedCD
	for i, cd := range in.cds {
		cds = append(cds, &parsedCD{raw: cd, hashType: in.cdTypes[i]})
	}
	return cds
}

// TestCMSAttributes pins the encoding of Apple's two attributes.
func TestCMSAttributes(t *testing.T) {
	in := testCMSInput(signingtest.NewApple(signingtest.AppleOptions{}).Identity, []uint8{hashTypeSHA1, hashTypeSHA256}, cmsNow)
	attrs := appleAttributes(in)
	if !attrs[0].Type.Equal(oidCDHashesPlist) || !attrs[1].Type.Equal(oidCDHashes) {
		t.Fatalf("attribute types %v %v", attrs[0].Type, attrs[1].Type)
	}
	sha1sum := sum(hashTypeSHA1, in.cds[0])
	sha256sum := sha256.Sum256(in.cds[1])
	// 9.2: SHA-1 first (DER order), each SEQUENCE { OID, OCTET STRING }.
	want := append(append([]byte{0x30, 0x1d, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x04, 0x14}, sha1sum...),
		append([]byte{0x30, 0x2d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x04, 0x20}, sha256sum[:]...)...)
	if got := mustMarshal(attrs[1].Value); !bytes.Equal(got, want) {
		t.Errorf("9.2 values\n got %x\nwant %x", got, want)
	}
	plist := string(attrs[0].Value.([]byte))
	if !strings.Contains(plist, "<key>cdhashes</key>") || strings.Count(plist, "<data>") != 2 || !strings.HasSuffix(plist, "</plist>\n") {
		t.Errorf("9.1 plist:\n%s", plist)
	}
}

// BenchmarkCMS times one signature per CodeDirectory set: pkcs7 signs
// twice (its own time, then the injected one), the other builder once.
func BenchmarkCMS(b *testing.B) {
	id := signingtest.NewApple(signingtest.AppleOptions{}).Identity
	in := testCMSInput(id, []uint8{hashTypeSHA256}, cmsNow)
	for _, s := range []struct {
		name   string
		signer crypto.Signer
	}{{"pkcs7", id.Signer}, {"der", opaqueSigner{id.Signer}}} {
		b.Run(s.name, func(b *testing.B) {
			in.signer = s.signer
			for b.Loop() {
				if _, err := buildCMS(in, false); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
