package play

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"
	androidpublisher "google.golang.org/api/androidpublisher/v3"
	"google.golang.org/api/option"
)

// Environment variables New reads unless [WithoutEnvironment] is given.
const (
	// EndpointEnv, when set and no [WithEndpoint] is given, points the
	// client at another server, such as a playtest fake.
	EndpointEnv = "STORESIGN_PLAY_ENDPOINT"
	// TokenEnv holds a ready OAuth access token (what `gcloud auth
	// print-access-token` prints), used when no other credentials are
	// given.
	TokenEnv = "STORESIGN_PLAY_TOKEN"
)

// Scope is the OAuth scope the client asks for.
const Scope = androidpublisher.AndroidpublisherScope

// DefaultChunkSize is the size of each resumable upload request.
const DefaultChunkSize = 16 << 20

// Client talks to the Google Play Developer API (Android Publisher v3).
// Make one with [New]; it is safe for concurrent use.
type Client struct {
	svc       *androidpublisher.Service
	hc        *http.Client
	root      string // "https://androidpublisher.googleapis.com/"
	account   string // service account e-mail when known, for messages
	retry     Retry
	chunkSize int64
	log       *slog.Logger
	sleep     func(ctx context.Context, d time.Duration) error
}

// Retry says how calls are retried after a transient failure (429, 5xx,
// dropped connections). The zero value means the defaults.
type Retry struct {
	// Initial is the first backoff (default 500ms); it doubles up to Max
	// (default 32s), with full jitter.
	Initial, Max time.Duration
	// Deadline bounds the time one operation may keep failing without
	// progress before giving up (default 5 minutes). An upload that keeps
	// moving bytes never hits it.
	Deadline time.Duration
	// Stall aborts and retries an upload request that sends no bytes for
	// this long (default 2 minutes).
	Stall time.Duration
}

func (r Retry) withDefaults() Retry {
	if r.Initial <= 0 {
		r.Initial = 500 * time.Millisecond
	}
	if r.Max <= 0 {
		r.Max = 32 * time.Second
	}
	if r.Deadline <= 0 {
		r.Deadline = 5 * time.Minute
	}
	if r.Stall <= 0 {
		r.Stall = 2 * time.Minute
	}
	return r
}

type config struct {
	credFile  string
	credJSON  []byte
	token     string
	endpoint  string
	hc        *http.Client
	retry     Retry
	chunkSize int64
	log       *slog.Logger
	noEnv     bool
}

// An Option configures [New].
type Option func(*config)

// WithCredentialsFile reads credentials from a JSON file: a service
// account key, an external_account file (Workload Identity Federation, as
// written by google-github-actions/auth) or an authorized_user file.
// Without credentials options, New uses a token from STORESIGN_PLAY_TOKEN,
// else Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS,
// gcloud, the metadata server).
func WithCredentialsFile(path string) Option { return func(c *config) { c.credFile = path } }

// WithCredentialsJSON is [WithCredentialsFile] for bytes already in memory.
func WithCredentialsJSON(data []byte) Option { return func(c *config) { c.credJSON = data } }

// WithAccessToken sends this OAuth access token (as `gcloud auth
// print-access-token` prints it) with every request. It is not renewed:
// such tokens last about an hour.
func WithAccessToken(token string) Option { return func(c *config) { c.token = token } }

// WithEndpoint sends every call to another server: its root URL
// ("http://127.0.0.1:8090"), under which the client uses
// /androidpublisher/v3/ and /upload/androidpublisher/v3/. With an endpoint
// and no credentials, no authentication is sent.
func WithEndpoint(url string) Option { return func(c *config) { c.endpoint = url } }

// WithHTTPClient uses hc for every request. It must add authentication
// itself when the server needs it; credentials options are then ignored.
func WithHTTPClient(hc *http.Client) Option { return func(c *config) { c.hc = hc } }

// WithRetry sets the retry policy.
func WithRetry(r Retry) Option { return func(c *config) { c.retry = r } }

// WithChunkSize sets the resumable upload chunk size, rounded up to a
// multiple of 256 KiB (default 16 MiB): the bytes sent per request, and
// so the most a failure can make the client send again.
func WithChunkSize(n int64) Option { return func(c *config) { c.chunkSize = n } }

// WithLogger logs retries and progress at debug level (nil discards).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.log = l } }

// WithoutEnvironment ignores STORESIGN_PLAY_ENDPOINT and
// STORESIGN_PLAY_TOKEN.
func WithoutEnvironment() Option { return func(c *config) { c.noEnv = true } }

// New returns a client. See the package documentation for credentials.
func New(ctx context.Context, opts ...Option) (*Client, error) {
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	if !cfg.noEnv {
		if cfg.endpoint == "" {
			cfg.endpoint = os.Getenv(EndpointEnv)
		}
		if cfg.token == "" && cfg.credFile == "" && cfg.credJSON == nil {
			cfg.token = strings.TrimSpace(os.Getenv(TokenEnv))
		}
	}
	c := &Client{
		retry:     cfg.retry.withDefaults(),
		chunkSize: roundChunk(cfg.chunkSize),
		log:       cfg.log,
		sleep:     sleepCtx,
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	root := "https://androidpublisher.googleapis.com"
	if cfg.endpoint != "" {
		root = strings.TrimSuffix(cfg.endpoint, "/")
		root = strings.TrimSuffix(root, "/androidpublisher/v3")
		root = strings.TrimSuffix(root, "/")
	}
	c.root = root + "/"

	hc := cfg.hc
	if hc == nil {
		base := newTransport()
		credJSON := cfg.credJSON
		if cfg.credFile != "" {
			b, err := os.ReadFile(cfg.credFile)
			if err != nil {
				return nil, fmt.Errorf("play: reading credentials: %w", err)
			}
			credJSON = b
		}
		switch {
		case credJSON != nil:
			ts, account, err := tokenSourceFromJSON(ctx, credJSON)
			if err != nil {
				return nil, err
			}
			c.account = account
			hc = &http.Client{Transport: &oauth2.Transport{Source: ts, Base: base}}
		case cfg.token != "":
			if strings.ContainsAny(cfg.token, " \t\r\n") {
				return nil, errors.New("play: the access token has spaces or line breaks in it: pass the token alone, as `gcloud auth print-access-token` prints it")
			}
			ts := oauth2.StaticTokenSource(&oauth2.Token{AccessToken: cfg.token, TokenType: "Bearer"})
			hc = &http.Client{Transport: &oauth2.Transport{Source: ts, Base: base}}
		case cfg.endpoint != "":
			hc = &http.Client{Transport: base}
		default:
			creds, err := google.FindDefaultCredentialsWithParams(context.WithoutCancel(ctx), google.CredentialsParams{Scopes: []string{Scope}})
			if err != nil {
				return nil, fmt.Errorf("play: finding credentials: %v: set GOOGLE_APPLICATION_CREDENTIALS (google-github-actions/auth does), pass a service account key, or an access token in %s", err, TokenEnv)
			}
			if creds.JSON != nil {
				c.account = clientEmail(creds.JSON)
			}
			hc = &http.Client{Transport: &oauth2.Transport{Source: creds.TokenSource, Base: base}}
		}
	}
	c.hc = hc
	svc, err := androidpublisher.NewService(ctx, option.WithHTTPClient(hc), option.WithEndpoint(c.root))
	if err != nil {
		return nil, fmt.Errorf("play: creating service: %w", err)
	}
	c.svc = svc
	return c, nil
}

func roundChunk(n int64) int64 {
	const q = 256 << 10
	if n <= 0 {
		return DefaultChunkSize
	}
	return (n + q - 1) / q * q
}

func newTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.WriteBufferSize = 256 << 10
	// Play checks a bundle before it answers the last chunk: minutes for
	// a large one.
	t.ResponseHeaderTimeout = 15 * time.Minute
	t.MaxIdleConnsPerHost = 4
	return t
}

// tokenSourceFromJSON accepts the credential file types New documents. The
// type is checked first, so that a file of an unexpected kind is refused
// rather than trusted.
func tokenSourceFromJSON(ctx context.Context, data []byte) (oauth2.TokenSource, string, error) {
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, "", errors.New("play: reading credentials: not a JSON credentials file (want a service account key or an external_account file)")
	}
	var t google.CredentialsType
	switch head.Type {
	case "service_account":
		t = google.ServiceAccount
	case "external_account":
		t = google.ExternalAccount
	case "authorized_user":
		t = google.AuthorizedUser
	case "impersonated_service_account":
		t = google.ImpersonatedServiceAccount
	default:
		return nil, "", fmt.Errorf("play: reading credentials: unsupported credentials type %q (want service_account, external_account, authorized_user or impersonated_service_account)", head.Type)
	}
	creds, err := google.CredentialsFromJSONWithTypeAndParams(context.WithoutCancel(ctx), data, t, google.CredentialsParams{Scopes: []string{Scope}})
	if err != nil {
		return nil, "", fmt.Errorf("play: reading %s credentials: %v", head.Type, err)
	}
	return creds.TokenSource, clientEmail(data), nil
}

func clientEmail(data []byte) string {
	var v struct {
		ClientEmail string `json:"client_email"`
		Impersonate string `json:"service_account_impersonation_url"`
	}
	if json.Unmarshal(data, &v) != nil {
		return ""
	}
	if v.ClientEmail != "" {
		return v.ClientEmail
	}
	if i := strings.LastIndex(v.Impersonate, "/serviceAccounts/"); i >= 0 {
		return strings.TrimSuffix(v.Impersonate[i+len("/serviceAccounts/"):], ":generateAccessToken")
	}
	return ""
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
