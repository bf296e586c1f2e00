package aab_test

import (
	"bytes"
	"context"
	"fmt"
	"log"

	"github.com/storesign/storesign/signing/aab"
	"github.com/storesign/storesign/signing/signingtest"
)

func ExampleSign() {
	// An upload key as signing.LoadKeystore would return it.
	id := signingtest.SelfSigned("Example upload key", nil)
	id.Alias = "upload"
	bundle := signingtest.Bundle(signingtest.APKOptions{})

	var signed bytes.Buffer
	res, err := aab.Sign(context.Background(), bytes.NewReader(bundle), int64(len(bundle)), &signed, aab.Options{Identity: id})
	if err != nil {
		log.Fatal(err)
	}
	s := res.Signers[0]
	fmt.Println(s.SignatureFile, s.BlockFile, s.SignatureAlgorithm)
	fmt.Println(res.Entries, "entries signed")
	// Output:
	// META-INF/UPLOAD.SF META-INF/UPLOAD.RSA SHA256withRSA
	// 6 entries signed
}

func ExampleVerify() {
	id := signingtest.SelfSigned("Example upload key", nil)
	bundle := signingtest.Bundle(signingtest.APKOptions{})
	var signed bytes.Buffer
	if _, err := aab.Sign(context.Background(), bytes.NewReader(bundle), int64(len(bundle)), &signed, aab.Options{Identity: id}); err != nil {
		log.Fatal(err)
	}

	res, err := aab.Verify(context.Background(), bytes.NewReader(signed.Bytes()), int64(signed.Len()), aab.VerifyOptions{})
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range res.Signers {
		fmt.Println(s.Name, s.Certificate.Subject.CommonName, s.Fingerprint() == id.Fingerprint())
	}

	// The unsigned input does not verify.
	_, err = aab.Verify(context.Background(), bytes.NewReader(bundle), int64(len(bundle)), aab.VerifyOptions{})
	fmt.Println(err)
	// Output:
	// CERT Example upload key true
	// aab: the bundle is not signed
}
