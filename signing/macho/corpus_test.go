package macho_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/x509"
	"os"
	"path"
	"strings"
	"testing"

	gomacho "github.com/blacktop/go-macho"
	"go.mozilla.org/pkcs7"

	"github.com/storesign/storesign/internal/testenv"
	"github.com/storesign/storesign/signing"
	"github.com/storesign/storesign/signing/macho"
	"github.com/storesign/storesign/signing/signingtest"
)

// ipaFiles returns the files of a corpus IPA by name.
func ipaFiles(t *testing.T, name string) map[string][]byte {
	t.Helper()
	zr, err := zip.OpenReader(testenv.Corpus(t, "ios", name))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	m := map[string][]byte{}
	for _, f := range zr.File {
		if f.FileInfo().IsDir() {
			continue
		}
		b := testenv.ZipFile(t, f)
		m[f.Name] = b
	}
	return m
}

// TestVerifyXcodeSigned verifies the binaries of a real IPA signed by
// Xcode in 2016 (fat armv7+arm64, SHA-1 CodeDirectories, no cdhashes
// attributes yet).
func TestVerifyXcodeSigned(t *testing.T) {
	files := ipaFiles(t, "isign-Test.ipa")
	const app = "Payload/isignTestApp.app/"
	n := 0
	for name, b := range files {
		if !macho.IsMachO(b) {
			continue
		}
		n++
		t.Run(path.Base(name), func(t *testing.T) {
			opts := macho.VerifyOptions{}
			if name == app+"isignTestApp" {
				opts.InfoPlist = files[app+"Info.plist"]
				opts.CodeResources = files[app+"_CodeSignature/CodeResources"]
			}
			info, err := macho.Verify(context.Background(), bytes.NewReader(b), int64(len(b)), opts)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			// The real Apple leaf (with Apple's critical extension)
			// chains to the WWDR intermediate it embeds, at the signing
			// time.
			opts.Roots = embeddedWWDR(t, b)
			if _, err := macho.Verify(context.Background(), bytes.NewReader(b), int64(len(b)), opts); err != nil {
				t.Errorf("Verify with the WWDR intermediate as root: %v", err)
			}
			for _, s := range info.Slices {
				t.Logf("%s: %s team %q %v cdhash %x authority %q", s.Arch, s.Identifier, s.TeamID, s.HashTypes, s.CDHash.Primary, s.Authority)
				if s.Identifier == "" || len(s.Authority) == 0 || !strings.HasPrefix(s.Authority[0], "iPhone Developer") {
					t.Errorf("%s: %+v", s.Arch, s)
				}
			}
		})
	}
	if n != 9 {
		t.Errorf("found %d Mach-O files, want 9", n)
	}
}

// TestSignXcodeBuilt signs the real binaries Xcode built (unsigned thin
// arm64 and fat armv7+arm64; and signed by Xcode) and checks them
// independently.
func TestSignXcodeBuilt(t *testing.T) {
	for _, tt := range []struct{ ipa, app string }{
		{"isign-Test-unsigned-thin.ipa", "Payload/Test.app/"},
		{"isign-Test-unsigned-fat.ipa", "Payload/Test.app/"},
		{"isign-Test.ipa", "Payload/isignTestApp.app/"},
	} {
		t.Run(tt.ipa, func(t *testing.T) {
			files := ipaFiles(t, tt.ipa)
			in := files[tt.app+"isignTestApp"]
			if in == nil {
				t.Fatal("no main executable")
			}
			out, res := signBytes(t, in, macho.SignOptions{
				Entitlements: testEntitlements,
				InfoPlist:    files[tt.app+"Info.plist"],
			})
			types := []string{"sha1", "sha256"} // minimum iOS 9
			checkIndependently(t, out, expect{identifier: testIdentifier, teamID: testTeam, hashTypes: types, execSegFlags: 1,
				info: files[tt.app+"Info.plist"], entitlements: testEntitlements, derEntitlements: true})
			verifyBytes(t, out, macho.VerifyOptions{InfoPlist: files[tt.app+"Info.plist"]})
			var arches []string
			for _, h := range res.CDHashes {
				arches = append(arches, h.Arch)
			}
			t.Logf("arches %v, %d -> %d bytes", arches, len(in), len(out))
			if _, err := gomacho.NewFile(bytes.NewReader(out)); err != nil && len(arches) == 1 {
				t.Error(err)
			}
		})
	}
}

// TestSignCorpusIdentity signs with the self-signed "Apple Distribution"
// identity from rcodesign's test data, loaded from its .p12.
func TestSignCorpusIdentity(t *testing.T) {
	p12, err := os.ReadFile(testenv.Corpus(t, "ios", "self-signed-rsa-apple-distribution.p12"))
	if err != nil {
		t.Fatal(err)
	}
	id, err := signing.LoadPKCS12(p12, "password")
	if err != nil {
		t.Fatal(err)
	}
	in := signingtest.IOSMachO(t, "arm64", "15.0")
	out, res := signBytes(t, in, macho.SignOptions{Identity: id, Entitlements: testEntitlements})
	if !strings.Contains(res.DesignatedRequirement, `" and certificate root = H"`) {
		t.Errorf("designated requirement %q", res.DesignatedRequirement)
	}
	roots := x509.NewCertPool()
	roots.AddCert(id.Certificate)
	info := verifyBytes(t, out, macho.VerifyOptions{Roots: roots})
	t.Logf("%+v", info.Slices[0].Authority)
}

// embeddedWWDR returns a pool with the Apple WWDR certificate embedded in
// the first slice's CMS signature.
func embeddedWWDR(t *testing.T, b []byte) *x509.CertPool {
	t.Helper()
	imgs, _ := slices(t, b)
	f, err := gomacho.NewFile(bytes.NewReader(imgs[0]))
	if err != nil {
		t.Fatal(err)
	}
	p7, err := pkcs7.Parse(f.CodeSignature().CMSSignature)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	for _, c := range p7.Certificates {
		if c.Subject.CommonName == "Apple Worldwide Developer Relations Certification Authority" {
			pool.AddCert(c)
			return pool
		}
	}
	t.Fatal("no WWDR certificate embedded")
	return nil
}
