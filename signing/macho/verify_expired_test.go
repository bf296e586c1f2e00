package macho

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/storesign/storesign/signing/signingtest"
)

// A sound signature whose certificate is out of date at VerifyOptions.Now
// fails with an *ExpiredError, and Verify still describes it in full, its
// chain checked at the signing time; a chain that does not hold at all
// fails with ErrBadSignature, the signature still described.
func TestVerifyExpiredDescribed(t *testing.T) {
	notBefore := signingtest.Epoch
	notAfter := notBefore.Add(365 * 24 * time.Hour)
	apple := signingtest.NewApple(signingtest.AppleOptions{NotBefore: notBefore, NotAfter: notAfter})
	leaf := apple.Identity.Certificate
	sum := sha256.Sum256(apple.Root.Certificate.Raw)
	pin := hex.EncodeToString(sum[:])
	signed := notBefore.Add(10 * 24 * time.Hour)
	later := notAfter.Add(24 * time.Hour)
	at := func(t time.Time) func() time.Time { return func() time.Time { return t } }

	for _, archs := range [][]string{{"arm64"}, {"arm64", "arm64e"}} {
		in := signingtest.IOSBinary(signingtest.IOSBinaryOptions{Archs: archs})
		var out bytes.Buffer
		if _, err := Sign(context.Background(), bytes.NewReader(in), int64(len(in)), &out, SignOptions{
			Identity: apple.Identity, Chain: []*x509.Certificate{apple.WWDR.Certificate, apple.Root.Certificate},
			Identifier: "com.example.app", Now: at(signed),
		}); err != nil {
			t.Fatal(err)
		}
		b := out.Bytes()
		verify := func(opts VerifyOptions) (*Info, error) {
			return Verify(context.Background(), bytes.NewReader(b), int64(len(b)), opts)
		}
		name := strings.Join(archs, "+")
		for _, tt := range []struct {
			name   string
			opts   VerifyOptions
			anchor string
		}{
			{"roots given", VerifyOptions{Roots: apple.Root.Pool(), Now: at(later)}, AnchorRoots},
			{"embedded Apple root", VerifyOptions{appleRootSHA256: pin, Now: at(later)}, AnchorApple},
			{"not yet valid", VerifyOptions{Roots: apple.Root.Pool(), Now: at(notBefore.Add(-time.Hour))}, AnchorRoots},
		} {
			info, err := verify(tt.opts)
			var ee *ExpiredError
			if !errors.As(err, &ee) {
				t.Fatalf("%s: %s: %v, want an *ExpiredError", name, tt.name, err)
			}
			if errors.Is(err, ErrBadSignature) {
				t.Errorf("%s: %s: an out-of-date certificate reads as a bad signature: %v", name, tt.name, err)
			}
			if !ee.Leaf || !ee.Certificate.Equal(leaf) {
				t.Errorf("%s: %s: out of date: %q (leaf %v)", name, tt.name, ee.Certificate.Subject.CommonName, ee.Leaf)
			}
			want := `the signing certificate "` + leaf.Subject.CommonName + `" is valid from ` + notBefore.Format(time.DateOnly) + " to " + notAfter.Format(time.DateOnly) + " only"
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: %s: %v, want %q", name, tt.name, err, want)
			}
			if info == nil || len(info.Slices) != len(archs) {
				t.Fatalf("%s: %s: info %+v, want %d slices", name, tt.name, info, len(archs))
			}
			for _, s := range info.Slices {
				if s.Identifier != "com.example.app" || len(s.CDHash.Primary) != 20 || len(s.Authority) != 3 ||
					s.Certificate == nil || s.Anchor != tt.anchor || !s.SigningTime.Equal(signed) {
					t.Errorf("%s: %s: %s: identifier %q cdhash %x authority %q anchor %q signed %v", name, tt.name, s.Arch,
						s.Identifier, s.CDHash.Primary, s.Authority, s.Anchor, s.SigningTime)
				}
			}
		}
		// At the signing time (Now nil) it verifies.
		if _, err := verify(VerifyOptions{Roots: apple.Root.Pool()}); err != nil {
			t.Errorf("%s: at the signing time: %v", name, err)
		}
		// Another root: the chain does not hold whenever it is checked;
		// the signature is described all the same.
		other := signingtest.NewRoot("Other Root CA")
		info, err := verify(VerifyOptions{Roots: other.Pool(), Now: at(later)})
		var ee *ExpiredError
		if !errors.Is(err, ErrBadSignature) || errors.As(err, &ee) {
			t.Errorf("%s: another root: %v, want ErrBadSignature", name, err)
		}
		if info == nil || len(info.Slices) != len(archs) || info.Slices[0].Identifier != "com.example.app" || info.Slices[0].Anchor != "" {
			t.Errorf("%s: another root: info %+v", name, info)
		}
	}
}
