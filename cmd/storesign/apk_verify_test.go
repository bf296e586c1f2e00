package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/storesign/storesign/drive"
	"github.com/storesign/storesign/internal/zipx/ziptest"
	"github.com/storesign/storesign/signing/apk"
	"github.com/storesign/storesign/signing/signingtest"
)

// TestAPKVerifyMessagesOneLine checks that apk verify prints each error
// and warning on one line, with the control and layout characters of a
// hostile entry name escaped, as the final "storesign:" line shows them.
func TestAPKVerifyMessagesOneLine(t *testing.T) {
	var out, errs bytes.Buffer
	res := &apk.VerifyResult{
		Errors:   []string{"No JAR manifest entry for assets/x\u202eevil: the entry is not signed"},
		Warnings: []string{"entry assets/\x1b[2J\nERROR: forged is not compressed"},
	}
	apkvWriteText(&env{stdout: &out, stderr: &errs}, res, true, false, false)
	got := errs.String()
	want := "ERROR: No JAR manifest entry for assets/x\\u202eevil: the entry is not signed\n" +
		"WARNING: entry assets/\\x1b[2J; ERROR: forged is not compressed\n"
	if got != want {
		t.Errorf("stderr:\n%q\nwant:\n%q", got, want)
	}
	for _, line := range strings.Split(strings.TrimSuffix(got, "\n"), "\n") {
		if !drive.SafeText(line) {
			t.Errorf("line %q holds a control or layout character", line)
		}
	}
}

// TestAPKUnsupportedMethod: an APK with an entry compressed with a method
// other than stored and deflate (as the corpus's
// weird-compression-method.apk, method 21) is refused by apk verify and
// apk sign with the reason and one fix, to rebuild it: it is not damaged,
// and downloading it again would not help.
func TestAPKUnsupportedMethod(t *testing.T) {
	dir := t.TempDir()
	es, err := ziptest.EntriesOf(signingtest.APK(signingtest.APKOptions{MinSDK: 24}))
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for i := range es {
		if es[i].Name == "classes.dex" {
			es[i].Method, found = 21, true
		}
	}
	if !found {
		t.Fatal("no classes.dex in the test APK")
	}
	id := scriptIdentity(false)
	write := func(name string, data []byte) string { return writeTestFile(t, dir, name, data) }
	in := write("m21.apk", ziptest.Build(es, ziptest.Options{}).Bytes)
	key := write("key.pk8", signingtest.KeyPKCS8(id))
	cert := write("cert.pem", signingtest.CertPEM(id.Certificate))
	want := "storesign: " + in + `: entry "classes.dex" uses compression method 21, which Android's package manager does not read: rebuild it with a standard zip tool (stored or deflate)` + "\n"
	for _, args := range [][]string{
		{"apk", "verify", in},
		{"apk", "verify", "--verify-source-stamp", in},
		{"apk", "sign", "--key", key, "--cert", cert, "--out", filepath.Join(dir, "out.apk"), in},
	} {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), args, &stdout, &stderr)
		if code != exitFailed || stderr.String() != want {
			t.Errorf("%s: exit %d, stderr:\n%s\nwant exit %d and:\n%s", strings.Join(args[:2], " "), code, stderr.String(), exitFailed, want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "out.apk")); err == nil {
		t.Error("apk sign wrote out.apk")
	}
}
