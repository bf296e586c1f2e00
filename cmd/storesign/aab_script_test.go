package main

import (
	"archive/zip"
	"bytes"
	"crypto/elliptic"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/storesign/storesign/signing"
	"github.com/storesign/storesign/signing/signingtest"
)

// aabScriptCmds are the fixture commands of the aab_*.txtar scripts:
//
//	aab-gen OUT [ASSETS]                      an unsigned app bundle
//	aab-apk OUT                               an APK (a zip that is not a bundle)
//	aab-dup OUT                               a bundle with two entries of one name
//	aab-cut IN OUT                            the first half of IN
//	aab-tamper IN OUT                         IN with base/dex/classes.dex changed
//	aab-keystore JKS|PKCS12 OUT ALIAS STOREPW [KEYPW] [ec]
//	aab-keycert KEY CERT [mismatch]           PKCS#8 key and PEM certificate
//	aab-notemp DIR                            fails if DIR holds temp files
func aabScriptCmds() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	return map[string]func(ts *testscript.TestScript, neg bool, args []string){
		"aab-gen": func(ts *testscript.TestScript, neg bool, args []string) {
			if len(args) < 1 {
				ts.Fatalf("usage: aab-gen OUT [ASSETS]")
			}
			opts := signingtest.APKOptions{}
			if len(args) > 1 {
				n, err := strconv.Atoi(args[1])
				ts.Check(err)
				opts.Assets = n
			}
			ts.Check(os.WriteFile(ts.MkAbs(args[0]), signingtest.Bundle(opts), 0o644))
		},
		"aab-apk": func(ts *testscript.TestScript, neg bool, args []string) {
			ts.Check(os.WriteFile(ts.MkAbs(args[0]), signingtest.APK(signingtest.APKOptions{}), 0o644))
		},
		"aab-dup": func(ts *testscript.TestScript, neg bool, args []string) {
			var buf bytes.Buffer
			zw := zip.NewWriter(&buf)
			for _, n := range []string{"BundleConfig.pb", "base/manifest/AndroidManifest.xml", "base/dex/classes.dex", "base/dex/classes.dex"} {
				w, err := zw.Create(n)
				ts.Check(err)
				w.Write([]byte("content of " + n))
			}
			ts.Check(zw.Close())
			ts.Check(os.WriteFile(ts.MkAbs(args[0]), buf.Bytes(), 0o644))
		},
		"aab-cut": func(ts *testscript.TestScript, neg bool, args []string) {
			b, err := os.ReadFile(ts.MkAbs(args[0]))
			ts.Check(err)
			ts.Check(os.WriteFile(ts.MkAbs(args[1]), b[:len(b)/2], 0o644))
		},
		"aab-tamper": func(ts *testscript.TestScript, neg bool, args []string) {
			zr, err := zip.OpenReader(ts.MkAbs(args[0]))
			ts.Check(err)
			defer zr.Close()
			var buf bytes.Buffer
			zw := zip.NewWriter(&buf)
			for _, f := range zr.File {
				rc, err := f.Open()
				ts.Check(err)
				data, err := io.ReadAll(rc)
				ts.Check(err)
				if f.Name == "base/dex/classes.dex" {
					data = append(data, "tampered"...)
				}
				w, err := zw.Create(f.Name)
				ts.Check(err)
				w.Write(data)
			}
			ts.Check(zw.Close())
			ts.Check(os.WriteFile(ts.MkAbs(args[1]), buf.Bytes(), 0o644))
		},
		"aab-keystore": func(ts *testscript.TestScript, neg bool, args []string) {
			if len(args) < 4 {
				ts.Fatalf("usage: aab-keystore JKS|PKCS12 OUT ALIAS STOREPW [KEYPW] [ec]")
			}
			keyPass := args[3]
			if len(args) > 4 && args[4] != "ec" {
				keyPass = args[4]
			}
			id := aabScriptIdentity(args[len(args)-1] == "ec")
			var data []byte
			switch args[0] {
			case "JKS":
				data = signingtest.JKS(id, args[2], args[3], keyPass)
			case "PKCS12":
				data = signingtest.PKCS12(id, args[3])
			default:
				ts.Fatalf("aab-keystore: unknown type %s", args[0])
			}
			ts.Check(os.WriteFile(ts.MkAbs(args[1]), data, 0o600))
		},
		"aab-keycert": func(ts *testscript.TestScript, neg bool, args []string) {
			id := aabScriptIdentity(false)
			certOf := id
			if len(args) > 2 && args[2] == "mismatch" {
				certOf = aabScriptIdentity(true)
			}
			ts.Check(os.WriteFile(ts.MkAbs(args[0]), signingtest.KeyPKCS8(id), 0o600))
			ts.Check(os.WriteFile(ts.MkAbs(args[1]), signingtest.CertPEM(certOf.Certificate), 0o644))
		},
		"aab-notemp": func(ts *testscript.TestScript, neg bool, args []string) {
			ents, err := os.ReadDir(ts.MkAbs(args[0]))
			ts.Check(err)
			for _, e := range ents {
				if !e.IsDir() && strings.HasSuffix(e.Name(), ".tmp") {
					ts.Fatalf("temp file left behind: %s", filepath.Join(args[0], e.Name()))
				}
			}
		},
	}
}

func aabScriptIdentity(ec bool) *signing.Identity {
	if ec {
		return signingtest.SelfSigned("storesign script upload ec", signingtest.ECKey("storesign script upload ec", elliptic.P256()))
	}
	return signingtest.SelfSigned("storesign script upload", nil)
}
