package drive_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/storesign/storesign/drive"
	"github.com/storesign/storesign/drive/drivetest"
)

// A fake Drive with one build in a folder: find the newest .ipa, download
// it, and upload a signed copy into a sub-folder.
func Example() {
	fake, _ := drivetest.New(drivetest.Options{})
	defer fake.Close()
	srv := httptest.NewServer(fake)
	defer srv.Close()
	folder, _ := fake.AddFolder("", "", "deliveries")
	fake.AddFile(folder, "Game-1.2.ipa", strings.NewReader("an ipa"))

	ctx := context.Background()
	c, err := drive.New(ctx, drive.WithEndpoint(srv.URL))
	if err != nil {
		fmt.Println(err)
		return
	}
	f, err := c.Find(ctx, "https://drive.google.com/drive/folders/"+folder, drive.FindOptions{Name: "*.ipa", Newest: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, f.Name)
	if err := c.DownloadFile(ctx, f, out, drive.DownloadOptions{}); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("downloaded", f.Name, f.Size, "bytes")

	res, err := c.UploadFile(ctx, out, drive.UploadOptions{Folder: folder, Path: "signed", Name: "Game-1.2-signed.ipa"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("uploaded", res.File.Name, res.File.Size, "bytes", res.File.MD5)
	// Output:
	// downloaded Game-1.2.ipa 6 bytes
	// uploaded Game-1.2-signed.ipa 6 bytes 350122985411cff93fb223ebb65891e3
}

func ExampleParseRef() {
	r, _ := drive.ParseRef("https://drive.google.com/file/d/1AbCdEfGhIjKlMnOpQrStUv/view?usp=sharing")
	fmt.Println(r.ID)
	// Output: 1AbCdEfGhIjKlMnOpQrStUv
}
