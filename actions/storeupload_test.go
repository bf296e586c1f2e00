package actions

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fakeStoresign is a stand-in for the storesign binary in the store
// steps: it prints its arguments and which credentials it got, then the
// error in $FAKE_ERROR (exit 1) or a result in the form storesign --json
// writes.
const fakeStoresign = `#!/usr/bin/env bash
echo "args: $*" >&2
[ -z "${INPUT_CREDENTIALS:-}" ] || echo "credentials: $INPUT_CREDENTIALS" >&2
if [ -n "${FAKE_ERROR:-}" ]; then
  echo "storesign: $FAKE_ERROR" >&2
  exit 1
fi
case "$1" in
play) printf '{\n  "package": "com.example.game",\n  "versionCode": 231,\n  "track": "beta",\n  "status": "completed",\n  "sha256": "ab",\n  "storeUrl": "https://play.google.com/store/apps/details?id=com.example.game"\n}\n' ;;
*) printf '{\n  "build_id": "b1",\n  "build_upload_id": "u1",\n  "state": "VALID",\n  "final": true,\n  "url": "https://appstoreconnect.apple.com/apps/1/testflight/ios",\n  "bundle_id": "com.example.app",\n  "version": "1.0",\n  "build": "7"\n}\n' ;;
esac
`

// TestStoreUploadScript runs actions/scripts/store-upload.sh, the store
// steps of the release action, with a fake storesign: the release's
// play-* and asc-* inputs reach the upload scripts, and its errors name
// what planner-names says.
func TestStoreUploadScript(t *testing.T) {
	sh := bash(t)
	dir := t.TempDir()
	fake := filepath.Join(dir, "storesign")
	if err := os.WriteFile(fake, []byte(fakeStoresign), 0o755); err != nil {
		t.Fatal(err)
	}
	const names = "play-user-fraction=field rollout\nplay-expect-cert-sha256=variable PLAY_UPLOAD_CERT_SHA256\nplay-track=field track\nasc-key-base64=secret ASC_KEY_BASE64\nasc-issuer-id=variable ASC_ISSUER_ID"
	play := map[string]string{"INPUT_PLAY_TRACK": "beta", "INPUT_PLAY_STATUS": "completed"}
	asc := map[string]string{"INPUT_ASC_KEY_ID": "K1", "INPUT_ASC_ISSUER_ID": "I1", "INPUT_ASC_KEY_BASE64": "S2VZ", "INPUT_ASC_WAIT": "30"}
	with := func(base map[string]string, kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	for _, tc := range []struct {
		name, store string
		env         map[string]string
		ok          bool
		out         []string // in stdout and stderr
		summary     []string
		notOut      []string
	}{
		{name: "play", store: "play", env: with(play, "INPUT_CREDENTIALS_JSON", "drive-key"), ok: true,
			out:     []string{"args: play upload --json --track beta --status completed --credentials env:INPUT_CREDENTIALS -- app.aab", "credentials: drive-key", "Uploaded com.example.game (231) to beta"},
			summary: []string{"### Uploaded to Google Play", "| Link | [https://play.google.com/store/apps/details?id=com.example.game]"}},
		{name: "play own credentials", store: "play", env: with(play, "INPUT_CREDENTIALS_JSON", "drive-key", "INPUT_PLAY_CREDENTIALS", "play-key"), ok: true,
			out: []string{"credentials: play-key"}},
		{name: "play no credentials", store: "play", env: play, ok: true,
			notOut: []string{"--credentials", "credentials:"}},
		{name: "play refused flag", store: "play", env: with(play, "INPUT_PLAY_USER_FRACTION", "2", "FAKE_ERROR", "play upload: --user-fraction \"2\": want a number between 0 and 1; --user-fractions --status"),
			out:     []string{"::error title=Fix the field rollout::play upload: field rollout \"2\": want a number between 0 and 1; --user-fractions input play-status"},
			summary: []string{"### Google Play upload failed", "app.aab: play upload: field rollout \"2\""}},
		{name: "play refused", store: "play", env: with(play, "FAKE_ERROR", "version code 231 was already used"),
			out: []string{"::error title=Google Play upload failed::version code 231 was already used"}},
		{name: "play wrong signer", store: "play", env: with(play, "FAKE_ERROR", "the build is signed by the certificate with SHA-256 ab, not cd: re-sign it, or correct the expected fingerprint"),
			out: []string{"::error title=Google Play upload failed::the build is signed by the certificate with SHA-256 ab, not cd: re-sign it, or correct the expected fingerprint (variable PLAY_UPLOAD_CERT_SHA256)"}},
		{name: "play no track", store: "play", env: with(play, "INPUT_PLAY_TRACK", " "),
			out:     []string{"::error title=Fix the field track::field track (input play-track) is empty"},
			summary: []string{"### Fix the field track"}},
		{name: "play bad review flag", store: "play", env: with(play, "INPUT_PLAY_CHANGES_NOT_SENT_FOR_REVIEW", "maybe"),
			out: []string{"::error title=Fix the play-changes-not-sent-for-review input::input play-changes-not-sent-for-review is \"maybe\": use true or false"}},
		{name: "appstore", store: "appstore", env: asc, ok: true,
			out:     []string{"args: appstore upload --json --api-key env:INPUT_ASC_KEY_BASE64 --api-key-id K1 --api-issuer I1 --wait 30m --progress -- app.aab"},
			summary: []string{"### Uploaded to App Store Connect", "| State | VALID |"}},
		{name: "appstore key missing", store: "appstore", env: with(asc, "INPUT_ASC_KEY_BASE64", ""),
			out: []string{"::error title=Fix the secret ASC_KEY_BASE64::secret ASC_KEY_BASE64 (input asc-key-base64) is empty: the App Store Connect upload needs asc-key-id, variable ASC_ISSUER_ID and secret ASC_KEY_BASE64"}},
		{name: "appstore refused flag", store: "appstore", env: with(asc, "FAKE_ERROR", "reading --api-key: not a key; see --api-key-id"),
			out: []string{"::error title=Fix the secret ASC_KEY_BASE64::reading secret ASC_KEY_BASE64: not a key; see input asc-key-id"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmp := t.TempDir()
			summary := filepath.Join(tmp, "summary.md")
			cmd := exec.Command(sh, filepath.Join(repoRoot(t), "actions", "scripts", "store-upload.sh"), tc.store)
			cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "STORESIGN=" + fake, "STORESIGN_SRC=" + repoRoot(t),
				"RUNNER_TEMP=" + tmp, "GITHUB_STEP_SUMMARY=" + summary, "GITHUB_OUTPUT=" + filepath.Join(tmp, "output"),
				"INPUT_FILE=app.aab", "INPUT_PLANNER_NAMES=" + names}
			for k, v := range tc.env {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
			out, err := cmd.CombinedOutput()
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok %v\n%s", err, tc.ok, out)
			}
			for _, w := range tc.out {
				if !strings.Contains(string(out), w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tc.notOut {
				if strings.Contains(string(out), w) {
					t.Errorf("output has %q:\n%s", w, out)
				}
			}
			sum, _ := os.ReadFile(summary)
			for _, w := range tc.summary {
				if !strings.Contains(string(sum), w) {
					t.Errorf("summary lacks %q:\n%s", w, sum)
				}
			}
			// The upload script's files are gone with the step.
			if left, _ := filepath.Glob(filepath.Join(tmp, "storesign-*")); len(left) != 0 {
				t.Errorf("left %v", left)
			}
		})
	}
}
