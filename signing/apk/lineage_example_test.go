package apk_test

import (
	"bytes"
	"context"
	"fmt"
	"log"

	"github.com/storesign/storesign/signing"
	"github.com/storesign/storesign/signing/apk"
	"github.com/storesign/storesign/signing/signingtest"
)

func ExampleNewLineage() {
	// The app's original key, and the key it rotates to.
	old := signingtest.SelfSigned("original", nil)
	nw := signingtest.SelfSigned("rotated", signingtest.RSAKey("rotated", 2048))

	// The lineage: the original key signs the new certificate. Keep
	// it (MarshalBinary) to sign every later release.
	lineage, err := apk.NewLineage(nil, old, apk.DefaultCapabilities, nw.Certificate, apk.DefaultCapabilities)
	if err != nil {
		log.Fatal(err)
	}

	// Sign with both keys: the original one for v1, v2 and Android 9 to
	// 12 (v3.0), the rotated one from Android 13 on (v3.1).
	in := signingtest.APK(signingtest.APKOptions{MinSDK: 24})
	var out bytes.Buffer
	res, err := apk.Sign(context.Background(), bytes.NewReader(in), int64(len(in)), &out, apk.Options{
		Identity:       old,
		NextIdentities: []*signing.Identity{nw},
		Lineage:        lineage,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("schemes:", res.Schemes())
	fmt.Println("signer:", res.Signer.Subject.CommonName)
	fmt.Println("rotated signer:", res.RotatedSigner.Subject.CommonName)
	// Output:
	// schemes: [v2 v3 v3.1]
	// signer: original
	// rotated signer: rotated
}
