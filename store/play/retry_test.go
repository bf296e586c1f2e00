package play_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/storesign/storesign/signing/signingtest"
	"github.com/storesign/storesign/store/play"
	"github.com/storesign/storesign/store/play/playtest"
)

// bigBundle is a bundle of several upload chunks of 256 KiB.
func bigBundle(code int) []byte {
	return signingtest.Bundle(signingtest.APKOptions{Package: pkg, VersionCode: code, Assets: 1500})
}

// TestUploadFaults uploads through every kind of fault, for several fault
// sequences: the release is committed exactly once, with the bytes sent.
func TestUploadFaults(t *testing.T) {
	data := bigBundle(31)
	if len(data) < 3*256<<10 {
		t.Fatalf("bundle of %d bytes: too small for several chunks", len(data))
	}
	for seed := uint64(1); seed <= 6; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			e := newEnv(t, playtest.Options{Faults: playtest.Faults{Rate: 0.3, Seed: seed, Delay: time.Millisecond}}, play.WithChunkSize(256<<10))
			mapping := bytes.Repeat([]byte("a -> b\n"), 100)
			res, err := e.upload(t, data, play.UploadOptions{Track: "beta", Status: play.StatusInProgress, UserFraction: 0.25,
				Mapping: &play.MappingFile{R: bytes.NewReader(mapping), Size: int64(len(mapping))}})
			if err != nil {
				t.Fatal(err)
			}
			faults := 0
			for _, r := range e.s.Requests() {
				if r.Fault != playtest.FaultNone {
					faults++
				}
			}
			if faults == 0 {
				t.Error("no fault was injected")
			}
			cs := e.s.Commits(pkg)
			if len(cs) != 1 || !res.Committed {
				t.Fatalf("%d commits", len(cs))
			}
			if u := cs[0].Uploads[0]; u.Size != int64(len(data)) || u.SHA256 != sha256hex(data) {
				t.Errorf("upload %+v", u)
			}
			if tr, _ := e.s.Track(pkg, "beta"); len(tr.Releases) != 1 || tr.Releases[0].UserFraction != 0.25 {
				t.Errorf("beta track %+v", tr)
			}
		})
	}
}

// TestCommitAnswerLost: the commit goes through but its answer is lost;
// the retry finds the edit gone, and the client sees the release on the
// track.
func TestCommitAnswerLost(t *testing.T) {
	e := newEnv(t, playtest.Options{})
	data := bundle(pkg, 8)
	// Count the requests of a clean run to place the fault on the commit.
	if _, err := e.upload(t, data, play.UploadOptions{Track: "alpha", NoCommit: true}); err != nil {
		t.Fatal(err)
	}
	n := len(e.s.Requests()) - 2 // the index of the commit: NoCommit validated and deleted the edit instead
	e.s.ResetRequests()
	script := make([]playtest.Fault, n+1)
	script[n] = playtest.FaultCut
	e.s.SetFaults(playtest.Faults{Script: script})
	res, err := e.upload(t, data, play.UploadOptions{Track: "alpha"})
	if err != nil {
		t.Fatal(err)
	}
	reqs := e.s.Requests()
	if r := reqs[n]; !strings.HasSuffix(r.Path, ":commit") || r.Fault != playtest.FaultCut {
		t.Fatalf("request %d is %s %s (fault %q), not the commit", n, r.Method, r.Path, r.Fault)
	}
	if !res.Committed || len(e.s.Commits(pkg)) != 1 || e.s.OpenEdits(pkg) != 0 {
		t.Errorf("committed=%v commits=%d open=%d", res.Committed, len(e.s.Commits(pkg)), e.s.OpenEdits(pkg))
	}
}

// TestSessionExpired: an upload session that expires mid-way starts over.
func TestSessionExpired(t *testing.T) {
	e := newEnv(t, playtest.Options{}, play.WithChunkSize(256<<10))
	data := bigBundle(12)
	once := false
	_, err := e.upload(t, data, play.UploadOptions{Track: "internal", Progress: func(p play.Progress) {
		if !once && p.Done > 0 && p.Done < p.Total {
			once = true
			e.s.ExpireSessions()
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	opened := 0
	for _, r := range e.s.Requests() {
		if r.Method == "POST" && strings.Contains(r.Query, "uploadType=resumable") {
			opened++
		}
	}
	if opened != 2 {
		t.Errorf("%d sessions opened, want 2", opened)
	}
}

// TestEditExpired: Play drops the edit (another commit, or time): the
// error says so, and nothing is committed.
func TestEditExpired(t *testing.T) {
	e := newEnv(t, playtest.Options{}, play.WithChunkSize(256<<10))
	_, err := e.upload(t, bigBundle(12), play.UploadOptions{Track: "internal", Progress: func(p play.Progress) { e.s.ExpireEdits() }})
	if !errors.Is(err, play.ErrEditGone) || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("error %v", err)
	}
	if len(e.s.Commits(pkg)) != 0 {
		t.Error("committed")
	}
}

// TestGivesUp: a server that keeps failing is given up on with advice.
func TestGivesUp(t *testing.T) {
	e := newEnv(t, playtest.Options{Faults: playtest.Faults{Rate: 1, Kinds: []playtest.Fault{playtest.Fault503}}},
		play.WithRetry(play.Retry{Initial: time.Millisecond, Max: 2 * time.Millisecond, Deadline: 50 * time.Millisecond}))
	_, err := e.upload(t, bundle(pkg, 1), play.UploadOptions{Track: "internal"})
	if err == nil || !strings.Contains(err.Error(), "run again later") {
		t.Fatalf("error %v", err)
	}
	e.s.SetFaults(playtest.Faults{Rate: 1, Kinds: []playtest.Fault{playtest.Fault429}})
	_, err = e.upload(t, bundle(pkg, 1), play.UploadOptions{Track: "internal"})
	if !errors.Is(err, play.ErrRateLimited) {
		t.Fatalf("error %v, want ErrRateLimited", err)
	}
}

func TestCancel(t *testing.T) {
	e := newEnv(t, playtest.Options{}, play.WithChunkSize(256<<10))
	ctx, cancel := context.WithCancel(context.Background())
	data := bigBundle(12)
	_, err := e.c.Upload(ctx, bytes.NewReader(data), int64(len(data)), play.UploadOptions{Track: "internal", Progress: func(play.Progress) { cancel() }})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if e.s.OpenEdits(pkg) != 0 {
		t.Error("the edit was left open")
	}
}

// TestNoSecrets: neither the access token nor an upload session's ID
// reaches an error or the log.
func TestNoSecrets(t *testing.T) {
	const good, bad = "ya29.good-secret-token-123", "ya29.wrong-secret-token-456"
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := newEnv(t, playtest.Options{Token: good, Faults: playtest.Faults{Rate: 0.4, Seed: 3, Kinds: []playtest.Fault{playtest.FaultCut, playtest.Fault500}}},
		play.WithAccessToken(good), play.WithLogger(log), play.WithChunkSize(256<<10))
	if _, err := e.upload(t, bigBundle(5), play.UploadOptions{Track: "internal"}); err != nil {
		t.Fatal(err)
	}
	c, err := play.New(context.Background(), play.WithEndpoint(e.url), play.WithAccessToken(bad), play.WithoutEnvironment(), play.WithLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Upload(context.Background(), bytes.NewReader(bundle(pkg, 6)), int64(len(bundle(pkg, 6))), play.UploadOptions{Track: "internal"})
	if !errors.Is(err, play.ErrAuth) {
		t.Fatalf("error %v, want ErrAuth", err)
	}
	out := err.Error() + logs.String()
	for _, secret := range []string{good, bad, "upload_id=u"} {
		if strings.Contains(out, secret) {
			t.Errorf("%q appears in the error or the log:\n%s", secret, out)
		}
	}
}

func TestTokenFromEnvironment(t *testing.T) {
	const tok = "ya29.env-token"
	e := newEnv(t, playtest.Options{Token: tok})
	t.Setenv(play.TokenEnv, tok)
	t.Setenv(play.EndpointEnv, e.url)
	c, err := play.New(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	data := bundle(pkg, 2)
	if _, err := c.Upload(context.Background(), bytes.NewReader(data), int64(len(data)), play.UploadOptions{Track: "internal"}); err != nil {
		t.Fatal(err)
	}
	// WithoutEnvironment ignores both: with no endpoint and no
	// credentials New looks for Application Default Credentials.
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", t.TempDir()+"/missing.json")
	if _, err := play.New(context.Background(), play.WithoutEnvironment()); err == nil {
		t.Error("New without environment found credentials")
	}
	if _, err := play.New(context.Background(), play.WithEndpoint(e.url), play.WithAccessToken("two\nlines")); err == nil {
		t.Error("a token with a line break was taken")
	}
	for _, bad := range []string{`{"type":"unknown"}`, `not json`} {
		if _, err := play.New(context.Background(), play.WithCredentialsJSON([]byte(bad))); err == nil {
			t.Errorf("credentials %s taken", bad)
		}
	}
}

// TestConcurrentCommit: another upload to the app commits while this one
// is under way, which deletes this one's edit: it starts over in a new
// edit, and both releases are committed.
func TestConcurrentCommit(t *testing.T) {
	e := newEnv(t, playtest.Options{}, play.WithChunkSize(256<<10))
	other := bundle(pkg, 60)
	once := false
	res, err := e.upload(t, bigBundle(61), play.UploadOptions{Track: "beta", Status: play.StatusInProgress, UserFraction: 0.5, Progress: func(p play.Progress) {
		if once {
			return
		}
		once = true
		if _, err := e.upload(t, other, play.UploadOptions{Track: "beta"}); err != nil {
			t.Errorf("the other upload: %v", err)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Committed || len(e.s.Commits(pkg)) != 2 {
		t.Fatalf("%d commits", len(e.s.Commits(pkg)))
	}
	tr, _ := e.s.Track(pkg, "beta")
	var got []string
	for _, r := range tr.Releases {
		got = append(got, fmt.Sprint(r.Status, r.VersionCodes))
	}
	if strings.Join(got, " ") != "completed[60] inProgress[61]" {
		t.Errorf("beta track %v", got)
	}
}
