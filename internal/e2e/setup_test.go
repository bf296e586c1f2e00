package e2e

// Tests of how the actions set up storesign (actions/scripts/storesign-bin.sh):
// the release binary of the action's ref, downloaded from a local stand-in
// for GitHub's release downloads and checked against the checksums file,
// or a build from source when there is no release. The script tests run
// on every "go test" (bash, git and curl, no network); TestSetupTime runs
// the actions with act (STORESIGN_E2E=1) and logs how long the setup took.

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/storesign/storesign/signing/signingtest"
)

// releaseServer stands in for https://github.com/OWNER/NAME/releases/download:
// it serves the files of each release tag and counts the requests.
type releaseServer struct {
	*httptest.Server
	mu       sync.Mutex
	files    map[string][]byte // "v1.2.3/storesign_1.2.3_linux_amd64.tar.gz" -> bytes
	requests int
}

func newReleaseServer(t *testing.T) *releaseServer {
	t.Helper()
	rs := &releaseServer{files: map[string][]byte{}}
	rs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rs.mu.Lock()
		rs.requests++
		data, ok := rs.files[strings.TrimPrefix(r.URL.Path, "/")]
		rs.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(data)
	}))
	t.Cleanup(rs.Close)
	return rs
}

// publish adds a release as GoReleaser lays it out (.goreleaser.yaml): one
// archive for linux/amd64 and the checksums file listing it.
func (rs *releaseServer) publish(version string, archive []byte) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	name := "storesign_" + version + "_linux_amd64.tar.gz"
	sum := sha256.Sum256(archive)
	rs.files["v"+version+"/"+name] = archive
	rs.files["v"+version+"/storesign_"+version+"_checksums.txt"] = []byte(
		strings.Repeat("0", 64) + "  storesign_" + version + "_darwin_arm64.tar.gz\n" +
			hex.EncodeToString(sum[:]) + "  " + name + "\n")
}

func (rs *releaseServer) count() int {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return rs.requests
}

// releaseArchive is a GoReleaser-shaped tar.gz: the binary at the top,
// with README.md and CHANGELOG.md.
func releaseArchive(t *testing.T, binary []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, f := range []struct {
		name string
		mode int64
		data []byte
	}{
		{"README.md", 0o644, []byte("# storesign\n")},
		{"CHANGELOG.md", 0o644, []byte("# Changelog\n")},
		{"storesign", 0o755, binary},
	} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.data)), ModTime: time.Unix(1764870000, 0), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(f.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// tagRepo makes a Git repository standing in for the action's GitHub
// repository: v1.2.2 on a first commit, v1.2.3 (annotated) and the moving
// tag v1 on a second, a commit of main after it. It returns its path and
// the commits of v1.2.3 and main.
func tagRepo(t *testing.T) (dir, release, head string) {
	t.Helper()
	dir = t.TempDir()
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=e2e", "GIT_AUTHOR_EMAIL=e2e@example.com",
			"GIT_COMMITTER_NAME=e2e", "GIT_COMMITTER_EMAIL=e2e@example.com", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q")
	git("commit", "-q", "--allow-empty", "-m", "first")
	git("tag", "v1.2.2")
	git("commit", "-q", "--allow-empty", "-m", "second")
	git("tag", "-a", "-m", "v1.2.3", "v1.2.3")
	git("tag", "v1")
	release = git("rev-parse", "HEAD")
	git("commit", "-q", "--allow-empty", "-m", "third")
	head = git("rev-parse", "HEAD")
	return dir, release, head
}

// needTools skips when the script's tools are missing.
func needTools(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"bash", "git", "curl", "tar"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
}

// scriptEnv is the environment of storesign-bin.sh in a test: this
// process's, without what a CI job running the tests would leak into it.
func scriptEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "STORESIGN_") || strings.HasPrefix(k, "RUNNER_") || strings.HasPrefix(k, "GITHUB_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// runCheck runs "storesign-bin.sh check" and returns its step outputs, its
// log and whether it succeeded.
func runCheck(t *testing.T, env []string) (map[string]string, string, bool) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "github-output")
	cmd := exec.Command("bash", filepath.Join(repoRoot(t), "actions", "scripts", "storesign-bin.sh"), "check")
	cmd.Env = append(env, "GITHUB_OUTPUT="+out)
	log, err := cmd.CombinedOutput()
	outputs := map[string]string{}
	data, _ := os.ReadFile(out)
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			outputs[k] = v
		}
	}
	return outputs, string(log), err == nil
}

func TestStoresignBinDownload(t *testing.T) {
	needTools(t)
	repo, release, head := tagRepo(t)
	fake := []byte("#!/bin/sh\necho 'storesign v1.2.3'\n")
	good := releaseArchive(t, fake)
	bad := releaseArchive(t, []byte("#!/bin/sh\necho 'storesign v1.2.3, changed'\n"))

	for _, tc := range []struct {
		name     string
		ref      string
		src      string // the action checkout, under RUNNER_TEMP; "" the repository
		serve    []byte // the archive of v1.2.3 the server has; nil none
		listed   bool   // the checksums file lists serve's SHA-256, not good's
		sums     string // replaces the checksums file of v1.2.3
		env      []string
		fail     bool   // the step fails
		build    bool   // need-build
		requests bool   // the release server was asked
		log      string // in the step's log
	}{
		{name: "release tag", ref: "v1.2.3", serve: good, requests: true, log: "Downloaded storesign v1.2.3 (linux_amd64) in "},
		{name: "moving major tag", ref: "v1", serve: good, requests: true, log: "Downloaded storesign v1.2.3"},
		{name: "commit of a release", ref: release, serve: good, requests: true, log: "Downloaded storesign v1.2.3"},
		{name: "ref from the runner's action folder", src: "_actions/storesign/storesign/v1", serve: good, requests: true, log: "Downloaded storesign v1.2.3"},
		{name: "runner's action folder before an outer action's ref", ref: "v9", src: "_actions/storesign/storesign/v1.2.3", serve: good, requests: true, log: "Downloaded storesign v1.2.3"},
		{name: "branch in the runner's action folder", ref: "v1", src: "_actions/storesign/storesign/main", serve: good, build: true, log: "No storesign release for ref main"},
		{name: "branch", ref: "main", serve: good, build: true, log: "No storesign release for ref main: building storesign from source."},
		{name: "commit after the release", ref: head, serve: good, build: true, log: "No storesign release for ref " + head},
		{name: "local action", ref: "", serve: good, build: true, log: "No storesign release for this local action"},
		{name: "no such release", ref: "v1.2.4", serve: good, build: true, requests: true, log: "::warning title=storesign setup::Could not download storesign_1.2.4_linux_amd64.tar.gz of release v1.2.4: building storesign from source instead."},
		{name: "release without binaries yet", ref: "v1.2.3", build: true, requests: true, log: "Could not download"},
		{name: "forced build", ref: "v1.2.3", serve: good, env: []string{"STORESIGN_BUILD_FROM_SOURCE=true"}, build: true, log: "STORESIGN_BUILD_FROM_SOURCE is true"},
		{name: "runner without a release binary", ref: "v1.2.3", serve: good, env: []string{"RUNNER_ARCH=ARM"}, build: true, log: "No storesign release binary for this runner"},
		{name: "checksum mismatch", ref: "v1", serve: bad, sums: "", fail: true, requests: true, log: "::error title=storesign setup::storesign_1.2.3_linux_amd64.tar.gz of release v1.2.3 has SHA-256 "},
		{name: "archive without the binary", ref: "v1.2.3", serve: []byte("not a tar.gz"), listed: true, build: true, requests: true, log: "storesign_1.2.3_linux_amd64.tar.gz holds no storesign: building storesign from source instead."},
		{name: "checksums without the archive", ref: "v1.2.3", serve: good, sums: strings.Repeat("a", 64) + "  storesign_1.2.3_darwin_amd64.tar.gz\n", fail: true, requests: true, log: "lists no storesign_1.2.3_linux_amd64.tar.gz"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rs := newReleaseServer(t)
			switch {
			case tc.listed:
				rs.publish("1.2.3", tc.serve)
			case tc.serve != nil:
				rs.publish("1.2.3", good)
				rs.files["v1.2.3/storesign_1.2.3_linux_amd64.tar.gz"] = tc.serve
			}
			if tc.sums != "" {
				rs.files["v1.2.3/storesign_1.2.3_checksums.txt"] = []byte(tc.sums)
			}
			temp := t.TempDir()
			src := repoRoot(t)
			if tc.src != "" {
				src = filepath.Join(temp, tc.src)
				copyFiles(t, repoRoot(t), src, "go.mod", "go.sum")
			}
			env := scriptEnv(append([]string{
				"STORESIGN_SRC=" + src,
				"RUNNER_TEMP=" + temp,
				"RUNNER_OS=Linux",
				"RUNNER_ARCH=X64",
				"GITHUB_SERVER_URL=http://127.0.0.1:9", // nothing listens: only the overrides below are used
				"STORESIGN_ACTION_REF=" + tc.ref,
				"STORESIGN_ACTION_REPOSITORY=storesign/storesign",
				"STORESIGN_RELEASE_BASE_URL=" + rs.URL,
				"STORESIGN_RELEASE_GIT_URL=" + repo,
			}, tc.env...)...)
			outputs, log, ok := runCheck(t, env)
			bin := filepath.Join(temp, "storesign-bin", "storesign")
			if ok == tc.fail {
				t.Fatalf("check succeeded = %v, want %v:\n%s", ok, !tc.fail, log)
			}
			if !strings.Contains(log, tc.log) {
				t.Errorf("the log lacks %q:\n%s", tc.log, log)
			}
			if got := rs.count() > 0; got != tc.requests {
				t.Errorf("release server asked = %v, want %v", got, tc.requests)
			}
			if tc.fail {
				if _, err := os.Stat(bin); err == nil {
					t.Errorf("a binary that failed its check was installed")
				}
				if strings.Contains(log, "building storesign from source") {
					t.Errorf("a failed check fell back to a build:\n%s", log)
				}
				return
			}
			if got := outputs["need-build"]; got != fmt.Sprint(tc.build) {
				t.Errorf("need-build=%s, want %v:\n%s", got, tc.build, log)
			}
			if outputs["path"] != bin {
				t.Errorf("path=%s, want %s", outputs["path"], bin)
			}
			if tc.build {
				if !strings.HasPrefix(outputs["cache-key"], "storesign-go-Linux-") || outputs["gomodcache"] == "" || outputs["gocache"] == "" {
					t.Errorf("the build from source has no cache outputs: %v", outputs)
				}
				return
			}
			if _, ok := outputs["cache-key"]; ok {
				t.Errorf("a downloaded binary asks for the Go caches: %v", outputs)
			}
			got, err := exec.Command(bin, "version").Output()
			if err != nil || string(got) != "storesign v1.2.3\n" {
				t.Errorf("installed binary says %q, %v", got, err)
			}
			// A later step of the job reuses it without asking again.
			before := rs.count()
			outputs, log, ok = runCheck(t, env)
			if !ok || outputs["need-build"] != "false" || !strings.Contains(log, "Reusing storesign set up earlier in this job.") || rs.count() != before {
				t.Errorf("second check: ok=%v outputs=%v requests %d -> %d:\n%s", ok, outputs, before, rs.count(), log)
			}
		})
	}
}

func copyFiles(t *testing.T, from, to string, names ...string) {
	t.Helper()
	if err := os.MkdirAll(to, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join(from, n))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, n), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestGoreleaserNames checks that .goreleaser.yaml names the archives and
// the checksums file as storesign-bin.sh downloads them, and sets the
// version "storesign version" prints.
func TestGoreleaserNames(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot(t), ".goreleaser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`name_template: "{{ .ProjectName }}_{{ .Version }}_{{ .Os }}_{{ .Arch }}"`,
		`name_template: "{{ .ProjectName }}_{{ .Version }}_checksums.txt"`,
		"project_name: storesign\n",
		"binary: storesign\n",
		"formats: [tar.gz]",
		"formats: [zip]",
		"-X main.version={{ .Version }}",
		"algorithm: sha256",
	} {
		if !bytes.Contains(data, []byte(want)) {
			t.Errorf(".goreleaser.yaml lacks %s", want)
		}
	}
}

// TestGoreleaserCheck runs "goreleaser check" when GoReleaser is installed
// (on PATH or in ~/.cache/storesign-release/bin); CI checks the
// configuration in its own job with goreleaser-action.
func TestGoreleaserCheck(t *testing.T) {
	bin, err := exec.LookPath("goreleaser")
	if err != nil {
		home, _ := os.UserHomeDir()
		bin = filepath.Join(home, ".cache", "storesign-release", "bin", "goreleaser")
		if _, err := os.Stat(bin); err != nil {
			t.Skip("goreleaser is not installed (go install github.com/goreleaser/goreleaser/v2@v2.17.0)")
		}
	}
	cmd := exec.Command(bin, "check")
	cmd.Dir = repoRoot(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("goreleaser check: %v\n%s", err, out)
	}
}

// buildRelease builds storesign from this tree with GoReleaser's linker
// flags and returns the binary. Not with its -trimpath and CGO_ENABLED=0:
// those would compile every package again instead of linking what the
// build cache holds; the binary is the same size.
func buildRelease(t *testing.T, version string) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "storesign")
	cmd := exec.Command("go", "build", "-ldflags", "-s -w -X main.version="+version, "-o", out, "./cmd/storesign")
	cmd.Dir = repoRoot(t)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building storesign: %v\n%s", err, b)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// setupWorkflow signs an APK with the resign-apk action of the action's
// repository at @v1, so that the action sets up storesign for ref v1.
const setupWorkflow = `name: setup time
on: workflow_dispatch
jobs:
  sign:
    runs-on: ubuntu-latest
    steps:
      - name: Sign the APK
        id: apk
        uses: storesign/storesign/actions/resign-apk@v1
        with:
          path: ${{ env.E2E_APK }}
          keystore-base64: ${{ secrets.ANDROID_KEYSTORE_BASE64 }}
          keystore-password: ${{ secrets.ANDROID_KEYSTORE_PASSWORD }}
          key-alias: ${{ vars.ANDROID_KEY_ALIAS }}
          key-password: ${{ secrets.ANDROID_KEY_PASSWORD }}
      - name: Signed
        env:
          SHA256: ${{ steps.apk.outputs.sha256 }}
        run: echo "signed sha256=$SHA256"
`

// stepTime finds act's line for a step of the composite action that
// succeeded ("✅  Success - Main Find storesign [1.2s]").
func stepTime(log, step string) (time.Duration, bool) {
	m := regexp.MustCompile(`Success - Main ` + regexp.QuoteMeta(step) + ` \[([0-9.]+(?:ns|µs|ms|s|m[0-9.]+s)?)\]`).FindStringSubmatch(log)
	if m == nil {
		return 0, false
	}
	d, err := time.ParseDuration(m[1])
	return d, err == nil
}

// TestSetupTime runs the resign-apk action at @v1 with act and measures
// how long it takes to set up storesign: from the release (a local
// stand-in serving a GoReleaser-shaped archive of this tree), by a build
// from source when there is no release, and the failure of a release
// whose archive does not match its checksums file.
func TestSetupTime(t *testing.T) {
	act := findAct(t)
	needTools(t)
	f := newFixture(t)
	repo, _, _ := tagRepo(t)
	archive := releaseArchive(t, buildRelease(t, "1.2.3"))
	tampered := append(bytes.Clone(archive[:len(archive)-64]), bytes.Repeat([]byte{0}, 64)...)

	apk := filepath.Join(t.TempDir(), "game-2.3.1.apk")
	if err := os.WriteFile(apk, signingtest.APK(signingtest.APKOptions{Package: "com.example.game", VersionName: "2.3.1", VersionCode: 231}), 0o644); err != nil {
		t.Fatal(err)
	}
	workflow := filepath.Join(t.TempDir(), "setup-time.yml")
	if err := os.WriteFile(workflow, []byte(setupWorkflow), 0o644); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name    string
		serve   []byte // the v1.2.3 archive; nil: no release
		fail    bool
		log     string
		timeFor []string // the setup steps that must have run
	}{
		{name: "download", serve: archive, log: "Downloaded storesign v1.2.3 (linux_amd64)", timeFor: []string{"Find storesign"}},
		{name: "build from source", log: "Built storesign from source in ", timeFor: []string{"Find storesign", "Restore the Go caches", "Build storesign"}},
		{name: "checksum mismatch", serve: tampered, fail: true, log: "has SHA-256 "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs := newReleaseServer(t)
			if tc.serve != nil {
				rs.publish("1.2.3", archive)
				rs.files["v1.2.3/storesign_1.2.3_linux_amd64.tar.gz"] = tc.serve
			}
			log, ok := runSetupWorkflow(t, act, f, workflow, apk,
				"STORESIGN_RELEASE_BASE_URL="+rs.URL,
				"STORESIGN_RELEASE_GIT_URL="+repo)
			if ok == tc.fail {
				t.Fatalf("job succeeded = %v, want %v:\n%s", ok, !tc.fail, tail(log))
			}
			if !strings.Contains(log, tc.log) {
				t.Errorf("the log lacks %q:\n%s", tc.log, tail(log))
			}
			f.noSecrets(t, log)
			if tc.fail {
				if strings.Contains(log, "Main Build storesign") || strings.Contains(log, "signed sha256=") {
					t.Errorf("the job went on after the checksum mismatch:\n%s", tail(log))
				}
				return
			}
			if !regexp.MustCompile(`signed sha256=[0-9a-f]{64}`).MatchString(log) {
				t.Errorf("the APK was not signed:\n%s", tail(log))
			}
			var total time.Duration
			var parts []string
			for _, step := range tc.timeFor {
				d, ok := stepTime(log, step)
				if !ok {
					t.Fatalf("no timing for step %q:\n%s", step, tail(log))
				}
				total += d
				parts = append(parts, fmt.Sprintf("%s %v", step, d.Round(time.Millisecond)))
			}
			if tc.serve == nil && strings.Contains(log, "Main Find storesign") && strings.Contains(log, "Downloaded storesign") {
				t.Errorf("downloaded a release that does not exist")
			}
			t.Logf("setup of storesign, %s: %v (%s)", tc.name, total.Round(time.Millisecond), strings.Join(parts, ", "))
			if tc.serve != nil && total > 10*time.Second {
				t.Errorf("setting up the release binary took %v, want under 10s", total)
			}
		})
	}
}

// runSetupWorkflow runs the workflow with act, the action's repository
// at @v1 being this tree, and returns the log and whether the job
// succeeded.
func runSetupWorkflow(t *testing.T, act string, f *fixture, workflow, apk string, env ...string) (string, bool) {
	t.Helper()
	root := repoRoot(t)
	tmp := t.TempDir()
	stubs := filepath.Join(tmp, "stubs")
	secretFile := filepath.Join(tmp, "secrets.env")
	var secrets strings.Builder
	for _, k := range []string{"ANDROID_KEYSTORE_BASE64", "ANDROID_KEYSTORE_PASSWORD", "ANDROID_KEY_PASSWORD"} {
		fmt.Fprintf(&secrets, "%s=%s\n", k, f.secrets[k])
	}
	if err := os.WriteFile(secretFile, []byte(secrets.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"workflow_dispatch",
		"-W", workflow,
		"-P", "ubuntu-latest=-self-hosted",
		"--action-offline-mode",
		"--action-cache-path", filepath.Join(tmp, "act-cache"),
		"--local-repository", "storesign/storesign@v1=" + root,
		"--local-repository", stub(t, stubs, "actions/setup-go@v6", "go-version-file", "cache-dependency-path", "go-version", "cache"),
		"--local-repository", stub(t, stubs, "actions/cache@v4", "path", "key", "restore-keys"),
		"--secret-file", secretFile,
		"--var", "ANDROID_KEY_ALIAS=" + f.secrets["ANDROID_KEY_ALIAS"],
		"--env", "E2E_APK=" + apk,
	}
	for _, kv := range env {
		args = append(args, "--env", kv)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, act, args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "HOME="+tmp, "XDG_CACHE_HOME="+filepath.Join(tmp, "cache"), "GOCACHE="+goEnv(t, "GOCACHE"), "GOMODCACHE="+goEnv(t, "GOMODCACHE"), "GOPROXY=off")
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("act timed out:\n%s", tail(string(out)))
	}
	log := string(out)
	return log, err == nil && strings.Contains(log, "Job succeeded")
}

func TestReleaseNotes(t *testing.T) {
	needTools(t)
	changelog := filepath.Join(t.TempDir(), "CHANGELOG.md")
	if err := os.WriteFile(changelog, []byte(`# Changelog

## [Unreleased]

- next

## [1.2.3] - 2026-12-04

### Fixed

- one

## [1.2.2] - 2026-12-01

- two

[1.2.3]: https://example.com/v1.2.3
`), 0o644); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(repoRoot(t), "scripts", "release-notes.sh")
	for _, tc := range []struct {
		tag  string
		want string // "" fails
	}{
		{"v1.2.3", "### Fixed\n\n- one\n"},
		{"v1.2.2", "- two\n"},
		{"v1.2.4", ""},
		{"Unreleased", "- next\n"},
	} {
		out, err := exec.Command("bash", script, tc.tag, changelog).Output()
		if tc.want == "" {
			if err == nil {
				t.Errorf("%s: notes %q, want a failure", tc.tag, out)
			}
			continue
		}
		if err != nil || string(out) != tc.want {
			t.Errorf("%s: notes %q, %v; want %q", tc.tag, out, err, tc.want)
		}
	}
	// The real CHANGELOG.md has the section the release workflow checks
	// for while there is nothing released yet.
	if out, err := exec.Command("bash", script, "Unreleased").Output(); err != nil || len(out) == 0 {
		t.Errorf("CHANGELOG.md has no Unreleased entries: %v", err)
	}
}

func TestMoveMajorTag(t *testing.T) {
	needTools(t)
	repo, release, _ := tagRepo(t)
	script := filepath.Join(repoRoot(t), "scripts", "move-major-tag.sh")
	for _, tc := range []struct {
		tag, want string
	}{
		{"v1.2.3", "would move v1 of storesign/storesign to v1.2.3 (" + release + ")"},
		{"v1.2.2", "v1.2.3 is newer than v1.2.2: v1 stays on v1.2.3."},
		{"v1.3.0-rc.1", "v1.3.0-rc.1 is a pre-release: the major tag stays where it is."},
	} {
		cmd := exec.Command("bash", script, tc.tag, release, "storesign/storesign")
		cmd.Dir = repo
		cmd.Env = append(scriptEnv(), "STORESIGN_DRY_RUN=1")
		out, err := cmd.CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != tc.want {
			t.Errorf("%s: %q, %v; want %q", tc.tag, out, err, tc.want)
		}
	}
}
