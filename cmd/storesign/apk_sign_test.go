package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/storesign/storesign/drive"
	"github.com/storesign/storesign/signing/signingtest"
)

// TestAPKSignWarningOneLine signs with a warning that names an output
// file holding a line break and an escape sequence: the warning prints
// on one line, escaped, and forges no line of its own.
func TestAPKSignWarningOneLine(t *testing.T) {
	dir := t.TempDir()
	id := scriptIdentity(false)
	write := func(name string, data []byte) string { return writeTestFile(t, dir, name, data) }
	in := write("app.apk", signingtest.APK(signingtest.APKOptions{MinSDK: 21}))
	key := write("key.pk8", signingtest.KeyPKCS8(id))
	cert := write("cert.pem", signingtest.CertPEM(id.Certificate))
	out := filepath.Join(dir, "x\x1b[2J\nstoresign: forged\u202e.apk")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"apk", "sign", "--key", key, "--cert", cert, "--v1-signing-enabled", "false", "--out", out, in}, &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr.String())
	}
	want := `WARNING: --v1-signing-enabled false: Android 6.0 and older (API levels 21 to 23, which minSdkVersion 21 includes) will not install x\x1b[2J; storesign: forged\u202e.apk: it verifies on Android 7.0 (API level 24) and newer only` + "\n"
	if got := stderr.String(); got != want {
		t.Errorf("stderr:\n%q\nwant:\n%q", got, want)
	}
	if !drive.SafeText(strings.TrimSuffix(stderr.String(), "\n")) {
		t.Errorf("stderr %q holds a control or layout character", stderr.String())
	}
}

// writeTestFile writes data to dir/name (mode 0600) and returns its path.
func writeTestFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
