package play_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/storesign/storesign/signing"
	"github.com/storesign/storesign/signing/aab"
	"github.com/storesign/storesign/signing/apk"
	"github.com/storesign/storesign/signing/signingtest"
	"github.com/storesign/storesign/store/play"
	"github.com/storesign/storesign/store/play/playtest"
)

const pkg = "com.example.game"

// env is a fake Play and a client of it.
type env struct {
	s   *playtest.Server
	url string
	c   *play.Client
}

func newEnv(t *testing.T, opts playtest.Options, copts ...play.Option) *env {
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
	s.AddApp(pkg, playtest.App{Tracks: []string{"qa-team"}})
	c, err := play.New(context.Background(), append([]play.Option{
		play.WithEndpoint(srv.URL), play.WithoutEnvironment(),
		play.WithRetry(play.Retry{Initial: time.Millisecond, Max: 4 * time.Millisecond, Deadline: 5 * time.Second}),
	}, copts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return &env{s: s, url: srv.URL, c: c}
}

// bundle is an unsigned app bundle.
func bundle(p string, code int) []byte {
	return signingtest.Bundle(signingtest.APKOptions{Package: p, VersionCode: code, VersionName: "2.0"})
}

var (
	idOnce  sync.Once
	uploadK *signing.Identity
	otherK  *signing.Identity
)

func ids() (*signing.Identity, *signing.Identity) {
	idOnce.Do(func() {
		uploadK = signingtest.SelfSigned("upload", nil)
		otherK = signingtest.SelfSigned("other", nil)
	})
	return uploadK, otherK
}

func signedBundle(t *testing.T, id *signing.Identity, code int) []byte {
	t.Helper()
	in := bundle(pkg, code)
	var out bytes.Buffer
	if _, err := aab.Sign(context.Background(), bytes.NewReader(in), int64(len(in)), &out, aab.Options{Identity: id}); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func signedAPK(t *testing.T, id *signing.Identity, code int) []byte {
	t.Helper()
	in := signingtest.APK(signingtest.APKOptions{Package: pkg, VersionCode: code})
	var out bytes.Buffer
	if _, err := apk.Sign(context.Background(), bytes.NewReader(in), int64(len(in)), &out, apk.Options{Identity: id}); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func (e *env) upload(t *testing.T, data []byte, opts play.UploadOptions) (*play.UploadResult, error) {
	t.Helper()
	return e.c.Upload(context.Background(), bytes.NewReader(data), int64(len(data)), opts)
}

func TestUploadBundle(t *testing.T) {
	e := newEnv(t, playtest.Options{})
	id, _ := ids()
	data := signedBundle(t, id, 42)
	mapping := []byte("com.example.A -> a:\n    void run() -> b\n")
	var last play.Progress
	res, err := e.upload(t, data, play.UploadOptions{
		Track: play.TrackProduction, ReleaseName: "2.0 (42)",
		ReleaseNotes:        map[string]string{"en-US": "Faster levels.", "fr-FR": "Niveaux plus rapides."},
		InAppUpdatePriority: 3, ChangesNotSentForReview: true,
		ExpectCertSHA256: strings.ToUpper(signing.CertificateSHA256(id.Certificate)),
		Mapping:          &play.MappingFile{R: bytes.NewReader(mapping), Size: int64(len(mapping))},
		Progress:         func(p play.Progress) { last = p },
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Package != pkg || res.VersionCode != 42 || res.Kind != play.KindAAB || !res.Committed || !res.Mapping ||
		res.Status != play.StatusCompleted || res.CertSHA256 != signing.CertificateSHA256(id.Certificate) || res.SHA256 == "" {
		t.Errorf("result %+v", res)
	}
	if last.What != "mapping" || last.Done != last.Total {
		t.Errorf("last progress %+v", last)
	}
	tr, _ := e.s.Track(pkg, "production")
	if len(tr.Releases) != 1 {
		t.Fatalf("production track %+v", tr)
	}
	r := tr.Releases[0]
	if r.Name != "2.0 (42)" || r.Status != "completed" || len(r.VersionCodes) != 1 || r.VersionCodes[0] != 42 ||
		r.Notes["fr-FR"] != "Niveaux plus rapides." || r.InAppUpdatePriority != 3 {
		t.Errorf("release %+v", r)
	}
	cs := e.s.Commits(pkg)
	if len(cs) != 1 || !cs[0].ChangesNotSentForReview || len(cs[0].Uploads) != 2 {
		t.Fatalf("commits %+v", cs)
	}
	if u := cs[0].Uploads[0]; u.Kind != "bundle" || u.Size != int64(len(data)) || u.SHA256 != res.SHA256 || u.Protocol != "resumable" {
		t.Errorf("bundle upload %+v", u)
	}
	if u := cs[0].Uploads[1]; u.Kind != "proguard" || u.VersionCode != 42 || u.Size != int64(len(mapping)) {
		t.Errorf("mapping upload %+v", u)
	}
	if n := e.s.OpenEdits(pkg); n != 0 {
		t.Errorf("%d edits left open", n)
	}
}

func TestUploadAPK(t *testing.T) {
	e := newEnv(t, playtest.Options{})
	id, _ := ids()
	res, err := e.upload(t, signedAPK(t, id, 7), play.UploadOptions{Track: play.TrackInternal, ExpectCertSHA256: signing.CertificateSHA256(id.Certificate)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Kind != play.KindAPK || res.VersionCode != 7 {
		t.Errorf("result %+v", res)
	}
	if tr, _ := e.s.Track(pkg, "internal"); len(tr.Releases) != 1 || tr.Releases[0].VersionCodes[0] != 7 {
		t.Errorf("internal track %+v", tr)
	}
	if u := e.s.Uploads(pkg); len(u) != 1 || u[0].Kind != "apk" {
		t.Errorf("uploads %+v", u)
	}
}

// TestUploadStatuses checks which releases a new one replaces.
func TestUploadStatuses(t *testing.T) {
	old := []playtest.Release{
		{Status: "completed", VersionCodes: []int64{10}},
		{Status: "inProgress", VersionCodes: []int64{11}, UserFraction: 0.2},
		{Status: "draft", VersionCodes: []int64{12}},
	}
	tests := []struct {
		status   play.Status
		fraction float64
		want     []string // status:versionCode of the track after
	}{
		{play.StatusCompleted, 0, []string{"draft:12", "completed:20"}},
		{play.StatusInProgress, 0.5, []string{"completed:10", "draft:12", "inProgress:20"}},
		{play.StatusHalted, 0.5, []string{"completed:10", "draft:12", "halted:20"}},
		{play.StatusDraft, 0, []string{"completed:10", "inProgress:11", "draft:20"}},
	}
	for _, tt := range tests {
		t.Run(string(tt.status), func(t *testing.T) {
			e := newEnv(t, playtest.Options{})
			for _, r := range old {
				if err := e.s.AddRelease(pkg, "beta", r); err != nil {
					t.Fatal(err)
				}
			}
			res, err := e.upload(t, bundle(pkg, 20), play.UploadOptions{Track: "beta", Status: tt.status, UserFraction: tt.fraction})
			if err != nil {
				t.Fatal(err)
			}
			if res.UserFraction != tt.fraction {
				t.Errorf("UserFraction = %v", res.UserFraction)
			}
			tr, _ := e.s.Track(pkg, "beta")
			var got []string
			for _, r := range tr.Releases {
				got = append(got, r.Status+":"+itoa(r.VersionCodes[0]))
				if r.VersionCodes[0] == 20 && r.UserFraction != tt.fraction {
					t.Errorf("new release fraction %v", r.UserFraction)
				}
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("track = %v, want %v", got, tt.want)
			}
		})
	}
}

func itoa(v int64) string {
	var b []byte
	if v == 0 {
		return "0"
	}
	for ; v > 0; v /= 10 {
		b = append([]byte{byte('0' + v%10)}, b...)
	}
	return string(b)
}

func TestUploadCustomTrack(t *testing.T) {
	e := newEnv(t, playtest.Options{})
	if _, err := e.upload(t, bundle(pkg, 3), play.UploadOptions{Track: "qa-team"}); err != nil {
		t.Fatal(err)
	}
	if tr, _ := e.s.Track(pkg, "qa-team"); len(tr.Releases) != 1 {
		t.Errorf("qa-team track %+v", tr)
	}
}

func TestUploadDraftApp(t *testing.T) {
	e := newEnv(t, playtest.Options{})
	e.s.SetDraft(pkg, true)
	_, err := e.upload(t, bundle(pkg, 5), play.UploadOptions{Track: "internal"})
	if !errors.Is(err, play.ErrDraftApp) {
		t.Fatalf("error %v, want ErrDraftApp", err)
	}
	for _, want := range []string{playtest.MsgDraftApp, "status draft"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if n := e.s.OpenEdits(pkg); n != 0 {
		t.Errorf("%d edits left open", n)
	}
	// The advice works.
	if _, err := e.upload(t, bundle(pkg, 5), play.UploadOptions{Track: "internal", Status: play.StatusDraft}); err != nil {
		t.Fatal(err)
	}
}

func TestUploadErrors(t *testing.T) {
	id, other := ids()
	tests := []struct {
		name  string
		setup func(e *env)
		data  func(t *testing.T) []byte
		opts  play.UploadOptions
		is    error
		want  string // in the message
		// edit says whether an edit got created (and must be deleted).
		edit bool
	}{
		{name: "app-not-created", data: func(*testing.T) []byte { return bundle("com.example.new", 1) },
			opts: play.UploadOptions{Track: "internal"}, is: play.ErrAppNotFound, want: "create the app in Play Console"},
		{name: "not-invited", setup: func(e *env) { e.s.SetAccess(pkg, false) }, data: func(*testing.T) []byte { return bundle(pkg, 1) },
			opts: play.UploadOptions{Track: "internal"}, is: play.ErrNotInvited, want: "Users and permissions"},
		{name: "code-on-track", setup: func(e *env) {
			e.s.AddRelease(pkg, "alpha", playtest.Release{Status: "completed", VersionCodes: []int64{9}})
		}, data: func(*testing.T) []byte { return bundle(pkg, 9) },
			opts: play.UploadOptions{Track: "production"}, is: play.ErrVersionCodeUsed, want: "release on track alpha", edit: true},
		{name: "code-uploaded", setup: func(e *env) { e.s.AddUpload(pkg, "bundle", 9) }, data: func(*testing.T) []byte { return bundle(pkg, 9) },
			opts: play.UploadOptions{Track: "production"}, is: play.ErrVersionCodeUsed, want: "uploaded earlier", edit: true},
		{name: "code-refused-by-play", setup: func(e *env) { e.s.AddUpload(pkg, "apk", 9) }, data: func(*testing.T) []byte { return bundle(pkg, 9) },
			opts: play.UploadOptions{Track: "production"}, is: play.ErrVersionCodeUsed, want: playtest.MsgVersionUsed, edit: true},
		{name: "wrong-package", data: func(*testing.T) []byte { return bundle("com.example.other", 1) },
			opts: play.UploadOptions{Package: pkg, Track: "internal"}, is: play.ErrWrongPackage, want: "com.example.other, not " + pkg},
		{name: "wrong-signer", data: func(t *testing.T) []byte { return signedBundle(t, other, 1) },
			opts: play.UploadOptions{Track: "internal", ExpectCertSHA256: signing.CertificateSHA256(id.Certificate)}, is: play.ErrWrongSigner, want: signing.CertificateSHA256(other.Certificate)},
		{name: "wrong-signer-apk", data: func(t *testing.T) []byte { return signedAPK(t, other, 1) },
			opts: play.UploadOptions{Track: "internal", ExpectCertSHA256: signing.CertificateSHA256(id.Certificate)}, is: play.ErrWrongSigner, want: "App signing"},
		{name: "unsigned", data: func(*testing.T) []byte { return bundle(pkg, 1) },
			opts: play.UploadOptions{Track: "internal", ExpectCertSHA256: signing.CertificateSHA256(id.Certificate)}, is: play.ErrWrongSigner, want: "not signed"},
		{name: "no-such-track", data: func(*testing.T) []byte { return bundle(pkg, 1) },
			opts: play.UploadOptions{Track: "friends"}, is: play.ErrTrackNotFound, want: "create the closed testing track", edit: true},
		{name: "not-android", data: func(*testing.T) []byte { return []byte("PK\x05\x06" + strings.Repeat("\x00", 18)) },
			opts: play.UploadOptions{Track: "internal"}, is: play.ErrNotAndroid},
		{name: "no-track", data: func(*testing.T) []byte { return bundle(pkg, 1) }, is: play.ErrBadOptions},
		{name: "no-fraction", data: func(*testing.T) []byte { return bundle(pkg, 1) },
			opts: play.UploadOptions{Track: "beta", Status: play.StatusInProgress}, is: play.ErrBadOptions, want: "user fraction"},
		{name: "fraction-completed", data: func(*testing.T) []byte { return bundle(pkg, 1) },
			opts: play.UploadOptions{Track: "beta", UserFraction: 0.5}, is: play.ErrBadOptions},
		{name: "bad-status", data: func(*testing.T) []byte { return bundle(pkg, 1) },
			opts: play.UploadOptions{Track: "beta", Status: "live"}, is: play.ErrBadOptions},
		{name: "bad-priority", data: func(*testing.T) []byte { return bundle(pkg, 1) },
			opts: play.UploadOptions{Track: "beta", InAppUpdatePriority: 6}, is: play.ErrBadOptions},
		{name: "bad-fingerprint", data: func(*testing.T) []byte { return bundle(pkg, 1) },
			opts: play.UploadOptions{Track: "beta", ExpectCertSHA256: "12:34"}, is: play.ErrBadOptions},
		{name: "long-notes", data: func(*testing.T) []byte { return bundle(pkg, 1) },
			opts: play.UploadOptions{Track: "beta", ReleaseNotes: map[string]string{"en-US": strings.Repeat("é", 501)}}, is: play.ErrBadOptions, want: "501 characters"},
		{name: "bad-language", data: func(*testing.T) []byte { return bundle(pkg, 1) },
			opts: play.UploadOptions{Track: "beta", ReleaseNotes: map[string]string{"English": "x"}}, is: play.ErrBadOptions},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, playtest.Options{})
			if tt.setup != nil {
				tt.setup(e)
			}
			_, err := e.upload(t, tt.data(t), tt.opts)
			if !errors.Is(err, tt.is) {
				t.Fatalf("error %v, want %v", err, tt.is)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q lacks %q", err, tt.want)
			}
			if n := e.s.OpenEdits(pkg); n != 0 {
				t.Errorf("%d edits left open", n)
			}
			if len(e.s.Commits(pkg)) != 0 {
				t.Error("something was committed")
			}
			inserted := false
			for _, r := range e.s.Requests() {
				if r.Method == "POST" && strings.HasSuffix(r.Path, "/edits") && r.Status == 200 {
					inserted = true
				}
			}
			if inserted != tt.edit {
				t.Errorf("edit created = %v, want %v", inserted, tt.edit)
			}
		})
	}
}

func TestVersionCodeUsedError(t *testing.T) {
	e := newEnv(t, playtest.Options{})
	e.s.AddRelease(pkg, "beta", playtest.Release{Status: "completed", VersionCodes: []int64{9}})
	_, err := e.upload(t, bundle(pkg, 9), play.UploadOptions{Track: "beta"})
	var vu *play.VersionCodeUsedError
	if !errors.As(err, &vu) || vu.VersionCode != 9 || vu.Track != "beta" || vu.Package != pkg {
		t.Fatalf("error %#v", err)
	}
}

func TestNoCommit(t *testing.T) {
	e := newEnv(t, playtest.Options{})
	e.s.SetDraft(pkg, true)
	if _, err := e.upload(t, bundle(pkg, 4), play.UploadOptions{Track: "beta", NoCommit: true}); !errors.Is(err, play.ErrDraftApp) {
		t.Fatalf("validating a completed release on a draft app: %v", err)
	}
	e.s.SetDraft(pkg, false)
	res, err := e.upload(t, bundle(pkg, 4), play.UploadOptions{Track: "beta", NoCommit: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Committed || len(e.s.Commits(pkg)) != 0 || e.s.OpenEdits(pkg) != 0 {
		t.Errorf("committed=%v commits=%d open=%d", res.Committed, len(e.s.Commits(pkg)), e.s.OpenEdits(pkg))
	}
}

func TestShare(t *testing.T) {
	e := newEnv(t, playtest.Options{})
	id, _ := ids()
	for _, tt := range []struct {
		name string
		data []byte
		kind play.Kind
	}{{"bundle", bundle(pkg, 3), play.KindAAB}, {"apk", signedAPK(t, id, 3), play.KindAPK}} {
		t.Run(tt.name, func(t *testing.T) {
			res, err := e.c.Share(context.Background(), bytes.NewReader(tt.data), int64(len(tt.data)), play.ShareOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(res.DownloadURL, "https://play.google.com/apps/test/") || res.Kind != tt.kind ||
				res.CertificateFingerprint != playtest.SigningCertSHA256(pkg) || res.VersionCode != 3 {
				t.Errorf("result %+v", res)
			}
		})
	}
	if n := len(e.s.Shared(pkg)); n != 2 {
		t.Errorf("%d shared, want 2", n)
	}
	// Sharing reuses version codes freely, and needs no track.
	if len(e.s.Commits(pkg)) != 0 {
		t.Error("sharing committed an edit")
	}
	_, err := e.c.Share(context.Background(), bytes.NewReader(bundle("com.example.none", 1)), int64(len(bundle("com.example.none", 1))), play.ShareOptions{})
	if err == nil {
		t.Error("sharing to a missing app succeeded")
	}
}

// TestPlayMessages: Play's answers, as real Play words them, get the
// right sentinel (an account not invited is no credentials problem, even
// when Play answers 401).
func TestPlayMessages(t *testing.T) {
	tests := []struct {
		code        int
		reason, msg string
		is          error
	}{
		{401, "permissionDenied", "The current user has insufficient permissions to perform the requested operation.", play.ErrNotInvited},
		{403, "forbidden", "The current user has insufficient permissions to perform the requested operation.", play.ErrNotInvited},
		{401, "authError", "Request had invalid authentication credentials.", play.ErrAuth},
		{404, "notFound", "Package not found: com.example.game.", play.ErrAppNotFound},
		{403, "apkUpgradeVersionConflict", "APK specifies a version code that has already been used.", play.ErrVersionCodeUsed},
		{400, "badRequest", "Version code 7 has already been used.", play.ErrVersionCodeUsed},
		{403, "replacingBundleWithApk", "You cannot insert a bundle with the same version code as an APK in the edit.", play.ErrVersionCodeUsed},
		{400, "badRequest", "Only releases with status draft may be created on draft app.", play.ErrDraftApp},
		{400, "badRequest", "Something else.", play.ErrRejected},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.code)
				fmt.Fprintf(w, `{"error":{"code":%d,"message":%q,"errors":[{"domain":"androidpublisher","reason":%q,"message":%q}]}}`, tt.code, tt.msg, tt.reason, tt.msg)
			}))
			defer srv.Close()
			c, err := play.New(context.Background(), play.WithEndpoint(srv.URL), play.WithoutEnvironment())
			if err != nil {
				t.Fatal(err)
			}
			data := bundle(pkg, 1)
			_, err = c.Upload(context.Background(), bytes.NewReader(data), int64(len(data)), play.UploadOptions{Track: "internal"})
			if !errors.Is(err, tt.is) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("error %v, want %v", err, tt.is)
			}
		})
	}
}

// TestLargeBundle: Play refuses a bundle of a large install size unless
// its warning is accepted.
func TestLargeBundle(t *testing.T) {
	e := newEnv(t, playtest.Options{LargeBundle: 10 << 10})
	_, err := e.upload(t, bundle(pkg, 3), play.UploadOptions{Track: "internal"})
	if !errors.Is(err, play.ErrRejected) || !strings.Contains(err.Error(), "install size is large") {
		t.Fatalf("error %v", err)
	}
	if _, err := e.upload(t, bundle(pkg, 3), play.UploadOptions{Track: "internal", AckBundleInstallationWarning: true}); err != nil {
		t.Fatal(err)
	}
}

func TestManagedReview(t *testing.T) {
	e := newEnv(t, playtest.Options{})
	e.s.AddApp("com.example.managed", playtest.App{ManagedReview: true})
	data := bundle("com.example.managed", 2)
	_, err := e.upload(t, data, play.UploadOptions{Track: "beta"})
	if !errors.Is(err, play.ErrRejected) || !strings.Contains(err.Error(), "upload again with changes-not-sent-for-review") {
		t.Fatalf("error %v", err)
	}
	if _, err := e.upload(t, data, play.UploadOptions{Track: "beta", ChangesNotSentForReview: true}); err != nil {
		t.Fatal(err)
	}
}
