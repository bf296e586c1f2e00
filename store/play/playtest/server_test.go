package playtest_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	androidpublisher "google.golang.org/api/androidpublisher/v3"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"

	"github.com/storesign/storesign/signing/signingtest"
	"github.com/storesign/storesign/store/play/playtest"
)

const pkg = "com.example.app"

func newServer(t *testing.T, opts playtest.Options) (*playtest.Server, *androidpublisher.Service, string) {
	t.Helper()
	s, err := playtest.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(func() {
		srv.Close()
		s.Close()
	})
	s.AddApp(pkg, playtest.App{})
	svc, err := androidpublisher.NewService(context.Background(), option.WithEndpoint(srv.URL+"/"), option.WithHTTPClient(srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	return s, svc, srv.URL
}

func apiCode(err error) int {
	var ge *googleapi.Error
	if errors.As(err, &ge) {
		return ge.Code
	}
	return 0
}

// TestGoClient drives the fake with the generated client alone: its
// multipart upload for a small bundle, its own resumable upload for a
// larger one, tracks and commit.
func TestGoClient(t *testing.T) {
	s, svc, _ := newServer(t, playtest.Options{})
	ctx := context.Background()
	e, err := svc.Edits.Insert(pkg, &androidpublisher.AppEdit{}).Context(ctx).Do()
	if err != nil {
		t.Fatal(err)
	}
	small := signingtest.Bundle(signingtest.APKOptions{Package: pkg, VersionCode: 1})
	b, err := svc.Edits.Bundles.Upload(pkg, e.Id).Media(bytes.NewReader(small)).Context(ctx).Do()
	if err != nil {
		t.Fatal(err)
	}
	if b.VersionCode != 1 || b.Sha256 == "" {
		t.Errorf("bundle %+v", b)
	}
	big := signingtest.Bundle(signingtest.APKOptions{Package: pkg, VersionCode: 2, Assets: 1500})
	b, err = svc.Edits.Bundles.Upload(pkg, e.Id).Media(bytes.NewReader(big), googleapi.ChunkSize(256<<10)).Context(ctx).Do()
	if err != nil {
		t.Fatal(err)
	}
	if b.VersionCode != 2 {
		t.Errorf("bundle %+v", b)
	}
	if _, err := svc.Edits.Deobfuscationfiles.Upload(pkg, e.Id, 2, "proguard").Media(strings.NewReader("a -> b\n")).Context(ctx).Do(); err != nil {
		t.Fatal(err)
	}
	tr := &androidpublisher.Track{Track: "beta", Releases: []*androidpublisher.TrackRelease{
		{Status: "inProgress", UserFraction: 0.5, VersionCodes: []int64{2}, ReleaseNotes: []*androidpublisher.LocalizedText{{Language: "en-US", Text: "New"}}},
		{Status: "completed", VersionCodes: []int64{1}},
	}}
	if _, err := svc.Edits.Tracks.Update(pkg, e.Id, "beta", tr).Context(ctx).Do(); err != nil {
		t.Fatal(err)
	}
	got, err := svc.Edits.Tracks.Get(pkg, e.Id, "beta").Context(ctx).Do()
	if err != nil || len(got.Releases) != 2 || got.Releases[0].UserFraction != 0.5 {
		t.Fatalf("track %+v, %v", got, err)
	}
	if _, err := svc.Edits.Commit(pkg, e.Id).ChangesNotSentForReview(true).Context(ctx).Do(); err != nil {
		t.Fatal(err)
	}
	cs := s.Commits(pkg)
	if len(cs) != 1 || !cs[0].ChangesNotSentForReview || len(cs[0].Tracks) != 1 || len(cs[0].Uploads) != 3 {
		t.Fatalf("commits %+v", cs)
	}
	var protos []string
	for _, u := range cs[0].Uploads {
		protos = append(protos, u.Protocol)
	}
	if !slices.Equal(protos, []string{"multipart", "resumable", "multipart"}) {
		t.Errorf("protocols %v", protos)
	}
	committed, _ := s.Track(pkg, "beta")
	if len(committed.Releases) != 2 || committed.Releases[0].Notes["en-US"] != "New" {
		t.Errorf("committed track %+v", committed)
	}
	// A committed edit is gone.
	if _, err := svc.Edits.Get(pkg, e.Id).Context(ctx).Do(); apiCode(err) != 404 {
		t.Errorf("get committed edit: %v", err)
	}
}

func TestMediaUpload(t *testing.T) {
	s, svc, url := newServer(t, playtest.Options{})
	e, err := svc.Edits.Insert(pkg, &androidpublisher.AppEdit{}).Do()
	if err != nil {
		t.Fatal(err)
	}
	apk := signingtest.APK(signingtest.APKOptions{Package: pkg, VersionCode: 5})
	resp, err := http.Post(url+"/upload/androidpublisher/v3/applications/"+pkg+"/edits/"+e.Id+"/apks?uploadType=media", "application/vnd.android.package-archive", bytes.NewReader(apk))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	l, err := svc.Edits.Apks.List(pkg, e.Id).Do()
	if err != nil || len(l.Apks) != 1 || l.Apks[0].VersionCode != 5 {
		t.Fatalf("apks %+v, %v", l, err)
	}
	if err := svc.Edits.Delete(pkg, e.Id).Do(); err != nil {
		t.Fatal(err)
	}
	if s.OpenEdits(pkg) != 0 || len(s.Uploads(pkg)) != 0 {
		t.Error("a deleted edit left something")
	}
}

// TestRules checks the refusals Play makes.
func TestRules(t *testing.T) {
	s, svc, _ := newServer(t, playtest.Options{})
	ctx := context.Background()
	s.AddRelease(pkg, "production", playtest.Release{Status: "completed", VersionCodes: []int64{10}})
	e, err := svc.Edits.Insert(pkg, &androidpublisher.AppEdit{}).Do()
	if err != nil {
		t.Fatal(err)
	}
	up := func(p string, code int) error {
		data := signingtest.Bundle(signingtest.APKOptions{Package: p, VersionCode: code})
		_, err := svc.Edits.Bundles.Upload(pkg, e.Id).Media(bytes.NewReader(data)).Context(ctx).Do()
		return err
	}
	track := func(name string, r *androidpublisher.TrackRelease) error {
		_, err := svc.Edits.Tracks.Update(pkg, e.Id, name, &androidpublisher.Track{Releases: []*androidpublisher.TrackRelease{r}}).Do()
		return err
	}
	apk := signingtest.APK(signingtest.APKOptions{Package: pkg, VersionCode: 30})
	_, apkAsBundle := svc.Edits.Bundles.Upload(pkg, e.Id).Media(bytes.NewReader(apk)).Do()
	_, noApp := svc.Edits.Insert("com.example.none", &androidpublisher.AppEdit{}).Do()
	tests := []struct {
		name string
		err  error
		code int
		msg  string
	}{
		{"used-code", up(pkg, 10), 403, playtest.MsgVersionUsed},
		{"wrong-package", up("com.example.other", 11), 403, "wrong package name"},
		{"apk-as-bundle", apkAsBundle, 400, "BundleConfig.pb"},
		{"no-app", noApp, 404, "Package not found"},
		{"unknown-code", track("beta", &androidpublisher.TrackRelease{Status: "completed", VersionCodes: []int64{99}}), 400, "does not exist"},
		{"no-fraction", track("beta", &androidpublisher.TrackRelease{Status: "inProgress", VersionCodes: []int64{10}}), 400, "user fraction"},
		{"bad-status", track("beta", &androidpublisher.TrackRelease{Status: "live", VersionCodes: []int64{10}}), 400, "status"},
		{"no-track", track("friends", &androidpublisher.TrackRelease{Status: "completed", VersionCodes: []int64{10}}), 404, "Track not found"},
		{"long-notes", track("beta", &androidpublisher.TrackRelease{Status: "completed", VersionCodes: []int64{10},
			ReleaseNotes: []*androidpublisher.LocalizedText{{Language: "en-US", Text: strings.Repeat("x", 501)}}}), 400, "500 characters"},
	}
	for _, tt := range tests {
		var ge *googleapi.Error
		if !errors.As(tt.err, &ge) || ge.Code != tt.code || !strings.Contains(ge.Message, tt.msg) {
			t.Errorf("%s: error %v, want %d %q", tt.name, tt.err, tt.code, tt.msg)
		}
	}
	// Committing one edit drops the others.
	e2, _ := svc.Edits.Insert(pkg, &androidpublisher.AppEdit{}).Do()
	if _, err := svc.Edits.Commit(pkg, e.Id).Do(); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Edits.Tracks.List(pkg, e2.Id).Do(); apiCode(err) != 404 {
		t.Errorf("the other edit: %v", err)
	}
	// A draft app takes only drafts.
	s.SetDraft(pkg, true)
	e3, _ := svc.Edits.Insert(pkg, &androidpublisher.AppEdit{}).Do()
	e = e3
	if err := up(pkg, 12); err != nil {
		t.Fatal(err)
	}
	if err := track("internal", &androidpublisher.TrackRelease{Status: "completed", VersionCodes: []int64{12}}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Edits.Commit(pkg, e.Id).Do(); err == nil || !strings.Contains(err.Error(), playtest.MsgDraftApp) {
		t.Errorf("draft commit: %v", err)
	}
	// No access.
	s.SetAccess(pkg, false)
	if _, err := svc.Edits.Insert(pkg, &androidpublisher.AppEdit{}).Do(); apiCode(err) != 403 {
		t.Errorf("no access: %v", err)
	}
}

func TestToken(t *testing.T) {
	_, svc, _ := newServer(t, playtest.Options{Token: "tok"})
	if _, err := svc.Edits.Insert(pkg, &androidpublisher.AppEdit{}).Do(); apiCode(err) != 401 {
		t.Errorf("no token: %v", err)
	}
}

func TestFaultsDeterministic(t *testing.T) {
	run := func() []playtest.Fault {
		s, svc, _ := newServer(t, playtest.Options{Faults: playtest.Faults{Rate: 0.5, Seed: 7, Kinds: []playtest.Fault{playtest.Fault500, playtest.Fault429}}})
		for range 20 {
			svc.Edits.Insert(pkg, &androidpublisher.AppEdit{}).Do()
		}
		var out []playtest.Fault
		for _, r := range s.Requests() {
			out = append(out, r.Fault)
		}
		return out
	}
	a, b := run(), run()
	if !slices.Equal(a, b) || !slices.Contains(a, playtest.Fault500) || !slices.Contains(a, playtest.FaultNone) {
		t.Errorf("fault sequences %v and %v", a, b)
	}
}
