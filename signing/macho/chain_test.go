package macho_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/storesign/storesign/signing"
	"github.com/storesign/storesign/signing/macho"
	"github.com/storesign/storesign/signing/signingtest"
)

// aiaServer serves the WWDR certificate of an Apple PKI whose leaf points
// at it, and counts requests.
type aiaServer struct {
	apple *signingtest.Apple
	hits  atomic.Int32
	body  func() []byte // nil: the WWDR certificate, DER
}

func newAIAServer(t *testing.T) *aiaServer {
	t.Helper()
	s := &aiaServer{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		if r.URL.Path != "/certificates/wwdrg3.cer" {
			http.NotFound(w, r)
			return
		}
		b := s.apple.WWDR.Certificate.Raw
		if s.body != nil {
			b = s.body()
		}
		w.Header().Set("Content-Type", "application/pkix-cert")
		w.Write(b)
	}))
	t.Cleanup(srv.Close)
	s.apple = signingtest.NewApple(signingtest.AppleOptions{AIA: srv.URL + "/certificates/wwdrg3.cer"})
	return s
}

func names(certs []*x509.Certificate) string {
	var n []string
	for _, c := range certs {
		n = append(n, c.Subject.CommonName)
	}
	return strings.Join(n, " | ")
}

func TestResolveChain(t *testing.T) {
	ctx := context.Background()
	s := newAIAServer(t)
	leaf := s.apple.Identity.Certificate
	wwdr, root := s.apple.WWDR.Certificate, s.apple.Root.Certificate

	t.Run("identity chain", func(t *testing.T) {
		got, err := macho.ResolveChain(ctx, leaf, macho.ChainOptions{Chain: s.apple.Identity.Chain, NoCache: true, Offline: true})
		if err != nil {
			t.Fatal(err)
		}
		if names(got) != names([]*x509.Certificate{wwdr, root}) {
			t.Errorf("chain %s", names(got))
		}
	})

	t.Run("chain file", func(t *testing.T) {
		// A --chain file: PEM, root first, with an unrelated certificate.
		var pemFile []byte
		for _, c := range []*x509.Certificate{root, signingtest.NewRoot("Other").Certificate, wwdr} {
			pemFile = append(pemFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
		}
		certs, err := signing.ParseCertificates(pemFile)
		if err != nil {
			t.Fatal(err)
		}
		got, err := macho.ResolveChain(ctx, leaf, macho.ChainOptions{Chain: certs, NoCache: true, Offline: true})
		if err != nil {
			t.Fatal(err)
		}
		if names(got) != names([]*x509.Certificate{wwdr, root}) {
			t.Errorf("chain %s", names(got))
		}
	})

	t.Run("AIA then cache", func(t *testing.T) {
		dir := t.TempDir()
		s.hits.Store(0)
		got, err := macho.ResolveChain(ctx, leaf, macho.ChainOptions{CacheDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		// The test WWDR names no issuer URL, so the root is not found.
		if names(got) != names([]*x509.Certificate{wwdr}) {
			t.Errorf("chain %s", names(got))
		}
		if n := s.hits.Load(); n != 1 {
			t.Errorf("%d requests", n)
		}
		got, err = macho.ResolveChain(ctx, leaf, macho.ChainOptions{CacheDir: dir, Offline: true})
		if err != nil {
			t.Fatalf("from the cache: %v", err)
		}
		if names(got) != names([]*x509.Certificate{wwdr}) || s.hits.Load() != 1 {
			t.Errorf("chain %s after %d requests", names(got), s.hits.Load())
		}
		// The chain is enough to sign, and the signature verifies
		// against the root.
		id, err := signing.NewIdentity(s.apple.Identity.Signer, leaf)
		if err != nil {
			t.Fatal(err)
		}
		in := signingtest.IOSMachO(t, "arm64", "15.0")
		out, _ := signBytes(t, in, macho.SignOptions{Identity: id, Chain: got})
		verifyBytes(t, out, macho.VerifyOptions{Roots: s.apple.Root.Pool()})

		// A damaged cache entry is ignored and refetched.
		entries, _ := os.ReadDir(dir)
		if len(entries) != 1 {
			t.Fatalf("cache holds %d files", len(entries))
		}
		if err := os.WriteFile(filepath.Join(dir, entries[0].Name()), []byte("garbage"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := macho.ResolveChain(ctx, leaf, macho.ChainOptions{CacheDir: dir}); err != nil || s.hits.Load() != 2 {
			t.Errorf("after damaging the cache: %v, %d requests", err, s.hits.Load())
		}
	})

	t.Run("PEM over AIA", func(t *testing.T) {
		s.body = func() []byte { return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: wwdr.Raw}) }
		defer func() { s.body = nil }()
		if _, err := macho.ResolveChain(ctx, leaf, macho.ChainOptions{NoCache: true}); err != nil {
			t.Fatal(err)
		}
	})

	failures := []struct {
		name string
		body func() []byte
		leaf *x509.Certificate
		opts macho.ChainOptions
		want string
	}{
		{name: "offline", opts: macho.ChainOptions{Offline: true}},
		{name: "no AIA", leaf: testApple().Identity.Certificate, want: "names no issuer URL"},
		{name: "wrong certificate", body: func() []byte { return root.Raw }, want: "did not issue"},
		{name: "garbage", body: func() []byte { return []byte("<html>") }, want: "fetching"},
		{name: "unrelated chain", opts: macho.ChainOptions{Chain: []*x509.Certificate{signingtest.NewRoot("Other").Certificate}, Offline: true}},
	}
	for _, tt := range failures {
		t.Run(tt.name, func(t *testing.T) {
			s.body = tt.body
			defer func() { s.body = nil }()
			l := leaf
			if tt.leaf != nil {
				l = tt.leaf
			}
			opts := tt.opts
			opts.CacheDir = t.TempDir()
			_, err := macho.ResolveChain(ctx, l, opts)
			if !errors.Is(err, macho.ErrIncompleteChain) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want ErrIncompleteChain mentioning %q", err, tt.want)
			}
		})
	}

	t.Run("server down", func(t *testing.T) {
		s := newAIAServer(t)
		s.body = func() []byte { panic(http.ErrAbortHandler) }
		_, err := macho.ResolveChain(ctx, s.apple.Identity.Certificate, macho.ChainOptions{NoCache: true})
		if !errors.Is(err, macho.ErrIncompleteChain) || !strings.Contains(err.Error(), "wwdrg3.cer") {
			t.Errorf("got %v", err)
		}
	})

	t.Run("self-signed", func(t *testing.T) {
		got, err := macho.ResolveChain(ctx, signingtest.SelfSigned("me", nil).Certificate, macho.ChainOptions{Offline: true, NoCache: true})
		if err != nil || len(got) != 0 {
			t.Errorf("got %v, %v", names(got), err)
		}
	})
}

func TestSignIncompleteChain(t *testing.T) {
	id, err := signing.NewIdentity(testApple().Identity.Signer, testApple().Identity.Certificate)
	if err != nil {
		t.Fatal(err)
	}
	in := signingtest.IOSMachO(t, "arm64", "15.0")
	var out bytes.Buffer
	_, err = macho.Sign(context.Background(), bytes.NewReader(in), int64(len(in)), &out, macho.SignOptions{Identity: id, Identifier: testIdentifier})
	if !errors.Is(err, macho.ErrIncompleteChain) {
		t.Errorf("got %v, want ErrIncompleteChain", err)
	}
	if out.Len() != 0 {
		t.Errorf("%d bytes written", out.Len())
	}
}
