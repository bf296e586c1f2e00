package main

import (
	"archive/zip"
	"bytes"
	"io"
	"os"
	"strconv"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/storesign/storesign/signing/signingtest"
)

// aabScriptCmds are the fixture commands of the aab_*.txtar scripts:
//
//	aab-gen OUT [ASSETS]                      an unsigned app bundle
//	aab-apk OUT                               an APK (a zip that is not a bundle)
//	aab-dup OUT                               a bundle with two entries of one name
//	aab-tamper IN OUT                         IN with base/dex/classes.dex changed
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
	}
}
