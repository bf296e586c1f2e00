package main

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/storesign/storesign/drive"
	"github.com/storesign/storesign/drive/drivetest"
)

func TestRun(t *testing.T) {
	srv, err := drivetest.New(drivetest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	hs := httptest.NewServer(srv)
	defer hs.Close()
	folder, err := srv.AddFolder("", "", "builds")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.AddFile(folder, "MyGame-1.ipa", strings.NewReader("build one")); err != nil {
		t.Fatal(err)
	}
	t.Setenv(drive.EndpointEnv, hs.URL)
	out := t.TempDir()
	if err := run(context.Background(), "https://drive.google.com/drive/folders/"+folder, "MyGame-*.ipa", out); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(out, "MyGame-1.ipa")); err != nil || string(b) != "build one" {
		t.Fatalf("downloaded %q, %v", b, err)
	}
}
