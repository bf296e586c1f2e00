package macho

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

const maxCertFetch = 1 << 20

func resolveChain(ctx context.Context, leaf *x509.Certificate, opts ChainOptions) ([]*x509.Certificate, error) {
	if leaf == nil {
		return nil, errors.New("macho: no certificate to resolve the chain of")
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cacheDir := ""
	if !opts.NoCache {
		cacheDir = opts.CacheDir
		if cacheDir == "" {
			if d, err := os.UserCacheDir(); err == nil {
				cacheDir = filepath.Join(d, "storesign", "certs")
			}
		}
	}
	client := opts.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	var chain []*x509.Certificate
	cur := leaf
	for depth := 0; depth < 5 && !isSelfSigned(cur); depth++ {
		issuer := issuerOf(cur, opts.Chain)
		if issuer == nil && cacheDir != "" {
			issuer = fromCache(cacheDir, cur)
		}
		if issuer == nil && !opts.Offline {
			var err error
			issuer, err = fetchIssuer(ctx, client, cur, cacheDir, log)
			if err != nil {
				if depth == 0 {
					return nil, fmt.Errorf("%w: %v", ErrIncompleteChain, err)
				}
				log.Debug("cannot fetch the root; signing without it", "subject", cur.Subject.CommonName, "err", err)
			}
		}
		if issuer == nil {
			if depth == 0 {
				return nil, ErrIncompleteChain
			}
			break
		}
		chain = append(chain, issuer)
		cur = issuer
	}
	return chain, nil
}

// cacheName names the cached issuer of cert by its issuer name and
// authority key ID.
func cacheName(cert *x509.Certificate) string {
	h := sha256.New()
	h.Write(cert.RawIssuer)
	h.Write(cert.AuthorityKeyId)
	return hex.EncodeToString(h.Sum(nil)[:16]) + ".pem"
}

func fromCache(dir string, cert *x509.Certificate) *x509.Certificate {
	b, err := os.ReadFile(filepath.Join(dir, cacheName(cert)))
	if err != nil {
		return nil
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return nil
	}
	return issuerOf(cert, []*x509.Certificate{c})
}

func fetchIssuer(ctx context.Context, client *http.Client, cert *x509.Certificate, cacheDir string, log *slog.Logger) (*x509.Certificate, error) {
	if len(cert.IssuingCertificateURL) == 0 {
		return nil, fmt.Errorf("certificate %q names no issuer URL (Authority Information Access)", cert.Subject.CommonName)
	}
	var lastErr error
	for _, u := range cert.IssuingCertificateURL {
		c, err := fetchCert(ctx, client, u)
		if err != nil {
			lastErr = fmt.Errorf("fetching %s: %w", u, err)
			continue
		}
		if issuerOf(cert, []*x509.Certificate{c}) == nil {
			lastErr = fmt.Errorf("the certificate at %s did not issue %q", u, cert.Subject.CommonName)
			continue
		}
		log.Debug("fetched issuer certificate", "url", u, "subject", c.Subject.CommonName)
		if cacheDir != "" {
			if err := writeCache(cacheDir, cacheName(cert), c); err != nil {
				log.Debug("cannot cache the certificate", "err", err)
			}
		}
		return c, nil
	}
	return nil, lastErr
}

func fetchCert(ctx context.Context, client *http.Client, url string) (*x509.Certificate, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %s", resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxCertFetch))
	if err != nil {
		return nil, err
	}
	if blk, _ := pem.Decode(b); blk != nil {
		b = blk.Bytes
	}
	return x509.ParseCertificate(b)
}

func writeCache(dir, name string, c *x509.Certificate) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := pem.Encode(tmp, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), filepath.Join(dir, name))
}
