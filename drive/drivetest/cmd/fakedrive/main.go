// Command fakedrive serves a fake Google Drive (package drivetest) for
// workflows and manual runs:
//
//	go run ./drive/drivetest/cmd/fakedrive -addr 127.0.0.1:8089 -seed DIR
//
// It prints the base URL to give storesign (STORESIGN_DRIVE_ENDPOINT) and
// the ID of a folder holding DIR's files (sub-directories become
// folders), plus an empty "out" folder for
// uploads, then serves until interrupted. Uploads are also written to
// -save DIR when given.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/storesign/storesign/drive/drivetest"
	"github.com/storesign/storesign/internal/fakeserver"
)

func main() { fakeserver.Main("fakedrive", run) }

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("fakedrive", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8089", "listen address (loopback)")
	seed := fs.String("seed", "", "serve this directory's files as a folder")
	save := fs.String("save", "", "copy each upload into this directory")
	folder := fs.String("folder", "", "ID of the seeded folder (default: derived from its name)")
	rate := fs.Float64("fault-rate", 0, "share of requests to fault (0..1)")
	faultSeed := fs.Uint64("fault-seed", 1, "seed of the fault sequence")
	noQuota := fs.Bool("no-quota", false, "behave like a service account without storage quota")
	verbose := fs.Bool("v", false, "log every request on stderr")
	if err := fs.Parse(args); err != nil {
		return err
	}
	opts := drivetest.Options{NoQuota: *noQuota, Faults: drivetest.Faults{Rate: *rate, Seed: *faultSeed}}
	opts.Log = fakeserver.Logger(*verbose)
	if *save != "" {
		opts.OnUpload = func(f drivetest.File, folders []string, content string) {
			dst := filepath.Join(append(append([]string{*save}, folders...), f.Name)...)
			err := os.MkdirAll(filepath.Dir(dst), 0o755)
			if err == nil {
				err = copyFile(dst, content)
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, "fakedrive: saving upload:", err)
			}
		}
	}
	s, err := drivetest.New(opts)
	if err != nil {
		return err
	}
	defer s.Close()
	name := "fakedrive"
	if *seed != "" {
		name = filepath.Base(filepath.Clean(*seed))
	}
	in, err := s.AddFolder(*folder, "", name)
	if err != nil {
		return err
	}
	if *seed != "" {
		if err := addDir(s, in, *seed, 0); err != nil {
			return err
		}
	}
	out, err := s.AddFolder("", "", "out")
	if err != nil {
		return err
	}
	return fakeserver.Serve(ctx, *addr, s, func(url string) { fmt.Fprintf(stdout, "url=%s\nfolder=%s\nout=%s\n", url, in, out) })
}

// addDir adds dir's files to folder, and its sub-directories as folders
// (at most 16 deep).
func addDir(s *drivetest.Server, folder, dir string, depth int) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		path := filepath.Join(dir, e.Name())
		switch {
		case e.IsDir() && depth < 16:
			sub, err := s.AddFolder("", folder, e.Name())
			if err != nil {
				return err
			}
			if err := addDir(s, sub, path, depth+1); err != nil {
				return err
			}
		case e.Type().IsRegular():
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			_, err = s.AddFile(folder, e.Name(), f)
			f.Close()
			if err != nil {
				return err
			}
		}
	}
	return nil
}

func copyFile(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
