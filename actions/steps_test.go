package actions

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"maps"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/storesign/storesign/drive/drivetest"
	"github.com/storesign/storesign/internal/testenv"
	"github.com/storesign/storesign/signing/aab"
	"github.com/storesign/storesign/signing/ipa"
	"github.com/storesign/storesign/signing/signingtest"
)

// Throwaway passwords of the step tests; no log may show them.
const (
	fixtureP12Password = "p12-Pa55word-fixture"
	fixtureKSPassword  = "ks-Pa55word-fixture"
	fixtureKeyPassword = "key-Pa55word-fixture"
)

// steps are the library calls of "storesign action STEP".
var steps = map[string]func(context.Context, *Action) error{
	"secrets":  Secrets,
	"download": Download,
	"resign":   Resign,
	"upload":   Upload,
	"plan":     Plan,
}

// actionRun runs a step over env, as the runner would, and returns its
// log and the outputs it set.
func actionRun(t *testing.T, env map[string]string, step string) (string, map[string]string, error) {
	t.Helper()
	out := filepath.Join(env["RUNNER_TEMP"], "github-output-"+step)
	os.Remove(out)
	e := maps.Clone(env)
	e["GITHUB_OUTPUT"] = out
	var log bytes.Buffer
	a := New(Options{Stdout: &log, Getenv: func(k string) string { return e[k] }})
	err := steps[step](context.Background(), a)
	data, _ := os.ReadFile(out)
	outputs := map[string]string{}
	if len(data) > 0 {
		outputs = readOutputs(t, string(data))
	}
	return log.String(), outputs, err
}

// fakeDrive starts a fake Drive served over HTTP, both stopped when the
// test ends; STORESIGN_DRIVE_ENDPOINT is hs.URL.
func fakeDrive(t *testing.T) (*drivetest.Server, *httptest.Server) {
	t.Helper()
	srv, err := drivetest.New(drivetest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return srv, hs
}

// addFolder adds a top-level folder to the fake Drive and returns its ID.
func addFolder(t *testing.T, srv *drivetest.Server, name string) string {
	t.Helper()
	id, err := srv.AddFolder("", "", name)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// afterSecrets runs the secrets step over env, points env at the folder
// it made, then runs step, as a composite action does.
func afterSecrets(t *testing.T, env map[string]string, step string) (string, map[string]string, error) {
	t.Helper()
	log, o, err := actionRun(t, env, "secrets")
	if err != nil {
		t.Fatalf("secrets: %v\n%s", err, log)
	}
	env["STORESIGN_SECRETS_DIR"] = o["dir"]
	return actionRun(t, env, step)
}

// TestRelease runs the steps of the root action.yml in order, as the
// runner would, against a fake Drive: download, re-sign, verify, upload,
// for an IPA, an app bundle and an APK.
func TestRelease(t *testing.T) {
	srv, hs := fakeDrive(t)
	in := addFolder(t, srv, "deliveries")
	outFolder := addFolder(t, srv, "signed")
	builds := map[string][]byte{
		"Example-1.4.ipa": signingtest.IPA(signingtest.IPAOptions{}),
		"game.aab":        signingtest.Bundle(signingtest.APKOptions{Package: "com.example.game", VersionName: "2.3.1", VersionCode: 231}),
		"game.apk":        signingtest.APK(signingtest.APKOptions{Package: "com.example.game", VersionName: "2.3.1", VersionCode: 231}),
	}
	for name, data := range builds {
		if _, err := srv.AddFile(in, name, bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
	}

	apple := signingtest.NewApple(signingtest.AppleOptions{})
	androidID := signingtest.SelfSigned("action-upload-key", signingtest.RSAKey("action-upload-key", 2048))
	secrets := map[string]string{
		"INPUT_P12_BASE64":        base64.StdEncoding.EncodeToString(signingtest.PKCS12(apple.Identity, fixtureP12Password)),
		"INPUT_P12_PASSWORD":      fixtureP12Password,
		"INPUT_PROFILES_BASE64":   base64.StdEncoding.EncodeToString(apple.Profile(signingtest.ProfileOptions{})),
		"INPUT_KEYSTORE_BASE64":   base64.StdEncoding.EncodeToString(signingtest.JKS(androidID, "upload", fixtureKSPassword, fixtureKeyPassword)),
		"INPUT_KEYSTORE_PASSWORD": fixtureKSPassword,
		"INPUT_KEY_PASSWORD":      fixtureKeyPassword,
	}

	for _, tc := range []struct {
		name, file, bundleID string
	}{
		{"ipa", "Example-1.4.ipa", "com.example.app"},
		{"aab", "game.aab", "com.example.game"},
		{"apk", "game.apk", "com.example.game"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmp := t.TempDir()
			summary := filepath.Join(tmp, "summary.md")
			env := map[string]string{
				"RUNNER_TEMP":              tmp,
				"GITHUB_STEP_SUMMARY":      summary,
				"STORESIGN_DRIVE_ENDPOINT": hs.URL,
				"STORESIGN_ACTION":         "release",
				"INPUT_DRIVE_FOLDER":       "https://drive.google.com/drive/folders/" + in,
				"INPUT_NAME":               tc.file,
				"INPUT_OUTPUT_FOLDER":      outFolder,
				"INPUT_PLATFORM":           "auto",
				"INPUT_KEY_ALIAS":          "upload",
			}
			for k, v := range secrets {
				env[k] = v
			}
			var logs []string
			step := func(name string, extra map[string]string) map[string]string {
				t.Helper()
				for k, v := range extra {
					env[k] = v
				}
				log, outputs, err := actionRun(t, env, name)
				logs = append(logs, log)
				if err != nil && strings.Contains(err.Error(), "not available yet") {
					t.Skipf("action %s: %v", name, err)
				}
				if err != nil {
					t.Fatalf("action %s: %v\n%s", name, err, log)
				}
				return outputs
			}
			o := step("secrets", nil)
			dir := o["dir"]
			if !strings.HasPrefix(dir, tmp) {
				t.Fatalf("dir = %q", dir)
			}
			o = step("download", map[string]string{"STORESIGN_SECRETS_DIR": dir})
			if o["path"] != filepath.Join(tmp, "storesign-download", tc.file) || o["drive-file-id"] == "" {
				t.Errorf("download outputs: %v", o)
			}
			o = step("resign", map[string]string{"INPUT_PATH": o["path"], "STORESIGN_SUMMARY": "defer"})
			signed, sum := o["signed-path"], o["sha256"]
			data, err := os.ReadFile(signed)
			if err != nil {
				t.Fatal(err)
			}
			if h := sha256.Sum256(data); hex.EncodeToString(h[:]) != sum {
				t.Errorf("sha256 output %s is not the signed file's", sum)
			}
			if _, err := os.Stat(summary); err == nil {
				t.Errorf("the deferred summary was written by the resign step")
			}
			o = step("upload", map[string]string{"INPUT_PATH": signed})
			id, link := o["drive-file-id"], o["drive-link"]
			if id == "" || link == "" {
				t.Fatalf("upload outputs: %v", o)
			}
			f, ok := srv.Get(id)
			if !ok || f.Name != tc.file || len(f.Parents) != 1 || f.Parents[0] != outFolder || f.SHA256 != sum {
				t.Errorf("uploaded %+v, want %s in %s with SHA-256 %s", f, tc.file, outFolder, sum)
			}
			// What was uploaded verifies.
			up, err := srv.Open(id)
			if err != nil {
				t.Fatal(err)
			}
			defer up.Close()
			fi, _ := up.Stat()
			switch tc.name {
			case "ipa":
				if _, err := ipa.Verify(context.Background(), up, fi.Size(), ipa.VerifyOptions{}); err != nil {
					t.Errorf("the uploaded IPA does not verify: %v", err)
				}
			case "aab":
				if _, err := aab.Verify(context.Background(), up, fi.Size(), aab.VerifyOptions{}); err != nil {
					t.Errorf("the uploaded bundle does not verify: %v", err)
				}
			case "apk":
				apksigner := testenv.Tool(t, "apksigner35")
				if out, err := exec.Command(apksigner, "verify", "-v", up.Name()).CombinedOutput(); err != nil {
					t.Errorf("apksigner verify of the uploaded APK: %v\n%s", err, out)
				}
			}
			md, err := os.ReadFile(summary)
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"| | |\n|---|---|\n", "| Certificate SHA-256 | `", "| SHA-256 | `" + sum + "` |", "| Verification | passed", "| Google Drive | [" + tc.file + "](" + link + ") |"} {
				if !strings.Contains(string(md), want) {
					t.Errorf("step summary lacks %q:\n%s", want, md)
				}
			}
			if tc.bundleID != "" && !strings.Contains(string(md), "`"+tc.bundleID+"`") {
				t.Errorf("step summary lacks the bundle ID %s:\n%s", tc.bundleID, md)
			}
			if tc.name == "ipa" && !strings.Contains(string(md), "| Profile | Test Profile, expires 2034-01-01") {
				t.Errorf("step summary lacks the profile:\n%s", md)
			}
			// The build is unsigned: its entitlements come from the profile.
			if tc.name == "ipa" && !strings.Contains(string(md), "\n#### Entitlements\n\n| Bundle | Entitlement | Change | Why |\n|---|---|---|---|\n| `com.example.app") {
				t.Errorf("step summary lacks the entitlements:\n%s", md)
			}
			all := strings.Join(logs, "\n") + string(md)
			for k, v := range secrets {
				for _, line := range strings.Split(all, "\n") {
					if !strings.HasPrefix(line, "::add-mask::") && strings.Contains(line, v) {
						t.Errorf("the log shows %s: %s", k, line)
					}
				}
			}
			// The cleanup step's job, done here as the runner would.
			if err := os.RemoveAll(dir); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestDownloadBadInput: a folder without a match, a file that is not
// a build, a missing file: the download step fails with an annotation
// naming the input, and leaves no file behind.
func TestDownloadBadInput(t *testing.T) {
	srv, hs := fakeDrive(t)
	in := addFolder(t, srv, "deliveries")
	notes, err := srv.AddFile(in, "notes.txt", strings.NewReader("not a build"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		inputs map[string]string
		want   string
	}{
		{"no match", map[string]string{"INPUT_DRIVE_FOLDER": in, "INPUT_NAME": "MyGame-*.ipa"},
			"::error title=Fix the name input::input name matches no file in drive-folder"},
		{"no build in folder", map[string]string{"INPUT_DRIVE_FOLDER": in},
			"::error title=Fix the drive-folder input::input drive-folder holds no .ipa, .apk or .aab file"},
		{"not a build", map[string]string{"INPUT_DRIVE_FILE": "https://drive.google.com/file/d/" + notes.ID + "/view"},
			"::error title=Fix the drive-file input::input drive-file names notes.txt, which is not an iOS app"},
		{"missing file", map[string]string{"INPUT_DRIVE_FILE": "1NoSuchFileAtAllInThisDrive"},
			"::error title=Fix the drive-file input::input drive-file does not work"},
		{"folder as file", map[string]string{"INPUT_DRIVE_FILE": in},
			"::error title=Fix the drive-file input::input drive-file is a folder"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmp := t.TempDir()
			env := map[string]string{
				"RUNNER_TEMP":              tmp,
				"STORESIGN_DRIVE_ENDPOINT": hs.URL,
				"STORESIGN_ACTION":         "drive-download",
				"INPUT_DRIVE_FILE":         "",
				"INPUT_DRIVE_FOLDER":       "",
				"INPUT_NAME":               "",
			}
			for k, v := range tc.inputs {
				env[k] = v
			}
			log, o, err := afterSecrets(t, env, "download")
			if err == nil {
				t.Fatalf("download succeeded: %v", o)
			}
			if !strings.Contains(log, tc.want) {
				t.Errorf("log:\n%s\nwant %q", log, tc.want)
			}
			if _, ok := o["path"]; ok {
				t.Errorf("path output set: %v", o)
			}
			if ents, _ := os.ReadDir(filepath.Join(tmp, "storesign-download")); len(ents) != 0 {
				t.Errorf("left in the download folder: %v", ents)
			}
		})
	}
}

// TestDownloadHostileName downloads builds whose Drive names try to
// climb out of the download folder, forge outputs or issue workflow
// commands: each is saved under its ID (keeping a build's extension), the
// path output is that one file, and no log line is a forged command.
func TestDownloadHostileName(t *testing.T) {
	srv, hs := fakeDrive(t)
	in := addFolder(t, srv, "deliveries")
	apkData := signingtest.APK(signingtest.APKOptions{})
	for _, tc := range []struct{ name, ext string }{
		{"ok.apk\npath=/etc/passwd", ""},
		{"x\n::error::forged\n.apk", ".apk"},
		{"../../../escape.apk", ".apk"},
		{".bashrc.apk", ".apk"},
		{strings.Repeat("long", 100) + ".apk", ".apk"},
	} {
		t.Run(strconv.Quote(tc.name), func(t *testing.T) {
			f, err := srv.AddFile(in, tc.name, bytes.NewReader(apkData))
			if err != nil {
				t.Fatal(err)
			}
			tmp := t.TempDir()
			env := map[string]string{
				"RUNNER_TEMP":              tmp,
				"STORESIGN_DRIVE_ENDPOINT": hs.URL,
				"STORESIGN_ACTION":         "drive-download",
				"INPUT_DRIVE_FILE":         f.ID,
				"INPUT_DRIVE_FOLDER":       "",
				"INPUT_NAME":               "",
			}
			log, o, err := afterSecrets(t, env, "download")
			if err != nil {
				t.Fatalf("download: %v\n%s", err, log)
			}
			want := filepath.Join(tmp, "storesign-download", f.ID+tc.ext)
			if len(o) != 3 || o["path"] != want {
				t.Errorf("outputs %q, want path=%s and two more", o, want)
			}
			ents, _ := os.ReadDir(filepath.Join(tmp, "storesign-download"))
			if len(ents) != 1 {
				t.Errorf("download folder holds %v", ents)
			}
			for _, l := range strings.Split(log, "\n") {
				if strings.HasPrefix(strings.TrimSpace(l), "::") && !strings.HasPrefix(l, "::warning") && !strings.HasPrefix(l, "::add-mask::") && !strings.HasPrefix(l, "::group::") && !strings.HasPrefix(l, "::endgroup::") {
					t.Errorf("log line %q", l)
				}
				if strings.Contains(l, "forged") && strings.HasPrefix(strings.TrimSpace(l), "::error") {
					t.Errorf("forged annotation %q", l)
				}
			}
		})
	}
}

// releaseRun runs the release's steps in order over env and returns the
// outputs of the upload step and the step summary.
func releaseRun(t *testing.T, env map[string]string) (map[string]string, string) {
	t.Helper()
	tmp := t.TempDir()
	env = maps.Clone(env)
	env["RUNNER_TEMP"] = tmp
	env["GITHUB_STEP_SUMMARY"] = filepath.Join(tmp, "summary.md")
	env["STORESIGN_ACTION"] = "release"
	var o map[string]string
	for _, step := range []string{"secrets", "download", "resign", "upload"} {
		log, out, err := actionRun(t, env, step)
		if err != nil {
			t.Fatalf("%s: %v\n%s", step, err, log)
		}
		o = out
		switch step {
		case "secrets":
			env["STORESIGN_SECRETS_DIR"] = out["dir"]
		case "download":
			env["INPUT_PATH"] = out["path"]
			env["STORESIGN_SUMMARY"] = "defer"
		case "resign":
			env["INPUT_PATH"] = out["signed-path"]
		}
	}
	md, _ := os.ReadFile(env["GITHUB_STEP_SUMMARY"])
	return o, string(md)
}

// TestReleaseRerun releases the same build three times into the default
// per-build layout: first a new file in "<app>/<version> (<build>)/", then,
// signed with another key, a new revision of it (same ID and link, the
// summary says so), then, signed as the second time, nothing uploaded. The
// signed build carries the delivery's ID and MD5.
func TestReleaseRerun(t *testing.T) {
	srv, hs := fakeDrive(t)
	in := addFolder(t, srv, "deliveries")
	out := addFolder(t, srv, "signed")
	delivery, err := srv.AddFile(in, "studio build final (2).apk", bytes.NewReader(signingtest.APK(signingtest.APKOptions{Package: "com.example.game", VersionName: "2.3.1", VersionCode: 231})))
	if err != nil {
		t.Fatal(err)
	}
	keystore := func(name string) string {
		id := signingtest.SelfSigned(name, signingtest.RSAKey(name, 2048))
		return base64.StdEncoding.EncodeToString(signingtest.JKS(id, "upload", fixtureKSPassword, fixtureKeyPassword))
	}
	env := map[string]string{
		"STORESIGN_DRIVE_ENDPOINT": hs.URL,
		"INPUT_DRIVE_FILE":         delivery.ID,
		"INPUT_OUTPUT_FOLDER":      out,
		"INPUT_OUTPUT_SUBFOLDER":   DefaultSubfolder,
		"INPUT_OUTPUT_NAME":        DefaultName,
		"INPUT_KEYSTORE_BASE64":    keystore("rerun-key-1"),
		"INPUT_KEYSTORE_PASSWORD":  fixtureKSPassword,
		"INPUT_KEY_PASSWORD":       fixtureKeyPassword,
	}
	o1, md1 := releaseRun(t, env)
	f, ok := srv.Get(o1["drive-file-id"])
	if !ok || f.Name != "com.example.game-2.3.1-231.apk" || f.Version != 1 || o1["upload"] != UploadNew || o1["drive-folder"] != "com.example.game/2.3.1 (231)" {
		t.Fatalf("first run: outputs %v, file %+v", o1, f)
	}
	if f.AppProperties[SourceProperty] != delivery.ID || f.AppProperties[SourceMD5Property] != delivery.MD5 {
		t.Errorf("appProperties %v, want the delivery's ID and MD5", f.AppProperties)
	}
	if !strings.Contains(md1, "| Drive folder | com.example.game/2.3.1 (231) |") || strings.Contains(md1, "| Upload |") {
		t.Errorf("first summary:\n%s", md1)
	}
	app := srv.Children(out)
	if len(app) != 1 || app[0].Name != "com.example.game" {
		t.Fatalf("output folder holds %+v", app)
	}
	if v := srv.Children(app[0].ID); len(v) != 1 || v[0].Name != "2.3.1 (231)" {
		t.Fatalf("app folder holds %+v", v)
	}

	env["INPUT_KEYSTORE_BASE64"] = keystore("rerun-key-2")
	o2, md2 := releaseRun(t, env)
	f2, _ := srv.Get(o2["drive-file-id"])
	if o2["drive-file-id"] != o1["drive-file-id"] || o2["drive-link"] != o1["drive-link"] || f2.Version != 2 || f2.SHA256 == f.SHA256 || o2["upload"] != UploadReplaced {
		t.Errorf("second run: outputs %v, file %+v", o2, f2)
	}
	if !strings.Contains(md2, "| Upload | replaced the earlier upload of this build as a new revision") {
		t.Errorf("second summary does not say the upload was replaced:\n%s", md2)
	}

	o3, md3 := releaseRun(t, env)
	f3, _ := srv.Get(o3["drive-file-id"])
	if o3["drive-file-id"] != o1["drive-file-id"] || f3.Version != 2 || o3["upload"] != UploadUnchanged {
		t.Errorf("third run: outputs %v, file %+v", o3, f3)
	}
	if !strings.Contains(md3, "| Upload | an identical file was already there") {
		t.Errorf("third summary:\n%s", md3)
	}
}

func TestLayoutPlace(t *testing.T) {
	ios := &Report{App: "Studio ../Game\n", Platform: KindIPA.String(), BundleID: "com.example.studio", Version: "1.4", Build: "142", Input: "Studio.ipa"}
	android := &Report{App: "game", Platform: KindAAB.String(), BundleID: "com.example.game", Version: "2.3.1", Build: "231", Input: "game-final.aab"}
	for _, tc := range []struct {
		l         Layout
		r         *Report
		file      string
		sub, name string
		err       bool
	}{
		{Layout{DefaultSubfolder, DefaultName}, ios, "Studio.ipa", "Studio ..-Game/1.4 (142)", "Studio ..-Game-1.4-142.ipa", false},
		{Layout{DefaultSubfolder, DefaultName}, android, "game-final.aab", "com.example.game/2.3.1 (231)", "com.example.game-2.3.1-231.aab", false},
		{Layout{}, android, "game-final.aab", "", "game-final.aab", false},
		{Layout{"/{platform}//{bundle-id}/", "{input}-signed.{ext}"}, android, "game-final.aab", "android/com.example.game", "game-final-signed.aab", false},
		{Layout{"{app}", "{version}.{ext}"}, &Report{Platform: KindAPK.String()}, "x.apk", "unknown", "unknown.apk", false},
		{Layout{"{nope}", ""}, android, "x.aab", "", "", true},
		{Layout{"", "{app"}, android, "x.aab", "", "", true},
		{Layout{"..", ""}, android, "x.aab", "", "", true},
	} {
		sub, name, err := tc.l.Place(tc.r, tc.file)
		if (err != nil) != tc.err || sub != tc.sub || name != tc.name {
			t.Errorf("%+v.Place(%s) = %q, %q, %v; want %q, %q, error %v", tc.l, tc.file, sub, name, err, tc.sub, tc.name, tc.err)
		}
	}
}

// TestPlan: of three builds delivered (and a text file), one released
// earlier, the plan lists the other two, oldest first, as a matrix; the
// summary lists all three. After one more is released, the plan's report
// of the two planned says one released (with its link) and one not.
func TestPlan(t *testing.T) {
	srv, hs := fakeDrive(t)
	in := addFolder(t, srv, "deliveries")
	out := addFolder(t, srv, "signed")
	ids := map[string]string{}
	base := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	for i, b := range []struct {
		name string
		data []byte
	}{
		{"game-1.apk", signingtest.APK(signingtest.APKOptions{Package: "com.example.game", VersionName: "1.0", VersionCode: 1})},
		{"game-2.apk", signingtest.APK(signingtest.APKOptions{Package: "com.example.game", VersionName: "1.1", VersionCode: 2})},
		{"notes.txt", []byte("not a build")},
		{"game-3\n::error::x.apk", signingtest.APK(signingtest.APKOptions{Package: "com.example.game", VersionName: "1.2", VersionCode: 3})},
	} {
		f, err := srv.AddFile(in, b.name, bytes.NewReader(b.data))
		if err != nil {
			t.Fatal(err)
		}
		srv.SetModified(f.ID, base.Add(time.Duration(i)*time.Hour))
		ids[b.name] = f.ID
	}
	id := signingtest.SelfSigned("plan-key", signingtest.RSAKey("plan-key", 2048))
	release := map[string]string{
		"STORESIGN_DRIVE_ENDPOINT": hs.URL,
		"INPUT_OUTPUT_FOLDER":      out,
		"INPUT_OUTPUT_SUBFOLDER":   DefaultSubfolder,
		"INPUT_OUTPUT_NAME":        DefaultName,
		"INPUT_KEYSTORE_BASE64":    base64.StdEncoding.EncodeToString(signingtest.JKS(id, "upload", fixtureKSPassword, fixtureKeyPassword)),
		"INPUT_KEYSTORE_PASSWORD":  fixtureKSPassword,
		"INPUT_KEY_PASSWORD":       fixtureKeyPassword,
	}
	releaseOf := func(name string) {
		env := maps.Clone(release)
		env["INPUT_DRIVE_FILE"] = ids[name]
		releaseRun(t, env)
	}
	releaseOf("game-2.apk")

	plan := func(planned string) (map[string]string, string, string) {
		tmp := t.TempDir()
		env := map[string]string{
			"RUNNER_TEMP":              tmp,
			"GITHUB_STEP_SUMMARY":      filepath.Join(tmp, "summary.md"),
			"STORESIGN_DRIVE_ENDPOINT": hs.URL,
			"STORESIGN_ACTION":         "plan",
			"INPUT_DRIVE_FOLDER":       "https://drive.google.com/drive/folders/" + in,
			"INPUT_OUTPUT_FOLDER":      out,
			"INPUT_PLANNED":            planned,
		}
		log, o, err := afterSecrets(t, env, "plan")
		if err != nil {
			t.Fatalf("plan: %v\n%s", err, log)
		}
		md, _ := os.ReadFile(env["GITHUB_STEP_SUMMARY"])
		return o, string(md), log
	}
	o, md, log := plan("")
	wantMatrix := `{"include":[{"file":"` + ids["game-1.apk"] + `","name":"game-1.apk"},{"file":"` + ids["game-3\n::error::x.apk"] + `","name":"game-3\n::error::x.apk"}]}`
	if o["matrix"] != wantMatrix || o["count"] != "2" {
		t.Errorf("outputs %q\nwant matrix %s", o, wantMatrix)
	}
	for _, want := range []string{
		"### Releases planned: 2 of 3 build(s)",
		"| game-1.apk | 2026-11-01 09:00 | **to release** |",
		"| game-2.apk | 2026-11-01 10:00 | released: [com.example.game/1.1 (2)/com.example.game-1.1-2.apk](https://drive.google.com/file/d/",
		"| game-3 ::error::x.apk | 2026-11-01 12:00 | **to release** |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the plan's summary lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(log, "\n::error::x") {
		t.Errorf("a file name issued a workflow command:\n%s", log)
	}

	releaseOf("game-1.apk")
	o, md, log = plan(o["builds"])
	if o["released"] != "1" || o["failed"] != "1" {
		t.Errorf("report outputs %q", o)
	}
	for _, want := range []string{
		"### Release results: 1 of 2 build(s) released",
		"| game-1.apk | released | [com.example.game/1.0 (1)/com.example.game-1.0-1.apk](https://drive.google.com/file/d/",
		"| game-3 ::error::x.apk | **not released** |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the report lacks %q:\n%s", want, md)
		}
	}
	if !strings.Contains(log, "::warning title=Not released::") {
		t.Errorf("no warning for the build not released:\n%s", log)
	}

	// Nothing left: an empty matrix, count 0.
	releaseOf("game-3\n::error::x.apk")
	if o, _, _ := plan(""); o["count"] != "0" || o["matrix"] != `{"include":[]}` || o["builds"] != "[]" {
		t.Errorf("outputs with nothing to release: %q", o)
	}
}

// TestProfilesSources: the profiles of an iOS release may come, besides
// profiles-base64, from files in the repository (profiles-path) or from a
// Drive folder (profiles-drive-folder), five profiles being more than a
// secret holds. Each is checked as a pasted one is.
func TestProfilesSources(t *testing.T) {
	srv, hs := fakeDrive(t)
	apple := signingtest.NewApple(signingtest.AppleOptions{})
	app := apple.Profile(signingtest.ProfileOptions{})
	widget := apple.Profile(signingtest.ProfileOptions{Name: "Widget", AppID: "com.example.app.widget"})
	profiles := addFolder(t, srv, "profiles")
	srv.AddFile(profiles, "App.mobileprovision", bytes.NewReader(app))
	srv.AddFile(profiles, "Widget.mobileprovision", bytes.NewReader(widget))
	srv.AddFile(profiles, "README.txt", strings.NewReader("not a profile"))
	empty := addFolder(t, srv, "empty")

	ws := t.TempDir()
	os.MkdirAll(filepath.Join(ws, "signing", "profiles"), 0o755)
	os.WriteFile(filepath.Join(ws, "signing", "profiles", "App.mobileprovision"), app, 0o644)
	os.WriteFile(filepath.Join(ws, "signing", "profiles", "Widget.mobileprovision"), widget, 0o644)
	os.WriteFile(filepath.Join(ws, "signing", "bad.mobileprovision"), []byte("junk"), 0o644)

	for _, tc := range []struct {
		name   string
		inputs map[string]string
		want   int    // profiles written
		err    string // annotation
	}{
		{"path folder", map[string]string{"INPUT_PROFILES_PATH": "signing/profiles"}, 2, ""},
		{"path glob", map[string]string{"INPUT_PROFILES_PATH": "signing/profiles/W*.mobileprovision"}, 1, ""},
		{"path and base64", map[string]string{"INPUT_PROFILES_PATH": "signing/profiles/App.mobileprovision", "INPUT_PROFILES_BASE64": base64.StdEncoding.EncodeToString(widget)}, 2, ""},
		{"drive folder", map[string]string{"INPUT_PROFILES_DRIVE_FOLDER": profiles}, 2, ""},
		{"path missing", map[string]string{"INPUT_PROFILES_PATH": "nowhere"}, 0, "::error title=Fix the profiles-path input::input profiles-path names no .mobileprovision file"},
		{"path not a profile", map[string]string{"INPUT_PROFILES_PATH": "signing/bad.mobileprovision"}, 0, "::error title=Fix the profiles-path input::input profiles-path file bad.mobileprovision is not a provisioning profile"},
		{"empty drive folder", map[string]string{"INPUT_PROFILES_DRIVE_FOLDER": empty}, 0, "::error title=Fix the profiles-drive-folder input::input profiles-drive-folder holds no .mobileprovision file"},
		{"none", map[string]string{}, 0, "::error title=Fix the profiles-base64 input::input profiles-base64 is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmp := t.TempDir()
			env := map[string]string{
				"RUNNER_TEMP":              tmp,
				"GITHUB_WORKSPACE":         ws,
				"STORESIGN_DRIVE_ENDPOINT": hs.URL,
				"STORESIGN_ACTION":         "resign-ipa",
				"INPUT_PATH":               filepath.Join(ws, "signing", "bad.mobileprovision"), // a file; not read by this step
				"INPUT_P12_BASE64":         base64.StdEncoding.EncodeToString(signingtest.PKCS12(apple.Identity, fixtureP12Password)),
				"INPUT_P12_PASSWORD":       fixtureP12Password,
			}
			maps.Copy(env, tc.inputs)
			log, o, err := actionRun(t, env, "secrets")
			if tc.err != "" {
				if err == nil || !strings.Contains(log, tc.err) {
					t.Fatalf("err %v, log:\n%s\nwant %q", err, log, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("%v\n%s", err, log)
			}
			got, _ := filepath.Glob(filepath.Join(o["dir"], "profile-*.mobileprovision"))
			if len(got) != tc.want {
				t.Errorf("wrote %d profiles, want %d\n%s", len(got), tc.want, log)
			}
		})
	}
}
