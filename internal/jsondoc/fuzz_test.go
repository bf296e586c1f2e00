package jsondoc

import (
	"crypto/x509"
	"testing"

	"github.com/storesign/storesign/signing/signingtest"
)

// FuzzDistinguishedName checks that any DER name formats without a
// panic.
func FuzzDistinguishedName(f *testing.F) {
	apple := signingtest.NewApple(signingtest.AppleOptions{})
	for _, c := range []*x509.Certificate{apple.Identity.Certificate, apple.WWDR.Certificate, signingtest.SelfSigned("fuzz", nil).Certificate} {
		f.Add(c.RawSubject)
		f.Add(c.RawIssuer)
	}
	f.Add([]byte{0x30, 0x00})
	f.Fuzz(func(t *testing.T, der []byte) {
		_ = distinguishedName(der)
	})
}
