package macho

import (
	"archive/zip"
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

	"github.com/storesign/storesign/internal/cms"
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

// TestCMSSigned checks the signed blobs: our parser and openssl cms
// -verify accept them, they carry one signing time, the injected one,
// the estimate bounds their size, and an opaque RSA signer gives the
// same bytes.
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
	p7, err := parseSignature(b)
	if err != nil {
		t.Fatalf("parsing: %v", err)
	}
	p7.Content = in.primaryCD
	if err := p7.Verify(); err != nil {
		t.Errorf("Verify: %v", err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(apple.Root.Certificate)
	acceptAppleExtensions(p7.Certificates)
	if err := p7.VerifyWithChainAtTime(roots, cmsNow); err != nil {
		t.Errorf("VerifyWithChainAtTime: %v", err)
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
	if len(p7.Certificates) != len(in.certs) || p7.GetOnlySigner() == nil || !p7.GetOnlySigner().Equal(in.certs[0]) {
		t.Errorf("%d certificates embedded, want %d, and the leaf", len(p7.Certificates), len(in.certs))
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
	p7.Content = bad
	if err := p7.Verify(); err == nil {
		t.Error("Verify accepts another CodeDirectory")
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
	// 9.2: each SEQUENCE { OID, OCTET STRING }, SHA-1 first (DER order,
	// also in the signature: see TestCMSLikeCodesign).
	want := [][]byte{
		append([]byte{0x30, 0x1d, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x04, 0x14}, sha1sum...),
		append([]byte{0x30, 0x2d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x04, 0x20}, sha256sum[:]...),
	}
	if got := attrs[1].Values; len(got) != 2 || !bytes.Equal(got[0], want[0]) || !bytes.Equal(got[1], want[1]) {
		t.Errorf("9.2 values\n got %x\nwant %x", got, want)
	}
	var plist []byte
	if err := attrs[0].Value(&plist); err != nil {
		t.Fatal(err)
	}
	if s := string(plist); !strings.Contains(s, "<key>cdhashes</key>") || strings.Count(s, "<data>") != 2 || !strings.HasSuffix(s, "</plist>\n") {
		t.Errorf("9.1 plist:\n%s", s)
	}
}

// appleCMS is the CMS blob and CodeDirectories of one slice signed by
// Apple's codesign, from the corpus.
type appleCMS struct {
	name    string
	cms     []byte
	cds     [][]byte // slot 0, then the alternates in slot order
	cdTypes []uint8
}

func appleCMSBlobs(t *testing.T, file string) []appleCMS {
	t.Helper()
	p := testenv.Corpus(t, "ios", "apple", file)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	fromBinary := func(name string, data []byte) []appleCMS {
		f, err := parseFile(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return nil
		}
		var out []appleCMS
		for i, s := range f.slices {
			if s.sigCmd < 0 {
				continue
			}
			blobs, err := parseSuperBlob(data[s.offset+int64(s.sigOff) : s.offset+int64(s.sigOff)+int64(s.sigSize)])
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			a := appleCMS{name: name + "#" + strconv.Itoa(i)}
			for _, bl := range blobs {
				switch {
				case bl.slot == slotCodeDirectory || bl.slot >= slotAlternateCD && bl.slot < slotAlternateCD+5:
					a.cds = append(a.cds, bl.data)
					a.cdTypes = append(a.cdTypes, bl.data[37])
				case bl.slot == slotSignature && len(bl.data) > 8:
					a.cms = bl.data[8:]
				}
			}
			if a.cms != nil {
				out = append(out, a)
			}
		}
		return out
	}
	if !strings.HasSuffix(file, ".ipa") {
		return fromBinary(file, b)
	}
	z, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var out []appleCMS
	for _, f := range z.File {
		if f.FileInfo().IsDir() || f.UncompressedSize64 < 4096 {
			continue
		}
		data := testenv.ZipFile(t, f)
		out = append(out, fromBinary(f.Name, data)...)
	}
	return out
}

// TestCMSLikeCodesign builds, from the inputs of each Apple-signed
// signature in the corpus (its certificates, CodeDirectories and signing
// time), the CMS our signer writes, with a throwaway RSA-2048 key in
// place of Apple's, and compares it with codesign's byte for byte but for
// the signature value. Current codesign (2023 Xcode, the App Store) must
// match exactly; codesign of 2020 must match once its two differences
// from current codesign are applied (rsaEncryption renamed
// sha256WithRSAEncryption, the 9.2 values put in DER order). Every
// Apple signature also verifies with our parser over its signed
// attributes as stored, the unsorted 2020 ones included; openssl cms
// -verify takes the current ones (two CodeDirectories too) and refuses
// 2020's, as the corpus README says.
func TestCMSLikeCodesign(t *testing.T) {
	throwaway := signingtest.NewApple(signingtest.AppleOptions{}).Identity.Signer
	for _, c := range []struct {
		file string
		era  string // "current", "2020", or "" (verify only: SHA-1 era)
	}{
		{"deviceagent-2023-dev-sha256.ipa", "current"},
		{"libswiftAccelerate-appstore.dylib", "current"},
		{"permissions-2020-dev-2cd.ipa", "2020"},
		{"simplesaucy-2015-dev-swift.ipa", ""},
	} {
		t.Run(c.file, func(t *testing.T) {
			sigs := appleCMSBlobs(t, c.file)
			if len(sigs) == 0 {
				t.Fatal("no signatures")
			}
			for _, a := range sigs {
				sd, err := cms.Parse(a.cms, cms.ParseOptions{})
				if err != nil {
					t.Fatalf("%s: %v", a.name, err)
				}
				si := sd.Signers[0]
				leaf := sd.SignerCertificate(si)

				// Our verification, over the signed attributes as stored.
				p7, err := parseSignature(a.cms)
				if err != nil {
					t.Fatal(err)
				}
				p7.Content = a.cds[0]
				if err := p7.Verify(); err != nil {
					t.Errorf("%s: Verify: %v", a.name, err)
				}
				if c.era == "" {
					continue
				}
				// openssl re-encodes the signed attributes before checking:
				// it takes current codesign's signatures, not 2020's.
				if err := opensslVerifyNoChain(t, a.cms, a.cds[0]); (err == nil) != (c.era == "current") {
					t.Errorf("%s: openssl cms -verify: %v", a.name, err)
				}
				if err := checkCDHashAttributes(p7, parsedCDs(cmsInput{cds: a.cds, cdTypes: a.cdTypes})); err != nil {
					t.Errorf("%s: %v", a.name, err)
				}

				in := cmsInput{primaryCD: a.cds[0], cds: a.cds, cdTypes: a.cdTypes, signer: throwaway, certs: []*x509.Certificate{leaf}}
				for _, cert := range sd.Certificates {
					if cert != leaf {
						in.certs = append(in.certs, cert)
					}
				}
				if at, _ := si.Attribute(oidSigningTime); at != nil {
					if err := at.Value(&in.time); err != nil {
						t.Fatal(err)
					}
				}
				ours, err := buildCMS(in, false)
				if err != nil {
					t.Fatal(err)
				}
				mine, err := cms.Parse(ours, cms.ParseOptions{})
				if err != nil {
					t.Fatal(err)
				}
				// Apple's signature value in place of ours.
				ourSig := mine.Signers[0].Signature
				if len(ourSig) != len(si.Signature) {
					t.Fatalf("%s: signature of %d bytes, Apple's %d", a.name, len(ourSig), len(si.Signature))
				}
				i := bytes.LastIndex(ours, ourSig)
				copy(ours[i:], si.Signature)

				want := append([]byte(nil), a.cms...)
				if c.era == "2020" {
					want = upgrade2020(t, want, si)
				}
				if !bytes.Equal(ours, want) {
					t.Errorf("%s: our CMS differs from codesign's\n ours %x\napple %x", a.name, ours, want)
				}
			}
		})
	}
}

// opensslVerifyNoChain runs openssl cms -verify on a detached signature
// without checking the chain.
func opensslVerifyNoChain(t *testing.T, sig, content []byte) error {
	t.Helper()
	openssl := testenv.Tool(t, "openssl")
	dir := t.TempDir()
	sp, cp := filepath.Join(dir, "sig.der"), filepath.Join(dir, "content")
	if err := os.WriteFile(sp, sig, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cp, content, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(openssl, "cms", "-verify", "-inform", "DER", "-in", sp, "-binary", "-content", cp, "-noverify", "-out", os.DevNull).CombinedOutput()
	if err != nil {
		return errors.New(strings.TrimSpace(string(out)))
	}
	return nil
}

// upgrade2020 applies to a CMS blob of codesign 2020 what current
// codesign does differently: it names sha256WithRSAEncryption where the
// old one named rsaEncryption, and writes the 9.2 values in DER order.
func upgrade2020(t *testing.T, b []byte, si *cms.SignerInfo) []byte {
	t.Helper()
	rsaEncryption := mustMarshal(cms.OIDRSAEncryption)
	if !si.SignatureAlgorithm.Algorithm.Equal(cms.OIDRSAEncryption) {
		t.Fatalf("codesign 2020 named %v", si.SignatureAlgorithm.Algorithm)
	}
	// The SignerInfo's algorithm is the last rsaEncryption: after it
	// comes only the signature value.
	i := bytes.LastIndex(b, rsaEncryption)
	copy(b[i:], mustMarshal(cms.OIDSHA256WithRSA))
	a, _ := si.Attribute(oidCDHashes)
	if a == nil {
		t.Fatal("no 9.2 attribute")
	}
	stored := bytes.Join(a.Values, nil)
	sorted := append([][]byte(nil), a.Values...)
	if len(sorted) == 2 && bytes.Compare(sorted[0], sorted[1]) > 0 {
		sorted[0], sorted[1] = sorted[1], sorted[0]
	}
	j := bytes.Index(b, stored)
	copy(b[j:], bytes.Join(sorted, nil))
	return b
}

// BenchmarkCMS times one signature per CodeDirectory set.
func BenchmarkCMS(b *testing.B) {
	id := signingtest.NewApple(signingtest.AppleOptions{}).Identity
	in := testCMSInput(id, []uint8{hashTypeSHA256}, cmsNow)
	for b.Loop() {
		if _, err := buildCMS(in, false); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzParseSignature: the code signature's CMS parser never panics, and
// what parses can be verified without panicking.
func FuzzParseSignature(f *testing.F) {
	id := signingtest.NewApple(signingtest.AppleOptions{}).Identity
	for _, ts := range cdTypeSets {
		b, err := buildCMS(testCMSInput(id, ts.types, cmsNow), false)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		p7, err := parseSignature(der)
		if err != nil {
			return
		}
		p7.Content = []byte("cd")
		_ = p7.Verify()
		var v []byte
		_ = p7.UnmarshalSignedAttribute(oidCDHashesPlist, &v)
		if len(p7.Signers) > 0 {
			_ = checkCDHashAttributes(p7, []*parsedCD{{raw: []byte("cd"), hashType: hashTypeSHA256}})
		}
		_ = authority(p7)
	})
}
