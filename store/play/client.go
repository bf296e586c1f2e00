package play

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	androidpublisher "google.golang.org/api/androidpublisher/v3"
	"google.golang.org/api/option"

	"github.com/storesign/storesign/internal/gapi"
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

func (r Retry) withDefaults() Retry { return Retry(gapi.Retry(r).WithDefaults()) }

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
		sleep:     gapi.Sleep,
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
		var err error
		hc, c.account, err = gapi.Credentials{
			Name: "play", File: cfg.credFile, JSON: cfg.credJSON, Token: cfg.token,
			Scope: Scope, Anonymous: cfg.endpoint != "",
			ADCHint: ", pass a service account key, or an access token in " + TokenEnv,
		}.Client(ctx, newTransport())
		if err != nil {
			return nil, err
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

func roundChunk(n int64) int64 { return gapi.RoundChunk(n, DefaultChunkSize) }

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
