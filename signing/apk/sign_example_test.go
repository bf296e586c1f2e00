package apk_test

import (
	"bytes"
	"context"
	"fmt"
	"log"

	"github.com/storesign/storesign/signing/apk"
	"github.com/storesign/storesign/signing/signingtest"
)

func ExampleSign() {
	// A throwaway identity and a small unsigned APK (minSdkVersion 21).
	id := signingtest.SelfSigned("example", nil)
	in := signingtest.APK(signingtest.APKOptions{MinSDK: 21})

	var out bytes.Buffer
	res, err := apk.Sign(context.Background(), bytes.NewReader(in), int64(len(in)), &out, apk.Options{Identity: id})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("schemes:", res.Schemes())
	fmt.Println("v1 files:", res.V1Name, res.V1Digest)
	fmt.Println("native libraries aligned to:", res.LibPageAlignment)
	// Output:
	// schemes: [v1 v2 v3]
	// v1 files: CERT SHA-256
	// native libraries aligned to: 16384
}
