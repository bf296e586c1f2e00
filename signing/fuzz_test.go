package signing_test

import (
	"testing"

	"github.com/storesign/storesign/signing"
	"github.com/storesign/storesign/signing/signingtest"
)

// FuzzLoadKeystore feeds arbitrary bytes to the keystore, key and
// certificate parsers: they may fail, never panic.
func FuzzLoadKeystore(f *testing.F) {
	id := signingtest.SelfSigned("fuzz", nil)
	f.Add(signingtest.JKS(id, "a", "pw", "pw"))
	f.Add(signingtest.PKCS12(id, "pw"))
	f.Add(signingtest.PKCS12Legacy(id, "pw"))
	f.Add(signingtest.KeyPKCS8(id))
	f.Add(signingtest.CertPEM(id.Certificate))
	f.Add([]byte{0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = signing.LoadKeystore(data, signing.KeystoreOptions{StorePassword: "pw"})
		_, _ = signing.LoadKeystore(data, signing.KeystoreOptions{Type: signing.TypeJKS, StorePassword: "pw", Alias: "a"})
		_, _ = signing.ParsePrivateKey(data)
		_, _ = signing.ParseCertificates(data)
	})
}
