package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/storesign/storesign/drive"
)

func TestServeSeedDir(t *testing.T) {
	seed := filepath.Join(t.TempDir(), "deliveries")
	os.Mkdir(seed, 0o755)
	os.WriteFile(filepath.Join(seed, "Game.ipa"), []byte("ipa bytes"), 0o644)
	save := t.TempDir()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, []string{"-addr", "127.0.0.1:0", "-seed", seed, "-save", save}, pw)
		pw.Close()
	}()
	vals := map[string]string{}
	sc := bufio.NewScanner(pr)
	for len(vals) < 3 && sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), "=")
		vals[k] = v
	}
	go io.Copy(io.Discard, pr)
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
	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("fakedrive did not stop")
	}
}
