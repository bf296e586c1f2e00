package signing_test

import (
	"fmt"

	"github.com/storesign/storesign/signing"
	"github.com/storesign/storesign/signing/signingtest"
)

func ExampleLoadKeystore() {
	// A keystore as an Android project keeps it: JKS, with a key password
	// different from the store password. (In a workflow the bytes come
	// from a secret, and the passwords from env: specs.)
	data := signingtest.JKS(signingtest.SelfSigned("Example Upload Key", nil), "upload", "store-pw", "key-pw")
	keyPass := "key-pw"
	id, err := signing.LoadKeystore(data, signing.KeystoreOptions{
		StorePassword: "store-pw",
		Alias:         "upload",
		KeyPassword:   &keyPass,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(id.Certificate.Subject.CommonName, id.KeyAlgorithm(), id.Alias)
	// Output: Example Upload Key RSA upload
}

func ExampleLoadPKCS12() {
	apple := signingtest.NewApple(signingtest.AppleOptions{})
	id, err := signing.LoadPKCS12(signingtest.PKCS12(apple.Identity, "p12-pw"), "p12-pw")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(id.Certificate.Subject.CommonName)
	fmt.Println(len(id.Chain), "certificates above it")
	// Output:
	// Apple Distribution: Example Corp (ABCDE12345)
	// 2 certificates above it
}

func ExampleReadPassword() {
	_, err := signing.ReadPassword("env:STORESIGN_EXAMPLE_UNSET")
	fmt.Println(err)
	// Output: signing: no password: the environment variable named in the env: spec is not set (the name is not shown: it may be the password): set it, or write env:NAME, not env:$NAME
}
