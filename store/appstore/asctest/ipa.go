package asctest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"time"

	"howett.net/plist"

	"github.com/storesign/storesign/signing/ipa"
	"github.com/storesign/storesign/signing/provision"
	"github.com/storesign/storesign/signing/signingtest"
)

// IPAOptions describe an IPA made by [IPA]. The zero value is
// com.example.app version 1.0 build 1, of about 40 KB.
type IPAOptions struct {
	BundleID string // default com.example.app
	Version  string // CFBundleShortVersionString, default 1.0
	Build    string // CFBundleVersion, default 1
	// Padding adds a stored file of this many incompressible bytes, to
	// make the IPA span several upload parts.
	Padding int
	// ProfileKind is the embedded profile's kind: "app-store" (default),
	// "ad-hoc", "development" (which ipa.Check refuses).
	ProfileKind string
}

// IPA returns a small IPA, signed with throwaway identities
// (signingtest), that passes ipa.Check: what an App Store build looks
// like to the upload.
func IPA(opts IPAOptions) ([]byte, error) {
	if opts.BundleID == "" {
		opts.BundleID = "com.example.app"
	}
	if opts.Version == "" {
		opts.Version = "1.0"
	}
	if opts.Build == "" {
		opts.Build = "1"
	}
	info := map[string]any{
		"CFBundleIdentifier":            opts.BundleID,
		"CFBundleExecutable":            "Example",
		"CFBundleName":                  "Example",
		"CFBundleDisplayName":           "Example",
		"CFBundlePackageType":           "APPL",
		"CFBundleShortVersionString":    opts.Version,
		"CFBundleVersion":               opts.Build,
		"CFBundleInfoDictionaryVersion": "6.0",
		"CFBundleSupportedPlatforms":    []string{"iPhoneOS"},
		"CFBundleIconName":              "AppIcon",
		"CFBundleIcons": map[string]any{"CFBundlePrimaryIcon": map[string]any{
			"CFBundleIconFiles": []string{"AppIcon60x60"}, "CFBundleIconName": "AppIcon",
		}},
		"MinimumOSVersion":  "15.0",
		"DTPlatformName":    "iphoneos",
		"DTPlatformVersion": "18.2",
		"DTPlatformBuild":   "22C146",
		"DTSDKName":         "iphoneos18.2",
		"DTSDKBuild":        "22C146",
		"DTXcode":           "1620",
		"DTXcodeBuild":      "16C5032a",
		"DTCompiler":        "com.apple.compilers.llvm.clang.1_0",
	}
	raw, err := plist.Marshal(info, plist.BinaryFormat)
	if err != nil {
		return nil, err
	}
	files := signingtest.IPAFiles(signingtest.IPAOptions{Minimal: true, BundleID: opts.BundleID})
	for i := range files {
		if files[i].Name == "Payload/Example.app/Info.plist" {
			files[i].Data = raw
		}
	}
	files = append(files, signingtest.IPAFile{Name: "Payload/Example.app/PrivacyInfo.xcprivacy", Data: []byte("<plist><dict/></plist>")})
	if opts.Padding > 0 {
		pad := make([]byte, 0, opts.Padding+32)
		for seed := sha256.Sum256([]byte(opts.BundleID)); len(pad) < opts.Padding; seed = sha256.Sum256(seed[:]) {
			pad = append(pad, seed[:]...)
		}
		files = append(files, signingtest.IPAFile{Name: "Payload/Example.app/padding.bin", Data: pad[:opts.Padding], Store: true})
	}
	var in bytes.Buffer
	if err := signingtest.WriteZip(&in, files, signingtest.Epoch); err != nil {
		return nil, err
	}
	apple := signingtest.NewApple(signingtest.AppleOptions{})
	p, err := provision.Parse(apple.Profile(signingtest.ProfileOptions{AppID: opts.BundleID, Kind: opts.ProfileKind}))
	if err != nil {
		return nil, fmt.Errorf("making the profile: %w", err)
	}
	var out bytes.Buffer
	_, err = ipa.Resign(context.Background(), bytes.NewReader(in.Bytes()), int64(in.Len()), &out, ipa.Options{
		Identity: apple.Identity,
		Profiles: []*provision.Profile{p},
		Now:      func() time.Time { return signingtest.Epoch.Add(24 * time.Hour) },
	})
	if err != nil {
		return nil, fmt.Errorf("signing the IPA: %w", err)
	}
	return out.Bytes(), nil
}
