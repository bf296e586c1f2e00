package appstore_test

import (
	"bytes"
	"context"
	"crypto/elliptic"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/storesign/storesign/signing/signingtest"
	"github.com/storesign/storesign/store/appstore"
	"github.com/storesign/storesign/store/appstore/asctest"
)

// Upload an IPA and wait for App Store Connect to process it. The fake
// server stands in for App Store Connect; with a real key, leave
// WithEndpoint out.
func ExampleClient_Upload() {
	ctx := context.Background()
	key, err := appstore.NewKey(signingtest.ECKey("example", elliptic.P256()), "ABC123DEFG", "57246542-96fe-1a63-e053-0824d011072a")
	if err != nil {
		panic(err)
	}
	fake := asctest.New(asctest.Options{})
	fake.AddKey(key, asctest.RoleAppManager)
	fake.AddApp("com.example.app", "Example")
	srv := httptest.NewServer(fake)
	defer srv.Close()

	data, err := asctest.IPA(asctest.IPAOptions{Version: "2.0", Build: "12"})
	if err != nil {
		panic(err)
	}
	c, err := appstore.New(ctx, key, appstore.WithEndpoint(srv.URL))
	if err != nil {
		panic(err)
	}
	res, err := c.Upload(ctx, bytes.NewReader(data), int64(len(data)), appstore.UploadOptions{Wait: time.Minute, PollInterval: time.Millisecond})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.BundleID, res.Version, res.Build, res.State, res.Final)
	// Output: com.example.app 2.0 12 VALID true
}

// A key prints without its private part.
func ExampleKey() {
	key, err := appstore.NewKey(signingtest.ECKey("example", elliptic.P256()), "ABC123DEFG", "57246542-96fe-1a63-e053-0824d011072a")
	if err != nil {
		panic(err)
	}
	fmt.Println(key)
	// Output: appstore.Key{ID: ABC123DEFG, IssuerID: 57246542-96fe-1a63-e053-0824d011072a, private key: redacted}
}
