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

// TestRelease runs the steps of the root action.yml in order, as the
// runner would, against a fake Drive: download, re-sign, verify, upload,
// for an IPA, an app bundle and an APK.
func TestRelease(t *testing.T) {
	srv, err := drivetest.New(drivetest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	hs := httptest.NewServer(srv)
	defer hs.Close()
	in, err := srv.AddFolder("", "", "deliveries")
	if err != nil {
		t.Fatal(err)
	}
	outFolder, err := srv.AddFolder("", "", "signed")
	if err != nil {
		t.Fatal(err)
	}
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
	srv, err := drivetest.New(drivetest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	hs := httptest.NewServer(srv)
	defer hs.Close()
	in, err := srv.AddFolder("", "", "deliveries")
	if err != nil {
		t.Fatal(err)
	}
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
			_, o, err := actionRun(t, env, "secrets")
			if err != nil {
				t.Fatal(err)
			}
			env["STORESIGN_SECRETS_DIR"] = o["dir"]
			log, o, err := actionRun(t, env, "download")
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
	srv, err := drivetest.New(drivetest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	hs := httptest.NewServer(srv)
	defer hs.Close()
	in, err := srv.AddFolder("", "", "deliveries")
	if err != nil {
		t.Fatal(err)
	}
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
			_, o, err := actionRun(t, env, "secrets")
			if err != nil {
				t.Fatal(err)
			}
			env["STORESIGN_SECRETS_DIR"] = o["dir"]
			log, o, err := actionRun(t, env, "download")
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
