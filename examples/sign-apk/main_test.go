package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/storesign/storesign/signing/signingtest"
)

func TestRun(t *testing.T) {
	dir := t.TempDir()
	id := signingtest.SelfSigned("example-key", signingtest.RSAKey("example-key", 2048))
	ks := filepath.Join(dir, "release.jks")
	in := filepath.Join(dir, "app.apk")
	if err := os.WriteFile(ks, signingtest.JKS(id, "upload", "storepw", "storepw"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(in, signingtest.APK(signingtest.APKOptions{}), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KEYSTORE_PASSWORD", "storepw")
	if err := run(context.Background(), in, filepath.Join(dir, "signed.apk"), ks, "upload"); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KEYSTORE_PASSWORD", "wrong")
	if err := run(context.Background(), in, filepath.Join(dir, "signed2.apk"), ks, "upload"); err == nil {
		t.Fatal("signed with a wrong password")
	}
}
