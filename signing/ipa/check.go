package ipa

import (
	"context"
	"fmt"
	"io"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/storesign/storesign/internal/atomicfile"
	"github.com/storesign/storesign/internal/plistx"
	"github.com/storesign/storesign/signing/macho"
	"github.com/storesign/storesign/signing/provision"
)

// Severity says whether a [Finding] makes Apple refuse the build
// (SeverityError) or only warn about it (SeverityWarning).
type Severity string

// The severities of a finding.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// DefaultMinSDK is the iOS SDK version [Check] expects the app to be
// built with when CheckOptions.MinSDK is empty.
const DefaultMinSDK = "18.0"

// CheckOptions tune [Check]. The zero value runs every check.
type CheckOptions struct {
	// MinSDK is the oldest iOS SDK (DTPlatformVersion) accepted without a
	// warning; "": DefaultMinSDK.
	MinSDK string
	// Skip lists ITMS codes ("ITMS-91053") whose findings are dropped.
	Skip []string
}

// Finding is one problem Apple's validation of an upload would report.
type Finding struct {
	// Code is the ITMS code Apple's validation reports for it.
	Code     string   `json:"code"`
	Severity Severity `json:"severity"`
	// Bundle is the bundle's path inside the archive.
	Bundle string `json:"bundle"`
	// Message says what is wrong; Fix what to do about it.
	Message string `json:"message"`
	Fix     string `json:"fix,omitempty"`
}

func (f Finding) String() string {
	s := fmt.Sprintf("%s %s: %s: %s", f.Severity, f.Code, f.Bundle, f.Message)
	if f.Fix != "" {
		s += " (" + f.Fix + ")"
	}
	return s
}

// CheckReport is what [Check] found.
type CheckReport struct {
	BundleID string `json:"bundle_id"`
	Version  string `json:"version"` // CFBundleShortVersionString
	Build    string `json:"build"`   // CFBundleVersion
	// MinimumOSVersion, SDK (DTSDKName) and Xcode (DTXcode) of the app.
	MinimumOSVersion string    `json:"minimum_os_version,omitempty"`
	SDK              string    `json:"sdk,omitempty"`
	Xcode            string    `json:"xcode,omitempty"`
	Findings         []Finding `json:"findings"`
}

// Failed reports whether any finding is an error.
func (r *CheckReport) Failed() bool {
	return slices.ContainsFunc(r.Findings, func(f Finding) bool { return f.Severity == SeverityError })
}

// Errors returns the findings of severity error.
func (r *CheckReport) Errors() []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.Severity == SeverityError {
			out = append(out, f)
		}
	}
	return out
}

// CheckFile runs [Check] on the IPA at name.
func CheckFile(ctx context.Context, name string, opts CheckOptions) (*CheckReport, error) {
	f, size, err := atomicfile.OpenInput(name, "an IPA")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Check(ctx, f, size, opts)
}

// isPrivacySDK reports whether a framework of that name is one of Apple's
// commonly used third-party SDKs, which must carry a privacy manifest
// (ITMS-91061).
func isPrivacySDK(name string) bool {
	return slices.Contains([]string{
		"Abseil", "AFNetworking", "Alamofire", "AppAuth", "BoringSSL", "openssl_grpc",
		"Capacitor", "Charts", "connectivity_plus", "Cordova", "device_info_plus",
		"DKImagePickerController", "DKPhotoGallery", "FBAEMKit", "FBLPromises",
		"FBSDKCoreKit", "FBSDKCoreKit_Basics", "FBSDKLoginKit", "FBSDKShareKit",
		"file_picker", "FirebaseABTesting", "FirebaseAuth", "FirebaseCore",
		"FirebaseCoreDiagnostics", "FirebaseCoreExtension", "FirebaseCoreInternal",
		"FirebaseCrashlytics", "FirebaseDynamicLinks", "FirebaseFirestore",
		"FirebaseInstallations", "FirebaseMessaging", "FirebaseRemoteConfig",
		"Flutter", "fluttertoast", "FMDB", "geolocator_apple", "GoogleDataTransport",
		"GoogleSignIn", "GoogleToolboxForMac", "GoogleUtilities", "grpcpp", "GTMAppAuth",
		"GTMSessionFetcher", "hermes", "image_picker_ios", "IQKeyboardManager",
		"IQKeyboardManagerSwift", "Kingfisher", "leveldb", "Lottie", "MBProgressHUD",
		"nanopb", "OneSignal", "OneSignalCore", "OneSignalExtension", "OneSignalOutcomes",
		"OpenSSL", "OrderedSet", "package_info", "package_info_plus", "path_provider",
		"path_provider_ios", "Promises", "Protobuf", "Reachability", "RealmSwift",
		"RxCocoa", "RxRelay", "RxSwift", "SDWebImage", "share_plus", "shared_preferences_ios",
		"SnapKit", "sqflite", "Starscream", "SVProgressHUD", "SwiftyGif", "SwiftyJSON",
		"Toast", "UnityFramework", "url_launcher", "url_launcher_ios", "video_player_avfoundation",
		"wakelock", "webview_flutter_wkwebview",
	}, name)
}

// Check runs, without network access, the checks of the IPA read from
// src that Apple's validation of an upload most often fails, each
// reported as a [Finding] with the ITMS code it prevents:
//
//	ITMS-90713  the app has no CFBundleIconName (asset catalog icon)
//	ITMS-90022  the app declares no icon files (CFBundleIcons)
//	ITMS-90056  a bundle has no CFBundleVersion
//	ITMS-90058  CFBundleVersion is not 1 to 3 integers
//	ITMS-90057  a nested bundle has no CFBundleShortVersionString
//	ITMS-90060  CFBundleShortVersionString is not 1 to 3 integers
//	ITMS-90473  a nested app's or extension's CFBundleVersion is not the app's (warning)
//	ITMS-90161  no embedded profile, or a Development or Ad Hoc one (devices)
//	ITMS-90046  get-task-allow true, or aps-environment not production
//	ITMS-91061  a known third-party SDK without PrivacyInfo.xcprivacy
//	ITMS-91053  no privacy manifest in the app at all (warning)
//	ITMS-90530  MinimumOSVersion missing or invalid
//	ITMS-90534  DT* build keys missing, or a simulator build
//	ITMS-90725  built with an SDK older than CheckOptions.MinSDK (warning)
//
// The codes are those Apple's validation reports (as seen in upload
// logs); Apple adds checks over time, so a clean report is no guarantee.
// Check fails only for input that is not an IPA.
func Check(ctx context.Context, src io.ReaderAt, size int64, opts CheckOptions) (*CheckReport, error) {
	a, err := scan(src, size)
	if err != nil {
		return nil, err
	}
	app := a.app
	str := func(b *bundle, key string) string { s, _ := b.info[key].(string); return s }
	rep := &CheckReport{
		BundleID:         app.bundleID,
		Version:          str(app, "CFBundleShortVersionString"),
		Build:            str(app, "CFBundleVersion"),
		MinimumOSVersion: str(app, "MinimumOSVersion"),
		SDK:              str(app, "DTSDKName"),
		Xcode:            str(app, "DTXcode"),
	}
	add := func(code string, sev Severity, b *bundle, fix, format string, args ...any) {
		if slices.Contains(opts.Skip, code) {
			return
		}
		rep.Findings = append(rep.Findings, Finding{Code: code, Severity: sev, Bundle: b.dir, Message: fmt.Sprintf(format, args...), Fix: fix})
	}

	// Icons.
	if str(app, "CFBundleIconName") == "" && !hasIconName(app.info) {
		add("ITMS-90713", SeverityError, app, "build with an AppIcon in the asset catalog (Xcode sets CFBundleIconName)",
			"Info.plist has no CFBundleIconName")
	}
	if !hasIconFiles(app.info) {
		add("ITMS-90022", SeverityError, app, "add the app icon to the asset catalog and rebuild",
			"Info.plist declares no icon files (CFBundleIcons/CFBundlePrimaryIcon/CFBundleIconFiles)")
	}

	// Versions.
	appBuild := rep.Build
	for _, b := range a.bundles {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		short, build := str(b, "CFBundleShortVersionString"), str(b, "CFBundleVersion")
		if build == "" {
			add("ITMS-90056", SeverityError, b, "set CFBundleVersion (the build number) in its Info.plist", "Info.plist has no CFBundleVersion")
		} else if !ValidBundleVersion(build) && (b == app || b.kind == kindAppex || b.kind == kindApp) {
			add("ITMS-90058", SeverityError, b, "use up to three period-separated integers, such as 42 or 1.2.3: storesign ipa resign --bundle-version sets it",
				"CFBundleVersion %q is not a build number of at most three integers", build)
		}
		if short == "" {
			add("ITMS-90057", SeverityError, b, "set CFBundleShortVersionString in its Info.plist (1.0 will do for a framework)", "Info.plist has no CFBundleShortVersionString")
		} else if !ValidShortVersion(short) && (b == app || b.kind == kindAppex || b.kind == kindApp) {
			add("ITMS-90060", SeverityError, b, "use up to three period-separated integers, such as 1.2.3",
				"CFBundleShortVersionString %q is not a version of at most three integers", short)
		}
		if b != app && (b.kind == kindAppex || b.kind == kindApp) && build != "" && appBuild != "" && build != appBuild {
			add("ITMS-90473", SeverityWarning, b, "give it the app's CFBundleVersion: storesign ipa resign --bundle-version sets both",
				"CFBundleVersion %q differs from the app's %q", build, appBuild)
		}
	}

	// Profiles and entitlements of the app and its extensions.
	for _, b := range a.bundles {
		if !b.kind.embedsProfile() || b.appleSigned {
			continue
		}
		preflightProfile(a, b, add)
		preflightEntitlements(src, b, add)
	}

	// Privacy manifests.
	anyManifest := false
	for _, e := range a.entries {
		if path.Base(e.name) == "PrivacyInfo.xcprivacy" && !e.dir {
			anyManifest = true
			break
		}
	}
	for _, b := range a.bundles {
		if b.kind != kindFramework {
			continue
		}
		name := strings.TrimSuffix(path.Base(b.dir), ".framework")
		if isPrivacySDK(name) && !hasPrivacyManifest(a, b.dir) {
			add("ITMS-91061", SeverityError, b, "update "+name+" to a release that ships PrivacyInfo.xcprivacy",
				"%s is one of Apple's commonly used SDKs and has no privacy manifest (PrivacyInfo.xcprivacy)", name)
		}
	}
	if !anyManifest {
		add("ITMS-91053", SeverityWarning, app, "add a PrivacyInfo.xcprivacy declaring the required-reason APIs the app uses (UserDefaults, file timestamps, ...)",
			"the app has no privacy manifest (PrivacyInfo.xcprivacy)")
	}

	// Minimum OS and build keys.
	if m := rep.MinimumOSVersion; m == "" {
		add("ITMS-90530", SeverityError, app, "set the deployment target in Xcode (MinimumOSVersion)", "Info.plist has no MinimumOSVersion")
	} else if v, ok := versionMajorMinor(m); !ok || v < 1200 {
		add("ITMS-90530", SeverityError, app, "set a deployment target of iOS 12.0 or later", "MinimumOSVersion %q is not a supported deployment target", m)
	}
	var missing []string
	for _, k := range []string{"DTPlatformName", "DTPlatformVersion", "DTSDKName", "DTXcode", "DTXcodeBuild", "DTCompiler", "DTPlatformBuild", "DTSDKBuild"} {
		if str(app, k) == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		add("ITMS-90534", SeverityError, app, "archive the app with a release version of Xcode (Product > Archive), which writes them",
			"Info.plist lacks the build keys %s", strings.Join(missing, ", "))
	}
	if p := str(app, "DTPlatformName"); p != "" && p != "iphoneos" {
		add("ITMS-90534", SeverityError, app, "archive for a device (Any iOS Device), not the simulator",
			"built for %q, not iphoneos", p)
	}
	minSDK := opts.MinSDK
	if minSDK == "" {
		minSDK = DefaultMinSDK
	}
	if sdk := str(app, "DTPlatformVersion"); sdk != "" {
		have, ok1 := versionMajorMinor(sdk)
		want, ok2 := versionMajorMinor(minSDK)
		if ok1 && ok2 && have < want {
			add("ITMS-90725", SeverityWarning, app, "rebuild with Xcode and the iOS "+minSDK+" SDK or later",
				"built with the iOS %s SDK; App Store Connect requires iOS %s or later", sdk, minSDK)
		}
	}
	return rep, nil
}

func hasIconName(info map[string]any) bool {
	for _, k := range []string{"CFBundleIcons", "CFBundleIcons~ipad"} {
		icons, _ := info[k].(map[string]any)
		primary, _ := icons["CFBundlePrimaryIcon"].(map[string]any)
		if s, _ := primary["CFBundleIconName"].(string); s != "" {
			return true
		}
	}
	return false
}

func hasIconFiles(info map[string]any) bool {
	if files, _ := info["CFBundleIconFiles"].([]any); len(files) > 0 {
		return true
	}
	if s, _ := info["CFBundleIconFile"].(string); s != "" {
		return true
	}
	for _, k := range []string{"CFBundleIcons", "CFBundleIcons~ipad"} {
		icons, _ := info[k].(map[string]any)
		primary, _ := icons["CFBundlePrimaryIcon"].(map[string]any)
		if files, _ := primary["CFBundleIconFiles"].([]any); len(files) > 0 {
			return true
		}
	}
	return false
}

func hasPrivacyManifest(a *archive, dir string) bool {
	for _, name := range []string{"PrivacyInfo.xcprivacy", "Resources/PrivacyInfo.xcprivacy"} {
		if e := a.byName[dir+"/"+name]; e != nil && !e.dir {
			return true
		}
	}
	// A resource bundle of the framework (Name_Privacy.bundle) counts.
	for _, e := range a.entries {
		if strings.HasPrefix(e.name, dir+"/") && path.Base(e.name) == "PrivacyInfo.xcprivacy" {
			return true
		}
	}
	return false
}

// versionMajorMinor returns major*100+minor of a "major[.minor[.patch]]"
// version.
func versionMajorMinor(s string) (int, bool) {
	parts := strings.SplitN(s, ".", 3)
	maj, err := strconv.Atoi(parts[0])
	if err != nil || maj < 0 || maj > 1000 {
		return 0, false
	}
	mnr := 0
	if len(parts) > 1 {
		if mnr, err = strconv.Atoi(parts[1]); err != nil || mnr < 0 || mnr > 99 {
			return 0, false
		}
	}
	return maj*100 + mnr, true
}

type findingFunc func(code string, sev Severity, b *bundle, fix, format string, args ...any)

func preflightProfile(a *archive, b *bundle, add findingFunc) {
	e := a.byName[b.path("embedded.mobileprovision")]
	if e == nil || e.dir {
		add("ITMS-90161", SeverityError, b, "re-sign with an App Store distribution profile (storesign ipa resign)",
			"no embedded.mobileprovision")
		return
	}
	raw, err := readAll(e.f, provision.MaxSize)
	if err != nil {
		add("ITMS-90161", SeverityError, b, "re-sign with an App Store distribution profile", "embedded.mobileprovision: %v", err)
		return
	}
	p, err := provision.Parse(raw)
	if err != nil {
		add("ITMS-90161", SeverityError, b, "re-sign with an App Store distribution profile", "embedded.mobileprovision is not a provisioning profile Apple signed")
		return
	}
	switch {
	case p.Kind == provision.Development:
		add("ITMS-90161", SeverityError, b, "re-sign with an App Store distribution profile",
			"embedded.mobileprovision %q is a Development profile", p.Name)
	case p.Kind == provision.AdHoc || len(p.ProvisionedDevices) > 0:
		add("ITMS-90161", SeverityError, b, "re-sign with an App Store distribution profile",
			"embedded.mobileprovision %q is an Ad Hoc profile (it lists %d devices)", p.Name, len(p.ProvisionedDevices))
	case p.Kind == provision.Enterprise:
		add("ITMS-90161", SeverityError, b, "re-sign with an App Store distribution profile",
			"embedded.mobileprovision %q is an Enterprise (in-house) profile", p.Name)
	}
}

func preflightEntitlements(src io.ReaderAt, b *bundle, add findingFunc) {
	ents := b.origEnts
	if ents == nil {
		r, size, done, err := openEntryStream(src, b.exeEntry.f)
		if err != nil {
			return
		}
		ents, err = macho.Entitlements(r, size)
		done()
		if err != nil || ents == nil {
			return
		}
	}
	m := map[string]any{}
	if _, err := plistx.Unmarshal(ents, &m); err != nil {
		return
	}
	if v, _ := m["get-task-allow"].(bool); v {
		add("ITMS-90046", SeverityError, b, "re-sign with an App Store distribution profile, which sets get-task-allow to false",
			"signed with get-task-allow true (a debug build's entitlement)")
	}
	if v, ok := m["aps-environment"].(string); ok && v != "production" {
		add("ITMS-90046", SeverityError, b, "re-sign with an App Store distribution profile, whose aps-environment is production",
			"signed with aps-environment %q, not production", v)
	}
}
