package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/storesign/storesign/signing/ipa"
	"github.com/storesign/storesign/signing/signingtest"
)

func TestRun(t *testing.T) {
	dir := t.TempDir()
	apple := signingtest.NewApple(signingtest.AppleOptions{})
	files := map[string][]byte{
		"dist.p12":            signingtest.PKCS12(apple.Identity, "p12pw"),
		"app.mobileprovision": apple.Profile(signingtest.ProfileOptions{}),
		"studio.ipa":          signingtest.IPA(signingtest.IPAOptions{}),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("P12_PASSWORD", "p12pw")
	err := run(context.Background(), filepath.Join(dir, "studio.ipa"), filepath.Join(dir, "signed.ipa"),
		filepath.Join(dir, "dist.p12"), []string{filepath.Join(dir, "app.mobileprovision")},
		ipa.Options{BundleID: "com.example.game", BundleVersion: "142"})
	if err != nil {
		t.Fatal(err)
	}
}
