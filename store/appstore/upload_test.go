package appstore_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/md5"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"log/slog"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/storesign/storesign/signing/ipa"
	"github.com/storesign/storesign/signing/signingtest"
	"github.com/storesign/storesign/store/appstore"
	"github.com/storesign/storesign/store/appstore/asctest"
)

const (
	testKeyID  = "ABC123DEFG"
	testIssuer = "57246542-96fe-1a63-e053-0824d011072a"
)

func testECKey(name string) *ecdsa.PrivateKey { return signingtest.ECKey(name, elliptic.P256()) }

func testKey(t testing.TB) *appstore.Key {
	t.Helper()
	k, err := appstore.NewKey(testECKey("asc"), testKeyID, testIssuer)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// secrets are strings that must appear in no error and no log: the
// private key in every form it takes.
func secrets(t testing.TB) []string {
	t.Helper()
	priv := testECKey("asc")
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	pemText := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	lines := strings.Split(pemText, "\n")
	return []string{lines[1], base64.StdEncoding.EncodeToString(der)[:40], priv.D.String(), hex.EncodeToString(priv.D.Bytes())}
}

// noSecret fails when s holds the key or a token.
func noSecret(t testing.TB, what, s string) {
	t.Helper()
	for _, sec := range secrets(t) {
		if strings.Contains(s, sec) {
			t.Errorf("%s holds the private key: %s", what, s)
		}
	}
	if strings.Contains(s, "eyJ") || strings.Contains(s, "Bearer") || strings.Contains(s, "X-Signature") {
		t.Errorf("%s holds a token or a presigned URL's signature: %s", what, s)
	}
}

type env struct {
	s      *asctest.Server
	srv    *httptest.Server
	key    *appstore.Key
	appID  string
	logBuf *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func newEnv(t testing.TB, opts asctest.Options, role string) *env {
	t.Helper()
	if opts.PartSize == 0 {
		opts.PartSize = 16 << 10
	}
	s := asctest.New(opts)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	e := &env{s: s, srv: srv, key: testKey(t), logBuf: &syncBuffer{}}
	s.AddKey(e.key, role)
	e.appID = s.AddApp("com.example.app", "Example")
	s.AddApp("com.example.app.beta", "Example Beta")
	return e
}

func (e *env) client(t testing.TB, opts ...appstore.Option) *appstore.Client {
	t.Helper()
	log := slog.New(slog.NewTextHandler(e.logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts = append([]appstore.Option{appstore.WithEndpoint(e.srv.URL), appstore.WithoutEnvironment(), appstore.WithLogger(log),
		appstore.WithRetry(appstore.Retry{Initial: time.Millisecond, Max: 5 * time.Millisecond})}, opts...)
	c, err := appstore.New(context.Background(), e.key, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { noSecret(t, "the log", e.logBuf.String()) })
	return c
}

var ipaCache sync.Map

func testIPA(t testing.TB, opts asctest.IPAOptions) []byte {
	t.Helper()
	k := opts
	if b, ok := ipaCache.Load(k); ok {
		return b.([]byte)
	}
	b, err := asctest.IPA(opts)
	if err != nil {
		t.Fatal(err)
	}
	ipaCache.Store(k, b)
	return b
}

func upload(t testing.TB, c *appstore.Client, data []byte, opts appstore.UploadOptions) (*appstore.Result, error) {
	t.Helper()
	res, err := c.Upload(context.Background(), bytes.NewReader(data), int64(len(data)), opts)
	if err != nil {
		noSecret(t, "the error", err.Error())
	}
	return res, err
}

func TestUpload(t *testing.T) {
	e := newEnv(t, asctest.Options{ProcessingPolls: 2}, "")
	e.s.WarnProcessing(appstore.StateDetail{Code: "ITMS-90078", Description: "Missing Push Notification Entitlement"})
	c := e.client(t)
	data := testIPA(t, asctest.IPAOptions{Version: "1.2", Build: "7", Padding: 100 << 10})
	var phases []string
	var lastSent int64
	res, err := upload(t, c, data, appstore.UploadOptions{Wait: time.Minute, PollInterval: time.Millisecond, FileName: "Example.ipa",
		Progress: func(p appstore.Progress) {
			if len(phases) == 0 || phases[len(phases)-1] != p.Phase {
				phases = append(phases, p.Phase)
			}
			if p.Sent < lastSent || p.Total != int64(len(data)) {
				t.Errorf("progress %+v after %d sent", p, lastSent)
			}
			lastSent = p.Sent
		}})
	if err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum(data)
	builds := e.s.Builds()
	if len(builds) != 1 {
		t.Fatalf("builds %+v", builds)
	}
	want := appstore.Result{AppID: e.appID, BundleID: "com.example.app", Version: "1.2", Build: "7", BuildUploadID: res.BuildUploadID,
		BuildID: builds[0].ID, State: appstore.StateValid, Final: true,
		URL:  "https://appstoreconnect.apple.com/apps/" + e.appID + "/testflight/ios/" + builds[0].ID,
		Size: int64(len(data)), MD5: hex.EncodeToString(sum[:]), SHA256: res.SHA256}
	got := *res
	got.Warnings = nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("result\n%+v\nwant\n%+v", got, want)
	}
	if !slices.Contains(res.Warnings, appstore.StateDetail{Code: "ITMS-90078", Description: "Missing Push Notification Entitlement"}) {
		t.Errorf("warnings %v", res.Warnings)
	}
	if !slices.Equal(phases, []string{appstore.PhaseChecking, appstore.PhaseUploading, appstore.PhaseProcessing, appstore.PhaseDone}) {
		t.Errorf("phases %q", phases)
	}
	ups := e.s.Uploads()
	if len(ups) != 1 || ups[0].File == nil {
		t.Fatalf("uploads %+v", ups)
	}
	f := ups[0].File
	if !bytes.Equal(f.Data, data) || f.Name != "Example.ipa" || !f.Uploaded {
		t.Errorf("file %s, uploaded %v, %d bytes, same %v", f.Name, f.Uploaded, len(f.Data), bytes.Equal(f.Data, data))
	}
	if len(f.Puts) < 7 {
		t.Errorf("only %d parts", len(f.Puts))
	}
	for off, n := range f.Puts {
		if n != 1 {
			t.Errorf("part at %d sent %d times", off, n)
		}
	}
}

func TestUploadNoWait(t *testing.T) {
	e := newEnv(t, asctest.Options{ProcessingPolls: 1}, "")
	res, err := upload(t, e.client(t), testIPA(t, asctest.IPAOptions{}), appstore.UploadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.State != appstore.StateProcessing || res.Final || res.BuildID != "" || res.URL != "https://appstoreconnect.apple.com/apps/"+e.appID+"/testflight/ios" {
		t.Errorf("result %+v", res)
	}
}

func TestUploadWaitTimeout(t *testing.T) {
	e := newEnv(t, asctest.Options{ProcessingPolls: 1000}, "")
	res, err := upload(t, e.client(t), testIPA(t, asctest.IPAOptions{}), appstore.UploadOptions{Wait: 20 * time.Millisecond, PollInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.State != appstore.StateProcessing || res.Final {
		t.Errorf("result %+v", res)
	}
}

func TestUploadErrors(t *testing.T) {
	tests := []struct {
		name    string
		role    string
		setup   func(e *env)
		ipa     asctest.IPAOptions
		opts    appstore.UploadOptions
		want    error
		wantMsg string
	}{
		{name: "app-not-found", ipa: asctest.IPAOptions{BundleID: "com.example"}, want: appstore.ErrAppNotFound,
			wantMsg: "no app with bundle ID com.example in App Store Connect: create it"},
		{name: "build-used", setup: func(e *env) { e.s.AddBuild(e.appID, "1.0", "1") }, want: appstore.ErrBuildUsed,
			wantMsg: "build 1 of version 1.0 of com.example.app was already uploaded: give the IPA a higher CFBundleVersion"},
		{name: "role", role: asctest.RoleFinance, want: appstore.ErrForbidden, wantMsg: "give it the App Manager or Developer role, or Admin"},
		{name: "unknown-key", setup: func(e *env) { e.s.AddKey(mustKey(t, "other", testKeyID), "") }, want: appstore.ErrUnauthorized,
			wantMsg: "check the key ID, the issuer ID and that the key was not revoked"},
		{name: "processing-failed", setup: func(e *env) {
			e.s.FailProcessing(appstore.StateDetail{Code: "ITMS-90062", Description: "The value for key CFBundleShortVersionString must be higher"})
		}, opts: appstore.UploadOptions{Wait: time.Minute, PollInterval: time.Millisecond}, want: appstore.ErrProcessingFailed,
			wantMsg: "App Store Connect refused the build: ITMS-90062: The value for key CFBundleShortVersionString must be higher"},
		{name: "preflight", ipa: asctest.IPAOptions{ProfileKind: "development"}, want: appstore.ErrPreflight,
			wantMsg: "the IPA would be refused, nothing was uploaded: error ITMS-90161"},
		{name: "server-down", setup: func(e *env) { e.s.Inject(asctest.Fault{Path: "/v1/apps", Status: 503, Times: 100}) },
			wantMsg: "(503 FAULT)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, asctest.Options{}, tt.role)
			if tt.setup != nil {
				tt.setup(e)
			}
			_, err := upload(t, e.client(t), testIPA(t, tt.ipa), tt.opts)
			if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("err = %v, want %v saying %q", err, tt.want, tt.wantMsg)
			}
			if tt.name == "preflight" && len(e.s.Requests()) != 0 {
				t.Errorf("requests sent for an IPA that fails the checks: %q", e.s.Requests())
			}
		})
	}
}

func mustKey(t testing.TB, seed, id string) *appstore.Key {
	t.Helper()
	k, err := appstore.NewKey(testECKey(seed), id, testIssuer)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestUploadBuildUploadConflict(t *testing.T) {
	// A first upload left PROCESSING: the build is not there yet, but
	// App Store Connect refuses a second build upload of the same pair.
	e := newEnv(t, asctest.Options{ProcessingPolls: 1000}, "")
	c := e.client(t)
	data := testIPA(t, asctest.IPAOptions{})
	if _, err := upload(t, c, data, appstore.UploadOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err := upload(t, c, data, appstore.UploadOptions{})
	var used *appstore.BuildUsedError
	if !errors.As(err, &used) || used.Detail == "" {
		t.Fatalf("err = %v, want a BuildUsedError with Apple's words", err)
	}
}

func TestUploadFaults(t *testing.T) {
	e := newEnv(t, asctest.Options{}, "")
	e.s.Inject(asctest.Fault{Path: "/v1/apps", Status: 500})
	e.s.Inject(asctest.Fault{Method: "POST", Path: "/v1/buildUploads", Status: 429})
	e.s.Inject(asctest.Fault{Path: "/upload/", Drop: true, Skip: 1, Times: 2})
	e.s.Inject(asctest.Fault{Path: "/upload/", Status: 503, Skip: 3})
	e.s.Inject(asctest.Fault{Method: "PATCH", Drop: true})
	e.s.Inject(asctest.Fault{Method: "GET", Path: "/v1/buildUploads/", Status: 502})
	data := testIPA(t, asctest.IPAOptions{Padding: 100 << 10})
	res, err := upload(t, e.client(t), data, appstore.UploadOptions{Wait: time.Minute, PollInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.State != appstore.StateValid {
		t.Errorf("state %s", res.State)
	}
	f := e.s.Uploads()[0].File
	if !bytes.Equal(f.Data, data) {
		t.Error("the file differs")
	}
	for off, n := range f.Puts {
		if n != 1 {
			t.Errorf("part at %d accepted %d times", off, n)
		}
	}
}

func TestUploadExpiredURLs(t *testing.T) {
	// A part refused for good (an expired URL answers 403): the client
	// asks for the operations again and sends only what is missing.
	e := newEnv(t, asctest.Options{}, "")
	e.s.Inject(asctest.Fault{Path: "/upload/", Status: 403, Skip: 2, Times: 2})
	data := testIPA(t, asctest.IPAOptions{Padding: 100 << 10})
	if _, err := upload(t, e.client(t), data, appstore.UploadOptions{}); err != nil {
		t.Fatal(err)
	}
	if n := slices.Index(e.s.Requests(), "GET /v1/buildUploadFiles/"+e.s.Uploads()[0].File.ID); n < 0 {
		t.Errorf("the operations were not read again: %q", e.s.Requests())
	}
	for off, n := range e.s.Uploads()[0].File.Puts {
		if n != 1 {
			t.Errorf("part at %d accepted %d times", off, n)
		}
	}
}

func TestUploadResume(t *testing.T) {
	e := newEnv(t, asctest.Options{}, "")
	e.s.Inject(asctest.Fault{Path: "/upload/", Status: 403, Skip: 3, Times: 1000})
	c := e.client(t)
	data := testIPA(t, asctest.IPAOptions{Padding: 100 << 10})
	_, err := upload(t, c, data, appstore.UploadOptions{Parallel: 1})
	var inc *appstore.IncompleteError
	if !errors.As(err, &inc) {
		t.Fatalf("err = %v, want an IncompleteError", err)
	}
	if len(inc.Checkpoint.Done) != 3 || inc.Checkpoint.Parts < 7 {
		t.Fatalf("checkpoint %+v", inc.Checkpoint)
	}
	e.s.ClearFaults()
	res, err := upload(t, c, data, appstore.UploadOptions{Resume: inc.Checkpoint, Wait: time.Minute, PollInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.State != appstore.StateValid || res.BuildUploadID != inc.Checkpoint.BuildUploadID {
		t.Errorf("result %+v", res)
	}
	f := e.s.Uploads()[0].File
	if len(e.s.Uploads()) != 1 || !bytes.Equal(f.Data, data) {
		t.Fatal("resuming made another upload, or the file differs")
	}
	for off, n := range f.Puts {
		if n != 1 {
			t.Errorf("part at %d accepted %d times", off, n)
		}
	}
}

func TestTokenRenewedWhenRefused(t *testing.T) {
	e := newEnv(t, asctest.Options{}, "")
	c := e.client(t)
	once := sync.Once{}
	_, err := upload(t, c, testIPA(t, asctest.IPAOptions{Padding: 100 << 10}), appstore.UploadOptions{
		Progress: func(p appstore.Progress) {
			if p.Phase == appstore.PhaseUploading {
				once.Do(e.s.ExpireTokens)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if n := e.s.Tokens(); n != 2 {
		t.Errorf("%d tokens, want 2", n)
	}
}

func TestTokenRenewedDuringLongUpload(t *testing.T) {
	// The clock moves 7 minutes per part: tokens of 20 minutes must be
	// renewed as the upload goes, or the server refuses them.
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	e := newEnv(t, asctest.Options{Now: clock}, "")
	c := e.client(t, appstore.WithClock(clock), appstore.WithTokenLifetime(appstore.MaxTokenLifetime))
	res, err := upload(t, c, testIPA(t, asctest.IPAOptions{Padding: 100 << 10}), appstore.UploadOptions{
		Parallel: 1, Wait: time.Minute, PollInterval: time.Millisecond,
		Progress: func(p appstore.Progress) {
			if p.Phase == appstore.PhaseUploading {
				mu.Lock()
				now = now.Add(7 * time.Minute)
				mu.Unlock()
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if res.State != appstore.StateValid {
		t.Errorf("state %s", res.State)
	}
	if n := e.s.Tokens(); n < 3 {
		t.Errorf("%d tokens for an upload of an hour", n)
	}
}

func TestUploadFile(t *testing.T) {
	e := newEnv(t, asctest.Options{}, "")
	name := t.TempDir() + "/Example-1.0.ipa"
	if err := writeFile(name, testIPA(t, asctest.IPAOptions{})); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client(t).UploadFile(context.Background(), name, appstore.UploadOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := e.s.Uploads()[0].File.Name; got != "Example-1.0.ipa" {
		t.Errorf("file name %q", got)
	}
	_, err := e.client(t).UploadFile(context.Background(), name+".missing", appstore.UploadOptions{})
	if err == nil {
		t.Error("no error for a missing file")
	}
}

func TestUploadNotIPA(t *testing.T) {
	e := newEnv(t, asctest.Options{}, "")
	_, err := upload(t, e.client(t), []byte("not a zip"), appstore.UploadOptions{})
	if !errors.Is(err, ipa.ErrNotIPA) {
		t.Errorf("err = %v, want ipa.ErrNotIPA", err)
	}
}

func TestUploadCancelled(t *testing.T) {
	e := newEnv(t, asctest.Options{}, "")
	c := e.client(t)
	data := testIPA(t, asctest.IPAOptions{Padding: 100 << 10})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := c.Upload(ctx, bytes.NewReader(data), int64(len(data)), appstore.UploadOptions{Parallel: 1,
		Progress: func(p appstore.Progress) {
			if p.Sent > 0 {
				cancel()
			}
		}})
	var inc *appstore.IncompleteError
	if !errors.As(err, &inc) || !errors.Is(err, context.Canceled) || len(inc.Checkpoint.Done) == 0 {
		t.Fatalf("err = %v, want an IncompleteError for context.Canceled with parts done", err)
	}
	res, err := upload(t, c, data, appstore.UploadOptions{Resume: inc.Checkpoint})
	if err != nil {
		t.Fatal(err)
	}
	if res.BuildUploadID != inc.Checkpoint.BuildUploadID {
		t.Errorf("resumed into another upload: %+v", res)
	}
	for off, n := range e.s.Uploads()[0].File.Puts {
		if n != 1 {
			t.Errorf("part at %d accepted %d times", off, n)
		}
	}
}
