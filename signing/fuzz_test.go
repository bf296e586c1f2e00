package signing_test

import (
	"strings"
	"testing"

	"github.com/storesign/storesign/signing"
	"github.com/storesign/storesign/signing/signingtest"
)

// FuzzLoadKeystore feeds arbitrary bytes to the keystore, key and
// certificate parsers: they may fail, never panic, and never put the
// password in a message. It is seeded with real keystores and with the
// hostile cases of TestHostileKeys (those small enough to mutate).
func FuzzLoadKeystore(f *testing.F) {
	id := signingtest.SelfSigned("fuzz", nil)
	f.Add(signingtest.JKS(id, "a", "pw", "pw"))
	f.Add(signingtest.PKCS12(id, "pw"))
	f.Add(signingtest.PKCS12Legacy(id, "pw"))
	f.Add(signingtest.PKCS12(id, hostilePassword))
	f.Add(signingtest.KeyPKCS8(id))
	f.Add(signingtest.CertPEM(id.Certificate))
	f.Add([]byte{0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2, 0, 0, 0, 1})
	for _, c := range hostileKeyCases(f) {
		if len(c.data) <= 64<<10 {
			f.Add(c.data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		check := func(_ any, err error) {
			if err != nil && strings.Contains(err.Error(), hostilePassword) {
				t.Fatalf("the password is in the message: %v", err)
			}
		}
		check(signing.LoadKeystore(data, signing.KeystoreOptions{StorePassword: "pw"}))
		check(signing.LoadKeystore(data, signing.KeystoreOptions{Type: signing.TypeJKS, StorePassword: hostilePassword, Alias: "a"}))
		check(signing.LoadPKCS12(data, hostilePassword))
		check(signing.ParsePrivateKey(data))
		check(signing.ParseEncryptedPrivateKey(data, hostilePassword))
		check(signing.ParseCertificates(data))
	})
}
