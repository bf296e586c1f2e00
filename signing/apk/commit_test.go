package apk_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/storesign/storesign/signing/apk"
	"github.com/storesign/storesign/signing/signingtest"
)

// TestSignFileV4AllOrNothing checks that the APK and its .idsig are
// published together, and that when the .idsig cannot be written the
// previous APK stays where it was (issue 10: it used to be replaced, then
// deleted).
func TestSignFileV4AllOrNothing(t *testing.T) {
	id := testIdentities()["ecp256"]
	in := signingtest.APK(signingtest.APKOptions{})
	for _, c := range []struct {
		name string
		// before runs before SignFile, during inside its Check (after the
		// outputs were created, before they are committed).
		before, during func(idsig string)
	}{
		{name: "idsig-is-a-folder", before: func(idsig string) { os.Mkdir(idsig, 0o755) }},
		{name: "idsig-becomes-a-folder", during: func(idsig string) {
			os.Mkdir(idsig, 0o755)
			os.WriteFile(filepath.Join(idsig, "x"), nil, 0o644)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			inPath := filepath.Join(dir, "in.apk")
			out := filepath.Join(dir, "out.apk")
			os.WriteFile(inPath, in, 0o644)
			os.WriteFile(out, []byte("previous output"), 0o644)
			if c.before != nil {
				c.before(out + ".idsig")
			}
			opts := apk.Options{V4SigningEnabled: true, Check: func(context.Context, io.ReaderAt, int64) error {
				if c.during != nil {
					c.during(out + ".idsig")
				}
				return nil
			}}
			opts.Identity = id
			_, err := apk.SignFile(context.Background(), inPath, out, opts)
			if err == nil || !strings.Contains(err.Error(), "is a folder") {
				t.Fatalf("SignFile: %v, want an error about the folder", err)
			}
			if b, _ := os.ReadFile(out); string(b) != "previous output" {
				t.Errorf("the previous output was lost or replaced: %d bytes", len(b))
			}
			assertNoOutput(t, dir, "in.apk", "out.apk", "out.apk.idsig")
		})
	}
}
