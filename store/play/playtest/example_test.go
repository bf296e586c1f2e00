package playtest_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/storesign/storesign/signing/signingtest"
	"github.com/storesign/storesign/store/play"
	"github.com/storesign/storesign/store/play/playtest"
)

// A test of code that uploads to Google Play: serve a fake with an app,
// point the client at it, and look at what was committed.
func Example() {
	fake, err := playtest.New(playtest.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer fake.Close()
	fake.AddApp("com.example.app", playtest.App{})
	fake.AddRelease("com.example.app", "production", playtest.Release{Status: "completed", VersionCodes: []int64{41}})
	srv := httptest.NewServer(fake)
	defer srv.Close()

	ctx := context.Background()
	c, _ := play.New(ctx, play.WithEndpoint(srv.URL), play.WithoutEnvironment())
	build := signingtest.Bundle(signingtest.APKOptions{Package: "com.example.app", VersionCode: 42})
	if _, err := c.Upload(ctx, bytes.NewReader(build), int64(len(build)), play.UploadOptions{Track: "production"}); err != nil {
		fmt.Println(err)
		return
	}
	_, err = c.Upload(ctx, bytes.NewReader(build), int64(len(build)), play.UploadOptions{Track: "beta"})
	fmt.Println(err)

	t, _ := fake.Track("com.example.app", "production")
	for _, r := range t.Releases {
		fmt.Println(r.Status, r.VersionCodes)
	}
	fmt.Println(len(fake.Commits("com.example.app")), "commit,", fake.OpenEdits("com.example.app"), "open edits")
	// Output:
	// version code 42 of com.example.app is already used by a release on track production: every upload needs a new, higher versionCode: rebuild with versionCode raised in build.gradle
	// completed [42]
	// 1 commit, 0 open edits
}
