package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/storesign/storesign/signing/signingtest"
)

// newDemoCmd is "storesign demo", the main job on built-in samples: it
// writes a throwaway identity (a keystore for Android, a .p12, its root and a provisioning
// profile for iOS) and sample apps into a folder, then runs the same
// commands a user would — sign, verify — and prints what they print.
func newDemoCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "demo [--dir DIR] [--platform all|android|ios]",
		Short: "Re-sign built-in samples with a throwaway identity, verify them and print the reports",
		Long: `Write throwaway identities (an Android keystore; an iOS .p12, its root and a
provisioning profile) and sample apps into a folder, then run the commands a
user would (apk sign and verify, aab sign and verify, ipa resign and verify)
and print what they print. Nothing leaves the machine.`,
		Example: `  storesign demo
  storesign demo --platform ios --dir demo/`,
		Args:              cobra.ArbitraryArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
	}
	fs := cmd.Flags()
	dir := fs.String("dir", "", "keep the samples, keys and signed apps in DIR (default: a temporary folder, removed afterwards)")
	platform := fs.String("platform", "all", "which samples: all, android or ios")
	completeFlags(cmd, map[string]cobra.CompletionFunc{"platform": completeWords("all", "android", "ios"), "dir": func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return nil, cobra.ShellCompDirectiveFilterDirs
	}})
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		if fs.NArg() > 0 {
			return unexpectedArg("demo", fs.Args(), "", "")
		}
		android, ios := true, true
		switch *platform {
		case "all":
		case "android":
			ios = false
		case "ios":
			android = false
		default:
			return usagef("demo: --platform is all, android or ios, not %q", *platform)
		}

		work := *dir
		if work == "" {
			tmp, err := os.MkdirTemp("", "storesign-demo-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(tmp)
			work = tmp
		} else if err := os.MkdirAll(work, 0o755); err != nil {
			return err
		}
		d := &demo{e: e, dir: work}
		fmt.Fprintf(e.stdout, "storesign demo: samples, throwaway keys and outputs in %s (the commands below run there)\n", work)
		if android {
			if err := d.android(ctx); err != nil {
				return err
			}
		}
		if ios {
			if err := d.ios(ctx); err != nil {
				return err
			}
		}
		fmt.Fprintln(e.stdout, "\ndemo: every sample was signed and verified")
		if *dir == "" {
			// The commands shown name files in work, which goes now.
			fmt.Fprintln(e.stdout, "demo: its folder is removed now; run 'storesign demo --dir DIR' to keep the samples and throwaway keys, and try the commands above in DIR")
		}
		return nil
	}
	return cmd
}

type demo struct {
	e   *env
	dir string
}

// demoFile is a file the demo writes: a name under its folder, and the
// bytes.
type demoFile struct {
	name string
	data []byte
}

// files writes the demo's files (0600: some are secret material) and
// returns their paths by name.
func (d *demo) files(files []demoFile) (map[string]string, error) {
	paths := make(map[string]string, len(files))
	for _, f := range files {
		p := filepath.Join(d.dir, f.name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(p, f.data, 0o600); err != nil {
			return nil, err
		}
		paths[f.name] = p
	}
	return paths, nil
}

// run prints a command line as a user would type it, then runs it.
func (d *demo) run(ctx context.Context, args ...string) error {
	shown := make([]string, len(args))
	for i, a := range args {
		shown[i] = strings.ReplaceAll(a, d.dir+string(filepath.Separator), "")
	}
	fmt.Fprintf(d.e.stdout, "\n$ storesign %s\n", strings.Join(shown, " "))
	if _, err := execute(ctx, d.e, args); err != nil {
		return fmt.Errorf("demo: storesign %s %s: %w", args[0], args[1], err)
	}
	return nil
}

func (d *demo) android(ctx context.Context) error {
	id := signingtest.SelfSigned("storesign demo upload key", nil)
	const storePass, keyPass = "demo-store-password", "demo-key-password"
	paths, err := d.files([]demoFile{
		{"android/upload.jks", signingtest.JKS(id, "upload", storePass, keyPass)},
		{"android/store.pass", []byte(storePass)},
		{"android/key.pass", []byte(keyPass)},
		{"android/sample.apk", signingtest.APK(signingtest.APKOptions{
			Package: "com.example.demo", VersionName: "1.0", MinSDK: 21,
			NativeABIs: []string{"arm64-v8a", "armeabi-v7a"}, Assets: 8,
		})},
		{"android/sample.aab", signingtest.Bundle(signingtest.APKOptions{Package: "com.example.demo", VersionName: "1.0"})},
	})
	if err != nil {
		return err
	}
	key := []string{
		"--ks", paths["android/upload.jks"], "--ks-key-alias", "upload",
		"--ks-pass", "file:" + paths["android/store.pass"], "--key-pass", "file:" + paths["android/key.pass"],
	}
	apkOut := filepath.Join(d.dir, "android", "sample-signed.apk")
	aabOut := filepath.Join(d.dir, "android", "sample-signed.aab")
	steps := []struct {
		args []string
	}{
		{append(append([]string{"apk", "sign"}, key...), "--in", paths["android/sample.apk"], "--out", apkOut)},
		{[]string{"apk", "verify", "--verbose", "--print-certs", apkOut}},
		{append(append([]string{"aab", "sign"}, key...), "--in", paths["android/sample.aab"], "--out", aabOut)},
		{[]string{"aab", "verify", aabOut}},
	}
	for _, s := range steps {
		if err := d.run(ctx, s.args...); err != nil {
			return err
		}
	}
	return nil
}

// demoIPA is the studio's build: an app as Xcode archives it (its build
// keys, icon and privacy manifest), so that ipa check passes its output.
var demoIPA = signingtest.IPAOptions{
	BundleID: "com.example.studio",
	Info: map[string]any{
		"CFBundleIconName": "AppIcon",
		"CFBundleIcons": map[string]any{"CFBundlePrimaryIcon": map[string]any{
			"CFBundleIconFiles": []string{"AppIcon60x60"}, "CFBundleIconName": "AppIcon",
		}},
		"DTPlatformName": "iphoneos", "DTPlatformVersion": "18.2", "DTSDKName": "iphoneos18.2",
		"DTXcode": "1620", "DTXcodeBuild": "16C5032a", "DTCompiler": "com.apple.compilers.llvm.clang.1_0",
		"DTPlatformBuild": "22C146", "DTSDKBuild": "22C146",
	},
	Extra: []signingtest.IPAFile{{Name: "PrivacyInfo.xcprivacy", Data: []byte(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>NSPrivacyTracking</key>
	<false/>
	<key>NSPrivacyAccessedAPITypes</key>
	<array/>
</dict>
</plist>
`)}},
}

func (d *demo) ios(ctx context.Context) error {
	apple := signingtest.NewApple(signingtest.AppleOptions{})
	const p12Pass = "demo-p12-password"
	paths, err := d.files([]demoFile{
		{"ios/distribution.p12", signingtest.PKCS12(apple.Identity, p12Pass)},
		{"ios/p12.pass", []byte(p12Pass)},
		{"ios/root.pem", signingtest.CertPEM(apple.Root.Certificate)},
		{"ios/AppStore.mobileprovision", apple.Profile(signingtest.ProfileOptions{Name: "Demo App Store", AppID: "com.example.*"})},
		{"ios/Studio.ipa", signingtest.IPA(demoIPA)},
	})
	if err != nil {
		return err
	}
	out := filepath.Join(d.dir, "ios", "Signed.ipa")
	steps := []struct {
		args []string
	}{
		{[]string{"ipa", "resign",
			"--p12", paths["ios/distribution.p12"], "--p12-pass", "file:" + paths["ios/p12.pass"],
			"--profile", paths["ios/AppStore.mobileprovision"],
			"--bundle-id", "com.example.demo", "--short-version", "1.0", "--bundle-version", "1",
			"--in", paths["ios/Studio.ipa"], "--out", out}},
		{[]string{"ipa", "verify", "--root", paths["ios/root.pem"], out}},
		{[]string{"ipa", "check", out}},
	}
	for _, s := range steps {
		if err := d.run(ctx, s.args...); err != nil {
			return err
		}
	}
	return nil
}
