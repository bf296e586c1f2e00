package provision_test

import (
	"bytes"
	"crypto/x509"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/storesign/storesign/internal/testenv"
	"github.com/storesign/storesign/signing/provision"
	"github.com/storesign/storesign/signing/signingtest"
)

func TestCorpusAppStoreProfile(t *testing.T) {
	data, err := os.ReadFile(testenv.Corpus(t, "ios", "apple-appstore-expired.mobileprovision"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := provision.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"Name": "tools.fastlane.app AppStore", "UUID": "98264c6b-5151-4349-8d0f-66691e48ae35",
		"TeamID": "439BBM9367", "AppID": "439BBM9367.tools.fastlane.app", "Kind": "app-store",
		"Signer": "Apple iPhone OS Provisioning Profile Signing", "Pattern": "tools.fastlane.app",
	}
	got := map[string]string{
		"Name": p.Name, "UUID": p.UUID, "TeamID": p.TeamID, "AppID": p.ApplicationIdentifier,
		"Kind": p.Kind.String(), "Signer": p.Signer.Subject.CommonName, "Pattern": p.BundleIDPattern(),
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if len(p.DeveloperCertificates) != 1 || p.DeveloperCertificates[0].Subject.CommonName != "iPhone Distribution: Felix Krause (439BBM9367)" {
		t.Errorf("developer certificates: %v", p.DeveloperCertificates)
	}
	if !p.ExpirationDate.Equal(time.Date(2016, 11, 7, 20, 58, 52, 0, time.UTC)) {
		t.Errorf("expiration %v", p.ExpirationDate)
	}
	if err := p.CheckValid(time.Now()); !errors.Is(err, provision.ErrExpired) {
		t.Errorf("CheckValid(now) = %v, want ErrExpired", err)
	}
	if err := p.CheckValid(time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Errorf("CheckValid(2016) = %v", err)
	}
	// Apple's root is not ours: the chain must not verify against a test root.
	apple := signingtest.NewApple(signingtest.AppleOptions{})
	if err := p.VerifyChain(apple.Root.Pool(), time.Time{}); err == nil {
		t.Error("VerifyChain against a test root succeeded")
	}
	// One flipped byte in the plist: the CMS signature must fail.
	i := bytes.Index(data, []byte("fastlane test app"))
	bad := bytes.Clone(data)
	bad[i] ^= 0x20
	if _, err := provision.Parse(bad); !errors.Is(err, provision.ErrBadSignature) {
		t.Errorf("Parse(altered) = %v, want ErrBadSignature", err)
	}
}

func TestKinds(t *testing.T) {
	apple := signingtest.NewApple(signingtest.AppleOptions{})
	for _, kind := range []string{"app-store", "ad-hoc", "development", "enterprise"} {
		t.Run(kind, func(t *testing.T) {
			p, err := provision.Parse(apple.Profile(signingtest.ProfileOptions{Kind: kind, AppID: "com.example.app"}))
			if err != nil {
				t.Fatal(err)
			}
			if p.Kind.String() != kind {
				t.Errorf("kind %v, want %s", p.Kind, kind)
			}
			if p.TeamID != "ABCDE12345" || p.ApplicationIdentifier != "ABCDE12345.com.example.app" {
				t.Errorf("team %q app id %q", p.TeamID, p.ApplicationIdentifier)
			}
			if err := p.VerifyChain(apple.Root.Pool(), time.Time{}); err != nil {
				t.Errorf("VerifyChain: %v", err)
			}
			if err := p.CheckCertificate(apple.Identity.Certificate); err != nil {
				t.Error(err)
			}
			other := signingtest.NewApple(signingtest.AppleOptions{TeamID: "ZZZZZ99999", Key: signingtest.RSAKey("other", 2048)})
			if err := p.CheckCertificate(other.Identity.Certificate); !errors.Is(err, provision.ErrCertificateNotInProfile) {
				t.Errorf("CheckCertificate(other) = %v", err)
			}
		})
	}
}

func TestVerifyChainWrongRoot(t *testing.T) {
	apple := signingtest.NewApple(signingtest.AppleOptions{})
	p, err := provision.Parse(apple.Profile(signingtest.ProfileOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	other := signingtest.NewRoot("Not Apple")
	if err := p.VerifyChain(other.Pool(), time.Time{}); !errors.Is(err, provision.ErrBadSignature) {
		t.Errorf("VerifyChain(other root) = %v", err)
	}
}

func TestMatch(t *testing.T) {
	apple := signingtest.NewApple(signingtest.AppleOptions{})
	mk := func(appID string) *provision.Profile {
		p, err := provision.Parse(apple.Profile(signingtest.ProfileOptions{AppID: appID, Name: appID}))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	all := []*provision.Profile{mk("*"), mk("com.example.*"), mk("com.example.app.*"), mk("com.example.app"), mk("com.other.app")}
	tests := []struct{ bundle, want string }{
		{"com.example.app", "com.example.app"},
		{"com.example.app.widget", "com.example.app.*"},
		{"com.example.other", "com.example.*"},
		{"org.unrelated", "*"},
		{"com.other.app", "com.other.app"},
	}
	for _, tt := range tests {
		p, err := provision.Match(all, tt.bundle)
		if err != nil {
			t.Errorf("Match(%s): %v", tt.bundle, err)
			continue
		}
		if p.Name != tt.want {
			t.Errorf("Match(%s) = %s, want %s", tt.bundle, p.Name, tt.want)
		}
	}
	_, err := provision.Match(all[3:], "com.example.app.widget")
	var npe *provision.NoProfileError
	if !errors.As(err, &npe) || npe.BundleID != "com.example.app.widget" || len(npe.Tried) != 2 {
		t.Fatalf("Match(missing) = %v", err)
	}
	const want = "provision: the provisioning profile for com.example.app.widget is missing: pass one whose application-identifier matches ABCDE12345.com.example.app.widget (tried ABCDE12345.com.example.app, ABCDE12345.com.other.app)"
	if err.Error() != want {
		t.Errorf("error:\n%s\nwant\n%s", err, want)
	}
}

func TestBadInput(t *testing.T) {
	apple := signingtest.NewApple(signingtest.AppleOptions{})
	for name, data := range map[string][]byte{
		"empty":       nil,
		"garbage":     []byte("hello, world"),
		"plain plist": apple.ProfilePlist(signingtest.ProfileOptions{}),
		"not a plist": apple.SignProfile([]byte("not a plist")),
		"no app id":   apple.SignProfile([]byte(`<?xml version="1.0"?><plist version="1.0"><dict><key>UUID</key><string>x</string></dict></plist>`)),
	} {
		if _, err := provision.Parse(data); !errors.Is(err, provision.ErrNotProfile) {
			t.Errorf("%s: Parse = %v, want ErrNotProfile", name, err)
		}
	}
}

// TestOpenSSL checks the test profiles with openssl cms -verify against the
// fake Apple root.
func TestOpenSSL(t *testing.T) {
	openssl := testenv.Tool(t, "openssl")
	apple := signingtest.NewApple(signingtest.AppleOptions{})
	dir := t.TempDir()
	prof := filepath.Join(dir, "p.mobileprovision")
	root := filepath.Join(dir, "root.pem")
	content := apple.ProfilePlist(signingtest.ProfileOptions{Kind: "ad-hoc"})
	os.WriteFile(prof, apple.SignProfile(content), 0o600)
	os.WriteFile(root, signingtest.CertPEM(apple.Root.Certificate), 0o600)
	out, err := exec.Command(openssl, "cms", "-verify", "-inform", "DER", "-in", prof, "-CAfile", root, "-purpose", "any").Output()
	if err != nil {
		t.Fatalf("openssl cms -verify: %v", err)
	}
	if !bytes.Equal(out, content) {
		t.Error("openssl's content differs from the plist")
	}
}

func FuzzParse(f *testing.F) {
	apple := signingtest.NewApple(signingtest.AppleOptions{})
	f.Add(apple.Profile(signingtest.ProfileOptions{}))
	f.Add(apple.Profile(signingtest.ProfileOptions{Kind: "development", Entitlements: map[string]any{"x": []any{1, "y", true}}}))
	if data, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "corpus", "ios", "apple-appstore-expired.mobileprovision")); err == nil {
		f.Add(data)
	}
	for _, c := range hostileProfiles(apple) {
		if len(c.data) <= 64<<10 {
			f.Add(c.data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := provision.Parse(data)
		if err != nil {
			return
		}
		p.BundleIDPattern()
		p.Score("com.example.app")
		_ = p.CheckCertificate(&x509.Certificate{})
	})
}

func FuzzParsePlist(f *testing.F) {
	apple := signingtest.NewApple(signingtest.AppleOptions{})
	f.Add(apple.ProfilePlist(signingtest.ProfileOptions{}))
	f.Add([]byte("bplist00"))
	f.Add([]byte("<plist>" + strings.Repeat("<array>", 300) + strings.Repeat("</array>", 300) + "</plist>"))
	f.Add([]byte(strings.Repeat("(", 300) + strings.Repeat(")", 300)))
	f.Fuzz(func(t *testing.T, data []byte) {
		if p, err := provision.ParsePlist(data); err == nil {
			p.Score("a.b")
		}
	})
}
