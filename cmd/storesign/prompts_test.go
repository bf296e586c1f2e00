package main

import (
	"bytes"
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/storesign/storesign/signing/signingtest"
)

// TestPromptsToCommandStderr reads a password of every signer from
// standard input: each prompt goes to the command's stderr, none to the
// process's os.Stderr (which the gate of runUntilSignal does not close).
func TestPromptsToCommandStderr(t *testing.T) {
	dir := t.TempDir()
	first, second := scriptIdentity(false), scriptIdentity(true)
	write := func(name string, data []byte) string { return writeTestFile(t, dir, name, data) }
	apkFile := write("app.apk", signingtest.APK(signingtest.APKOptions{MinSDK: 24}))
	firstKS := write("first.jks", signingtest.JKS(first, "first", "first-pass", "first-pass"))
	secondKS := write("second.jks", signingtest.JKS(second, "second", "second-pass", "second-pass"))
	secondKey := write("second.pk8", signingtest.EncryptedKeyPKCS8(second, "second-pass"))
	secondCert := write("second.pem", signingtest.CertPEM(second.Certificate))
	lineage := filepath.Join(dir, "lineage.bin")
	for _, c := range []struct {
		name  string
		args  []string
		stdin string
	}{
		// The second signer's keystore password, then its encrypted
		// key's, from stdin.
		{"apk sign --next-signer --ks", []string{"apk", "sign", "--ks", firstKS, "--ks-pass", "pass:first-pass", "--v3-signing-enabled", "false",
			"--next-signer", "--ks", secondKS, "--out", filepath.Join(dir, "a.apk"), apkFile}, "second-pass\n"},
		{"apk sign --next-signer --key", []string{"apk", "sign", "--ks", firstKS, "--ks-pass", "pass:first-pass", "--v3-signing-enabled", "false",
			"--next-signer", "--key", secondKey, "--cert", secondCert, "--out", filepath.Join(dir, "b.apk"), apkFile}, "second-pass\n"},
		{"apk rotate --new-signer", []string{"apk", "rotate", "--out", lineage, "--old-signer", "--ks", firstKS, "--ks-pass", "pass:first-pass",
			"--new-signer", "--ks", secondKS}, "second-pass\n"},
		{"apk lineage --signer", []string{"apk", "lineage", "--in", lineage, "--out", filepath.Join(dir, "lineage2.bin"),
			"--signer", "--ks", firstKS, "--set-rollback", "true"}, "first-pass\n"},
		// ipa resign's encrypted --key without --key-pass: the prompt
		// comes before the profile is read (which fails here).
		{"ipa resign --key", []string{"ipa", "resign", "--in", apkFile, "--out", filepath.Join(dir, "out.ipa"), "--key", secondKey, "--cert", secondCert,
			"--profile", filepath.Join(dir, "none.mobileprovision")}, "second-pass\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			osStderr := redirectStdio(t, c.stdin)
			var out, errs bytes.Buffer
			code := run(context.Background(), c.args, &out, &errs)
			if !regexp.MustCompile(`(?m)^(Keystore|Private key) password for (signer #\d|old signer|new signer): $`).MatchString(errs.String()) {
				t.Errorf("exit %d; the command's stderr has no prompt:\n%s", code, errs.String())
			}
			if got := osStderr(); got != "" {
				t.Errorf("os.Stderr got %q, want nothing", got)
			}
			if strings.Contains(out.String()+errs.String(), "second-pass") || strings.Contains(out.String()+errs.String(), "first-pass") {
				t.Errorf("a password was printed:\n%s%s", out.String(), errs.String())
			}
			if c.name != "ipa resign --key" && code != exitOK {
				t.Errorf("exit %d, stderr:\n%s", code, errs.String())
			}
		})
	}
}

// redirectStdio makes os.Stdin read stdin and os.Stderr write to a
// file, until the end of the test; it returns what os.Stderr got.
func redirectStdio(t *testing.T, stdin string) func() string {
	t.Helper()
	dir := t.TempDir()
	in := filepath.Join(dir, "stdin")
	if err := os.WriteFile(in, []byte(stdin), 0o600); err != nil {
		t.Fatal(err)
	}
	inf, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	errf, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	oldIn, oldErr := os.Stdin, os.Stderr
	os.Stdin, os.Stderr = inf, errf
	t.Cleanup(func() {
		os.Stdin, os.Stderr = oldIn, oldErr
		inf.Close()
		errf.Close()
	})
	return func() string {
		b, err := os.ReadFile(errf.Name())
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
}

// TestNoProcessStderr checks that only main names os.Stdout and
// os.Stderr: every command writes to the streams of its env.
func TestNoProcessStderr(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && fd.Name.Name == "main" {
				continue
			}
			ast.Inspect(d, func(n ast.Node) bool {
				sel, ok := n.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				if x, ok := sel.X.(*ast.Ident); ok && x.Name == "os" && (sel.Sel.Name == "Stderr" || sel.Sel.Name == "Stdout") {
					t.Errorf("%s: os.%s: write to the command's env instead", fset.Position(sel.Pos()), sel.Sel.Name)
				}
				return true
			})
		}
	}
}
