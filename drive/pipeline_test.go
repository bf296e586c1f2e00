package drive

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/storesign/storesign/drive/drivetest"
)

// settledGoroutines waits for the goroutine count to drop to at most want
// and returns the last count seen.
func settledGoroutines(want int) int {
	n := runtime.NumGoroutine()
	for end := time.Now().Add(5 * time.Second); n > want && time.Now().Before(end); n = runtime.NumGoroutine() {
		time.Sleep(10 * time.Millisecond)
	}
	return n
}

// TestDownloadPipelineEnds checks the download pipeline (the file written
// on the reading goroutine, the hashes on their own) on the ways a
// download ends: canceled mid-body, a failing disk, and success. Each
// leaves no goroutine behind and DownloadFile no temp file.
func TestDownloadPipelineEnds(t *testing.T) {
	content := pattern(16<<20 + 3)
	tests := []struct {
		name   string
		cancel bool  // cancel once bytes flow
		fail   int64 // Download to a writer failing after this many bytes; 0: DownloadFile
		want   string
	}{
		{"ok", false, 0, ""},
		{"canceled", true, 0, "context canceled"},
		{"disk full", false, 5 << 20, "no space left"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := drivetest.New(drivetest.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			folder, _ := s.AddFolder("", "", "in")
			df, _ := s.AddFile(folder, "app.ipa", bytes.NewReader(content))
			// With cancel, the body stops after its first MiB until the
			// client hangs up, so that the cancel lands mid-body.
			flowing := make(chan struct{})
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Query().Get("alt") == "media" && tt.cancel {
					w.Header().Set("Content-Length", strconv.Itoa(len(content)))
					w.Write(content[:1<<20])
					w.(http.Flusher).Flush()
					close(flowing)
					<-r.Context().Done()
					return
				}
				s.ServeHTTP(w, r)
			}))
			defer ts.Close()
			c, err := New(context.Background(), WithEndpoint(ts.URL), WithRetry(fastRetry), WithoutEnvironment())
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			f, err := c.Stat(ctx, df.ID)
			if err != nil {
				t.Fatal(err)
			}
			base := runtime.NumGoroutine()
			if tt.cancel {
				go func() { <-flowing; cancel() }()
			}
			dir := t.TempDir()
			if tt.fail > 0 {
				var out bytes.Buffer
				err = c.Download(ctx, f, &failingWriter{w: &out, n: tt.fail}, DownloadOptions{})
				if out.Len() > int(tt.fail) {
					t.Errorf("%d bytes written past the failure", out.Len())
				}
			} else {
				err = c.DownloadFile(ctx, f, filepath.Join(dir, "app.ipa"), DownloadOptions{})
			}
			if tt.want == "" && err != nil {
				t.Fatal(err)
			}
			if tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if tt.fail == 0 {
				if err == nil {
					assertOnly(t, dir, "app.ipa")
					got, _ := os.ReadFile(filepath.Join(dir, "app.ipa"))
					if !bytes.Equal(got, content) {
						t.Error("content differs")
					}
				} else {
					assertOnly(t, dir)
				}
			}
			c.hc.CloseIdleConnections()
			if n := settledGoroutines(base); n > base {
				buf := make([]byte, 1<<20)
				t.Errorf("%d goroutines after the download, %d before:\n%s", n, base, buf[:runtime.Stack(buf, true)])
			}
		})
	}
}
