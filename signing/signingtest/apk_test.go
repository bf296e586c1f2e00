package signingtest_test

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/storesign/storesign/internal/axml"
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
// of it: its verify counts the JAR signature (which its sign writes
// whatever the minSdkVersion) only when minSdkVersion < 24.
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

// TestAndroidManifestAttributes reads the optional attributes back as
// storesign's manifest parser reads them (apksigner's reading of them is
// checked by package apk's TestSignRefusalsAgreeWithApksigner).
func TestAndroidManifestAttributes(t *testing.T) {
	for _, tc := range []struct {
		name       string
		opts       signingtest.APKOptions
		debuggable bool
		unknown    bool
		sandbox    int
	}{
		{"none", signingtest.APKOptions{}, false, false, 1},
		{"true", signingtest.APKOptions{Debuggable: signingtest.BoolValue(true)}, true, false, 1},
		{"false", signingtest.APKOptions{Debuggable: signingtest.BoolValue(false)}, false, false, 1},
		{"string", signingtest.APKOptions{Debuggable: &signingtest.AttrValue{Type: 0x03, String: "true"}}, true, false, 1},
		{"reference", signingtest.APKOptions{Debuggable: signingtest.ReferenceValue(0x7f010000)}, false, true, 1},
		{"sandbox", signingtest.APKOptions{TargetSandboxVersion: 2, Debuggable: signingtest.BoolValue(true)}, true, false, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := signingtest.AndroidManifest(tc.opts)
			m, err := axml.ParseManifest(data)
			if err != nil {
				t.Fatal(err)
			}
			if m.Package != "com.example.app" || m.MinSDKVersion != 21 || m.Debuggable != tc.debuggable || m.TargetSandboxVersion != tc.sandbox {
				t.Errorf("manifest %+v", m)
			}
			d, err := axml.Debuggable(data)
			if d != tc.debuggable || (err != nil) != tc.unknown {
				t.Errorf("Debuggable = %v, %v", d, err)
			}
		})
	}
	// Without the options the manifest is the one it always was (other
	// packages' tests compare outputs made from it).
	if got := fmt.Sprintf("%x", sha256.Sum256(signingtest.AndroidManifest(signingtest.APKOptions{}))); got != "39c9bcf560e9db5381afdeb1042c5a9d7394b14193e781c99c41ecc356fc22db" {
		t.Errorf("the default manifest changed: SHA-256 %s", got)
	}
}
