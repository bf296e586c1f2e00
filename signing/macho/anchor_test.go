package macho

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/storesign/storesign/signing/signingtest"
)

// A signature that embeds Apple Root CA (recognised by its fingerprint;
// here a throwaway root stands in for it) has its chain checked without
// VerifyOptions.Roots; one whose chain does not lead to it is refused.
func TestVerifyAppleRootPin(t *testing.T) {
	apple := signingtest.NewApple(signingtest.AppleOptions{})
	other := signingtest.NewRoot("Impostor Root CA")
	pin := func(c *x509.Certificate) string {
		sum := sha256.Sum256(c.Raw)
		return hex.EncodeToString(sum[:])
	}
	in := signingtest.IOSMachO(t, "arm64", "15.0")
	sign := func(chain []*x509.Certificate) []byte {
		var out bytes.Buffer
		opts := SignOptions{Identity: apple.Identity, Chain: chain, Identifier: "com.example.app", Now: func() time.Time { return cmsNow }}
		if _, err := Sign(context.Background(), bytes.NewReader(in), int64(len(in)), &out, opts); err != nil {
			t.Fatal(err)
		}
		return out.Bytes()
	}
	verify := func(b []byte, opts VerifyOptions) (string, error) {
		info, err := Verify(context.Background(), bytes.NewReader(b), int64(len(b)), opts)
		if err != nil {
			return "", err
		}
		return info.Slices[0].Anchor, nil
	}
	withRoot := sign([]*x509.Certificate{apple.WWDR.Certificate, apple.Root.Certificate})
	for _, tt := range []struct {
		name string
		opts VerifyOptions
		want string
	}{
		{"embedded root pinned", VerifyOptions{appleRootSHA256: pin(apple.Root.Certificate)}, AnchorApple},
		{"not Apple's root", VerifyOptions{}, ""},
		{"roots given", VerifyOptions{Roots: apple.Root.Pool()}, AnchorRoots},
	} {
		got, err := verify(withRoot, tt.opts)
		if err != nil || got != tt.want {
			t.Errorf("%s: anchor %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
	// Another root, pinned, embedded beside a chain it did not issue.
	wrong := sign([]*x509.Certificate{apple.WWDR.Certificate, other.Certificate})
	if _, err := verify(wrong, VerifyOptions{appleRootSHA256: pin(other.Certificate)}); err == nil || !strings.Contains(err.Error(), "does not lead to Apple Root CA") {
		t.Errorf("chain not issued by the pinned root: %v", err)
	}
	// The real fingerprint is Apple Root CA's (2006), as codesign embeds it.
	if appleRootCASHA256 != "b0b1730ecbc7ff4505142c49f1295e6eda6bcaed7e2c68c5be91b5a11001f024" {
		t.Error("Apple Root CA fingerprint changed")
	}
}
