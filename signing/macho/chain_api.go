package macho

import (
	"context"
	"crypto/x509"
	"log/slog"
	"net/http"
)

// ChainOptions tune [ResolveChain]. The zero value looks in the identity's
// own chain, then the cache in $XDG_CACHE_HOME/storesign (or
// ~/.cache/storesign), then fetches over HTTP.
type ChainOptions struct {
	// Chain holds the certificates the caller has (a --chain file, the
	// identity's chain): searched first.
	Chain []*x509.Certificate
	// CacheDir caches fetched certificates; "" is
	// $XDG_CACHE_HOME/storesign/certs (~/.cache/storesign/certs).
	CacheDir string
	// NoCache disables the disk cache.
	NoCache bool
	// Offline forbids fetching from the Authority Information Access URL.
	Offline bool
	// HTTPClient fetches; nil is a client with a 30 s timeout.
	HTTPClient *http.Client
	// Log receives debug messages; nil discards them.
	Log *slog.Logger
}

// ResolveChain returns the certificates above leaf, nearest first, that
// a signature should embed: the issuing intermediate (Apple WWDR) and, when
// it can be found, the root above it. Each issuer is taken from
// opts.Chain, else from the cache, else fetched from the Authority
// Information Access "CA Issuers" URL of the certificate below it (and
// cached). A self-signed leaf needs nothing. It fails with
// [ErrIncompleteChain] when the leaf's issuer cannot be found.
func ResolveChain(ctx context.Context, leaf *x509.Certificate, opts ChainOptions) ([]*x509.Certificate, error) {
	return resolveChain(ctx, leaf, opts)
}
