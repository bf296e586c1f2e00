package gapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/url"
	"strings"
	"syscall"
	"time"

	"golang.org/x/oauth2"
	"google.golang.org/api/googleapi"
)

// Errors a transfer returns to have the attempt retried.
var (
	// ErrStalled: a request moved no bytes within [Retry.Stall].
	ErrStalled = errors.New("no bytes moved within the stall timeout")
	// ErrNoProgress: the server kept none of the bytes just sent.
	ErrNoProgress = errors.New("the upload made no progress")
)

// Retry says how calls are retried after a transient failure. The zero
// value means the defaults. The clients' own Retry types convert to it.
type Retry struct {
	// Initial is the first backoff (default 500ms); it doubles up to Max
	// (default 32s), with full jitter.
	Initial, Max time.Duration
	// Deadline bounds the time one operation may keep failing without
	// progress (default 5 minutes).
	Deadline time.Duration
	// Stall aborts and retries a request that moves no bytes for this long
	// (default 2 minutes).
	Stall time.Duration
}

// WithDefaults returns r with its zero fields set to the defaults.
func (r Retry) WithDefaults() Retry {
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

// Permanent marks an error that must not be retried (a local failure).
type Permanent struct{ Err error }

func (p Permanent) Error() string { return p.Err.Error() }

// Unwrap returns the error marked.
func (p Permanent) Unwrap() error { return p.Err }

// Reason returns the first reason the API error gives, or "".
func Reason(ge *googleapi.Error) string {
	for _, it := range ge.Errors {
		if it.Reason != "" {
			return it.Reason
		}
	}
	return ""
}

// Retryable reports whether err is worth another attempt: 429, 408 and 5xx
// answers, rate-limit and backend 403s, token endpoint 429 and 5xx,
// [ErrStalled], [ErrNoProgress], timeouts and dropped connections. A
// [Permanent] error and a canceled context never are.
func Retryable(err error) bool {
	if err == nil {
		return false
	}
	var p Permanent
	if errors.As(err, &p) {
		return false
	}
	if errors.Is(err, context.Canceled) {
		return false
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return re.Response != nil && (re.Response.StatusCode >= 500 || re.Response.StatusCode == 429)
	}
	var ge *googleapi.Error
	if errors.As(err, &ge) {
		switch {
		case ge.Code == 429, ge.Code == 408, ge.Code >= 500:
			return true
		case ge.Code == 403:
			switch Reason(ge) {
			case "userRateLimitExceeded", "rateLimitExceeded", "backendError", "internalError":
				return true
			}
		}
		return false
	}
	if errors.Is(err, ErrStalled) || errors.Is(err, ErrNoProgress) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // *url.Error is a net.Error whatever it wraps
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	// Other transport errors (http2 stream resets, TLS alerts) are
	// transient as far as we can tell.
	s := err.Error()
	return strings.Contains(s, "connection") || strings.Contains(s, "stream error") || strings.Contains(s, "transport")
}

// Retrier runs operations under a retry policy.
type Retrier struct {
	// Retry is the policy; its zero fields mean the defaults.
	Retry Retry
	// Name prefixes the log message ("drive", "play").
	Name string
	// Log gets a debug record per retry (nil discards).
	Log *slog.Logger
	// Sleep waits between attempts (nil: [Sleep]).
	Sleep func(ctx context.Context, d time.Duration) error
}

// Do runs fn until it succeeds, fails for good, or keeps failing beyond
// the deadline. fn reports progress by returning progressed=true, which
// resets the deadline and the backoff. attempt counts from 1.
func (r Retrier) Do(ctx context.Context, op string, fn func(attempt int) (progressed bool, err error)) error {
	sleep := r.Sleep
	if sleep == nil {
		sleep = Sleep
	}
	pol := r.Retry.WithDefaults()
	backoff := pol.Initial
	start := time.Now()
	for attempt := 1; ; attempt++ {
		progressed, err := fn(attempt)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !Retryable(err) {
			return err
		}
		if progressed {
			start = time.Now()
			backoff = pol.Initial
		}
		if time.Since(start) > pol.Deadline {
			return fmt.Errorf("giving up after %d attempts over %s: %w", attempt, time.Since(start).Round(time.Second), err)
		}
		d := time.Duration(rand.Int64N(int64(backoff)) + 1)
		if r.Log != nil {
			r.Log.Debug(r.Name+": retrying", "op", op, "attempt", attempt, "after", d, "error", err)
		}
		if err := sleep(ctx, d); err != nil {
			return err
		}
		backoff = min(backoff*2, pol.Max)
	}
}

// Sleep waits d, or until ctx is done.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// RoundChunk rounds a resumable upload chunk size up to a multiple of
// 256 KiB; n <= 0 gives def.
func RoundChunk(n, def int64) int64 {
	const q = 256 << 10
	if n <= 0 {
		return def
	}
	return (n + q - 1) / q * q
}
