package signingtest

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"time"

	keystore "github.com/pavlo-v-chernykh/keystore-go/v4"
	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"github.com/storesign/storesign/signing"
)

// PKCS12 encodes id as a modern (AES-256, PBKDF2) PKCS#12 file.
func PKCS12(id *signing.Identity, password string) []byte {
	return encodeP12(pkcs12.Modern2023, id, password)
}

// PKCS12Legacy encodes id as a legacy (3DES) PKCS#12 file, as older
// Keychain Access and OpenSSL 1.x exports are.
func PKCS12Legacy(id *signing.Identity, password string) []byte {
	return encodeP12(pkcs12.LegacyDES, id, password)
}

func encodeP12(enc *pkcs12.Encoder, id *signing.Identity, password string) []byte {
	b, err := enc.Encode(id.Signer, id.Certificate, id.Chain, password)
	if err != nil {
		panic(err)
	}
	return b
}

// JKS encodes id as a Java KeyStore with one key entry under alias. The
// store and key passwords may differ, as they often do in Android projects.
func JKS(id *signing.Identity, alias, storePassword, keyPassword string) []byte {
	ks := keystore.New(keystore.WithCustomRandomNumberGenerator(Reader("jks " + alias)))
	pk, err := x509.MarshalPKCS8PrivateKey(id.Signer)
	if err != nil {
		panic(err)
	}
	entry := keystore.PrivateKeyEntry{CreationTime: Epoch.Add(time.Hour), PrivateKey: pk}
	for _, c := range id.Certificates() {
		entry.CertificateChain = append(entry.CertificateChain, keystore.Certificate{Type: "X509", Content: c.Raw})
	}
	if err := ks.SetPrivateKeyEntry(alias, entry, []byte(keyPassword)); err != nil {
		panic(err)
	}
	var buf bytes.Buffer
	if err := ks.Store(&buf, []byte(storePassword)); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// KeyPKCS8 returns id's private key as PKCS#8 DER (a .pk8 file).
func KeyPKCS8(id *signing.Identity) []byte {
	b, err := x509.MarshalPKCS8PrivateKey(id.Signer)
	if err != nil {
		panic(err)
	}
	return b
}

// CertPEM returns certificates as PEM, in order.
func CertPEM(certs ...*x509.Certificate) []byte {
	var buf bytes.Buffer
	for _, c := range certs {
		_ = pem.Encode(&buf, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	return buf.Bytes()
}
