package actions

import (
	"bytes"
	"context"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/storesign/storesign/signing"
	"github.com/storesign/storesign/signing/aab"
	"github.com/storesign/storesign/signing/signingtest"
	"github.com/storesign/storesign/store/appstore"
	"github.com/storesign/storesign/store/appstore/asctest"
	"github.com/storesign/storesign/store/play/playtest"
)

// storeRun runs a store step over env in a runner-like temp folder and
// returns its log, outputs and step summary.
func storeRun(t *testing.T, env map[string]string, step func(context.Context, *Action) error) (log string, outputs map[string]string, summary string, err error) {
	t.Helper()
	tmp := t.TempDir()
	e := map[string]string{
		"RUNNER_TEMP":         tmp,
		"GITHUB_OUTPUT":       filepath.Join(tmp, "output"),
		"GITHUB_STEP_SUMMARY": filepath.Join(tmp, "summary.md"),
	}
	for k, v := range env {
		e[k] = v
	}
	var buf bytes.Buffer
	a := New(Options{Stdout: &buf, Getenv: func(k string) string { return e[k] }})
	err = step(context.Background(), a)
	outputs = map[string]string{}
	if data, _ := os.ReadFile(e["GITHUB_OUTPUT"]); len(data) > 0 {
		outputs = readOutputs(t, string(data))
	}
	md, _ := os.ReadFile(e["GITHUB_STEP_SUMMARY"])
	// The step leaves nothing in the runner's temp folder.
	if ents, _ := os.ReadDir(tmp); len(ents) > 2 {
		var names []string
		for _, x := range ents {
			names = append(names, x.Name())
		}
		t.Errorf("the step left %v in RUNNER_TEMP", names)
	}
	return buf.String(), outputs, string(md), err
}

// noSecretsIn fails when a secret shows in the text, but on the
// ::add-mask:: lines that hide it.
func noSecretsIn(t *testing.T, text string, secrets map[string]string) {
	t.Helper()
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "::add-mask::") {
			continue
		}
		for name, v := range secrets {
			if v != "" && strings.Contains(line, v) {
				t.Errorf("the output shows %s: %s", name, line)
			}
		}
	}
}

// serviceAccountKey is a service account key file whose token_uri is
// tokenURL, and a line of its private key.
func serviceAccountKey(t *testing.T, name, tokenURL string) (data []byte, keyLine string) {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(signingtest.RSAKey(name, 2048))
	if err != nil {
		t.Fatal(err)
	}
	keyPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	data, err = json.Marshal(map[string]string{
		"type": "service_account", "project_id": "storesign-test", "private_key_id": name,
		"private_key": keyPEM, "client_email": name + "@storesign-test.iam.gserviceaccount.com",
		"client_id": "1", "token_uri": tokenURL,
	})
	if err != nil {
		t.Fatal(err)
	}
	return data, strings.Split(keyPEM, "\n")[3]
}

// tokenServer grants playToken to every JWT grant, or refuses them all,
// and counts the grants.
func tokenServer(t *testing.T, refuse bool) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		n.Add(1)
		w.Header().Set("Content-Type", "application/json")
		if refuse {
			w.WriteHeader(400)
			io.WriteString(w, `{"error":"invalid_grant","error_description":"Invalid JWT Signature."}`)
			return
		}
		io.WriteString(w, `{"access_token":"`+playToken+`","token_type":"Bearer","expires_in":3600}`)
	}))
	t.Cleanup(hs.Close)
	return hs, &n
}

// playToken is the access token the fake Google Play takes.
const playToken = "ya29.store-step-token"

// TestPlayUpload runs the Google Play step of the release and of the
// play-upload action against a fake Google Play: the outputs, the
// summary and the release on the track; refusals and bad inputs as
// annotations naming the planner's field or secret; the credentials of
// play-credentials, else credentials-json, else the environment; and no
// secret in the log, the summary or the outputs.
func TestPlayUpload(t *testing.T) {
	const pkg = "com.example.game"
	dir := t.TempDir()
	upload := signingtest.SelfSigned("store-upload-key", signingtest.RSAKey("store-upload-key", 2048))
	unsigned := signingtest.Bundle(signingtest.APKOptions{Package: pkg, VersionName: "2.3.1", VersionCode: 231})
	aabPath := filepath.Join(dir, "game.aab")
	var signed bytes.Buffer
	if _, err := aab.Sign(context.Background(), bytes.NewReader(unsigned), int64(len(unsigned)), &signed, aab.Options{Identity: upload}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(aabPath, signed.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	ipaPath := filepath.Join(dir, "app.ipa")
	if err := os.WriteFile(ipaPath, signingtest.IPA(signingtest.IPAOptions{}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "notes"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notes", "en-US.txt"), []byte("Faster loading.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "mapping.txt"), []byte("com.example.Game -> a:\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	certSHA := signing.CertificateSHA256(upload.Certificate)

	driveTokens, driveGrants := tokenServer(t, false)
	playTokens, playGrants := tokenServer(t, false)
	badTokens, _ := tokenServer(t, true)
	driveKey, driveKeyLine := serviceAccountKey(t, "drive-releaser", driveTokens.URL)
	playKey, playKeyLine := serviceAccountKey(t, "play-releaser", playTokens.URL)
	refusedKey, _ := serviceAccountKey(t, "refused-releaser", badTokens.URL)
	playKey64 := base64.StdEncoding.EncodeToString(playKey)
	secrets := map[string]string{
		"credentials-json": string(driveKey), "drive key line": driveKeyLine,
		"play-credentials": playKey64, "play key": string(playKey), "play key line": playKeyLine,
		"token": playToken,
	}

	const names = "play-track=field track\nplay-status=field rollout\nplay-user-fraction=field rollout\nplay-expect-cert-sha256=variable PLAY_UPLOAD_CERT_SHA256\nplay-credentials=secret PLAY_KEY\ncredentials-json=secret DRIVE_KEY"
	release := map[string]string{
		"STORESIGN_ACTION": "release", "INPUT_PLANNER_NAMES": names, "INPUT_PATH": aabPath,
		"STORESIGN_PLAY_TOKEN": playToken,
		"INPUT_PLAY_TRACK":     "beta", "INPUT_PLAY_STATUS": "completed", "INPUT_PLAY_CHANGES_NOT_SENT_FOR_REVIEW": "false",
	}
	standalone := map[string]string{
		"STORESIGN_ACTION": "play-upload", "GITHUB_WORKSPACE": dir, "INPUT_FILE": "game.aab",
		"STORESIGN_PLAY_TOKEN": playToken, "INPUT_TRACK": "internal", "INPUT_STATUS": "completed",
	}
	with := func(base map[string]string, kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "<unset>" {
				delete(m, kv[i])
				continue
			}
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	for _, tc := range []struct {
		name    string
		env     map[string]string
		setup   func(*playtest.Server)
		ok      bool
		outputs map[string]string
		log     []string // in the log
		summary []string
		check   func(*testing.T, *playtest.Server)
	}{
		{
			name: "release staged",
			env:  with(release, "INPUT_PLAY_STATUS", "inProgress", "INPUT_PLAY_USER_FRACTION", "0.25", "INPUT_PLAY_EXPECT_CERT_SHA256", colonHex(certSHA)),
			ok:   true,
			outputs: map[string]string{"package-name": pkg, "version-code": "231", "track": "beta", "status": "inProgress",
				"link": "https://play.google.com/store/apps/details?id=com.example.game"},
			log: []string{"Uploaded com.example.game (231) to beta: inProgress to 25% of users"},
			summary: []string{"### Uploaded to Google Play\n\n| | |\n|---|---|\n| App | `com.example.game` 2.3.1 (231) |\n| Track | beta |\n| Status | inProgress to 25% of users |\n",
				"| Link | [https://play.google.com/store/apps/details?id=com.example.game](https://play.google.com/store/apps/details?id=com.example.game) |"},
			check: func(t *testing.T, s *playtest.Server) {
				tr, ok := s.Track(pkg, "beta")
				if !ok || len(tr.Releases) != 1 || tr.Releases[0].Status != "inProgress" || tr.Releases[0].UserFraction != 0.25 || tr.Releases[0].VersionCodes[0] != 231 {
					t.Errorf("beta track = %+v, %v; want 231 in progress to 0.25", tr, ok)
				}
			},
		},
		{
			name: "play-upload action",
			env: with(standalone, "INPUT_PACKAGE_NAME", pkg, "INPUT_RELEASE_NAME", "2.3.1 RC", "INPUT_RELEASE_NOTES_DIR", "notes",
				"INPUT_MAPPING", "mapping.txt", "INPUT_EXPECT_CERT_SHA256", certSHA),
			ok:      true,
			outputs: map[string]string{"package-name": pkg, "version-code": "231", "track": "internal", "status": "completed"},
			summary: []string{"| Status | completed |", "| Release | 2.3.1 RC |", "| SHA-256 | `"},
			check: func(t *testing.T, s *playtest.Server) {
				tr, _ := s.Track(pkg, "internal")
				if len(tr.Releases) != 1 || tr.Releases[0].Name != "2.3.1 RC" || tr.Releases[0].Notes["en-US"] != "Faster loading." {
					t.Errorf("internal track = %+v, want the release name and notes", tr)
				}
				kinds := ""
				for _, u := range s.Uploads(pkg) {
					kinds += u.Kind + " "
				}
				if kinds != "bundle proguard " {
					t.Errorf("uploads: %s, want the bundle and its mapping", kinds)
				}
			},
		},
		{
			name: "version code used",
			env:  release,
			setup: func(s *playtest.Server) {
				s.AddRelease(pkg, "production", playtest.Release{Status: "completed", VersionCodes: []int64{231}})
			},
			log: []string{"::error title=Uploading to Google Play failed::uploading game.aab: version code 231 of com.example.game is already used by a release on track production",
				"rebuild with versionCode raised"},
			summary: []string{"### Uploading to Google Play failed\n\nuploading game.aab: version code 231"},
			check: func(t *testing.T, s *playtest.Server) {
				if n := len(s.Commits(pkg)); n != 0 {
					t.Errorf("%d commits after a refusal", n)
				}
			},
		},
		{
			name: "wrong signer",
			env:  with(release, "INPUT_PLAY_EXPECT_CERT_SHA256", strings.Repeat("AB:", 31)+"AB"),
			log:  []string{"::error title=Uploading to Google Play failed::uploading game.aab: the build is signed by the certificate with SHA-256 " + certSHA + ", not abab", "or correct the expected fingerprint (variable PLAY_UPLOAD_CERT_SHA256)"},
		},
		{
			name:    "no track",
			env:     with(release, "INPUT_PLAY_TRACK", " "),
			log:     []string{"::error title=Fix the field track::field track (input play-track) is empty: set the track"},
			summary: []string{"### Fix the field track\n\nfield track (input play-track) is empty"},
		},
		{
			name: "rollout past every user",
			env:  with(release, "INPUT_PLAY_STATUS", "inProgress", "INPUT_PLAY_USER_FRACTION", "2"),
			log:  []string{"::error title=Fix the field rollout::field rollout (input play-user-fraction) is \"2\": give the share of users as a number between 0 and 1"},
		},
		{
			name: "staged without a share",
			env:  with(release, "INPUT_PLAY_STATUS", "inProgress"),
			log:  []string{"::error title=Fix the field rollout::field rollout (input play-user-fraction) is empty, but the release's status is inProgress (a staged rollout)"},
		},
		{
			name: "bad status",
			env:  with(standalone, "INPUT_STATUS", "staged"),
			log:  []string{"::error title=Fix the status input::input status is \"staged\": use completed, inProgress (a staged rollout, with user-fraction)"},
		},
		{
			name: "bad review flag",
			env:  with(release, "INPUT_PLAY_CHANGES_NOT_SENT_FOR_REVIEW", "maybe"),
			log:  []string{"::error title=Fix the play-changes-not-sent-for-review input::input play-changes-not-sent-for-review is \"maybe\": use true or false"},
		},
		{
			name: "bad fingerprint",
			env:  with(release, "INPUT_PLAY_EXPECT_CERT_SHA256", "AB:CD"),
			log:  []string{"::error title=Fix the variable PLAY_UPLOAD_CERT_SHA256::variable PLAY_UPLOAD_CERT_SHA256 (input play-expect-cert-sha256) is \"AB:CD\": give the upload certificate's SHA-256"},
		},
		{
			name: "no such track",
			env:  with(release, "INPUT_PLAY_TRACK", "qa-team"),
			log:  []string{"::error title=Fix the field track::field track (input play-track) is \"qa-team\": com.example.game has no track \"qa-team\""},
		},
		{
			name:  "draft app",
			env:   release,
			setup: func(s *playtest.Server) { s.SetDraft(pkg, true) },
			log:   []string{"::error title=Fix the field rollout::field rollout (input play-status) is completed: Google Play: ", "upload with status draft"},
		},
		{
			name:  "draft app, status left empty",
			env:   with(release, "INPUT_PLAY_STATUS", ""),
			setup: func(s *playtest.Server) { s.SetDraft(pkg, true) },
			log:   []string{"::error title=Fix the field rollout::field rollout (input play-status) is completed: Google Play: "},
		},
		{
			name: "no release notes",
			env:  with(standalone, "INPUT_RELEASE_NOTES_DIR", "no-notes"),
			log:  []string{"::error title=Fix the release-notes-dir input::input release-notes-dir cannot be read: "},
		},
		{
			name: "no file",
			env:  with(standalone, "INPUT_FILE", ""),
			log:  []string{"::error title=Fix the file input::input file is empty: give the .aab or .apk to upload"},
		},
		{
			name: "an iOS app",
			env:  with(standalone, "INPUT_FILE", "app.ipa"),
			log:  []string{"::error title=Fix the file input::input file names app.ipa, which is an iOS app, not an Android build"},
		},
		{
			name: "no signed build in the release",
			env:  with(release, "INPUT_PATH", ""),
			log:  []string{"::error title=Uploading to Google Play failed::the re-sign step left no signed build to upload"},
		},
		{
			name:  "credentials-json",
			env:   with(release, "STORESIGN_PLAY_TOKEN", "<unset>", "INPUT_CREDENTIALS_JSON", string(driveKey)),
			ok:    true,
			check: grants(driveGrants, 1, playGrants, 0),
		},
		{
			name:  "play-credentials first",
			env:   with(release, "STORESIGN_PLAY_TOKEN", "<unset>", "INPUT_CREDENTIALS_JSON", string(driveKey), "INPUT_PLAY_CREDENTIALS", playKey64),
			ok:    true,
			check: grants(driveGrants, 0, playGrants, 1),
		},
		{
			name: "credentials not JSON",
			env:  with(release, "STORESIGN_PLAY_TOKEN", "<unset>", "INPUT_PLAY_CREDENTIALS", "bm90IGpzb24K"),
			log:  []string{"::error title=Fix the secret PLAY_KEY::secret PLAY_KEY (input play-credentials) is not a Google credentials file"},
		},
		{
			name: "credentials refused",
			env:  with(release, "STORESIGN_PLAY_TOKEN", "<unset>", "INPUT_CREDENTIALS_JSON", string(refusedKey)),
			log:  []string{"::error title=Fix the secret DRIVE_KEY::secret DRIVE_KEY (input credentials-json) was refused: getting an access token for refused-releaser@", "Invalid JWT Signature"},
		},
		{
			name: "unknown action",
			env:  with(release, "STORESIGN_ACTION", "resign-ipa"),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, err := playtest.New(playtest.Options{Dir: t.TempDir(), Token: playToken})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { srv.Close() })
			srv.AddApp(pkg, playtest.App{})
			if tc.setup != nil {
				tc.setup(srv)
			}
			hs := httptest.NewServer(srv)
			t.Cleanup(hs.Close)
			driveGrants.Store(0)
			playGrants.Store(0)
			env := with(tc.env, "STORESIGN_PLAY_ENDPOINT", hs.URL)
			log, outputs, summary, err := storeRun(t, env, PlayUpload)
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok %v\n%s", err, tc.ok, log)
			}
			if tc.name == "unknown action" && (err == nil || !strings.Contains(err.Error(), "unknown STORESIGN_ACTION")) {
				t.Errorf("err = %v, want an unknown action", err)
			}
			for k, v := range tc.outputs {
				if outputs[k] != v {
					t.Errorf("output %s = %q, want %q", k, outputs[k], v)
				}
			}
			if tc.ok && (len(outputs["sha256"]) != 64 || len(outputs) != 6) {
				t.Errorf("outputs = %v, want six with the SHA-256", outputs)
			}
			for _, w := range tc.log {
				if !strings.Contains(log, w) {
					t.Errorf("the log lacks %q:\n%s", w, log)
				}
			}
			for _, w := range tc.summary {
				if !strings.Contains(summary, w) {
					t.Errorf("the summary lacks %q:\n%s", w, summary)
				}
			}
			if !tc.ok && tc.name != "unknown action" && !strings.Contains(summary, "### ") {
				t.Errorf("no failure in the summary:\n%s", summary)
			}
			if tc.check != nil {
				tc.check(t, srv)
			}
			var outs []string
			for k, v := range outputs {
				outs = append(outs, k+"="+v)
			}
			noSecretsIn(t, log+"\n"+summary+"\n"+strings.Join(outs, "\n"), secrets)
		})
	}
}

// grants checks that the token servers of the Drive and Play keys
// granted drive and play tokens.
func grants(driveGot *atomic.Int32, drive int32, playGot *atomic.Int32, play int32) func(*testing.T, *playtest.Server) {
	return func(t *testing.T, _ *playtest.Server) {
		t.Helper()
		if driveGot.Load() != drive || playGot.Load() != play {
			t.Errorf("token grants: %d of the Drive key, %d of the Play key; want %d and %d", driveGot.Load(), playGot.Load(), drive, play)
		}
	}
}

// colonHex writes a hex fingerprint as Play Console shows it: AB:CD:...
func colonHex(h string) string {
	var parts []string
	for i := 0; i+1 < len(h); i += 2 {
		parts = append(parts, strings.ToUpper(h[i:i+2]))
	}
	return strings.Join(parts, ":")
}

// TestAppStoreUpload runs the App Store Connect step of the release and
// of the appstore-upload action against a fake App Store Connect: the
// outputs and summary of a processed build, and of one not waited for;
// refusals and bad inputs as annotations in the planner's words; the key
// (base64 or PEM) never in the log, the summary or the outputs.
func TestAppStoreUpload(t *testing.T) {
	const keyID, issuer = "STEPKEY123", "6b7c1a2e-0000-4000-8000-000000000001"
	dir := t.TempDir()
	priv := signingtest.ECKey("store step asc key", elliptic.P256())
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	key64 := base64.StdEncoding.EncodeToString([]byte(keyPEM))
	key, err := appstore.NewKey(priv, keyID, issuer)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := appstore.NewKey(signingtest.ECKey("store step other key", elliptic.P256()), keyID, issuer)
	secrets := map[string]string{"asc-key-base64": key64, "key line": strings.Split(keyPEM, "\n")[1], "key DER base64": base64.StdEncoding.EncodeToString(der)}

	ipaData, err := asctest.IPA(asctest.IPAOptions{Version: "2.0", Build: "7"})
	if err != nil {
		t.Fatal(err)
	}
	ipaPath := filepath.Join(dir, "Store-2.0.ipa")
	if err := os.WriteFile(ipaPath, ipaData, 0o644); err != nil {
		t.Fatal(err)
	}
	aabPath := filepath.Join(dir, "game.aab")
	if err := os.WriteFile(aabPath, signingtest.Bundle(signingtest.APKOptions{Package: "com.example.game", VersionCode: 1}), 0o644); err != nil {
		t.Fatal(err)
	}

	const names = "asc-key-id=variable ASC_KEY_ID\nasc-issuer-id=variable ASC_ISSUER_ID\nasc-key-base64=secret ASC_KEY_BASE64\nasc-wait=field wait"
	release := map[string]string{
		"STORESIGN_ACTION": "release", "INPUT_PLANNER_NAMES": names, "INPUT_PATH": ipaPath,
		"INPUT_ASC_KEY_ID": keyID, "INPUT_ASC_ISSUER_ID": issuer, "INPUT_ASC_KEY_BASE64": key64, "INPUT_ASC_WAIT": "30",
	}
	standalone := map[string]string{
		"STORESIGN_ACTION": "appstore-upload", "GITHUB_WORKSPACE": dir, "INPUT_FILE": "Store-2.0.ipa",
		"INPUT_ASC_KEY_ID": keyID, "INPUT_ASC_ISSUER_ID": issuer, "INPUT_ASC_KEY_BASE64": keyPEM, "INPUT_WAIT": "0",
	}
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
		name    string
		env     map[string]string
		role    string
		polls   int // asctest.Options.ProcessingPolls
		setup   func(s *asctest.Server, appID string)
		ok      bool
		log     []string
		summary []string
		check   func(t *testing.T, s *asctest.Server, appID string, outputs map[string]string, summary string)
	}{
		{
			name: "release waits",
			env:  release,
			ok:   true,
			log:  []string{"Uploaded com.example.app 2.0 (7): VALID"},
			summary: []string{"### Uploaded to App Store Connect\n\n| | |\n|---|---|\n| App | `com.example.app` 2.0 (7) |\n",
				"| State | VALID |"},
			check: func(t *testing.T, s *asctest.Server, appID string, o map[string]string, summary string) {
				ups := s.Uploads()
				if len(ups) != 1 || ups[0].BuildID == "" || o["build-id"] != ups[0].BuildID || o["build-upload-id"] != ups[0].ID || o["state"] != "VALID" {
					t.Errorf("outputs %v, uploads %+v", o, ups)
				}
				link := "https://appstoreconnect.apple.com/apps/" + appID + "/testflight/ios/" + o["build-id"]
				if o["link"] != link || !strings.Contains(summary, "| Build | `"+o["build-id"]+"` |") || !strings.Contains(summary, "| Link | ["+link+"]("+link+") |") {
					t.Errorf("link output %q, summary:\n%s", o["link"], summary)
				}
			},
		},
		{
			name:    "appstore-upload action, no wait, PEM key",
			env:     standalone,
			polls:   1,
			ok:      true,
			log:     []string{"(App Store Connect is still processing it: it shows in TestFlight when done)"},
			summary: []string{"| Build | `not yet` |"},
			check: func(t *testing.T, s *asctest.Server, appID string, o map[string]string, summary string) {
				if len(o) != 4 || o["build-upload-id"] == "" || o["build-id"] != "" || o["state"] == "VALID" {
					t.Errorf("outputs %v, want an upload not processed yet", o)
				}
			},
		},
		{
			name:    "key missing",
			env:     with(release, "INPUT_ASC_KEY_BASE64", ""),
			log:     []string{"::error title=Fix the secret ASC_KEY_BASE64::secret ASC_KEY_BASE64 (input asc-key-base64) is empty: the App Store Connect upload needs variable ASC_KEY_ID, variable ASC_ISSUER_ID and secret ASC_KEY_BASE64"},
			summary: []string{"### Fix the secret ASC\\_KEY\\_BASE64"},
		},
		{
			name: "issuer missing, no planner names",
			env:  with(standalone, "INPUT_ASC_ISSUER_ID", ""),
			log:  []string{"::error title=Fix the asc-issuer-id input::input asc-issuer-id is empty"},
		},
		{
			name: "not a key",
			env:  with(release, "INPUT_ASC_KEY_BASE64", base64.StdEncoding.EncodeToString([]byte("not a key at all"))),
			log:  []string{"::error title=Fix the secret ASC_KEY_BASE64::secret ASC_KEY_BASE64 (input asc-key-base64) is not an App Store Connect API key"},
		},
		{
			name: "bad wait",
			env:  with(release, "INPUT_ASC_WAIT", "soon"),
			log:  []string{"::error title=Fix the field wait::field wait (input asc-wait) is \"soon\": give a duration such as 30m"},
		},
		{
			name:  "key refused",
			env:   release,
			setup: func(s *asctest.Server, _ string) { s.AddKey(other, asctest.RoleAppManager) },
			role:  "none",
			log:   []string{"::error title=Fix the variable ASC_KEY_ID and variable ASC_ISSUER_ID::variable ASC_KEY_ID and variable ASC_ISSUER_ID (input asc-key-id and asc-issuer-id) were refused with the key of secret ASC_KEY_BASE64"},
		},
		{
			name: "role may not upload",
			env:  release,
			role: asctest.RoleSales,
			log:  []string{"::error title=Fix the secret ASC_KEY_BASE64::secret ASC_KEY_BASE64 (input asc-key-base64) holds a key whose role may not upload builds"},
		},
		{
			name:    "build used",
			env:     with(release, "INPUT_PLANNER_NAMES", names+"\nbundle-version=field build-number"),
			setup:   func(s *asctest.Server, appID string) { s.AddBuild(appID, "2.0", "7") },
			log:     []string{"::error title=Fix the field build-number::field build-number (input bundle-version) must be raised: build 7 of version 2.0 of com.example.app was already uploaded to App Store Connect: give a higher build number and run again"},
			summary: []string{"### Fix the field build-number"},
		},
		{
			name:    "build used, appstore-upload action",
			env:     standalone,
			setup:   func(s *asctest.Server, appID string) { s.AddBuild(appID, "2.0", "7") },
			log:     []string{"::error title=Uploading to App Store Connect failed::uploading Store-2.0.ipa: build 7 of version 2.0 of com.example.app was already uploaded to App Store Connect: re-sign the IPA with a higher build number (the bundle-version input of resign-ipa)"},
			summary: []string{"### Uploading to App Store Connect failed"},
		},
		{
			name: "an Android build",
			env:  with(standalone, "INPUT_FILE", "game.aab"),
			log:  []string{"::error title=Fix the file input::input file names game.aab, which is Android (App Bundle), not an iOS app"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := asctest.New(asctest.Options{ProcessingPolls: tc.polls})
			switch tc.role {
			case "":
				s.AddKey(key, asctest.RoleAppManager)
			case "none":
			default:
				s.AddKey(key, tc.role)
			}
			appID := s.AddApp("com.example.app", "Example")
			if tc.setup != nil {
				tc.setup(s, appID)
			}
			hs := httptest.NewServer(s)
			t.Cleanup(hs.Close)
			log, outputs, summary, err := storeRun(t, with(tc.env, "STORESIGN_ASC_ENDPOINT", hs.URL), AppStoreUpload)
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok %v\n%s", err, tc.ok, log)
			}
			for _, w := range tc.log {
				if !strings.Contains(log, w) {
					t.Errorf("the log lacks %q:\n%s", w, log)
				}
			}
			for _, w := range tc.summary {
				if !strings.Contains(summary, w) {
					t.Errorf("the summary lacks %q:\n%s", w, summary)
				}
			}
			if tc.check != nil {
				tc.check(t, s, appID, outputs, summary)
			}
			var outs []string
			for k, v := range outputs {
				outs = append(outs, k+"="+v)
			}
			noSecretsIn(t, log+"\n"+summary+"\n"+strings.Join(outs, "\n"), secrets)
			if !tc.ok && len(s.Uploads()) != 0 {
				t.Errorf("an upload was made: %+v", s.Uploads())
			}
		})
	}
}

// FuzzWaitInput: a wait input never panics, and what it takes is a
// duration of zero or more.
func FuzzWaitInput(f *testing.F) {
	for _, s := range []string{"", "0", "30", "30m", "1h30m", "-5m", "soon", "99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := waitInput(s)
		if err == nil && d < 0 {
			t.Errorf("waitInput(%q) = %v", s, d)
		}
	})
}
