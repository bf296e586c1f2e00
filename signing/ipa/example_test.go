package ipa_test

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/storesign/storesign/signing/ipa"
	"github.com/storesign/storesign/signing/provision"
	"github.com/storesign/storesign/signing/signingtest"
)

func Example() {
	// Throwaway Apple-like material; use signing.LoadPKCS12 and
	// provision.ReadFile with real ones.
	apple := signingtest.NewApple(signingtest.AppleOptions{})
	profile, err := provision.Parse(apple.Profile(signingtest.ProfileOptions{Name: "Example", AppID: "com.example.*"}))
	if err != nil {
		panic(err)
	}
	in := signingtest.IPA(signingtest.IPAOptions{})
	now := func() time.Time { return signingtest.Epoch.AddDate(0, 1, 0) }

	var out bytes.Buffer
	rep, err := ipa.Resign(context.Background(), bytes.NewReader(in), int64(len(in)), &out, ipa.Options{
		Identity:     apple.Identity,
		Profiles:     []*provision.Profile{profile},
		BundleID:     "com.example.game",
		ShortVersion: "2.0",
		Now:          now,
	})
	if err != nil {
		panic(err)
	}
	for _, b := range rep.Bundles {
		fmt.Println(b.Kind, b.Identifier)
	}

	_, err = ipa.Verify(context.Background(), bytes.NewReader(out.Bytes()), int64(out.Len()), ipa.VerifyOptions{
		Roots: apple.Root.Pool(),
		Now:   now,
	})
	fmt.Println("verify:", err)
	// Output:
	// framework com.example.Kit
	// appex com.example.game.share
	// appex com.example.game.watchkitapp.watchkitextension
	// app com.example.game.watchkitapp
	// dylib libswiftCore-b81512424a3a2014b98675c057e3d90ae625f859
	// app com.example.game
	// verify: <nil>
}

func ExampleInspect() {
	apple := signingtest.NewApple(signingtest.AppleOptions{})
	profile, _ := provision.Parse(apple.Profile(signingtest.ProfileOptions{AppID: "com.example.app"}))
	in := signingtest.IPA(signingtest.IPAOptions{Minimal: true})
	var out bytes.Buffer
	if _, err := ipa.Resign(context.Background(), bytes.NewReader(in), int64(len(in)), &out, ipa.Options{
		Identity: apple.Identity, Profiles: []*provision.Profile{profile},
		Now: func() time.Time { return signingtest.Epoch },
	}); err != nil {
		panic(err)
	}
	rep, err := ipa.Inspect(context.Background(), bytes.NewReader(out.Bytes()), int64(out.Len()), ipa.VerifyOptions{})
	if err != nil {
		panic(err)
	}
	app := rep.Bundles[len(rep.Bundles)-1]
	fmt.Println("Identifier=" + app.Identifier)
	fmt.Println("TeamIdentifier=" + app.TeamID)
	for _, a := range app.Authority {
		fmt.Println("Authority=" + a)
	}
	fmt.Println("Profile=" + app.Profile.Kind)
	// Output:
	// Identifier=com.example.app
	// TeamIdentifier=ABCDE12345
	// Authority=Apple Distribution: Example Corp (ABCDE12345)
	// Authority=Test Apple Worldwide Developer Relations Certification Authority
	// Authority=Test Apple Root CA
	// Profile=app-store
}
