package drive

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/storesign/storesign/drive/drivetest"
)

// fastRetry keeps tests quick: tiny backoffs, short deadline.
var fastRetry = Retry{Initial: time.Millisecond, Max: 20 * time.Millisecond, Deadline: 20 * time.Second, Stall: 10 * time.Second}

func newTest(t testing.TB, sopts drivetest.Options, opts ...Option) (*drivetest.Server, *Client) {
	t.Helper()
	s, err := drivetest.New(sopts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	opts = append([]Option{WithEndpoint(ts.URL), WithRetry(fastRetry), WithoutEnvironment()}, opts...)
	c, err := New(context.Background(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s, c
}

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*31 + i>>11)
	}
	return b
}

func md5hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

func TestParseRef(t *testing.T) {
	const id = "1AbCdEfGhIjKlMnOpQrStUvWxYz_-0123"
	for _, tc := range []struct {
		in, id, key string
	}{
		{id, id, ""},
		{" " + id + "\n", id, ""},
		{"https://drive.google.com/file/d/" + id + "/view?usp=sharing", id, ""},
		{"https://drive.google.com/file/d/" + id, id, ""},
		{"https://drive.google.com/file/u/1/d/" + id + "/view", id, ""},
		{"https://drive.google.com/open?id=" + id, id, ""},
		{"https://drive.google.com/uc?id=" + id + "&export=download", id, ""},
		{"https://drive.google.com/uc?export=download&id=" + id, id, ""},
		{"https://drive.google.com/drive/folders/" + id, id, ""},
		{"https://drive.google.com/drive/u/0/folders/" + id + "?resourcekey=0-KEY", id, "0-KEY"},
		{"https://docs.google.com/document/d/" + id + "/edit", id, ""},
		{"drive.google.com/file/d/" + id + "/view", id, ""},
	} {
		r, err := ParseRef(tc.in)
		if err != nil || r.ID != tc.id || r.ResourceKey != tc.key {
			t.Errorf("ParseRef(%q) = %+v, %v", tc.in, r, err)
		}
	}
	for _, bad := range []string{"", "short", "has space inside it", "https://drive.google.com/drive/my-drive", "https://example.com/", "https://drive.google.com/file/d//view", "id=" + id + "&x"} {
		if r, err := ParseRef(bad); !errors.Is(err, ErrBadReference) {
			t.Errorf("ParseRef(%q) = %+v, %v; want ErrBadReference", bad, r, err)
		}
	}
}

func FuzzParseRef(f *testing.F) {
	for _, s := range []string{"1AbCdEfGhIjKlMnOpQrStUvWxYz", "https://drive.google.com/file/d/1AbCdEfGhIjK/view", "https://drive.google.com/open?id=1AbCdEfGhIjK&resourcekey=k", "https://drive.google.com/drive/folders/1AbCdEfGhIjK", "%zz://", "?id=", "https://x/d/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRef(s)
		if err != nil {
			if !errors.Is(err, ErrBadReference) {
				t.Fatalf("error %v does not wrap ErrBadReference", err)
			}
			return
		}
		if !validID(r.ID) {
			t.Fatalf("ParseRef(%q) gave bad ID %q", s, r.ID)
		}
		// An ID parses to itself.
		if r2, err := ParseRef(r.ID); err != nil || r2.ID != r.ID {
			t.Fatalf("ParseRef(%q) = %+v, %v", r.ID, r2, err)
		}
	})
}

func TestQuote(t *testing.T) {
	if got := quote(`it's a \ test`); got != `'it\'s a \\ test'` {
		t.Errorf("quote = %s", got)
	}
}

func TestFind(t *testing.T) {
	s, c := newTest(t, drivetest.Options{})
	ctx := context.Background()
	folder, _ := s.AddFolder("", "", "builds")
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	add := func(name string, age int) drivetest.File {
		f, err := s.AddFile(folder, name, strings.NewReader(name))
		if err != nil {
			t.Fatal(err)
		}
		s.SetModified(f.ID, t0.Add(time.Duration(age)*time.Hour))
		return f
	}
	old := add("Game-1.0.ipa", 1)
	newer := add("Game-1.1.ipa", 2)
	quoted := add(`Bob's "best" \ build.apk`, 3)
	tr := add("Game-9.9.ipa", 9)
	s.Trash(tr.ID)
	if _, err := s.AddFolder("", folder, "Game-folder.ipa"); err != nil {
		t.Fatal(err)
	}
	doc, _ := s.AddGoogleDoc(folder, "Game-notes.ipa")
	s.SetModified(doc, t0)
	other, _ := s.AddFolder("", "", "elsewhere")
	target, _ := s.AddFile(other, "real.aab", strings.NewReader("aab"))
	if _, err := s.AddShortcut(folder, "link.aab", target.ID); err != nil {
		t.Fatal(err)
	}
	folderLink := "https://drive.google.com/drive/folders/" + folder

	for _, tc := range []struct {
		name   string
		newest bool
		want   string
	}{
		{"Game-1.0.ipa", false, old.ID},
		{"Game-1.1.ipa", false, newer.ID},
		{`Bob's "best" \ build.apk`, false, quoted.ID},
		{"*.apk", false, quoted.ID},
		{"Game-1.?.ipa", true, newer.ID},
		{"Game-*.ipa", true, newer.ID},
		{"link.aab", false, target.ID},
	} {
		f, err := c.Find(ctx, folderLink, FindOptions{Name: tc.name, Newest: tc.newest})
		if err != nil {
			t.Errorf("Find(%q): %v", tc.name, err)
			continue
		}
		if f.ID != tc.want {
			t.Errorf("Find(%q) = %s (%s), want %s", tc.name, f.Name, f.ID, tc.want)
		}
	}
	_, err := c.Find(ctx, folder, FindOptions{Name: "Game-1.*.ipa"})
	var ae *AmbiguousError
	if !errors.As(err, &ae) || len(ae.Candidates) != 2 || ae.Candidates[0].ID != newer.ID ||
		!strings.Contains(err.Error(), "Game-1.0.ipa") || !strings.Contains(err.Error(), "Game-1.1.ipa") {
		t.Errorf("ambiguous: %v", err)
	}
	if _, err := c.Find(ctx, folder, FindOptions{Name: "Game-9.9.ipa"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("trashed: %v", err)
	}
	if _, err := c.Find(ctx, folder, FindOptions{Name: "Game-folder.ipa"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("folder: %v", err)
	}
	if _, err := c.Find(ctx, old.ID, FindOptions{Name: "x"}); !errors.Is(err, ErrNotFolder) {
		t.Errorf("file as folder: %v", err)
	}
	if _, err := c.Find(ctx, folder, FindOptions{Name: "[x"}); err == nil {
		t.Error("bad pattern accepted")
	}

	files, err := c.List(ctx, folder)
	if err != nil || len(files) != 6 {
		t.Errorf("List: %d files, %v", len(files), err)
	}
}

func TestSharedDrive(t *testing.T) {
	s, c := newTest(t, drivetest.Options{NoQuota: true})
	ctx := context.Background()
	sd := s.AddSharedDrive("", "Releases")
	folder, _ := s.AddFolder("", sd, "android")
	content := pattern(300000)
	res, err := c.Upload(ctx, bytes.NewReader(content), int64(len(content)), UploadOptions{Folder: folder, Path: "2026/01", Name: "app.aab"})
	if err != nil {
		t.Fatal(err)
	}
	if res.File.DriveID != sd || res.File.WebViewLink == "" {
		t.Errorf("uploaded %+v", res.File)
	}
	f, err := c.Find(ctx, res.File.Parents[0], FindOptions{Name: "*.aab"})
	if err != nil || f.ID != res.File.ID {
		t.Fatalf("Find in shared drive: %+v %v", f, err)
	}
	var buf bytes.Buffer
	if err := c.Download(ctx, f, &buf, DownloadOptions{}); err != nil || !bytes.Equal(buf.Bytes(), content) {
		t.Fatalf("download from shared drive: %v", err)
	}
	// The sub-path is reused, not duplicated.
	if _, err := c.Upload(ctx, strings.NewReader("x"), 1, UploadOptions{Folder: folder, Path: "2026/01", Name: "b"}); err != nil {
		t.Fatal(err)
	}
	if n := len(s.Children(folder)); n != 1 {
		t.Errorf("%d items in folder, want 1", n)
	}
}

func TestDownloadFile(t *testing.T) {
	s, c := newTest(t, drivetest.Options{})
	ctx := context.Background()
	folder, _ := s.AddFolder("", "", "in")
	content := pattern(5<<20 + 17)
	df, _ := s.AddFile(folder, "app.ipa", bytes.NewReader(content))
	f, err := c.Stat(ctx, "https://drive.google.com/file/d/"+df.ID+"/view?usp=sharing")
	if err != nil {
		t.Fatal(err)
	}
	if f.Size != int64(len(content)) || f.MD5 != md5hex(content) || f.SHA256 == "" {
		t.Fatalf("Stat = %+v", f)
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "app.ipa")
	var last Progress
	if err := c.DownloadFile(ctx, f, out, DownloadOptions{Progress: func(p Progress) { last = p }}); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(out)
	if !bytes.Equal(got, content) {
		t.Fatal("content differs")
	}
	if last.Done != last.Total || last.Total != int64(len(content)) {
		t.Errorf("last progress %+v", last)
	}
	assertOnly(t, dir, "app.ipa")
}

// assertOnly checks that dir holds exactly the named files (no temp files).
func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Errorf("%s holds %v, want %v", dir, got, names)
	}
}

func TestDownloadResumes(t *testing.T) {
	// The first download request is cut mid-body; the next must ask for
	// the rest with Range rather than start over.
	s, c := newTest(t, drivetest.Options{Faults: drivetest.Faults{Seed: 3, Script: []drivetest.Fault{
		drivetest.FaultNone, drivetest.FaultCut, drivetest.FaultNone}}})
	ctx := context.Background()
	folder, _ := s.AddFolder("", "", "in")
	content := pattern(8 << 20)
	df, _ := s.AddFile(folder, "big.apk", bytes.NewReader(content))
	f, err := c.Stat(ctx, df.ID)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := c.Download(ctx, f, &buf, DownloadOptions{}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), content) {
		t.Fatal("content differs")
	}
	var gets []drivetest.Request
	for _, r := range s.Requests() {
		if strings.Contains(r.Query, "alt=media") {
			gets = append(gets, r)
		}
	}
	if len(gets) != 2 || gets[0].Fault != drivetest.FaultCut || gets[1].Range == "" {
		t.Fatalf("download requests: %+v", gets)
	}
	if served := s.BytesServed(); served != int64(len(content)) {
		t.Errorf("served %d bytes for a %d-byte file: the download restarted", served, len(content))
	}
	if want := fmt.Sprintf("bytes=%d-", gets[0].BytesOut); gets[1].Range != want {
		t.Errorf("resumed with %q, want %q", gets[1].Range, want)
	}
}

// failingWriter fails with ENOSPC after n bytes.
type failingWriter struct {
	w io.Writer
	n int64
}

func (f *failingWriter) Write(b []byte) (int, error) {
	if int64(len(b)) > f.n {
		return 0, &os.PathError{Op: "write", Path: "out", Err: syscall.ENOSPC}
	}
	f.n -= int64(len(b))
	return f.w.Write(b)
}

func TestErrors(t *testing.T) {
	s, c := newTest(t, drivetest.Options{NoQuota: true})
	ctx := context.Background()
	folder, _ := s.AddFolder("", "", "in")
	sd := s.AddSharedDrive("", "Team")
	ro, _ := s.AddFolder("", sd, "readonly")
	s.ReadOnly(ro)
	s.AddFile(folder, "a.ipa", strings.NewReader("one"))
	s.AddFile(folder, "b.ipa", strings.NewReader("two"))
	doc, _ := s.AddGoogleDoc(folder, "build.ipa")
	hidden, _ := s.AddFile(folder, "secret.apk", strings.NewReader("x"))
	s.Hide(hidden.ID)
	corrupt, _ := s.AddFile(folder, "corrupt.apk", bytes.NewReader(pattern(1000)))
	s.Corrupt(corrupt.ID)
	big, _ := s.AddFile(folder, "big.apk", bytes.NewReader(pattern(3<<20)))
	local := filepath.Join(t.TempDir(), "up.ipa")
	os.WriteFile(local, []byte("local"), 0o644)

	dir := t.TempDir()
	out := filepath.Join(dir, "out.ipa")
	download := func(id string) error {
		f, err := c.Stat(ctx, id)
		if err != nil {
			return err
		}
		return c.DownloadFile(ctx, f, out, DownloadOptions{})
	}
	for _, tc := range []struct {
		name string
		run  func() error
		is   error
		msg  string
	}{
		{"unknown file", func() error { return download("1unknownunknownunknown") }, ErrNotFound, "not found, or the account cannot see it"},
		{"hidden file", func() error { return download(hidden.ID) }, ErrNotFound, "share the file or folder"},
		{"missing folder", func() error {
			_, err := c.Find(ctx, "1missingfolder000", FindOptions{Name: "a.ipa"})
			return err
		}, ErrNotFound, "check the ID or link"},
		{"google doc", func() error { return download(doc) }, ErrGoogleDoc, "Google Docs file"},
		{"ambiguous", func() error {
			_, err := c.Find(ctx, folder, FindOptions{Name: "?.ipa"})
			return err
		}, nil, "2 files in folder in match \"?.ipa\""},
		{"no quota", func() error {
			_, err := c.UploadFile(ctx, local, UploadOptions{Folder: folder})
			return err
		}, ErrNoQuota, "upload into a folder in a shared drive"},
		{"permission denied", func() error {
			_, err := c.UploadFile(ctx, local, UploadOptions{Folder: ro})
			return err
		}, ErrPermission, "Editor access"},
		{"exists", func() error {
			_, err := c.Upload(ctx, strings.NewReader("other"), 5, UploadOptions{Folder: folder, Name: "a.ipa"})
			return err
		}, ErrExists, "--replace"},
		{"corrupt", func() error { return download(corrupt.ID) }, ErrChecksum, "MD5"},
		{"disk full", func() error {
			c.wrapWriter = func(w io.Writer) io.Writer { return &failingWriter{w: w, n: 1 << 20} }
			defer func() { c.wrapWriter = nil }()
			return download(big.ID)
		}, syscall.ENOSPC, "no space left"},
	} {
		err := tc.run()
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		if tc.is != nil && !errors.Is(err, tc.is) {
			t.Errorf("%s: %v does not wrap %v", tc.name, err, tc.is)
		}
		if !strings.Contains(err.Error(), tc.msg) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: message %q lacks %q", tc.name, err, tc.msg)
		}
		assertOnly(t, dir)
	}
}

func TestAuthFailsAtOnce(t *testing.T) {
	s, c := newTest(t, drivetest.Options{Token: "good"})
	folder, _ := s.AddFolder("", "", "in")
	_, err := c.List(context.Background(), folder)
	if !errors.Is(err, ErrAuth) || !strings.Contains(err.Error(), "credentials") {
		t.Fatalf("got %v", err)
	}
	if n := len(s.Requests()); n != 1 {
		t.Errorf("%d requests: a 401 must not be retried", n)
	}
}

func TestRetriesEveryCall(t *testing.T) {
	var logs bytes.Buffer
	s, c := newTest(t, drivetest.Options{Faults: drivetest.Faults{Rate: 0.5, Seed: 11, Delay: time.Millisecond}},
		WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	ctx := context.Background()
	folder, _ := s.AddFolder("", "", "in")
	content := pattern(2<<20 + 3)
	s.SetFaults(drivetest.Faults{})
	s.AddFile(folder, "x.apk", bytes.NewReader(content))
	s.SetFaults(drivetest.Faults{Rate: 0.5, Seed: 11, Delay: time.Millisecond})
	for i := range 5 {
		f, err := c.Find(ctx, folder, FindOptions{Name: "*.apk"})
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := c.Download(ctx, f, &buf, DownloadOptions{}); err != nil || !bytes.Equal(buf.Bytes(), content) {
			t.Fatalf("download %d: %v", i, err)
		}
		res, err := c.Upload(ctx, bytes.NewReader(content), int64(len(content)), UploadOptions{
			Folder: folder, Path: "sub", Name: fmt.Sprintf("up%d.apk", i), ChunkSize: 256 << 10})
		if err != nil {
			t.Fatal(err)
		}
		if res.File.MD5 != md5hex(content) {
			t.Fatalf("upload %d: %+v", i, res.File)
		}
	}
	kinds := map[drivetest.Fault]int{}
	for _, r := range s.Requests() {
		kinds[r.Fault]++
	}
	if len(kinds) < 7 {
		t.Errorf("not every fault kind was met: %v", kinds)
	}
	if !strings.Contains(logs.String(), "drive: retrying") || strings.Contains(logs.String(), "upload_id=s") {
		t.Errorf("retry log lacks retries or shows a session ID:\n%s", logs.String())
	}
	var subs int
	for _, f := range s.Children(folder) {
		if f.Name == "sub" {
			subs++
		}
	}
	if subs != 1 {
		t.Errorf("%d sub folders, want 1", subs)
	}
}

func TestUpload(t *testing.T) {
	s, c := newTest(t, drivetest.Options{})
	ctx := context.Background()
	folder, _ := s.AddFolder("", "", "out")
	dir := t.TempDir()
	path := filepath.Join(dir, "app-signed.apk")
	v1 := pattern(1<<20 + 100)
	os.WriteFile(path, v1, 0o644)
	var calls int
	res, err := c.UploadFile(ctx, path, UploadOptions{Folder: folder, ChunkSize: 256 << 10, Progress: func(Progress) { calls++ }})
	if err != nil {
		t.Fatal(err)
	}
	if res.Skipped || res.Replaced || res.File.Name != "app-signed.apk" || res.File.Size != int64(len(v1)) || calls < 5 {
		t.Errorf("first upload: %+v, %d progress calls", res, calls)
	}
	id := res.File.ID
	// Same bytes again: skipped.
	res, err = c.UploadFile(ctx, path, UploadOptions{Folder: folder})
	if err != nil || !res.Skipped || res.File.ID != id {
		t.Fatalf("second upload: %+v %v", res, err)
	}
	// Different bytes: refused without Replace, a new revision with it.
	v2 := pattern(2000)
	os.WriteFile(path, v2, 0o644)
	if _, err := c.UploadFile(ctx, path, UploadOptions{Folder: folder}); !errors.Is(err, ErrExists) {
		t.Fatalf("no replace: %v", err)
	}
	res, err = c.UploadFile(ctx, path, UploadOptions{Folder: folder, Replace: true})
	if err != nil || !res.Replaced || res.File.ID != id || res.File.Size != 2000 {
		t.Fatalf("replace: %+v %v", res, err)
	}
	rc, _ := s.Open(id)
	got, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(got, v2) {
		t.Error("revision content differs")
	}
	if n := len(s.Children(folder)); n != 1 {
		t.Errorf("%d files in folder, want 1", n)
	}
	// An empty file.
	res, err = c.Upload(ctx, strings.NewReader(""), 0, UploadOptions{Folder: folder, Name: "empty"})
	if err != nil || res.File.Size != 0 {
		t.Fatalf("empty: %+v %v", res, err)
	}
}

func TestEndpointFromEnvironment(t *testing.T) {
	s, err := drivetest.New(drivetest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ts := httptest.NewServer(s)
	defer ts.Close()
	folder, _ := s.AddFolder("", "", "env")
	t.Setenv(EndpointEnv, ts.URL+"/")
	c, err := New(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.List(context.Background(), folder); err != nil {
		t.Fatal(err)
	}
}

func TestCredentialsErrors(t *testing.T) {
	for _, tc := range []struct {
		json, msg string
	}{
		{`not json`, "not a JSON credentials file"},
		{`{"type":"weird"}`, `unsupported credentials type "weird"`},
	} {
		_, err := New(context.Background(), WithCredentialsJSON([]byte(tc.json)), WithoutEnvironment())
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: %v", tc.json, err)
		}
	}
	_, err := New(context.Background(), WithCredentialsFile(filepath.Join(t.TempDir(), "none.json")))
	if err == nil || !strings.Contains(err.Error(), "reading credentials") {
		t.Errorf("missing file: %v", err)
	}
}

func TestUploadSessionExpires(t *testing.T) {
	s, c := newTest(t, drivetest.Options{})
	folder, _ := s.AddFolder("", "", "out")
	content := pattern(2 << 20)
	expired := false
	res, err := c.Upload(context.Background(), bytes.NewReader(content), int64(len(content)), UploadOptions{
		Folder: folder, Name: "x.apk", ChunkSize: 256 << 10,
		Progress: func(p Progress) {
			if !expired && p.Done >= 1<<20 {
				expired = true
				s.ExpireSessions()
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if res.File.MD5 != md5hex(content) || len(s.Children(folder)) != 1 {
		t.Errorf("after restart: %+v, %d files", res.File, len(s.Children(folder)))
	}
	var opens int
	for _, r := range s.Requests() {
		if strings.Contains(r.Query, "uploadType=resumable") && !strings.Contains(r.Query, "upload_id") {
			opens++
		}
	}
	if opens != 2 {
		t.Errorf("%d sessions opened, want 2", opens)
	}
}
