package apk

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/storesign/storesign/internal/testenv"
	"github.com/storesign/storesign/signing/signingtest"
)

// vBigAPK returns a signed APK of about mb MiB: stored "assets" and
// deflated "code", plus a binary manifest (minSdk 21, so v1 is checked
// too).
func vBigAPK(b testing.TB, mb int) []byte {
	b.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	manifest := signingtest.AndroidManifest(signingtest.APKOptions{MinSDK: 21})
	w, _ := zw.Create("AndroidManifest.xml")
	w.Write(manifest)
	rnd := signingtest.Reader("verify bench")
	chunk := make([]byte, 256<<10)
	for i := 0; i < mb*4; i++ {
		rnd.Read(chunk)
		method := zip.Store
		if i%4 == 0 {
			method = zip.Deflate
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: fmt.Sprintf("assets/blob%05d.bin", i), Method: method})
		if err != nil {
			b.Fatal(err)
		}
		w.Write(chunk)
	}
	if err := zw.Close(); err != nil {
		b.Fatal(err)
	}
	id := signingtest.SelfSigned("verify bench", signingtest.RSAKey("verify bench", 2048))
	var out bytes.Buffer
	in := buf.Bytes()
	if _, err := Sign(context.Background(), bytes.NewReader(in), int64(len(in)), &out, Options{Identity: id}); err != nil {
		b.Fatal(err)
	}
	return out.Bytes()
}

// BenchmarkVerify verifies a signed v1+v2+v3 APK (STORESIGN_BENCH_MB MiB,
// default 64) and, when apksigner 35 is installed, times
// `apksigner verify` on the same file once for comparison.
func BenchmarkVerify(b *testing.B) {
	mb := 64
	if s := os.Getenv("STORESIGN_BENCH_MB"); s != "" {
		mb, _ = strconv.Atoi(s)
	}
	apk := vBigAPK(b, mb)
	opts := []struct {
		name string
		opts VerifyOptions
	}{
		{"all-schemes", VerifyOptions{}},
		{"v2v3-only", VerifyOptions{MinSDK: 24}},
	}
	for _, o := range opts {
		b.Run(o.name, func(b *testing.B) {
			b.SetBytes(int64(len(apk)))
			for range b.N {
				res, err := Verify(context.Background(), bytes.NewReader(apk), int64(len(apk)), o.opts)
				if err != nil || !res.Verified {
					b.Fatalf("%v %v", err, res.Errors)
				}
			}
		})
	}
	if tool, ok := testenv.LookTool("apksigner35"); ok {
		p := filepath.Join(b.TempDir(), "big.apk")
		if err := os.WriteFile(p, apk, 0o644); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if out, err := exec.Command(tool, "verify", p).CombinedOutput(); err != nil {
			b.Fatalf("apksigner35 verify: %v\n%s", err, out)
		}
		b.Logf("apksigner 35 verify of %d MiB: %v", len(apk)>>20, time.Since(start))
	}
}
