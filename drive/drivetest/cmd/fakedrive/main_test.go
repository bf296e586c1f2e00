package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/storesign/storesign/drive"
	"github.com/storesign/storesign/internal/fakeserver/fakeservertest"
)

func TestServeSeedDir(t *testing.T) {
	seed := filepath.Join(t.TempDir(), "deliveries")
	os.Mkdir(seed, 0o755)
	os.WriteFile(filepath.Join(seed, "Game.ipa"), []byte("ipa bytes"), 0o644)
	save := t.TempDir()

	ctx := context.Background()
	vals, stop := fakeservertest.Start(t, run, []string{"-addr", "127.0.0.1:0", "-seed", seed, "-save", save}, 3)
	if !strings.HasPrefix(vals["url"], "http://127.0.0.1:") || vals["folder"] == "" || vals["out"] == "" {
		t.Fatalf("printed %v", vals)
	}
	c, err := drive.New(ctx, drive.WithEndpoint(vals["url"]), drive.WithoutEnvironment())
	if err != nil {
		t.Fatal(err)
	}
	f, err := c.Find(ctx, vals["folder"], drive.FindOptions{Name: "*.ipa"})
	if err != nil || f.Size != 9 {
		t.Fatalf("find: %+v %v", f, err)
	}
	if _, err := c.Upload(ctx, strings.NewReader("signed"), 6, drive.UploadOptions{Folder: vals["out"], Path: "v1", Name: "Game-signed.ipa"}); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(save, "out", "v1", "Game-signed.ipa")); err != nil || string(b) != "signed" {
		t.Errorf("saved upload: %q %v", b, err)
	}
	stop()
}
