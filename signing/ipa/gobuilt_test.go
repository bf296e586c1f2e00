package ipa

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/storesign/storesign/internal/testenv"
	"github.com/storesign/storesign/signing/signingtest"
)

// TestGoBuiltBinaries re-signs an app whose executables come from the Go
// linker (fat arm64+x86_64 main executable with an old minimum iOS, so a
// SHA-1 CodeDirectory too; an arm64 extension), replacing the linker's
// ad-hoc signatures, and checks the result with openssl and go-macho.
func TestGoBuiltBinaries(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Go binaries")
	}
	fat := signingtest.FatIOSMachO(t, "10.0")
	arm := signingtest.IOSMachO(t, "arm64", "15.0")
	files := signingtest.IPAFiles(signingtest.IPAOptions{})
	for i, f := range files {
		switch f.Name {
		case "Payload/Example.app/Example":
			files[i].Data = fat
		case "Payload/Example.app/PlugIns/Share.appex/Share":
			files[i].Data = arm
		}
	}
	var in bytes.Buffer
	if err := signingtest.WriteZip(&in, files, signingtest.Epoch); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t)
	out, rep := resign(t, in.Bytes(), f.opts())
	if _, err := Verify(context.Background(), bytes.NewReader(out), int64(len(out)), f.vopts()); err != nil {
		t.Fatal(err)
	}
	app := rep.Bundles[len(rep.Bundles)-1]
	if len(app.Archs) != 2 {
		t.Errorf("main executable archs %v", app.Archs)
	}
	openssl := testenv.Tool(t, "openssl")
	dir := t.TempDir()
	rootPEM := filepath.Join(dir, "root.pem")
	os.WriteFile(rootPEM, signingtest.CertPEM(f.apple.Root.Certificate), 0o600)
	zf := zipFiles(t, out)
	for _, name := range []string{"Payload/Example.app/Example", "Payload/Example.app/PlugIns/Share.appex/Share"} {
		for i, sl := range slicesOf(t, readZip(t, zf[name])) {
			checkSlice(t, openssl, rootPEM, dir, i, sl)
		}
	}
}
