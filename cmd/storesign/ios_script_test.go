package main

import (
	"bytes"
	"encoding/pem"
	"flag"
	"os"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/storesign/storesign/signing/signingtest"
)

func iosScriptCmds() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	return map[string]func(ts *testscript.TestScript, neg bool, args []string){
		"gen-ipa":      genIPA,
		"gen-ios-keys": genIOSKeys,
	}
}

// genIPA writes a synthetic IPA: gen-ipa [-minimal] [-encrypted]
// [-truncated] [-unsafe] [-no-payload] [-bundle-id ID] [-bad-plist]
// [-bad-fat] [-bad-magic] out.ipa
func genIPA(ts *testscript.TestScript, neg bool, args []string) {
	fs := flag.NewFlagSet("gen-ipa", flag.ContinueOnError)
	minimal := fs.Bool("minimal", false, "app only")
	encrypted := fs.Bool("encrypted", false, "FairPlay-encrypted main binary")
	truncated := fs.Bool("truncated", false, "truncated main binary")
	unsafe := fs.Bool("unsafe", false, "add a ../ entry")
	noPayload := fs.Bool("no-payload", false, "no Payload/*.app")
	badPlist := fs.Bool("bad-plist", false, "an Info.plist that is not a plist")
	badFat := fs.Bool("bad-fat", false, "a main binary whose fat header claims 1,000,000 slices")
	badMagic := fs.Bool("bad-magic", false, "a main binary that is not Mach-O")
	bundleID := fs.String("bundle-id", "", "the app's CFBundleIdentifier, Go-quoted when it starts with \"")
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		ts.Fatalf("usage: gen-ipa [flags] out.ipa")
	}
	files := signingtest.IPAFiles(signingtest.IPAOptions{Minimal: *minimal, Encrypted: *encrypted, BundleID: goQuoted(ts, *bundleID)})
	if *truncated {
		for i, f := range files {
			if f.Name == "Payload/Example.app/Example" {
				files[i].Data = f.Data[:200]
			}
		}
	}
	for i, f := range files {
		switch {
		case *badPlist && f.Name == "Payload/Example.app/Info.plist":
			files[i].Data = []byte("<?xml version=\"1.0\"?><plist><dict><key>CFBundleIdentifier</key>")
		case *badFat && f.Name == "Payload/Example.app/Example":
			files[i].Data = append([]byte{0xca, 0xfe, 0xba, 0xbe, 0x00, 0x0f, 0x42, 0x40}, make([]byte, 64)...)
		case *badMagic && f.Name == "Payload/Example.app/Example":
			files[i].Data = []byte("#!/bin/sh\necho not a binary\n")
		}
	}
	if *unsafe {
		files = append(files, signingtest.IPAFile{Name: "Payload/../../evil.txt", Data: []byte("x")})
	}
	if *noPayload {
		for i := range files {
			files[i].Name = "Stuff/" + files[i].Name
		}
	}
	var buf bytes.Buffer
	if err := signingtest.WriteZip(&buf, files, signingtest.Epoch); err != nil {
		ts.Fatalf("gen-ipa: %v", err)
	}
	if err := os.WriteFile(ts.MkAbs(fs.Arg(0)), buf.Bytes(), 0o644); err != nil {
		ts.Fatalf("gen-ipa: %v", err)
	}
}

// genIOSKeys writes throwaway signing material into a folder:
// dist.p12 (password "secret", with its chain), dist-key.pem and
// dist-cert.pem, dist-key.enc (dist-key encrypted with "keypass"), root.pem, profiles app.mobileprovision
// (com.example.app), wild.mobileprovision (com.example.*),
// groups.mobileprovision (com.example.* with an app group),
// dev.mobileprovision (development, com.example.*), expired.mobileprovision,
// otherteam.mobileprovision, and expired.p12 / other.p12 with their
// certificate expired / in no profile.
func genIOSKeys(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: gen-ios-keys dir")
	}
	dir := ts.MkAbs(args[0])
	if err := os.MkdirAll(dir, 0o755); err != nil {
		ts.Fatalf("%v", err)
	}
	write := func(name string, b []byte) {
		if err := os.WriteFile(dir+"/"+name, b, 0o600); err != nil {
			ts.Fatalf("%v", err)
		}
	}
	apple := signingtest.NewApple(signingtest.AppleOptions{})
	write("dist.p12", signingtest.PKCS12(apple.Identity, "secret"))
	write("dist-key.pem", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: signingtest.KeyPKCS8(apple.Identity)}))
	write("dist-cert.pem", signingtest.CertPEM(apple.Identity.Certificate))
	write("dist-key.enc", signingtest.EncryptedKeyPKCS8(apple.Identity, "keypass"))
	write("wwdr.pem", signingtest.CertPEM(apple.WWDR.Certificate))
	write("root.pem", signingtest.CertPEM(apple.Root.Certificate))
	write("app.mobileprovision", apple.Profile(signingtest.ProfileOptions{Name: "Example App Store", AppID: "com.example.app"}))
	write("wild.mobileprovision", apple.Profile(signingtest.ProfileOptions{Name: "Example wildcard", AppID: "com.example.*"}))
	write("groups.mobileprovision", apple.Profile(signingtest.ProfileOptions{Name: "Example with groups", AppID: "com.example.*", Entitlements: map[string]any{
		"com.apple.security.application-groups": []string{"group.com.example.custom"},
	}}))
	write("dev.mobileprovision", apple.Profile(signingtest.ProfileOptions{Name: "Example development", AppID: "com.example.*", Kind: "development"}))
	write("expired.mobileprovision", apple.Profile(signingtest.ProfileOptions{Name: "Old", AppID: "com.example.*", Expires: signingtest.Epoch.AddDate(0, 6, 0)}))
	write("otherteam.mobileprovision", apple.Profile(signingtest.ProfileOptions{Name: "Other team", AppID: "com.example.*", TeamID: "ZZZZZ99999"}))
	old := signingtest.NewApple(signingtest.AppleOptions{Key: signingtest.RSAKey("old ios", 2048), NotAfter: signingtest.Epoch.Add(365 * 24 * time.Hour)})
	write("expired.p12", signingtest.PKCS12(old.Identity, "secret"))
	other := signingtest.NewApple(signingtest.AppleOptions{Key: signingtest.RSAKey("other ios", 2048)})
	write("other.p12", signingtest.PKCS12(other.Identity, "secret"))
}
