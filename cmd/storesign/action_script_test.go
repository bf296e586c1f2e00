package main

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/storesign/storesign/actions"
	"github.com/storesign/storesign/signing/signingtest"
)

// Throwaway passwords of the action fixtures; no-secrets looks for them.
const (
	fixtureP12Password = "p12-Pa55word-fixture"
	fixtureKSPassword  = "ks-Pa55word-fixture"
	fixtureKeyPassword = "key-Pa55word-fixture"
)

func actionScriptCmds() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	return map[string]func(ts *testscript.TestScript, neg bool, args []string){
		"action-inputs": cmdActionInputs,
		"gen-build":     cmdGenBuild,
		"no-secrets":    cmdNoSecrets,
		"secrets-dir":   cmdSecretsDir,
		"output":        cmdOutput,
		"env-file":      cmdEnvFile,
	}
}

// action-inputs ios|android|expired-profile|foreign-profile|credentials...
// sets the INPUT_* variables of a valid set of secrets made of throwaway
// identities.
func cmdActionInputs(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! action-inputs")
	}
	for _, a := range args {
		switch a {
		case "ios", "expired-profile", "foreign-profile", "two-profiles":
			apple := signingtest.NewApple(signingtest.AppleOptions{})
			ts.Setenv("INPUT_P12_BASE64", base64.StdEncoding.EncodeToString(signingtest.PKCS12(apple.Identity, fixtureP12Password)))
			ts.Setenv("INPUT_P12_PASSWORD", fixtureP12Password)
			var opts signingtest.ProfileOptions
			switch a {
			case "expired-profile":
				opts.Expires = signingtest.Epoch.Add(24 * time.Hour)
			case "foreign-profile":
				other := signingtest.NewApple(signingtest.AppleOptions{Key: signingtest.RSAKey("other-team", 2048), TeamID: "ZZZZZ99999", Organization: "Other Corp"})
				opts.Certificates = other.Identity.Certificates()[:1]
			}
			v := base64.StdEncoding.EncodeToString(apple.Profile(opts))
			if a == "two-profiles" {
				// Wrapped at 76 columns, as base64(1) writes by default.
				v = wrap76(v) + "\n" + base64.StdEncoding.EncodeToString(apple.Profile(signingtest.ProfileOptions{Name: "Widget", AppID: "com.example.app.widget"}))
			}
			ts.Setenv("INPUT_PROFILES_BASE64", v)
		case "android":
			id := signingtest.SelfSigned("action-upload-key", signingtest.RSAKey("action-upload-key", 2048))
			ts.Setenv("INPUT_KEYSTORE_BASE64", base64.StdEncoding.EncodeToString(signingtest.JKS(id, "upload", fixtureKSPassword, fixtureKeyPassword)))
			ts.Setenv("INPUT_KEYSTORE_PASSWORD", fixtureKSPassword)
			ts.Setenv("INPUT_KEY_ALIAS", "upload")
			ts.Setenv("INPUT_KEY_PASSWORD", fixtureKeyPassword)
		case "credentials":
			ts.Setenv("INPUT_CREDENTIALS_JSON", `{"type": "service_account", "client_email": "signer@example.iam.gserviceaccount.com", "private_key": "-----BEGIN PRIVATE KEY-----\nMIIfixture-not-a-key\n-----END PRIVATE KEY-----\n"}`)
		default:
			ts.Fatalf("action-inputs: unknown set %q", a)
		}
	}
}

func wrap76(s string) string {
	var b strings.Builder
	for len(s) > 76 {
		b.WriteString(s[:76] + "\n")
		s = s[76:]
	}
	b.WriteString(s)
	return b.String()
}

// gen-build ipa|apk|aab|zip|text FILE writes a synthetic build.
func cmdGenBuild(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: gen-build ipa|apk|aab|zip|text FILE")
	}
	var data []byte
	switch args[0] {
	case "apk":
		data = signingtest.APK(signingtest.APKOptions{Package: "com.example.game", VersionName: "2.3.1", VersionCode: 231})
	case "aab":
		data = signingtest.Bundle(signingtest.APKOptions{Package: "com.example.game", VersionName: "2.3.1", VersionCode: 231})
	case "ipa":
		data = signingtest.IPA(signingtest.IPAOptions{})
	case "zip":
		data = zipFiles(ts, map[string]string{"readme.txt": "hello", "docs/a.pdf": "%PDF"})
	case "text":
		data = []byte("just text\n")
	default:
		ts.Fatalf("gen-build: unknown kind %q", args[0])
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), data, 0o644))
}

func zipFiles(ts *testscript.TestScript, files map[string]string) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range files {
		w, err := zw.Create(name)
		ts.Check(err)
		_, err = w.Write([]byte(body))
		ts.Check(err)
	}
	ts.Check(zw.Close())
	return buf.Bytes()
}

// no-secrets FILE... fails when a file holds a secret input's value, one
// of its lines, or a password of the fixtures. The ::add-mask:: commands,
// which the runner consumes and never shows, are skipped.
func cmdNoSecrets(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! no-secrets")
	}
	secrets := []string{fixtureP12Password, fixtureKSPassword, fixtureKeyPassword}
	for _, in := range []string{"p12-base64", "p12-password", "profiles-base64", "keystore-base64", "keystore-password", "key-password", "credentials-json"} {
		v := ts.Getenv(actions.EnvName(in))
		for _, line := range strings.Split(v, "\n") {
			if line = strings.TrimSpace(line); len(line) >= 6 {
				secrets = append(secrets, line)
				if len(line) > 40 {
					// Any long run of a base64 secret.
					secrets = append(secrets, line[len(line)/2-10:len(line)/2+10])
				}
			}
		}
	}
	for _, f := range args {
		raw, err := os.ReadFile(ts.MkAbs(f))
		ts.Check(err)
		var kept [][]byte
		for _, line := range bytes.Split(raw, []byte("\n")) {
			if !bytes.HasPrefix(line, []byte("::add-mask::")) {
				kept = append(kept, line)
			}
		}
		data := bytes.Join(kept, []byte("\n"))
		for _, s := range secrets {
			if bytes.Contains(data, []byte(s)) {
				ts.Fatalf("%s holds a secret value (%d characters)", f, len(s))
			}
		}
	}
}

// output FILE NAME VAR reads step output NAME from a GITHUB_OUTPUT file
// into the environment variable VAR; ! output FILE NAME checks it is unset.
func cmdOutput(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: output FILE NAME [VAR]")
	}
	data, err := os.ReadFile(ts.MkAbs(args[0]))
	if os.IsNotExist(err) {
		data, err = nil, nil
	}
	ts.Check(err)
	v, ok := parseGitHubOutput(string(data))[args[1]]
	if neg {
		if ok {
			ts.Fatalf("output %s is set to %q", args[1], v)
		}
		return
	}
	if !ok {
		ts.Fatalf("output %s is not set", args[1])
	}
	if len(args) > 2 {
		ts.Setenv(args[2], v)
	}
}

// parseGitHubOutput reads the name=value and name<<DELIM forms of a
// GITHUB_OUTPUT file.
func parseGitHubOutput(s string) map[string]string {
	m := map[string]string{}
	lines := strings.Split(s, "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if name, delim, ok := strings.Cut(line, "<<"); ok {
			var val []string
			for i++; i < len(lines) && lines[i] != delim; i++ {
				val = append(val, lines[i])
			}
			m[name] = strings.Join(val, "\n")
			continue
		}
		if name, val, ok := strings.Cut(line, "="); ok {
			m[name] = val
		}
	}
	return m
}

// secrets-dir DIR checks that DIR is private and its files are 0600;
// ! secrets-dir DIR checks that it is gone.
func cmdSecretsDir(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: secrets-dir DIR")
	}
	dir := ts.MkAbs(args[0])
	fi, err := os.Stat(dir)
	if neg {
		if err == nil {
			ts.Fatalf("%s still exists", dir)
		}
		return
	}
	ts.Check(err)
	if fi.Mode().Perm() != 0o700 {
		ts.Fatalf("%s has mode %v, want 0700", dir, fi.Mode().Perm())
	}
	entries, err := os.ReadDir(dir)
	ts.Check(err)
	var names []string
	for _, e := range entries {
		info, err := e.Info()
		ts.Check(err)
		if info.Mode().Perm() != 0o600 {
			ts.Fatalf("%s has mode %v, want 0600", e.Name(), info.Mode().Perm())
		}
		names = append(names, e.Name())
	}
	fmt.Fprintf(ts.Stdout(), "%s\n", strings.Join(names, "\n"))
}

// env-file NAME FILE sets the variable NAME to the contents of FILE, for
// inputs of several lines.
func cmdEnvFile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: env-file NAME FILE")
	}
	ts.Setenv(args[0], ts.ReadFile(args[1]))
}
