package play_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/storesign/storesign/signing/signingtest"
	"github.com/storesign/storesign/store/play"
	"github.com/storesign/storesign/store/play/playtest"
)

// Upload a bundle to the beta track as a staged rollout to 10% of users,
// here against a fake Play.
func ExampleClient_UploadFile() {
	ctx := context.Background()
	fake, _ := playtest.New(playtest.Options{})
	defer fake.Close()
	fake.AddApp("com.example.app", playtest.App{})
	srv := httptest.NewServer(fake)
	defer srv.Close()

	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "app-release.aab")
	os.WriteFile(path, signingtest.Bundle(signingtest.APKOptions{Package: "com.example.app", VersionCode: 42}), 0o644)

	// With real Play: play.New(ctx, play.WithCredentialsFile("sa.json")).
	c, err := play.New(ctx, play.WithEndpoint(srv.URL))
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := c.UploadFile(ctx, path, "", play.UploadOptions{
		Track:        play.TrackBeta,
		Status:       play.StatusInProgress,
		UserFraction: 0.1,
		ReleaseNotes: map[string]string{"en-US": "Faster loading."},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Package, res.VersionCode, res.Track, res.Status, res.UserFraction, res.Committed)
	// Output: com.example.app 42 beta inProgress 0.1 true
}

// Share a build with testers through internal app sharing.
func ExampleClient_Share() {
	ctx := context.Background()
	fake, _ := playtest.New(playtest.Options{})
	defer fake.Close()
	fake.AddApp("com.example.app", playtest.App{})
	srv := httptest.NewServer(fake)
	defer srv.Close()

	c, _ := play.New(ctx, play.WithEndpoint(srv.URL))
	data := signingtest.Bundle(signingtest.APKOptions{Package: "com.example.app", VersionCode: 7})
	res, err := c.Share(ctx, bytesReader(data), int64(len(data)), play.ShareOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.DownloadURL[:34])
	// Output: https://play.google.com/apps/test/
}
