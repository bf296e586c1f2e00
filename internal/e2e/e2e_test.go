package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/storesign/storesign/actions"
	"github.com/storesign/storesign/drive/drivetest"
	"github.com/storesign/storesign/internal/testenv"
	"github.com/storesign/storesign/signing/aab"
	"github.com/storesign/storesign/signing/ipa"
	"github.com/storesign/storesign/signing/signingtest"
)

// Throwaway passwords: the test fails if the log shows them.
const (
	p12Password = "e2e-p12-Pa55word"
	ksPassword  = "e2e-ks-Pa55word"
	keyPassword = "e2e-key-Pa55word"
)

// required says whether the workflow runs are on (STORESIGN_E2E=1); then
// a missing act fails the test instead of skipping it.
func required() bool { return os.Getenv("STORESIGN_E2E") == "1" }

func skipOrFail(t *testing.T, format string, args ...any) {
	t.Helper()
	if required() {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

// findAct looks for act on PATH and in the cache folder
// scripts/e2e-actions.sh installs it into.
func findAct(t *testing.T) string {
	t.Helper()
	if !required() {
		t.Skip("end-to-end workflow runs are off: run scripts/e2e-actions.sh (or set STORESIGN_E2E=1 with act installed)")
	}
	if p := os.Getenv("STORESIGN_ACT"); p != "" {
		return p
	}
	dir := os.Getenv("STORESIGN_ACTIONS_TOOLS")
	if dir == "" {
		if home, err := os.UserHomeDir(); err == nil {
			dir = filepath.Join(home, ".cache", "storesign-actions")
		}
	}
	if p := filepath.Join(dir, "bin", "act"); dir != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("act"); err == nil {
		return p
	}
	skipOrFail(t, "act is not installed: run scripts/e2e-actions.sh (it installs github.com/nektos/act, pinned)")
	return ""
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// stub writes a composite action that does nothing, standing in for a
// remote action act would otherwise fetch.
func stub(t *testing.T, dir, name string, inputs ...string) string {
	t.Helper()
	d := filepath.Join(dir, strings.NewReplacer("/", "_", "@", "_").Replace(name))
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "name: stand-in for %s\ndescription: does nothing (storesign e2e test)\ninputs:\n", name)
	for _, in := range inputs {
		fmt.Fprintf(&b, "  %s:\n    description: ignored\n    required: false\n", in)
	}
	fmt.Fprintf(&b, "runs:\n  using: composite\n  steps:\n    - shell: bash\n      run: echo \"stand-in for %s\"\n", name)
	if err := os.WriteFile(filepath.Join(d, "action.yml"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return name + "=" + d
}

// fixture is the fake Drive and the secrets of one test.
type fixture struct {
	srv        *drivetest.Server
	url        string
	deliveries string
	signed     string
	ids        map[string]string // build file name -> Drive ID
	secrets    map[string]string
	actArgs    []string // more act arguments (--var, --env) of a test
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	srv, err := drivetest.New(drivetest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	f := &fixture{srv: srv, url: "http://" + ln.Addr().String(), ids: map[string]string{}}
	if f.deliveries, err = srv.AddFolder("", "", "deliveries"); err != nil {
		t.Fatal(err)
	}
	if f.signed, err = srv.AddFolder("", "", "signed"); err != nil {
		t.Fatal(err)
	}
	builds := map[string][]byte{
		"Example-1.4.ipa":   signingtest.IPA(signingtest.IPAOptions{}),
		"game-2.3.1.apk":    signingtest.APK(signingtest.APKOptions{Package: "com.example.game", VersionName: "2.3.1", VersionCode: 231}),
		"game-2.3.1.aab":    signingtest.Bundle(signingtest.APKOptions{Package: "com.example.game", VersionName: "2.3.1", VersionCode: 231}),
		"release-notes.txt": []byte("not a build\n"),
	}
	for name, data := range builds {
		df, err := srv.AddFile(f.deliveries, name, bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		f.ids[name] = df.ID
	}
	apple := signingtest.NewApple(signingtest.AppleOptions{})
	upload := signingtest.SelfSigned("e2e-upload-key", signingtest.RSAKey("e2e-upload-key", 2048))
	f.secrets = map[string]string{
		"IOS_P12_BASE64":            base64.StdEncoding.EncodeToString(signingtest.PKCS12(apple.Identity, p12Password)),
		"IOS_P12_PASSWORD":          p12Password,
		"IOS_PROFILES_BASE64":       base64.StdEncoding.EncodeToString(apple.Profile(signingtest.ProfileOptions{})),
		"ANDROID_KEYSTORE_BASE64":   base64.StdEncoding.EncodeToString(signingtest.JKS(upload, "upload", ksPassword, keyPassword)),
		"ANDROID_KEYSTORE_PASSWORD": ksPassword,
		"ANDROID_KEY_ALIAS":         "upload",
		"ANDROID_KEY_PASSWORD":      keyPassword,
	}
	return f
}

// act runs one workflow with act and returns its log and whether the job
// succeeded.
func (f *fixture) act(t *testing.T, workflow string, inputs map[string]string) (string, bool) {
	t.Helper()
	act := findAct(t)
	root := repoRoot(t)
	tmp := t.TempDir()
	stubs := filepath.Join(tmp, "stubs")
	var secrets strings.Builder
	for k, v := range f.secrets {
		if k != "ANDROID_KEY_ALIAS" { // a variable: a key's name is no secret
			fmt.Fprintf(&secrets, "%s=%s\n", k, v)
		}
	}
	secretFile := filepath.Join(tmp, "secrets.env")
	if err := os.WriteFile(secretFile, []byte(secrets.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"workflow_dispatch",
		"-W", filepath.Join(root, workflow),
		"-P", "ubuntu-latest=-self-hosted",
		"--action-offline-mode",
		"--action-cache-path", filepath.Join(tmp, "act-cache"),
		"--local-repository", "storesign/storesign@v1=" + root,
		"--local-repository", stub(t, stubs, "actions/setup-go@v6", "go-version-file", "cache-dependency-path", "go-version", "cache"),
		"--local-repository", stub(t, stubs, "actions/cache@v4", "path", "key", "restore-keys"),
		"--local-repository", stub(t, stubs, "google-github-actions/auth@v2", "workload_identity_provider", "service_account", "credentials_json"),
		"--local-repository", stub(t, stubs, "google-github-actions/auth@v3", "workload_identity_provider", "service_account", "credentials_json"),
		"--local-repository", stub(t, stubs, "actions/cache@v4", "path", "key", "restore-keys"),
		"--local-repository", stub(t, stubs, "actions/download-artifact@v5", "path", "pattern", "merge-multiple", "name"),
		"--local-repository", stub(t, stubs, "actions/upload-artifact@v4", "name", "path", "if-no-files-found", "retention-days"),
		"--local-repository", stub(t, stubs, "actions/checkout@v5", "persist-credentials"),
		"--secret-file", secretFile,
		"--var", "DRIVE_DELIVERIES_FOLDER=" + f.deliveries,
		"--var", "DRIVE_SIGNED_FOLDER=" + f.signed,
		"--var", "ANDROID_KEY_ALIAS=" + f.secrets["ANDROID_KEY_ALIAS"],
		"--env", "STORESIGN_DRIVE_ENDPOINT=" + f.url,
		"--env", "STORESIGN_BUILD_FROM_SOURCE=true", // this tree, never a published release of @v1
	}
	for k, v := range inputs {
		args = append(args, "--input", k+"="+v)
	}
	args = append(args, f.actArgs...)
	// Building storesign on a busy machine takes minutes; a batch builds
	// it once per job.
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, act, args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "HOME="+tmp, "XDG_CACHE_HOME="+filepath.Join(tmp, "cache"), "GOCACHE="+goEnv(t, "GOCACHE"), "GOMODCACHE="+goEnv(t, "GOMODCACHE"), "GOPROXY=off")
	out, err := cmd.CombinedOutput()
	log := string(out)
	if ctx.Err() != nil {
		t.Fatalf("act timed out:\n%s", tail(log))
	}
	if strings.Contains(log, "not implemented yet") || strings.Contains(log, "not available yet") {
		m := regexp.MustCompile(`[^\n]*not (?:implemented|available) yet[^\n]*`).FindString(log)
		t.Skipf("a command the workflow needs is not available yet: %s", strings.TrimSpace(m))
	}
	return log, err == nil && strings.Contains(log, "Job succeeded")
}

func goEnv(t *testing.T, name string) string {
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		t.Fatalf("go env %s: %v", name, err)
	}
	return strings.TrimSpace(string(out))
}

func tail(s string) string {
	if len(s) > 8000 {
		return "...\n" + s[len(s)-8000:]
	}
	return s
}

// noSecrets fails when the log shows a secret.
func (f *fixture) noSecrets(t *testing.T, log string) {
	t.Helper()
	for k, v := range f.secrets {
		if k == "ANDROID_KEY_ALIAS" {
			continue // an alias is not secret
		}
		probe := v
		if len(probe) > 40 {
			probe = v[len(v)/2-10 : len(v)/2+10]
		}
		if strings.Contains(log, probe) {
			t.Errorf("the log shows the secret %s", k)
		}
	}
}

// upload is a file a run put under the signed folder.
type upload struct {
	drivetest.File
	path string // from the signed folder: "Example/1.4 (1)/Example-1.4-1.ipa"
}

// uploaded returns the files the runs put under the signed folder, at any
// depth.
func (f *fixture) uploaded() []upload {
	var out []upload
	var walk func(id, prefix string)
	walk = func(id, prefix string) {
		for _, c := range f.srv.Children(id) {
			if c.MimeType == drivetest.FolderMimeType {
				walk(c.ID, prefix+c.Name+"/")
				continue
			}
			out = append(out, upload{File: c, path: prefix + c.Name})
		}
	}
	walk(f.signed, "")
	return out
}

// signedFrom returns the upload the release of a delivery made, found by
// the delivery's ID the release sets on it.
func (f *fixture) signedFrom(delivery string) *upload {
	for _, u := range f.uploaded() {
		if u.AppProperties[actions.SourceProperty] == f.ids[delivery] {
			return &u
		}
	}
	return nil
}

func TestReleaseFromDrive(t *testing.T) {
	findAct(t)
	f := newFixture(t)
	for _, tc := range []struct {
		build string
		path  string   // of the signed build under the signed folder
		want  []string // summary rows
	}{
		{"Example-1.4.ipa", "Example/1.0 (1)/Example-1.0-1.ipa", []string{"| Bundle ID | `com.example.app` |", "| Profile | Test Profile, expires 2034-01-01", "| Platform | iOS |"}},
		{"game-2.3.1.aab", "com.example.game/2.3.1 (231)/com.example.game-2.3.1-231.aab", []string{"| Platform | Android (App Bundle) |", "| Signature schemes | JAR signature"}},
		{"game-2.3.1.apk", "com.example.game/2.3.1 (231)/com.example.game-2.3.1-231.apk", []string{"| Package | `com.example.game` |", "| Version (build) | 2.3.1 (231) |"}},
	} {
		t.Run(tc.build, func(t *testing.T) {
			link := "https://drive.google.com/file/d/" + f.ids[tc.build] + "/view?usp=sharing"
			log, ok := f.act(t, "examples/workflows/release-from-drive.yml", map[string]string{"build": link})
			if !ok {
				t.Fatalf("the release failed:\n%s", tail(log))
			}
			f.noSecrets(t, log)
			up := f.signedFrom(tc.build)
			if up == nil {
				t.Fatalf("%s was not uploaded to the signed folder:\n%s", tc.build, tail(log))
			}
			if up.path != tc.path {
				t.Errorf("uploaded to %s, want %s", up.path, tc.path)
			}
			for _, want := range append(tc.want,
				"| Verification | passed",
				"| SHA-256 | `"+up.SHA256+"` |",
				"| Certificate SHA-256 | `",
			) {
				if !strings.Contains(log, want) {
					t.Errorf("the step summary lacks %q", want)
				}
			}
			for _, out := range []string{"drive-file-id=" + up.ID, "sha256=" + up.SHA256, "signed-path=", "drive-link="} {
				if !strings.Contains(log, out) {
					t.Errorf("output %s was not set", out)
				}
			}
			if !strings.Contains(log, "Signed build ready::") {
				t.Errorf("the workflow's last step did not get the outputs")
			}
			verifyUploaded(t, f, up.File)
		})
	}
}

// verifyUploaded checks the uploaded build with the library's verifier,
// and APKs with apksigner when it is installed.
func verifyUploaded(t *testing.T, f *fixture, up drivetest.File) {
	t.Helper()
	r, err := f.srv.Open(up.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx := context.Background()
	switch filepath.Ext(up.Name) {
	case ".ipa":
		if _, err := ipa.Verify(ctx, r, up.Size, ipa.VerifyOptions{}); err != nil {
			t.Errorf("the uploaded IPA does not verify: %v", err)
		}
	case ".aab":
		if _, err := aab.Verify(ctx, r, up.Size, aab.VerifyOptions{}); err != nil {
			t.Errorf("the uploaded bundle does not verify: %v", err)
		}
	case ".apk":
		apksigner := testenv.Tool(t, "apksigner35")
		out, err := exec.Command(apksigner, "verify", "-v", r.Name()).CombinedOutput()
		if err != nil {
			t.Errorf("apksigner verify: %v\n%s", err, out)
		}
	}
}

// TestReleaseBadInput runs the release on a file that is not a build: the
// job fails with an annotation naming the input, and nothing is uploaded.
func TestReleaseBadInput(t *testing.T) {
	findAct(t)
	f := newFixture(t)
	link := "https://drive.google.com/file/d/" + f.ids["release-notes.txt"] + "/view"
	log, ok := f.act(t, "examples/workflows/release-from-drive.yml", map[string]string{"build": link})
	if ok {
		t.Fatalf("the release of a text file succeeded:\n%s", tail(log))
	}
	// The workflow's planner-names: the annotation names the form field.
	if !strings.Contains(log, "::error title=Fix the field build::field build (input drive-file) names release-notes.txt, which is not an iOS app") {
		t.Errorf("no annotation naming the build field:\n%s", tail(log))
	}
	if !strings.Contains(log, "Summary - ### Fix the field build") {
		t.Errorf("the step summary does not say what to fix")
	}
	if up := f.uploaded(); len(up) != 0 {
		t.Errorf("uploaded %v", up)
	}
	if !strings.Contains(log, "Removed the decoded secrets") {
		t.Errorf("the cleanup step did not run after the failure")
	}
	f.noSecrets(t, log)
}

// TestSelfTest runs .github/workflows/actions-selftest.yml, which uses the
// root action and each of actions/* from this checkout against fakedrive.
func TestSelfTest(t *testing.T) {
	findAct(t)
	f := newFixture(t) // unused Drive: the workflow starts its own fakedrive
	log, ok := f.act(t, ".github/workflows/actions-selftest.yml", nil)
	if !ok {
		t.Fatalf("the self-test failed:\n%s", tail(log))
	}
	for _, want := range []string{"self-test passed", "| Bundle ID | `com.example.renamed` |", "| Version (build) | 1.0 (143) |", "| Google Drive | [game-2.3.1-signed.aab]("} {
		if !strings.Contains(log, want) {
			t.Errorf("the log lacks %q", want)
		}
	}
	for _, secret := range []string{"selftest-p12-password", "selftest-ks-password", "selftest-key-password"} {
		if strings.Contains(log, secret) {
			t.Errorf("the log shows %s", secret)
		}
	}
}

// TestReleaseRerun releases the same IPA twice: the second run signs it
// anew (a new signing time, so other bytes), finds the first run's upload
// in the build's folder and replaces it as a new revision, keeping its ID
// and link, and says so.
func TestReleaseRerun(t *testing.T) {
	findAct(t)
	f := newFixture(t)
	link := "https://drive.google.com/file/d/" + f.ids["Example-1.4.ipa"] + "/view"
	log, ok := f.act(t, "examples/workflows/release-from-drive.yml", map[string]string{"build": link})
	if !ok {
		t.Fatalf("the first release failed:\n%s", tail(log))
	}
	first := f.signedFrom("Example-1.4.ipa")
	if first == nil {
		t.Fatalf("nothing uploaded:\n%s", tail(log))
	}
	time.Sleep(1100 * time.Millisecond) // a signing time of another second
	log, ok = f.act(t, "examples/workflows/release-from-drive.yml", map[string]string{"build": link})
	if !ok {
		t.Fatalf("the re-run failed:\n%s", tail(log))
	}
	up := f.uploaded()
	if len(up) != 1 || up[0].ID != first.ID || up[0].Version != 2 || up[0].SHA256 == first.SHA256 {
		t.Fatalf("after the re-run the signed folder holds %+v, want one new revision of %s", up, first.ID)
	}
	for _, want := range []string{"Replaced the earlier upload", "| Upload | replaced the earlier upload of this build as a new revision", "upload=replaced"} {
		if !strings.Contains(log, want) {
			t.Errorf("the re-run's log lacks %q", want)
		}
	}
	if strings.Contains(log, "bump the build number") {
		t.Errorf("the re-run gives the old advice")
	}
	verifyUploaded(t, f, up[0].File)
}

// TestReleaseBatch runs examples/workflows/release-batch.yml over a
// deliveries folder of three builds, a broken one and a text file: the
// plan job lists the four builds, the matrix releases each in a job of its
// own (the broken one fails without stopping the others), and the summary
// job's table gives every build's result. A second run plans only the
// build that failed.
func TestReleaseBatch(t *testing.T) {
	findAct(t)
	f := newFixture(t)
	broken, err := f.srv.AddFile(f.deliveries, "broken.ipa", strings.NewReader("not a zip at all\n"))
	if err != nil {
		t.Fatal(err)
	}
	f.ids["broken.ipa"] = broken.ID
	log, ok := f.act(t, "examples/workflows/release-batch.yml", map[string]string{"max-parallel": "2"})
	if ok {
		t.Fatalf("the batch with a broken build succeeded:\n%s", tail(log))
	}
	f.noSecrets(t, log)
	for _, want := range []string{
		"### Releases planned: 4 of 4 build(s)",
		"count=4",
		"### Release results: 3 of 4 build(s) released",
		"| broken.ipa | **not released** |",
		"Builds not released",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("the log lacks %q", want)
		}
	}
	for _, b := range []string{"Example-1.4.ipa", "game-2.3.1.apk", "game-2.3.1.aab"} {
		up := f.signedFrom(b)
		if up == nil {
			t.Errorf("%s was not released", b)
			continue
		}
		if !strings.Contains(log, "| "+b+" | released | ["+up.path+"](") {
			t.Errorf("the results table lacks the released %s at %s", b, up.path)
		}
		verifyUploaded(t, f, up.File)
	}
	if len(f.uploaded()) != 3 {
		t.Errorf("uploaded %d files, want 3", len(f.uploaded()))
	}

	log, ok = f.act(t, "examples/workflows/release-batch.yml", nil)
	if ok {
		t.Fatalf("the second batch succeeded though broken.ipa is still broken:\n%s", tail(log))
	}
	for _, want := range []string{"### Releases planned: 1 of 4 build(s)", "count=1", "### Release results: 0 of 1 build(s) released"} {
		if !strings.Contains(log, want) {
			t.Errorf("the second run's log lacks %q", want)
		}
	}
	if len(f.uploaded()) != 3 {
		t.Errorf("after the second run %d files are uploaded, want the same 3", len(f.uploaded()))
	}
}
