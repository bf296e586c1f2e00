package jsondoc_test

import (
	"archive/zip"
	"bytes"
	"crypto"
	"encoding/json"
	"errors"
	"flag"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/storesign/storesign/drive"
	"github.com/storesign/storesign/internal/jsondoc"
	"github.com/storesign/storesign/signing"
	"github.com/storesign/storesign/signing/aab"
	"github.com/storesign/storesign/signing/apk"
	"github.com/storesign/storesign/signing/ipa"
	"github.com/storesign/storesign/signing/signingtest"
	"github.com/storesign/storesign/store/appstore"
	"github.com/storesign/storesign/store/play"
)

var update = flag.Bool("update", false, "rewrite testdata/*.json from the documents made")

// fixture holds the deterministic inputs of the golden cases.
type fixture struct {
	app, next, stamp *signing.Identity
	apple            *signingtest.Apple
	lineage          *apk.Lineage
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{
		app:   signingtest.SelfSigned("storesign jsondoc app", nil),
		next:  signingtest.SelfSigned("storesign jsondoc rotated", nil),
		stamp: signingtest.SelfSigned("storesign jsondoc stamp", nil),
		apple: signingtest.NewApple(signingtest.AppleOptions{}),
	}
	l, err := apk.NewLineage(signingtest.Reader("jsondoc lineage"), f.app, apk.DefaultCapabilities, f.next.Certificate, apk.DefaultCapabilities)
	if err != nil {
		t.Fatal(err)
	}
	f.lineage = l
	return f
}

// androidZip is a small APK or bundle (bundle true) of the app
// com.example.game 2.3.1 (231), with one more entry named extra: a zip of
// this test's own, so that only the manifest comes from signingtest.
func androidZip(t *testing.T, bundle bool, extra string) []byte {
	t.Helper()
	manifest := signingtest.AndroidManifest(signingtest.APKOptions{Package: "com.example.game", VersionCode: 231, VersionName: "2.3.1"})
	entries := []struct {
		name string
		data []byte
	}{{"AndroidManifest.xml", manifest}, {extra, []byte("fixture")}}
	if bundle {
		entries[0].name = "base/manifest/AndroidManifest.xml"
		entries = append(entries, struct {
			name string
			data []byte
		}{"BundleConfig.pb", nil})
	}
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, e := range entries {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: e.name, Method: zip.Store, Modified: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(e.data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// writeFiles puts the builds the documents name in the current folder.
func writeFiles(t *testing.T) {
	t.Helper()
	files := map[string][]byte{
		"app.apk":              androidZip(t, false, "classes.dex"),
		"app-signed.apk":       androidZip(t, false, "META-INF/UPLOAD.SF"),
		"app.aab":              androidZip(t, true, "base/dex/classes.dex"),
		"app-signed.aab":       androidZip(t, true, "META-INF/UPLOAD.SF"),
		"app-signed.apk.idsig": []byte("v4 signature fixture"),
		"Studio.ipa":           []byte("ipa fixture: the IPA documents read only its size and digest"),
		"Studio-signed.ipa":    []byte("signed ipa fixture"),
		"rotation.lineage":     []byte("lineage fixture"),
		"updated.lineage":      []byte("updated lineage fixture"),
	}
	for name, b := range files {
		if err := os.WriteFile(name, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

var (
	when    = time.Date(2026, 12, 4, 9, 30, 0, 0, time.UTC)
	expires = time.Date(2027, 12, 4, 0, 0, 0, 0, time.UTC)
)

func ipaReport(f *fixture, resign bool) *ipa.Report {
	cert := f.apple.Identity.Certificate
	authority := []string{cert.Subject.CommonName, f.apple.WWDR.Certificate.Subject.CommonName, f.apple.Root.Certificate.Subject.CommonName}
	certExp := cert.NotAfter
	rep := &ipa.Report{
		Name: "Studio <Game> & Co", BundleID: "com.example.game", Version: "2.3.1", Build: "231",
		Bundles: []ipa.BundleReport{
			{
				Path: "Payload/Studio.app/Frameworks/Engine.framework", Kind: "framework", BundleID: "com.example.engine",
				Identifier: "com.example.engine", TeamID: "ABCDE12345",
				CDHashes: []string{"3f1c0e0d6a4b2b1f58b0c9d1e2f3a4b5c6d7e8f9"}, Archs: []string{"arm64"},
				Authority: authority, CertificateExpires: &certExp,
			},
			{
				Path: "Payload/Studio.app", Kind: "app", BundleID: "com.example.game",
				Identifier: "com.example.game", TeamID: "ABCDE12345",
				CDHashes: []string{"9a8b7c6d5e4f30211f0e0d0c0b0a090807060504"}, Archs: []string{"arm64"},
				Authority: authority, CertificateExpires: &certExp,
				Profile:      &ipa.ProfileReport{Name: "Studio App Store", UUID: "0F6B3A9E-1C2D-4E5F-8A9B-0C1D2E3F4A5B", TeamID: "ABCDE12345", AppID: "ABCDE12345.com.example.game", Kind: "app-store", Expires: expires},
				Requirement:  `identifier "com.example.game" and anchor apple generic and certificate leaf[subject.OU] = ABCDE12345`,
				Entitlements: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\"><dict><key>application-identifier</key><string>ABCDE12345.com.example.game</string></dict></plist>\n",
			},
		},
	}
	if resign {
		rep.Bundles[1].EntitlementChanges = []ipa.EntitlementChange{
			{Key: "application-identifier", Action: ipa.EntitlementChanged, Old: "ZZZZZ99999.com.studio.game", New: "ABCDE12345.com.example.game", Reason: "the profile's application identifier"},
			{Key: "get-task-allow", Action: ipa.EntitlementDropped, Old: "true", Reason: "the profile does not grant it"},
			{Key: "keychain-access-groups", Action: ipa.EntitlementKept},
		}
		rep.Warnings = []string{"Payload/Studio.app: the profile \"Studio App Store\" expires in 365 days"}
	} else {
		st := when
		for i := range rep.Bundles {
			rep.Bundles[i].SigningTime = &st
			rep.Bundles[i].Anchor = "Apple Root CA"
			rep.Bundles[i].Certificate = cert // as Verify and Inspect report it
		}
	}
	return rep
}

func apkVerifyResult(f *fixture) *apk.VerifyResult {
	c := f.app.Certificate
	return &apk.VerifyResult{
		Verified: true, V1: true, V2: true, V3: true,
		MinSDK: 21, MaxSDK: math.MaxInt32, TargetSDK: 34,
		Signers:   []*apk.VerifySigner{{Scheme: "v3", Name: "#1", Certificate: c, MinSDK: 28, MaxSDK: math.MaxInt32}},
		V1Signers: []*apk.VerifySigner{{Scheme: "v1", Name: "UPLOAD", Certificate: c}},
		V2Signers: []*apk.VerifySigner{{Scheme: "v2", Name: "#1", Certificate: c}},
		V3Signers: []*apk.VerifySigner{{Scheme: "v3", Name: "#1", Certificate: c, MinSDK: 28, MaxSDK: math.MaxInt32}},
		Warnings:  []string{"META-INF/MANIFEST.MF: JAR entry not protected by signature: assets/extra.txt"},
	}
}

func aabResult(f *fixture, size int64) *aab.Result {
	return &aab.Result{Entries: 7, Size: size, Signers: []*aab.Signer{{
		Name: "UPLOAD", SignatureFile: "META-INF/UPLOAD.SF", BlockFile: "META-INF/UPLOAD.RSA",
		Certificate: f.app.Certificate, DigestAlgorithm: crypto.SHA256, BlockDigest: crypto.SHA256,
		SignatureAlgorithm: "SHA256withRSA",
	}}}
}

func driveFile(name string) *drive.File {
	return &drive.File{
		ID: "1AbCdEfGhIjKlMnOpQrStUvWxYz012345", Name: name, MimeType: "application/octet-stream",
		Size: 62, MD5: "0cc175b9c0f1b6a831c399e269772661", ModifiedTime: time.Date(2026, 12, 4, 9, 15, 2, 500_000_000, time.FixedZone("CET", 3600)),
		WebViewLink: "https://drive.google.com/file/d/1AbCdEfGhIjKlMnOpQrStUvWxYz012345/view?usp=drivesdk",
	}
}

// cases are the golden documents, named after their constructor (and
// "_what" for more cases of one constructor).
func cases(f *fixture) map[string]func() jsondoc.Doc {
	return map[string]func() jsondoc.Doc{
		"APKSign": func() jsondoc.Doc {
			res := &apk.Result{V1: true, V2: true, V3: true, MinSDKVersion: 21, Signer: f.app.Certificate,
				V1Name: "UPLOAD", V1Digest: crypto.SHA256, Entries: 9, Realigned: 2, LibPageAlignment: 16384, Size: 4096}
			return jsondoc.APKSign("app.apk", "app-signed.apk", res, apk.Options{Identity: f.app},
				[]string{"--v1-signing-enabled false: Android 6.0 and older will not install app-signed.apk"})
		},
		"APKSign_rotation": func() jsondoc.Doc {
			res := &apk.Result{V2: true, V3: true, V31: true, V4: true, MinSDKVersion: 24, Signer: f.app.Certificate,
				RotatedSigner: f.next.Certificate, Entries: 8, Size: 4096}
			return jsondoc.APKSign("app.apk", "app-signed.apk", res,
				apk.Options{Identity: f.app, NextIdentities: []*signing.Identity{f.next}, Lineage: f.lineage, StampSigner: f.stamp}, nil)
		},
		"AABSign": func() jsondoc.Doc {
			return jsondoc.AABSign("app.aab", "app-signed.aab", aabResult(f, 4096), aab.Options{Identity: f.app, SignerName: "UPLOAD"})
		},
		"IPAResign": func() jsondoc.Doc {
			return jsondoc.IPAResign("Studio.ipa", "Studio-signed.ipa", ipaReport(f, true), ipa.Options{Identity: f.apple.Identity})
		},
		"APKVerify": func() jsondoc.Doc {
			return jsondoc.APKVerify("app-signed.apk", apkVerifyResult(f), nil)
		},
		"APKVerify_rotationV4": func() jsondoc.Doc {
			res := &apk.VerifyResult{
				Verified: true, V2: true, V3: true, V31: true, MinSDK: 24, MaxSDK: 34, TargetSDK: 34,
				Signers:         []*apk.VerifySigner{{Scheme: "v3.1", Name: "#1", Certificate: f.next.Certificate, MinSDK: 33, MaxSDK: math.MaxInt32}},
				V2Signers:       []*apk.VerifySigner{{Scheme: "v2", Name: "#1", Certificate: f.app.Certificate}},
				V3Signers:       []*apk.VerifySigner{{Scheme: "v3", Name: "#1", Certificate: f.app.Certificate, MinSDK: 28, MaxSDK: 32}},
				V31Signers:      []*apk.VerifySigner{{Scheme: "v3.1", Name: "#1", Certificate: f.next.Certificate, MinSDK: 33, MaxSDK: math.MaxInt32, DevRelease: true}},
				Lineage:         f.lineage.Certificates(),
				V4Errors:        []string{"the v4 signature's digest of the APK does not match"},
				V4SignatureFile: "app-signed.apk.idsig",
			}
			return jsondoc.APKVerify("app-signed.apk", res, nil)
		},
		"APKVerify_notVerified": func() jsondoc.Doc {
			res := &apk.VerifyResult{MinSDK: 21, MaxSDK: math.MaxInt32, TargetSDK: 34,
				Errors: []string{"APK Signature Scheme v2 signer #1: APK integrity check failed. CHUNKED_SHA256 digest mismatch."}}
			return jsondoc.APKVerify("app.apk", res, res.Err())
		},
		"APKVerify_unreadable": func() jsondoc.Doc {
			return jsondoc.APKVerify("missing.apk", nil, errors.New("missing.apk: no such file: check the path"))
		},
		"APKVerifyStamp": func() jsondoc.Doc {
			res := &apk.StampResult{Verified: true, Certificate: f.stamp.Certificate, Time: when,
				Warnings: []string{"the stamp was made with a SHA-256 digest of META-INF/MANIFEST.MF only"}}
			return jsondoc.APKVerifyStamp("app-signed.apk", res, nil)
		},
		"APKVerifyStamp_missing": func() jsondoc.Doc {
			return jsondoc.APKVerifyStamp("app.apk", nil, apk.ErrNoStamp)
		},
		"AABVerify": func() jsondoc.Doc {
			return jsondoc.AABVerify("app-signed.aab", aabResult(f, 4096), nil)
		},
		"AABVerify_tampered": func() jsondoc.Doc {
			return jsondoc.AABVerify("app-signed.aab", nil, aab.ErrInvalidSignature)
		},
		"IPAVerify": func() jsondoc.Doc {
			rep := ipaReport(f, false)
			rep.Bundles[0].Deviations = []string{"arm64: the CodeDirectory has no exec-segment flags"}
			return jsondoc.IPAVerify("Studio-signed.ipa", rep, nil)
		},
		"IPAVerify_invalid": func() jsondoc.Doc {
			rep := ipaReport(f, false)
			rep.Bundles[1].Problems = []string{"Payload/Studio.app/Info.plist was changed after signing (sealed resource hash mismatch)"}
			return jsondoc.IPAVerify("Studio.ipa", rep, errors.New("ipa: the signature is invalid: 1 problem"))
		},
		"IPAInspect": func() jsondoc.Doc {
			rep := ipaReport(f, false)
			for i := range rep.Bundles {
				rep.Bundles[i].Anchor = "" // inspect does not check the chain: no anchor, as docs/json.md says
			}
			return jsondoc.IPAInspect("Studio-signed.ipa", rep)
		},
		"IPACheck": func() jsondoc.Doc {
			return jsondoc.IPACheck("Studio.ipa", &ipa.CheckReport{
				BundleID: "com.example.game", Version: "2.3.1", Build: "231", MinimumOSVersion: "15.0", SDK: "iphoneos18.2", Xcode: "1620",
				Findings: []ipa.Finding{
					{Code: "ITMS-90713", Severity: ipa.SeverityError, Bundle: "Payload/Studio.app", Message: "Info.plist has no CFBundleIconName", Fix: "build with an AppIcon in the asset catalog (Xcode sets CFBundleIconName)"},
					{Code: "ITMS-90473", Severity: ipa.SeverityWarning, Bundle: "Payload/Studio.app/PlugIns/Widget.appex", Message: "CFBundleVersion 230 differs from the app's 231"},
				},
			})
		},
		"APKLineage": func() jsondoc.Doc {
			return jsondoc.APKLineage("rotation.lineage", f.lineage, "updated.lineage")
		},
		"APKRotate": func() jsondoc.Doc {
			return jsondoc.APKRotate(f.lineage, "updated.lineage")
		},
		"DriveList": func() jsondoc.Doc {
			folder := &drive.File{ID: "0FolderIdOfTheDeliveries", Name: "2.3.1 (231)", MimeType: drive.FolderMimeType, ModifiedTime: when}
			return jsondoc.DriveList("https://drive.google.com/drive/folders/0DeliveriesFolder", []*drive.File{driveFile("Studio.ipa"), folder})
		},
		"DriveGet": func() jsondoc.Doc {
			return jsondoc.DriveGet("Studio.ipa", driveFile("Studio.ipa"))
		},
		"DrivePut": func() jsondoc.Doc {
			return jsondoc.DrivePut("Studio-signed.ipa", &drive.UploadResult{File: driveFile("Studio-signed.ipa"), Replaced: true})
		},
		"PlayUpload": func() jsondoc.Doc {
			return jsondoc.PlayUpload("app-signed.aab", &play.UploadResult{
				Package: "com.example.game", Kind: play.KindAAB, VersionCode: 231, VersionName: "2.3.1",
				Track: "beta", Status: play.StatusInProgress, UserFraction: 0.1, ReleaseName: "2.3.1 (231)",
				CertSHA256: signing.CertificateSHA256(f.app.Certificate), Mapping: true, EditID: "07621312345678901234",
				Committed: true, StoreURL: "https://play.google.com/store/apps/details?id=com.example.game",
			})
		},
		"PlayShare": func() jsondoc.Doc {
			return jsondoc.PlayShare("app-signed.apk", &play.ShareResult{
				Package: "com.example.game", Kind: play.KindAPK, VersionCode: 231,
				DownloadURL:            "https://play.google.com/apps/test/com.example.game/231?a=b&c=d",
				CertificateFingerprint: strings.ToUpper(signing.CertificateSHA256(f.app.Certificate)),
			})
		},
		"AppStoreUpload": func() jsondoc.Doc {
			return jsondoc.AppStoreUpload("Studio-signed.ipa", &appstore.Result{
				AppID: "6444444444", BundleID: "com.example.game", Version: "2.3.1", Build: "231",
				BuildUploadID: "2b7e1516-28ae-d2a6-abf7-158809cf4f3c", State: "PROCESSING",
				URL: "https://appstoreconnect.apple.com/apps/6444444444/testflight/ios", Size: 18, MD5: "5D41402ABC4B2A76B9719D911017C592", SHA256: "IGNORED-WHEN-THE-FILE-IS-READ",
				Warnings: []appstore.StateDetail{{Code: "ITMS-90473", Description: "CFBundleVersion mismatch"}, {Description: "the build is still processing"}},
			})
		},
		"Version": func() jsondoc.Doc {
			modified := false
			return jsondoc.Version(jsondoc.BuildInfo{Version: "v1.4.0", Revision: "3eec879d1f0e2b4c5a6978b0c1d2e3f405162738", Time: "2026-12-04T20:00:00Z", Modified: &modified, GoVersion: "go1.26.8", OS: "linux", Arch: "amd64"})
		},
	}
}

func encode(t *testing.T, d jsondoc.Doc) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jsondoc.Write(&b, d); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestGolden(t *testing.T) {
	golden, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t)
	t.Chdir(t.TempDir())
	writeFiles(t)
	for name, mk := range cases(f) {
		t.Run(name, func(t *testing.T) {
			got := encode(t, mk())
			path := filepath.Join(golden, name+".json")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to write it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the document made (go test -update rewrites it):\ngot:\n%s", path, got)
			}
		})
	}
}

var (
	camelCase = regexp.MustCompile(`^[a-z][a-zA-Z0-9]*$`)
	lowerHex  = regexp.MustCompile(`^[0-9a-f]*$`)
)

// TestConventions walks every golden document: schema first, command
// second, camelCase keys, lowercase hex hashes, RFC 3339 UTC times, no
// null and no key material.
func TestConventions(t *testing.T) {
	paths, err := filepath.Glob("testdata/*.json")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no golden documents: %v", err)
	}
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasSuffix(b, []byte("}\n")) || bytes.Contains(b, []byte(`\u003c`)) {
				t.Errorf("not an object ending with a newline, or HTML-escaped")
			}
			if bytes.Contains(b, []byte("PRIVATE KEY")) || bytes.Contains(b, []byte("null")) {
				t.Errorf("holds key material or a null")
			}
			checkDoc(t, b)
		})
	}
}

func checkDoc(t *testing.T, b []byte) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	var keys []string
	var walk func(key string, depth int)
	walk = func(key string, depth int) {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{':
				for dec.More() {
					k, err := dec.Token()
					if err != nil {
						t.Fatal(err)
					}
					name := k.(string)
					if !camelCase.MatchString(name) {
						t.Errorf("key %q is not camelCase", name)
					}
					if depth == 0 {
						keys = append(keys, name)
					}
					walk(name, depth+1)
				}
			case '[':
				for dec.More() {
					walk(key, depth+1)
				}
			}
			if _, err := dec.Token(); err != nil { // the closing delimiter
				t.Fatal(err)
			}
		case string:
			lk := strings.ToLower(key)
			switch {
			case strings.HasSuffix(lk, "sha256"), strings.HasSuffix(lk, "sha1"), lk == "md5", lk == "cdhashes":
				if !lowerHex.MatchString(v) {
					t.Errorf("%s %q is not lowercase hex", key, v)
				}
			case lk == "notbefore", lk == "notafter", strings.HasSuffix(lk, "time"), lk == "expires", lk == "certificateexpires":
				if tm, err := time.Parse(time.RFC3339Nano, v); err != nil || tm.Location() != time.UTC {
					t.Errorf("%s %q is not an RFC 3339 UTC time", key, v)
				}
			}
		case nil:
			t.Errorf("%s is null", key)
		}
	}
	walk("", 0)
	if len(keys) < 2 || keys[0] != "schema" || keys[1] != "command" {
		t.Fatalf("top-level keys start %q, want schema, command", keys[:min(2, len(keys))])
	}
	var head jsondoc.Header
	if err := json.Unmarshal(b, &head); err != nil || head.Schema != jsondoc.Schema || head.Command == "" {
		t.Errorf("header %+v (%v)", head, err)
	}
}

// TestEveryConstructorHasGolden checks that every exported function of
// the package that returns a document has a golden case.
func TestEveryConstructorHasGolden(t *testing.T) {
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, ".", func(fi os.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, 0)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range pkgs {
		for _, file := range p.Files {
			for _, d := range file.Decls {
				fn, ok := d.(*ast.FuncDecl)
				if !ok || fn.Recv != nil || !fn.Name.IsExported() || fn.Type.Results == nil || len(fn.Type.Results.List) != 1 {
					continue
				}
				star, ok := fn.Type.Results.List[0].Type.(*ast.StarExpr)
				if !ok {
					continue
				}
				if id, ok := star.X.(*ast.Ident); ok && strings.HasSuffix(id.Name, "Doc") {
					names = append(names, fn.Name.Name)
				}
			}
		}
	}
	if len(names) < 10 {
		t.Fatalf("found only %d constructors: %v", len(names), names)
	}
	have := cases(newFixture(t))
	for _, n := range names {
		if _, ok := have[n]; !ok {
			t.Errorf("constructor %s has no golden case %q", n, n)
		}
	}
	for c := range have {
		base, _, _ := strings.Cut(c, "_")
		if !slices.Contains(names, base) {
			t.Errorf("golden case %s names no constructor", c)
		}
	}
}

// TestUnreadableFile checks that a file that cannot be read gives only
// its path.
func TestUnreadableFile(t *testing.T) {
	t.Chdir(t.TempDir())
	d := jsondoc.DriveGet("missing.ipa", nil)
	if d.File != (jsondoc.File{Path: "missing.ipa"}) {
		t.Errorf("file = %+v, want only the path", d.File)
	}
	checkDoc(t, encode(t, d))
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }

func TestWriteError(t *testing.T) {
	if err := jsondoc.Write(failWriter{}, jsondoc.Version(jsondoc.BuildInfo{})); !errors.Is(err, io.ErrClosedPipe) {
		t.Errorf("Write = %v, want the writer's error", err)
	}
}

// TestReferenceCoversEveryField checks that docs/json.md, the reference
// of the schema, names every key and command of the golden documents.
func TestReferenceCoversEveryField(t *testing.T) {
	ref, err := os.ReadFile(filepath.Join("..", "..", "docs", "json.md"))
	if err != nil {
		t.Fatal(err)
	}
	paths, _ := filepath.Glob("testdata/*.json")
	missing := map[string]bool{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var head jsondoc.Header
		if err := json.Unmarshal(b, &head); err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(ref, []byte("`\""+head.Command+"\"`")) {
			missing["command "+head.Command] = true
		}
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatal(err)
		}
		for _, k := range keysOf(v) {
			if !bytes.Contains(ref, []byte("`"+k+"`")) {
				missing["key "+k] = true
			}
		}
	}
	for m := range missing {
		t.Errorf("docs/json.md does not document the %s", m)
	}
}

// keysOf lists the keys of every object in v, a decoded JSON value.
func keysOf(v any) []string {
	var keys []string
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			keys = append(keys, k)
			keys = append(keys, keysOf(e)...)
		}
	case []any:
		for _, e := range v {
			keys = append(keys, keysOf(e)...)
		}
	}
	return keys
}

// TestDocumentsHoldOnlyData checks that the documents are made of
// strings, numbers, booleans and this package's own structs: no field
// can carry a key, an identity or another library value into a document.
func TestDocumentsHoldOnlyData(t *testing.T) {
	pkg := reflect.TypeFor[jsondoc.Header]().PkgPath()
	seen := map[reflect.Type]bool{}
	var check func(path string, ty reflect.Type)
	check = func(path string, ty reflect.Type) {
		if seen[ty] {
			return
		}
		seen[ty] = true
		switch ty.Kind() {
		case reflect.String, reflect.Bool, reflect.Int, reflect.Int64, reflect.Float64:
		case reflect.Pointer, reflect.Slice:
			check(path, ty.Elem())
		case reflect.Struct:
			if ty.PkgPath() != pkg {
				t.Errorf("%s: %s is not a type of package jsondoc", path, ty)
				return
			}
			for i := range ty.NumField() {
				f := ty.Field(i)
				if !f.IsExported() {
					t.Errorf("%s.%s is unexported", path, f.Name)
				}
				check(path+"."+f.Name, f.Type)
			}
		default:
			t.Errorf("%s: a %s", path, ty)
		}
	}
	for name, mk := range cases(newFixture(t)) {
		check(name, reflect.TypeOf(mk()))
	}
}
