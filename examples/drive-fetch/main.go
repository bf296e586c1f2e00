// Command drive-fetch downloads the newest build matching a name from a
// Google Drive folder, as a team's script would before handing it to QA:
//
//	go run ./examples/drive-fetch -folder https://drive.google.com/drive/folders/ID -name 'MyGame-*.ipa' -out builds/
//
// Credentials are Application Default Credentials: GOOGLE_APPLICATION_CREDENTIALS
// (a service account key, or the file google-github-actions/auth writes),
// or gcloud's. STORESIGN_DRIVE_ENDPOINT points it at a fake Drive
// (go run ./drive/drivetest/cmd/fakedrive) for a try without an account.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"

	"github.com/storesign/storesign/drive"
)

func main() {
	folder := flag.String("folder", "", "the Drive folder (link or ID)")
	name := flag.String("name", "*.ipa", "the file name or pattern; the newest match wins")
	out := flag.String("out", ".", "the folder to download into")
	flag.Parse()
	if *folder == "" {
		flag.Usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *folder, *name, *out); err != nil {
		log.Fatalf("drive-fetch: %v", err)
	}
}

func run(ctx context.Context, folder, name, out string) error {
	c, err := drive.New(ctx, drive.WithScope(drive.ScopeReadOnly))
	if err != nil {
		return err
	}
	f, err := c.Find(ctx, folder, drive.FindOptions{Name: name, Newest: true})
	if err != nil {
		return err
	}
	target := filepath.Join(out, filepath.Base(f.Name))
	// DownloadFile checks size and checksums and renames the file into
	// place only when they match.
	if err := c.DownloadFile(ctx, f, target, drive.DownloadOptions{}); err != nil {
		return err
	}
	fmt.Printf("%s: %d bytes, modified %s, SHA-256 %s\n", target, f.Size, f.ModifiedTime.Format("2006-01-02 15:04"), f.SHA256)
	return nil
}
