package asctest_test

import (
	"bytes"
	"context"
	"crypto/elliptic"
	"errors"
	"fmt"
	"net/http/httptest"

	"github.com/storesign/storesign/signing/signingtest"
	"github.com/storesign/storesign/store/appstore"
	"github.com/storesign/storesign/store/appstore/asctest"
)

// Test what your code does when App Store Connect already has the build.
func Example() {
	ctx := context.Background()
	key, _ := appstore.NewKey(signingtest.ECKey("example", elliptic.P256()), "ABC123DEFG", "issuer")
	fake := asctest.New(asctest.Options{})
	fake.AddKey(key, asctest.RoleAppManager)
	appID := fake.AddApp("com.example.app", "Example")
	fake.AddBuild(appID, "1.0", "1")
	srv := httptest.NewServer(fake)
	defer srv.Close()

	data, _ := asctest.IPA(asctest.IPAOptions{Version: "1.0", Build: "1"})
	c, _ := appstore.New(ctx, key, appstore.WithEndpoint(srv.URL))
	_, err := c.Upload(ctx, bytes.NewReader(data), int64(len(data)), appstore.UploadOptions{})
	fmt.Println(errors.Is(err, appstore.ErrBuildUsed))
	fmt.Println(len(fake.Uploads()))
	// Output:
	// true
	// 0
}
