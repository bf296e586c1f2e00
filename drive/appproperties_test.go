package drive

import (
	"bytes"
	"context"
	"testing"

	"github.com/storesign/storesign/drive/drivetest"
)

// TestUploadAppProperties: an upload stores its appProperties, a listing
// returns them, and a replacement (a new revision, same ID and link) sets
// new ones.
func TestUploadAppProperties(t *testing.T) {
	s, c := newTest(t, drivetest.Options{})
	ctx := context.Background()
	folder, err := s.AddFolder("", "", "signed")
	if err != nil {
		t.Fatal(err)
	}
	first := pattern(3000)
	res, err := c.Upload(ctx, bytes.NewReader(first), int64(len(first)), UploadOptions{
		Folder: folder, Path: "Studio/1.4 (142)", Name: "Studio-1.4-142.ipa",
		AppProperties: map[string]string{"storesignSource": "1src", "storesignSourceMd5": "aa"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Replaced || res.Skipped || res.File.AppProperties["storesignSource"] != "1src" {
		t.Fatalf("first upload: %+v %+v", res, res.File)
	}
	id := res.File.ID
	sub := res.File.Parents[0]
	files, err := c.List(ctx, sub)
	if err != nil || len(files) != 1 || files[0].AppProperties["storesignSourceMd5"] != "aa" {
		t.Fatalf("listing: %v %+v", err, files)
	}

	second := append(pattern(3000), 1)
	res, err = c.Upload(ctx, bytes.NewReader(second), int64(len(second)), UploadOptions{
		Folder: folder, Path: "Studio/1.4 (142)", Name: "Studio-1.4-142.ipa", Replace: true,
		AppProperties: map[string]string{"storesignSourceMd5": "bb"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Replaced || res.File.ID != id {
		t.Fatalf("second upload: %+v %+v", res, res.File)
	}
	f, ok := s.Get(id)
	if !ok || f.Version != 2 || f.Size != int64(len(second)) || f.AppProperties["storesignSource"] != "1src" || f.AppProperties["storesignSourceMd5"] != "bb" {
		t.Errorf("after the new revision: %+v", f)
	}
	if got := s.Children(folder); len(got) != 1 || got[0].Name != "Studio" {
		t.Errorf("the output folder holds %+v, want the one Studio folder", got)
	}
}
