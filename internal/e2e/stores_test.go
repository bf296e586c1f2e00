package e2e

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/storesign/storesign/signing"
	"github.com/storesign/storesign/signing/signingtest"
	"github.com/storesign/storesign/store/appstore"
	"github.com/storesign/storesign/store/appstore/asctest"
	"github.com/storesign/storesign/store/play/playtest"
)

// The App Store Connect API key's IDs: no secrets.
const (
	ascKeyID  = "E2EKEY1234"
	ascIssuer = "6b7c1a2e-0000-4000-8000-e2e000000001"
)

// serve serves h on a loopback port for the test's lifetime and returns
// its root URL: act's self-hosted runner reaches it.
func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	return "http://" + ln.Addr().String()
}

// stores is a fixture with a fake Google Play and a fake App Store
// Connect behind it, and the workflow's store variables and secret.
type stores struct {
	*fixture
	play  *playtest.Server
	asc   *asctest.Server
	appID string // the iOS app's ID in App Store Connect
}

func newStores(t *testing.T) *stores {
	t.Helper()
	f := newFixture(t)
	s := &stores{fixture: f, asc: asctest.New(asctest.Options{ProcessingPolls: 1})}
	var err error
	if s.play, err = playtest.New(playtest.Options{Dir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.play.Close() })
	s.play.AddApp("com.example.game", playtest.App{})

	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	key, err := appstore.NewKey(priv, ascKeyID, ascIssuer)
	if err != nil {
		t.Fatal(err)
	}
	s.asc.AddKey(key, asctest.RoleAppManager)
	s.appID = s.asc.AddApp("com.example.app", "Example")
	f.secrets["ASC_KEY_BASE64"] = base64.StdEncoding.EncodeToString(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))

	// An App Store build: one that passes the upload's pre-flight checks.
	sample, err := asctest.IPA(asctest.IPAOptions{Version: "2.0", Build: "7"})
	if err != nil {
		t.Fatal(err)
	}
	df, err := f.srv.AddFile(f.deliveries, "Store-2.0.ipa", bytes.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	f.ids["Store-2.0.ipa"] = df.ID

	// The upload key of the fixture's keystore, as Play Console shows it.
	upload := signingtest.SelfSigned("e2e-upload-key", signingtest.RSAKey("e2e-upload-key", 2048))
	f.actArgs = append(f.actArgs,
		"--var", "PLAY_UPLOAD_CERT_SHA256="+colons(signing.CertificateSHA256(upload.Certificate)),
		"--var", "ASC_KEY_ID="+ascKeyID,
		"--var", "ASC_ISSUER_ID="+ascIssuer,
		"--env", "STORESIGN_PLAY_ENDPOINT="+serve(t, s.play),
		"--env", "STORESIGN_ASC_ENDPOINT="+serve(t, s.asc),
	)
	return s
}

// colons writes a hex fingerprint as Play Console does: AB:CD:...
func colons(hex string) string {
	var b strings.Builder
	for i := 0; i+1 < len(hex); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(strings.ToUpper(hex[i : i+2]))
	}
	return b.String()
}

// link is a Drive sharing link of a delivery.
func (s *stores) link(build string) string {
	return "https://drive.google.com/file/d/" + s.ids[build] + "/view?usp=sharing"
}

// TestStores runs examples/workflows/release-to-stores.yml: an app
// bundle goes Drive -> re-sign -> verify -> Drive -> a staged rollout on
// Google Play's beta track, an IPA goes the same way to App Store Connect
// and waits for its processing.
func TestStores(t *testing.T) {
	findAct(t)
	s := newStores(t)
	const workflow = "examples/workflows/release-to-stores.yml"

	t.Run("play", func(t *testing.T) {
		log, ok := s.act(t, workflow, map[string]string{"build": s.link("game-2.3.1.aab"), "track": "beta", "rollout": "0.25"})
		if !ok {
			t.Fatalf("the release failed:\n%s", tail(log))
		}
		s.noSecrets(t, log)
		if s.signedFrom("game-2.3.1.aab") == nil {
			t.Errorf("the signed bundle is not in the signed Drive folder")
		}
		tr, found := s.play.Track("com.example.game", "beta")
		if !found || len(tr.Releases) != 1 {
			t.Fatalf("beta track = %+v, %v; want one release", tr, found)
		}
		r := tr.Releases[0]
		if r.Status != "inProgress" || r.UserFraction != 0.25 || len(r.VersionCodes) != 1 || r.VersionCodes[0] != 231 {
			t.Errorf("beta release = %+v, want inProgress to 0.25 of users, version code 231", r)
		}
		ups := s.play.Uploads("com.example.game")
		if len(ups) != 1 || ups[0].Kind != "bundle" {
			t.Fatalf("Play received %+v, want one bundle", ups)
		}
		signed := s.signedFrom("game-2.3.1.aab")
		if signed != nil && ups[0].SHA256 != signed.SHA256 {
			t.Errorf("Play received a bundle of SHA-256 %s, Drive the signed one of %s", ups[0].SHA256, signed.SHA256)
		}
		if len(s.asc.Uploads()) != 0 {
			t.Errorf("an Android build went to App Store Connect")
		}
		for _, want := range []string{
			"### Uploaded to Google Play",
			"| Track | beta |",
			"| Status | inProgress to 25% of users |",
			"| Link | [https://play.google.com/store/apps/details?id=com.example.game]",
			"version-code=231", // the store step's outputs, as act logs them
			// The release's store-link output, in the workflow's last step.
			"store https://play.google.com/store/apps/details?id=com.example.game",
			"| Verification | passed", // the release's own summary is still there
		} {
			if !strings.Contains(log, want) {
				t.Errorf("the log lacks %q", want)
			}
		}
	})

	t.Run("appstore", func(t *testing.T) {
		log, ok := s.act(t, workflow, map[string]string{"build": s.link("Store-2.0.ipa")})
		if !ok {
			t.Fatalf("the release failed:\n%s", tail(log))
		}
		s.noSecrets(t, log)
		ups := s.asc.Uploads()
		if len(ups) != 1 {
			t.Fatalf("App Store Connect received %d uploads, want 1", len(ups))
		}
		u := ups[0]
		if u.AppID != s.appID || u.Version != "2.0" || u.Build != "7" || u.State != "COMPLETE" || u.BuildID == "" {
			t.Errorf("upload = %+v, want 2.0 (7) of app %s, COMPLETE with a build", u, s.appID)
		}
		if len(s.play.Commits("com.example.game")) != 1 {
			t.Errorf("an iOS release committed to Google Play")
		}
		for _, want := range []string{
			"### Uploaded to App Store Connect",
			"| App | `com.example.app` 2.0 (7) |",
			"| Build | `" + u.BuildID + "` |",
			"| State | VALID |",
			"build-id=" + u.BuildID,
			"store https://appstoreconnect.apple.com/apps/" + s.appID + "/testflight/ios",
		} {
			if !strings.Contains(log, want) {
				t.Errorf("the log lacks %q", want)
			}
		}
	})

	// A rollout past every user: the release fails before Play is asked,
	// and the annotation names the workflow's field.
	t.Run("bad-rollout", func(t *testing.T) {
		log, ok := s.act(t, workflow, map[string]string{"build": s.link("game-2.3.1.aab"), "track": "beta", "rollout": "2"})
		if ok {
			t.Fatalf("a rollout to 200%% of users succeeded:\n%s", tail(log))
		}
		s.noSecrets(t, log)
		if want := "::error title=Fix the field rollout::"; !strings.Contains(log, want) {
			t.Errorf("no annotation %q:\n%s", want, tail(log))
		}
		if !strings.Contains(log, "Removed the decoded secrets") {
			t.Errorf("the cleanup step did not run after the failure")
		}
		if n := len(s.play.Commits("com.example.game")); n != 1 {
			t.Errorf("Play has %d commits, want still 1", n)
		}
	})
}
