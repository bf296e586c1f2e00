package signingtest_test

import (
	"archive/zip"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/storesign/storesign/internal/testenv"
	"github.com/storesign/storesign/signing/signingtest"
)

func TestAPKDeterministic(t *testing.T) {
	a := signingtest.APK(signingtest.APKOptions{Assets: 3})
	b := signingtest.APK(signingtest.APKOptions{Assets: 3})
	if !bytes.Equal(a, b) {
		t.Fatal("APK is not deterministic")
	}
	zr, err := zip.NewReader(bytes.NewReader(a), int64(len(a)))
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) != 9 {
		t.Fatalf("%d entries", len(zr.File))
	}
}

// TestAPKManifestOracle checks the binary manifest by apksigner's reading
// of it: it signs with v1 only when minSdkVersion < 24.
func TestAPKManifestOracle(t *testing.T) {
	apksigner := testenv.Tool(t, "apksigner35")
	dir := t.TempDir()
	id := signingtest.SelfSigned("manifest oracle", nil)
	key, cert := filepath.Join(dir, "k.pk8"), filepath.Join(dir, "c.pem")
	os.WriteFile(key, signingtest.KeyPKCS8(id), 0o600)
	os.WriteFile(cert, signingtest.CertPEM(id.Certificate), 0o600)
	for _, tc := range []struct {
		min    int
		wantV1 bool
	}{{19, true}, {26, false}} {
		in := filepath.Join(dir, "in.apk")
		out := filepath.Join(dir, "out.apk")
		os.WriteFile(in, signingtest.APK(signingtest.APKOptions{MinSDK: tc.min}), 0o644)
		if b, err := exec.Command(apksigner, "sign", "--key", key, "--cert", cert, "--out", out, in).CombinedOutput(); err != nil {
			t.Fatalf("apksigner sign: %v\n%s", err, b)
		}
		b, err := exec.Command(apksigner, "verify", "-v", out).CombinedOutput()
		if err != nil {
			t.Fatalf("apksigner verify: %v\n%s", err, b)
		}
		if got := strings.Contains(string(b), "Verified using v1 scheme (JAR signing): true"); got != tc.wantV1 {
			t.Errorf("minSdk %d: v1 = %v, want %v\n%s", tc.min, got, tc.wantV1, b)
		}
	}
}
