// Command fakeasc serves a fake App Store Connect API (package asctest)
// for workflows and manual runs:
//
//	go run ./store/appstore/asctest/cmd/fakeasc -addr 127.0.0.1:8090 \
//	    -key AuthKey_ABC123DEFG.p8 -issuer ISSUER -app com.example.app
//
// It accepts the tokens of the API key in -key (its public half; the
// key ID is taken from the file name unless -key-id is given), knows the
// apps given with -app (repeatable, BUNDLE_ID or BUNDLE_ID=Name), prints
// the URL to give storesign (STORESIGN_ASC_ENDPOINT) and serves until
// interrupted. -gen-key FILE first writes a throwaway key there (and
// uses it), for workflows that need one. Uploads are written to -save DIR
// when given, as <app ID>-<version>-<build>.ipa. -sample-ipa FILE writes
// an IPA that passes ipa check (signed with throwaway identities) and
// exits.
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/storesign/storesign/internal/fakeserver"
	"github.com/storesign/storesign/store/appstore"
	"github.com/storesign/storesign/store/appstore/asctest"
)

func main() { fakeserver.Main("fakeasc", run) }

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("fakeasc", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8090", "listen address (loopback)")
	keyFile := fs.String("key", "", "the API key (.p8) whose tokens are accepted")
	genKey := fs.String("gen-key", "", "write a throwaway API key (.p8) to this file first and accept it")
	keyID := fs.String("key-id", "", "the key ID (default: from AuthKey_<ID>.p8)")
	issuer := fs.String("issuer", "00000000-0000-0000-0000-000000000000", "the issuer ID")
	role := fs.String("role", asctest.RoleAppManager, "the key's role (ADMIN, APP_MANAGER, DEVELOPER, FINANCE, SALES)")
	partSize := fs.Int64("part-size", asctest.DefaultPartSize, "bytes per upload operation")
	polls := fs.Int("processing-polls", 1, "looks at a committed upload that see it PROCESSING")
	save := fs.String("save", "", "write each committed upload into this directory")
	verbose := fs.Bool("v", false, "log every request on stderr")
	sample := fs.String("sample-ipa", "", "write a small IPA that passes ipa check to this file (bundle ID: the first -app) and exit")
	sampleBuild := fs.String("sample-build", "1", "the sample IPA's CFBundleVersion")
	var apps fakeserver.List
	fs.Var(&apps, "app", "an app: BUNDLE_ID or BUNDLE_ID=Name (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *sample != "" {
		bundle := "com.example.app"
		if len(apps) > 0 {
			bundle, _, _ = strings.Cut(apps[0], "=")
		}
		b, err := asctest.IPA(asctest.IPAOptions{BundleID: bundle, Build: *sampleBuild})
		if err != nil {
			return err
		}
		return os.WriteFile(*sample, b, 0o644)
	}
	if *genKey != "" {
		priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return err
		}
		der, err := x509.MarshalPKCS8PrivateKey(priv)
		if err != nil {
			return err
		}
		if err := os.WriteFile(*genKey, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
			return err
		}
		*keyFile = *genKey
	}
	if *keyFile == "" {
		return errors.New("give the API key to accept with -key (or -gen-key)")
	}
	key, err := appstore.ParseKeyFile(*keyFile, *keyID, *issuer)
	if err != nil {
		return err
	}
	opts := asctest.Options{PartSize: *partSize, ProcessingPolls: *polls}
	opts.Log = fakeserver.Logger(*verbose)
	s := asctest.New(opts)
	s.AddKey(key, *role)
	for _, a := range apps {
		id, name, _ := strings.Cut(a, "=")
		if name == "" {
			name = id
		}
		s.AddApp(id, name)
	}
	var h http.Handler = s
	if *save != "" {
		h = saving(s, *save)
	}
	return fakeserver.Serve(ctx, *addr, h, func(url string) { fmt.Fprintf(stdout, "url=%s\nkey_id=%s\nissuer=%s\n", url, key.ID, key.IssuerID) })
}

// saving writes each upload into dir once committed.
func saving(s *asctest.Server, dir string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.ServeHTTP(w, r)
		if r.Method != http.MethodPatch {
			return
		}
		for _, u := range s.Uploads() {
			if u.File == nil || !u.File.Uploaded {
				continue
			}
			name := filepath.Join(dir, fmt.Sprintf("%s-%s-%s.ipa", u.AppID, u.Version, u.Build))
			if _, err := os.Stat(name); err == nil {
				continue
			}
			if err := os.WriteFile(name, u.File.Data, 0o644); err != nil {
				fmt.Fprintln(os.Stderr, "fakeasc: saving upload:", err)
			}
		}
	})
}
