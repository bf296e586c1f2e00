package appstore

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
)

// EndpointEnv names the environment variable that, when set and no
// [WithEndpoint] is given, points the client at another server, such as
// an asctest fake.
const EndpointEnv = "STORESIGN_ASC_ENDPOINT"

// DefaultEndpoint is App Store Connect's API root.
const DefaultEndpoint = "https://api.appstoreconnect.apple.com/"

// DefaultTokenLifetime is how long the client's tokens live: less than
// [MaxTokenLifetime], so that a clock a little ahead of Apple's does not
// make them refused. A token is renewed a minute before it expires, and
// at once when the server refuses it, so a long upload never stops for
// an expired token.
const DefaultTokenLifetime = 15 * time.Minute

// Retry says how calls are retried after a transient failure (429, 5xx,
// dropped connections). The zero value means the defaults.
type Retry struct {
	// Initial is the first backoff (default 500ms); it doubles up to Max
	// (default 30s), with full jitter. A Retry-After header is obeyed.
	Initial, Max time.Duration
	// Attempts bounds the tries of one request (default 6).
	Attempts int
}

func (r Retry) withDefaults() Retry {
	if r.Initial <= 0 {
		r.Initial = 500 * time.Millisecond
	}
	if r.Max <= 0 {
		r.Max = 30 * time.Second
	}
	if r.Attempts <= 0 {
		r.Attempts = 6
	}
	return r
}

func (r Retry) backoff(attempt int) time.Duration {
	d := r.Initial << min(attempt, 20)
	if d > r.Max || d <= 0 {
		d = r.Max
	}
	return d/2 + rand.N(d/2+1)
}

type config struct {
	endpoint string
	hc       *http.Client
	retry    Retry
	log      *slog.Logger
	lifetime time.Duration
	now      func() time.Time
	noEnv    bool
}

// An Option configures [New].
type Option func(*config)

// WithEndpoint sends every API call to another server: its root URL
// ("http://127.0.0.1:8090"), under which the client uses /v1/.
func WithEndpoint(url string) Option { return func(c *config) { c.endpoint = url } }

// WithHTTPClient uses hc for every request (the API's and the uploads').
func WithHTTPClient(hc *http.Client) Option { return func(c *config) { c.hc = hc } }

// WithRetry sets the retry policy.
func WithRetry(r Retry) Option { return func(c *config) { c.retry = r } }

// WithLogger logs requests, retries and progress at debug level (nil
// discards). Tokens and keys are never logged.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.log = l } }

// WithTokenLifetime sets how long each token lives (default
// [DefaultTokenLifetime], at most [MaxTokenLifetime]).
func WithTokenLifetime(d time.Duration) Option { return func(c *config) { c.lifetime = d } }

// WithClock replaces time.Now for the tokens' iat and exp (tests).
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithoutEnvironment ignores STORESIGN_ASC_ENDPOINT.
func WithoutEnvironment() Option { return func(c *config) { c.noEnv = true } }

// Client talks to the App Store Connect API with an API key. Make one
// with [New]; it is safe for concurrent use.
type Client struct {
	key      *Key
	base     string // ".../" ending in a slash; paths start with v1/
	hc       *http.Client
	retry    Retry
	log      *slog.Logger
	lifetime time.Duration
	now      func() time.Time
	sleep    func(ctx context.Context, d time.Duration) error

	mu       sync.Mutex
	token    string
	tokenExp time.Time
}

// New returns a client that authenticates with key.
func New(ctx context.Context, key *Key, opts ...Option) (*Client, error) {
	if key == nil || key.priv == nil {
		return nil, fmt.Errorf("%w: no key", ErrBadKey)
	}
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.endpoint == "" && !cfg.noEnv {
		cfg.endpoint = os.Getenv(EndpointEnv)
	}
	if cfg.endpoint == "" {
		cfg.endpoint = DefaultEndpoint
	}
	c := &Client{
		key:      key,
		base:     strings.TrimSuffix(strings.TrimSuffix(cfg.endpoint, "/"), "/v1") + "/",
		hc:       cfg.hc,
		retry:    cfg.retry.withDefaults(),
		log:      cfg.log,
		lifetime: cfg.lifetime,
		now:      cfg.now,
		sleep:    sleepCtx,
	}
	if c.hc == nil {
		c.hc = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.lifetime <= 0 {
		c.lifetime = DefaultTokenLifetime
	}
	c.lifetime = min(c.lifetime, MaxTokenLifetime)
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// bearer returns a valid token, renewing it a minute (or a tenth of its
// life) before it expires, or at once when stale is the token the server
// refused.
func (c *Client) bearer(stale string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	margin := min(time.Minute, c.lifetime/10)
	if c.token != "" && c.token != stale && now.Add(margin).Before(c.tokenExp) {
		return c.token, nil
	}
	tok, err := c.key.Token(now, c.lifetime)
	if err != nil {
		return "", err
	}
	c.token, c.tokenExp = tok, now.Add(c.lifetime)
	c.log.Debug("appstore: new API token", "key", c.key, "expires", c.tokenExp)
	return tok, nil
}

// errorDoc is the API's error document.
type errorDoc struct {
	Errors []struct {
		Status string `json:"status"`
		Code   string `json:"code"`
		Title  string `json:"title"`
		Detail string `json:"detail"`
	} `json:"errors"`
}

// call sends a JSON API request and decodes the answer into out (when
// not nil). It retries transient failures and renews a refused token
// once.
func (c *Client) call(ctx context.Context, method, path string, in, out any) error {
	var body []byte
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = b
	}
	stale := ""
	renewed := false
	for attempt := 0; ; attempt++ {
		tok, err := c.bearer(stale)
		if err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Accept", "application/json")
		if in != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := c.hc.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if attempt+1 >= c.retry.Attempts {
				return fmt.Errorf("calling App Store Connect (%s %s): %w", method, pathOnly(path), err)
			}
			c.log.Debug("appstore: retrying", "method", method, "path", pathOnly(path), "err", err)
			if err := c.sleep(ctx, c.retry.backoff(attempt)); err != nil {
				return err
			}
			continue
		}
		data, rerr := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
		resp.Body.Close()
		c.log.Debug("appstore: request", "method", method, "path", pathOnly(path), "status", resp.StatusCode)
		if rerr != nil {
			if attempt+1 >= c.retry.Attempts {
				return fmt.Errorf("reading App Store Connect's answer to %s %s: %w", method, pathOnly(path), rerr)
			}
			if err := c.sleep(ctx, c.retry.backoff(attempt)); err != nil {
				return err
			}
			continue
		}
		switch {
		case resp.StatusCode >= 200 && resp.StatusCode < 300:
			if out != nil && len(data) > 0 {
				if err := json.Unmarshal(data, out); err != nil {
					return fmt.Errorf("decoding App Store Connect's answer to %s %s: %w", method, pathOnly(path), err)
				}
			}
			return nil
		case resp.StatusCode == http.StatusUnauthorized && !renewed:
			// An expired or refused token: make a new one, once.
			renewed, stale = true, tok
			attempt--
			continue
		case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
			if attempt+1 < c.retry.Attempts {
				d := c.retry.backoff(attempt)
				if ra := retryAfter(resp.Header.Get("Retry-After")); ra > 0 {
					d = min(ra, c.retry.Max)
				}
				c.log.Debug("appstore: retrying", "method", method, "path", pathOnly(path), "status", resp.StatusCode, "after", d)
				if err := c.sleep(ctx, d); err != nil {
					return err
				}
				continue
			}
		}
		return apiError(method, path, resp.StatusCode, data)
	}
}

func retryAfter(v string) time.Duration {
	var s int
	if _, err := fmt.Sscanf(v, "%d", &s); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	return 0
}

// pathOnly drops the query, which may hold bundle IDs but nothing
// secret, to keep logs short.
func pathOnly(p string) string {
	p, _, _ = strings.Cut(p, "?")
	return "/" + p
}

// APIError is an error answer of the App Store Connect API.
type APIError struct {
	Method, Path string
	Status       int
	// Code, Title and Detail are the first error's (Apple's words).
	Code, Title, Detail string
}

func (e *APIError) Error() string {
	msg := e.Detail
	if msg == "" {
		msg = e.Title
	}
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	return fmt.Sprintf("App Store Connect refused %s %s (%d %s): %s", e.Method, e.Path, e.Status, e.Code, msg)
}

// Unwrap maps the status to the sentinel callers branch on.
func (e *APIError) Unwrap() error {
	switch e.Status {
	case http.StatusUnauthorized:
		return ErrUnauthorized
	case http.StatusForbidden:
		return ErrForbidden
	}
	return nil
}

func apiError(method, path string, status int, data []byte) error {
	e := &APIError{Method: method, Path: pathOnly(path), Status: status}
	var doc errorDoc
	if json.Unmarshal(data, &doc) == nil && len(doc.Errors) > 0 {
		e.Code, e.Title, e.Detail = doc.Errors[0].Code, doc.Errors[0].Title, doc.Errors[0].Detail
	}
	switch status {
	case http.StatusUnauthorized:
		return fmt.Errorf("%w: check the key ID, the issuer ID and that the key was not revoked", e)
	case http.StatusForbidden:
		return fmt.Errorf("%w: the API key's role may not do this: give it the App Manager or Developer role, or Admin (Users and Access > Integrations)", e)
	}
	return e
}
