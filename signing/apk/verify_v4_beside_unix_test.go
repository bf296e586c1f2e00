//go:build unix

package apk

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/storesign/storesign/internal/atomicfile"
)

// TestVerifyFileV4SignatureBesideNotRegular refuses a folder or a FIFO
// where the .idsig would be, without blocking in open (a FIFO with no
// writer would wait for one forever).
func TestVerifyFileV4SignatureBesideNotRegular(t *testing.T) {
	apk, _ := v4Signed(t, "v4 test", 24)
	for _, kind := range []string{"folder", "fifo"} {
		t.Run(kind, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "app.apk")
			if err := os.WriteFile(path, apk, 0o644); err != nil {
				t.Fatal(err)
			}
			var err error
			if kind == "folder" {
				err = os.Mkdir(path+".idsig", 0o755)
			} else {
				err = syscall.Mkfifo(path+".idsig", 0o600)
			}
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			done := make(chan error, 1)
			go func() {
				_, err := VerifyFile(ctx, path, VerifyOptions{V4SignatureBeside: true})
				done <- err
			}()
			select {
			case err := <-done:
				var nr *atomicfile.NotRegularError
				if !errors.As(err, &nr) {
					t.Fatalf("VerifyFile: %v, want atomicfile.NotRegularError", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("VerifyFile blocked opening the .idsig")
			}
			// Not asked to, VerifyFile does not look at it.
			if _, err := VerifyFile(ctx, path, VerifyOptions{}); err != nil {
				t.Fatalf("VerifyFile without V4SignatureBeside: %v", err)
			}
		})
	}
}
