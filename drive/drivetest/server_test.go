package drivetest_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	drive "google.golang.org/api/drive/v3"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"

	"github.com/storesign/storesign/drive/drivetest"
)

func start(t *testing.T, opts drivetest.Options) (*drivetest.Server, *drive.Service, string) {
	t.Helper()
	s, err := drivetest.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	svc, err := drive.NewService(context.Background(), option.WithHTTPClient(ts.Client()), option.WithEndpoint(ts.URL+"/drive/v3/"))
	if err != nil {
		t.Fatal(err)
	}
	return s, svc, ts.URL
}

func data(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>9)
	}
	return b
}

func md5hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

func TestGetListDownload(t *testing.T) {
	s, svc, _ := start(t, drivetest.Options{})
	ctx := context.Background()
	folder, _ := s.AddFolder("", "", "builds")
	content := data(100000)
	f, err := s.AddFile(folder, "Game's 1.0.ipa", bytes.NewReader(content))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddFile(folder, "other.apk", strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}
	trashed, _ := s.AddFile(folder, "trashed.ipa", strings.NewReader("y"))
	s.Trash(trashed.ID)
	if _, err := s.AddFolder("", folder, "sub.ipa"); err != nil {
		t.Fatal(err)
	}

	got, err := svc.Files.Get(f.ID).Fields("*").Do()
	if err != nil {
		t.Fatal(err)
	}
	if got.Size != int64(len(content)) || got.Md5Checksum != md5hex(content) || got.Sha256Checksum == "" || got.Name != f.Name {
		t.Errorf("metadata = %+v", got)
	}

	for _, tc := range []struct {
		q    string
		want int
	}{
		{`'` + folder + `' in parents`, 4},
		{`'` + folder + `' in parents and trashed = false`, 3},
		{`'` + folder + `' in parents and trashed = false and mimeType != 'application/vnd.google-apps.folder'`, 2},
		{`'` + folder + `' in parents and name = 'Game\'s 1.0.ipa'`, 1},
		{`'` + folder + `' in parents and (name contains '.ipa' or name = 'other.apk') and not trashed = true`, 3},
		{`name = 'nothing'`, 0},
	} {
		fl, err := svc.Files.List().Q(tc.q).Do()
		if err != nil {
			t.Fatalf("%s: %v", tc.q, err)
		}
		if len(fl.Files) != tc.want {
			t.Errorf("%s: %d files, want %d", tc.q, len(fl.Files), tc.want)
		}
	}
	if _, err := svc.Files.List().Q(`name = 'unterminated`).Do(); !isCode(err, 400) {
		t.Errorf("bad query: %v", err)
	}

	// Paging.
	var n int
	err = svc.Files.List().Q(`'`+folder+`' in parents`).PageSize(1).Pages(ctx, func(fl *drive.FileList) error {
		n += len(fl.Files)
		return nil
	})
	if err != nil || n != 4 {
		t.Errorf("pages: %d files, %v", n, err)
	}

	// Download, whole and ranged.
	resp, err := svc.Files.Get(f.ID).Download()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(b, content) {
		t.Error("download differs")
	}
	call := svc.Files.Get(f.ID)
	call.Header().Set("Range", "bytes=1000-1999")
	resp, err = call.Download()
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 206 || !bytes.Equal(b, content[1000:2000]) || resp.Header.Get("Content-Range") != "bytes 1000-1999/100000" {
		t.Errorf("range: %d %q %d bytes", resp.StatusCode, resp.Header.Get("Content-Range"), len(b))
	}

	if _, err := svc.Files.Get("1nope-nope-nope").Do(); !isCode(err, 404) {
		t.Errorf("unknown file: %v", err)
	}
	doc, _ := s.AddGoogleDoc(folder, "notes")
	if _, err := svc.Files.Get(doc).Download(); !isCode(err, 403) {
		t.Errorf("doc download: %v", err)
	}
	s.Hide(f.ID)
	if _, err := svc.Files.Get(f.ID).Do(); !isCode(err, 404) {
		t.Errorf("hidden: %v", err)
	}
}

func isCode(err error, code int) bool {
	var ge *googleapi.Error
	return errors.As(err, &ge) && ge.Code == code
}

func TestUploadsWithGoClient(t *testing.T) {
	s, svc, _ := start(t, drivetest.Options{})
	folder, _ := s.AddFolder("", "", "out")
	small := data(1000)
	// Multipart (the Go client's choice for media under a chunk).
	f, err := svc.Files.Create(&drive.File{Name: "small.bin", Parents: []string{folder}}).
		Media(bytes.NewReader(small)).Fields("id,size,md5Checksum").Do()
	if err != nil {
		t.Fatal(err)
	}
	if f.Size != 1000 || f.Md5Checksum != md5hex(small) {
		t.Errorf("multipart: %+v", f)
	}
	// Resumable, in 256 KiB chunks, POSTed with X-GUploader-No-308.
	big := data(3<<20 + 5)
	f, err = svc.Files.Create(&drive.File{Name: "big.bin", Parents: []string{folder}}).
		Media(bytes.NewReader(big), googleapi.ChunkSize(256<<10)).Fields("id,size,md5Checksum").Do()
	if err != nil {
		t.Fatal(err)
	}
	if f.Size != int64(len(big)) || f.Md5Checksum != md5hex(big) {
		t.Errorf("resumable: %+v", f)
	}
	var chunks int
	for _, r := range s.Requests() {
		if strings.Contains(r.Query, "upload_id=") {
			chunks++
		}
	}
	if chunks != 13 {
		t.Errorf("%d chunk requests, want 13", chunks)
	}
	// A new revision keeps the ID.
	u, err := svc.Files.Update(f.Id, &drive.File{}).Media(bytes.NewReader(small)).Fields("id,size,md5Checksum").Do()
	if err != nil || u.Id != f.Id || u.Size != 1000 {
		t.Fatalf("update: %+v %v", u, err)
	}
	rc, _ := s.Open(f.Id)
	b, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(b, small) {
		t.Error("revision content differs")
	}
	// A folder, then a file in it; metadata update and delete.
	sub, err := svc.Files.Create(&drive.File{Name: "sub", MimeType: drivetest.FolderMimeType, Parents: []string{folder}}).Do()
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Children(folder); len(got) != 3 {
		t.Errorf("children: %+v", got)
	}
	if _, err := svc.Files.Update(sub.Id, &drive.File{Trashed: true}).Do(); err != nil {
		t.Fatal(err)
	}
	if g, _ := s.Get(sub.Id); !g.Trashed {
		t.Error("not trashed")
	}
	if err := svc.Files.Delete(sub.Id).Do(); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Get(sub.Id); ok {
		t.Error("not deleted")
	}
}

func TestSharedDrivesAndQuota(t *testing.T) {
	s, svc, _ := start(t, drivetest.Options{NoQuota: true})
	my, _ := s.AddFolder("", "", "mine")
	sd := s.AddSharedDrive("", "Releases")
	in, _ := s.AddFolder("", sd, "ios")
	_, err := svc.Files.Create(&drive.File{Name: "a", Parents: []string{my}}).Media(strings.NewReader("a")).Do()
	var ge *googleapi.Error
	if !errors.As(err, &ge) || ge.Code != 403 || ge.Errors[0].Reason != "storageQuotaExceeded" {
		t.Errorf("no quota: %v", err)
	}
	// Without supportsAllDrives, a shared drive's items do not exist.
	if _, err := svc.Files.Create(&drive.File{Name: "a", Parents: []string{in}}).Media(strings.NewReader("a")).Do(); !isCode(err, 404) {
		t.Errorf("without supportsAllDrives: %v", err)
	}
	f, err := svc.Files.Create(&drive.File{Name: "a", Parents: []string{in}}).SupportsAllDrives(true).Media(strings.NewReader("a")).Do()
	if err != nil {
		t.Fatal(err)
	}
	fl, err := svc.Files.List().Q("'" + in + "' in parents").Corpora("drive").DriveId(sd).SupportsAllDrives(true).IncludeItemsFromAllDrives(true).Do()
	if err != nil || len(fl.Files) != 1 || fl.Files[0].Id != f.Id || fl.Files[0].DriveId != sd {
		t.Errorf("list in shared drive: %+v %v", fl, err)
	}
	fl, err = svc.Files.List().Q("'" + in + "' in parents").Do()
	if err != nil || len(fl.Files) != 0 {
		t.Errorf("list without includeItemsFromAllDrives: %+v %v", fl, err)
	}
	// Shortcuts carry their target.
	sc, _ := s.AddShortcut(my, "link", f.Id)
	g, err := svc.Files.Get(sc).Fields("shortcutDetails").Do()
	if err != nil || g.ShortcutDetails == nil || g.ShortcutDetails.TargetId != f.Id {
		t.Errorf("shortcut: %+v %v", g, err)
	}
	// Read-only folders refuse uploads.
	s.ReadOnly(in)
	_, err = svc.Files.Create(&drive.File{Name: "b", Parents: []string{in}}).SupportsAllDrives(true).Media(strings.NewReader("b")).Do()
	if !errors.As(err, &ge) || ge.Code != 403 || ge.Errors[0].Reason != "insufficientFilePermissions" {
		t.Errorf("read-only: %v", err)
	}
}

func TestFaultsAreDeterministic(t *testing.T) {
	run := func() []drivetest.Fault {
		s, _, url := start(t, drivetest.Options{Faults: drivetest.Faults{Rate: 0.5, Seed: 7, Delay: time.Millisecond}})
		folder, _ := s.AddFolder("", "", "f")
		s.AddFile(folder, "x", bytes.NewReader(data(1<<20)))
		var got []drivetest.Fault
		for range 40 {
			resp, err := http.Get(url + "/drive/v3/files/" + folder)
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}
		for _, r := range s.Requests() {
			got = append(got, r.Fault)
		}
		return got
	}
	a, b := run(), run()
	if len(a) != 40 || strings.Join(faultStrings(a), ",") != strings.Join(faultStrings(b), ",") {
		t.Fatalf("fault sequences differ:\n%v\n%v", a, b)
	}
	kinds := map[drivetest.Fault]int{}
	for _, f := range a {
		kinds[f]++
	}
	if kinds[drivetest.FaultNone] < 10 || len(kinds) < 5 {
		t.Errorf("fault mix: %v", kinds)
	}
}

func faultStrings(fs []drivetest.Fault) []string {
	var out []string
	for _, f := range fs {
		out = append(out, string(f))
	}
	return out
}

func TestCutDownload(t *testing.T) {
	s, _, url := start(t, drivetest.Options{Faults: drivetest.Faults{Rate: 1, Kinds: []drivetest.Fault{drivetest.FaultCut}, Seed: 1}})
	folder, _ := s.AddFolder("", "", "f")
	f, _ := s.AddFile(folder, "x", bytes.NewReader(data(1<<20)))
	resp, err := http.Get(url + "/drive/v3/files/" + f.ID + "?alt=media")
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err == nil || n >= 1<<20 {
		t.Errorf("cut download: %d bytes, %v", n, err)
	}
	r := s.Requests()[0]
	if r.Status != 0 || r.Fault != drivetest.FaultCut || r.BytesOut != n {
		t.Errorf("log: %+v (client got %d)", r, n)
	}
}
