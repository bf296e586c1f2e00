package ipa

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"howett.net/plist"

	"github.com/storesign/storesign/signing/provision"
	"github.com/storesign/storesign/signing/signingtest"
)

// chkInfo is the Info.plist of an app Xcode archived for the App Store.
func chkInfo() map[string]any {
	return map[string]any{
		"CFBundleIdentifier":            "com.example.app",
		"CFBundleExecutable":            "Example",
		"CFBundleName":                  "Example",
		"CFBundleDisplayName":           "Example",
		"CFBundlePackageType":           "APPL",
		"CFBundleShortVersionString":    "1.2.3",
		"CFBundleVersion":               "42",
		"CFBundleInfoDictionaryVersion": "6.0",
		"CFBundleSupportedPlatforms":    []string{"iPhoneOS"},
		"CFBundleIconName":              "AppIcon",
		"CFBundleIcons": map[string]any{"CFBundlePrimaryIcon": map[string]any{
			"CFBundleIconFiles": []string{"AppIcon60x60"},
			"CFBundleIconName":  "AppIcon",
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
}

// chkCase describes an IPA for the check tests: a minimal app, with
// changes.
type chkCase struct {
	info    func(m map[string]any)                            // edits the app's Info.plist
	files   func([]signingtest.IPAFile) []signingtest.IPAFile // edits the entries
	profile signingtest.ProfileOptions
	// unsigned leaves the app unsigned (no profile, no entitlements).
	unsigned bool
	// full uses the full test app (extension, watch app, framework).
	full bool
}

// chkIPA builds and signs the IPA c describes.
func chkIPA(t testing.TB, c chkCase) []byte {
	t.Helper()
	files := signingtest.IPAFiles(signingtest.IPAOptions{Minimal: !c.full})
	info := chkInfo()
	if c.info != nil {
		c.info(info)
	}
	raw, err := plist.Marshal(info, plist.BinaryFormat)
	if err != nil {
		t.Fatal(err)
	}
	for i := range files {
		if files[i].Name == "Payload/Example.app/Info.plist" {
			files[i].Data = raw
		}
	}
	files = append(files, signingtest.IPAFile{Name: "Payload/Example.app/PrivacyInfo.xcprivacy", Data: []byte("<plist><dict/></plist>")})
	if c.files != nil {
		files = c.files(files)
	}
	var in bytes.Buffer
	if err := signingtest.WriteZip(&in, files, signingtest.Epoch); err != nil {
		t.Fatal(err)
	}
	if c.unsigned {
		return in.Bytes()
	}
	apple := signingtest.NewApple(signingtest.AppleOptions{})
	po := c.profile
	if po.AppID == "" {
		po.AppID = "com.example.app"
		if c.full {
			po.AppID = "com.example.*"
		}
	}
	p, err := provision.Parse(apple.Profile(po))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	_, err = Resign(context.Background(), bytes.NewReader(in.Bytes()), int64(in.Len()), &out, Options{
		Identity: apple.Identity,
		Profiles: []*provision.Profile{p},
		Now:      func() time.Time { return signingtest.Epoch.Add(24 * time.Hour) },
	})
	if err != nil {
		t.Fatalf("Resign: %v", err)
	}
	return out.Bytes()
}

func chkCodes(r *CheckReport) []string {
	var codes []string
	for _, f := range r.Findings {
		codes = append(codes, f.Code+"/"+string(f.Severity))
	}
	return codes
}

func withoutKeys(keys ...string) func(m map[string]any) {
	return func(m map[string]any) {
		for _, k := range keys {
			delete(m, k)
		}
	}
}

// setInfo returns an edit of the entries that sets key to value in the
// XML plist named name.
func setInfo(name, key string, value any) func([]signingtest.IPAFile) []signingtest.IPAFile {
	return func(files []signingtest.IPAFile) []signingtest.IPAFile {
		for i := range files {
			if files[i].Name != name {
				continue
			}
			var m map[string]any
			if _, err := plist.Unmarshal(files[i].Data, &m); err != nil {
				panic(err)
			}
			m[key] = value
			b, err := plist.Marshal(m, plist.XMLFormat)
			if err != nil {
				panic(err)
			}
			files[i].Data = b
		}
		return files
	}
}

func TestCheck(t *testing.T) {
	addFramework := func(name string, manifest bool, info map[string]any) func([]signingtest.IPAFile) []signingtest.IPAFile {
		return func(files []signingtest.IPAFile) []signingtest.IPAFile {
			dir := "Payload/Example.app/Frameworks/" + name + ".framework/"
			if info == nil {
				info = map[string]any{"CFBundleIdentifier": "org.sdk." + name, "CFBundleExecutable": name, "CFBundlePackageType": "FMWK",
					"CFBundleShortVersionString": "5.0", "CFBundleVersion": "1"}
			}
			raw, _ := plist.Marshal(info, plist.XMLFormat)
			files = append(files,
				signingtest.IPAFile{Name: dir + "Info.plist", Data: raw},
				signingtest.IPAFile{Name: dir + name, Data: signingtest.IOSBinary(signingtest.IOSBinaryOptions{Dylib: true, Seed: name}), Mode: 0o755})
			if manifest {
				files = append(files, signingtest.IPAFile{Name: dir + "PrivacyInfo.xcprivacy", Data: []byte("<plist><dict/></plist>")})
			}
			return files
		}
	}
	tests := []struct {
		name string
		c    chkCase
		want []string
	}{
		{"clean", chkCase{}, nil},
		{"no-icon-name", chkCase{info: func(m map[string]any) {
			delete(m, "CFBundleIconName")
			delete(m["CFBundleIcons"].(map[string]any)["CFBundlePrimaryIcon"].(map[string]any), "CFBundleIconName")
		}}, []string{"ITMS-90713/error"}},
		{"no-icons", chkCase{info: withoutKeys("CFBundleIcons")}, []string{"ITMS-90022/error"}},
		{"no-build", chkCase{info: withoutKeys("CFBundleVersion")}, []string{"ITMS-90056/error"}},
		{"bad-short-version", chkCase{info: func(m map[string]any) { m["CFBundleShortVersionString"] = "1.2.3.4" }}, []string{"ITMS-90060/error"}},
		{"bad-build", chkCase{info: func(m map[string]any) { m["CFBundleVersion"] = "abc" }}, []string{"ITMS-90058/error"}},
		{"build-of-four-integers", chkCase{info: func(m map[string]any) { m["CFBundleVersion"] = "1.2.3.4" }}, []string{"ITMS-90058/error"}},
		{"build-with-space", chkCase{info: func(m map[string]any) { m["CFBundleVersion"] = " 42" }}, []string{"ITMS-90058/error"}},
		{"build-of-ten-digits", chkCase{info: func(m map[string]any) { m["CFBundleVersion"] = "2024011512" }}, nil},
		{"extension-bad-build", chkCase{full: true, info: func(m map[string]any) { m["CFBundleVersion"] = "1" }, files: setInfo("Payload/Example.app/PlugIns/Share.appex/Info.plist", "CFBundleVersion", "1.0.0.1")},
			[]string{"ITMS-90058/error", "ITMS-90473/warning"}},
		{"framework-without-short-version", chkCase{files: addFramework("Kit", true, map[string]any{
			"CFBundleIdentifier": "com.example.Kit", "CFBundleExecutable": "Kit", "CFBundlePackageType": "FMWK", "CFBundleVersion": "1"})},
			[]string{"ITMS-90057/error"}},
		{"development-profile", chkCase{profile: signingtest.ProfileOptions{Kind: "development"}}, []string{"ITMS-90161/error", "ITMS-90046/error"}},
		{"ad-hoc-profile", chkCase{profile: signingtest.ProfileOptions{Kind: "ad-hoc"}}, []string{"ITMS-90161/error"}},
		{"aps-development", chkCase{profile: signingtest.ProfileOptions{Entitlements: map[string]any{"aps-environment": "development"}}}, []string{"ITMS-90046/error"}},
		{"aps-production", chkCase{profile: signingtest.ProfileOptions{Entitlements: map[string]any{"aps-environment": "production"}}}, nil},
		{"unsigned", chkCase{unsigned: true}, []string{"ITMS-90161/error"}},
		{"sdk-without-manifest", chkCase{files: addFramework("Alamofire", false, nil)}, []string{"ITMS-91061/error"}},
		{"sdk-with-manifest", chkCase{files: addFramework("Alamofire", true, nil)}, nil},
		{"own-framework-without-manifest", chkCase{files: addFramework("Kit", false, nil)}, nil},
		{"no-privacy-manifest", chkCase{files: func(files []signingtest.IPAFile) []signingtest.IPAFile {
			return slices.DeleteFunc(files, func(f signingtest.IPAFile) bool { return f.Name == "Payload/Example.app/PrivacyInfo.xcprivacy" })
		}}, []string{"ITMS-91053/warning"}},
		{"extension-build-differs", chkCase{full: true}, []string{"ITMS-90473/warning", "ITMS-90473/warning", "ITMS-90473/warning"}},
		{"extension-build-same", chkCase{full: true, info: func(m map[string]any) { m["CFBundleVersion"] = "1" }}, nil},
		{"no-minimum-os", chkCase{info: withoutKeys("MinimumOSVersion")}, []string{"ITMS-90530/error"}},
		{"old-minimum-os", chkCase{info: func(m map[string]any) { m["MinimumOSVersion"] = "9.0" }}, []string{"ITMS-90530/error"}},
		{"no-dt-keys", chkCase{info: withoutKeys("DTXcode", "DTSDKName")}, []string{"ITMS-90534/error"}},
		{"simulator", chkCase{info: func(m map[string]any) { m["DTPlatformName"] = "iphonesimulator" }}, []string{"ITMS-90534/error"}},
		{"old-sdk", chkCase{info: func(m map[string]any) { m["DTPlatformVersion"] = "16.4" }}, []string{"ITMS-90725/warning"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := chkIPA(t, tt.c)
			rep, err := Check(context.Background(), bytes.NewReader(in), int64(len(in)), CheckOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got := chkCodes(rep); !slices.Equal(got, tt.want) {
				t.Errorf("findings %q, want %q", rep.Findings, tt.want)
			}
			wantFailed := slices.ContainsFunc(tt.want, func(s string) bool { return bytes.HasSuffix([]byte(s), []byte("/error")) })
			if rep.Failed() != wantFailed {
				t.Errorf("Failed() = %v, want %v", rep.Failed(), wantFailed)
			}
			if rep.BundleID != "com.example.app" {
				t.Errorf("BundleID %q", rep.BundleID)
			}
		})
	}
}

func TestCheckReport(t *testing.T) {
	in := chkIPA(t, chkCase{info: func(m map[string]any) {
		delete(m, "CFBundleIconName")
		delete(m["CFBundleIcons"].(map[string]any)["CFBundlePrimaryIcon"].(map[string]any), "CFBundleIconName")
		m["DTPlatformVersion"] = "16.0"
	}})
	rep, err := Check(context.Background(), bytes.NewReader(in), int64(len(in)), CheckOptions{Skip: []string{"ITMS-90713"}, MinSDK: "15.0"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) != 0 {
		t.Errorf("skipped and MinSDK: findings %q", rep.Findings)
	}
	if rep.Version != "1.2.3" || rep.Build != "42" || rep.MinimumOSVersion != "15.0" || rep.SDK != "iphoneos18.2" || rep.Xcode != "1620" {
		t.Errorf("report %+v", rep)
	}
	f := Finding{Code: "ITMS-1", Severity: SeverityError, Bundle: "Payload/A.app", Message: "m", Fix: "f"}
	if got, want := f.String(), "error ITMS-1: Payload/A.app: m (f)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestCheckNotIPA(t *testing.T) {
	_, err := Check(context.Background(), bytes.NewReader([]byte("nope")), 4, CheckOptions{})
	if !errors.Is(err, ErrNotIPA) {
		t.Errorf("err = %v, want ErrNotIPA", err)
	}
}

// FuzzCheck runs the checks on arbitrary archives: no panic, and a
// report whenever the archive scans.
func FuzzCheck(f *testing.F) {
	f.Add(signingtest.IPA(signingtest.IPAOptions{Minimal: true}))
	f.Add(signingtest.IPA(signingtest.IPAOptions{}))
	f.Add(chkIPA(f, chkCase{}))
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := Check(context.Background(), bytes.NewReader(data), int64(len(data)), CheckOptions{})
		if err == nil && rep == nil {
			t.Fatal("no report and no error")
		}
	})
}

// Check an IPA before uploading it: this one is a raw build, not signed
// for the App Store, without icons.
func ExampleCheck() {
	files := signingtest.IPAFiles(signingtest.IPAOptions{Minimal: true})
	var in bytes.Buffer
	if err := signingtest.WriteZip(&in, files, signingtest.Epoch); err != nil {
		panic(err)
	}
	rep, err := Check(context.Background(), bytes.NewReader(in.Bytes()), int64(in.Len()), CheckOptions{Skip: []string{"ITMS-90534", "ITMS-91053"}})
	if err != nil {
		panic(err)
	}
	fmt.Println(rep.BundleID, rep.Version, rep.Build, rep.Failed())
	for _, f := range rep.Findings {
		fmt.Println(f.Severity, f.Code, f.Message)
	}
	// Output:
	// com.example.app 1.0 1 true
	// error ITMS-90713 Info.plist has no CFBundleIconName
	// error ITMS-90022 Info.plist declares no icon files (CFBundleIcons/CFBundlePrimaryIcon/CFBundleIconFiles)
	// error ITMS-90161 embedded.mobileprovision is not a provisioning profile Apple signed
}
