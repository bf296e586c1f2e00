package gapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"syscall"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"google.golang.org/api/googleapi"
)

func apiErr(code int, reason string) error {
	return &googleapi.Error{Code: code, Message: "m", Errors: []googleapi.ErrorItem{{Reason: reason}}}
}

func TestRetryable(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{apiErr(429, "rateLimitExceeded"), true},
		{apiErr(408, ""), true},
		{apiErr(500, "backendError"), true},
		{apiErr(503, ""), true},
		{apiErr(403, "userRateLimitExceeded"), true},
		{apiErr(403, "rateLimitExceeded"), true},
		{apiErr(403, "backendError"), true},
		{apiErr(403, "storageQuotaExceeded"), false},
		{apiErr(403, "insufficientFilePermissions"), false},
		{apiErr(404, "notFound"), false},
		{apiErr(401, "authError"), false},
		{apiErr(400, "invalid"), false},
		{&oauth2.RetrieveError{Response: &http.Response{StatusCode: 503}}, true},
		{&oauth2.RetrieveError{Response: &http.Response{StatusCode: 400}}, false},
		{&oauth2.RetrieveError{}, false},
		{&url.Error{Op: "Get", URL: "u", Err: syscall.ECONNRESET}, true},
		{fmt.Errorf("reading: %w", io.ErrUnexpectedEOF), true},
		{syscall.EPIPE, true},
		{&url.Error{Op: "Get", URL: "u", Err: errors.New(`unsupported protocol scheme ""`)}, false},
		{errors.New("http2: stream error: INTERNAL_ERROR"), true},
		{ErrStalled, true},
		{fmt.Errorf("chunk: %w", ErrNoProgress), true},
		{context.DeadlineExceeded, true},
		{Permanent{Err: io.ErrUnexpectedEOF}, false},
		{fmt.Errorf("x: %w", Permanent{Err: apiErr(503, "")}), false},
		{context.Canceled, false},
	} {
		if got := Retryable(tc.err); got != tc.want {
			t.Errorf("Retryable(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestRetryDefaults(t *testing.T) {
	for _, tc := range []struct {
		in, want Retry
	}{
		{Retry{}, Retry{Initial: 500 * time.Millisecond, Max: 32 * time.Second, Deadline: 5 * time.Minute, Stall: 2 * time.Minute}},
		{Retry{Initial: time.Millisecond, Max: time.Second, Deadline: time.Hour, Stall: time.Minute}, Retry{Initial: time.Millisecond, Max: time.Second, Deadline: time.Hour, Stall: time.Minute}},
		{Retry{Initial: -1}, Retry{Initial: 500 * time.Millisecond, Max: 32 * time.Second, Deadline: 5 * time.Minute, Stall: 2 * time.Minute}},
	} {
		if got := tc.in.WithDefaults(); got != tc.want {
			t.Errorf("%+v.WithDefaults() = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

// sleeps records the waits instead of sleeping.
type sleeps struct{ d []time.Duration }

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.d = append(s.d, d)
	return ctx.Err()
}

func TestRetrierDo(t *testing.T) {
	transient, notFound := apiErr(503, ""), apiErr(404, "")
	for _, tc := range []struct {
		name     string
		errs     []error // per attempt; nil ends
		progress bool
		deadline time.Duration
		wantN    int
		wantErr  error
	}{
		{name: "first", errs: []error{nil}, wantN: 1},
		{name: "third", errs: []error{transient, transient, nil}, wantN: 3},
		{name: "permanent", errs: []error{transient, Permanent{Err: io.EOF}}, wantN: 2, wantErr: io.EOF},
		{name: "not retryable", errs: []error{notFound}, wantN: 1, wantErr: notFound},
		{name: "deadline", errs: []error{transient, transient}, deadline: time.Nanosecond, wantN: 1, wantErr: transient},
		{name: "progress", errs: []error{transient, transient, transient, nil}, progress: true, deadline: time.Hour, wantN: 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s sleeps
			r := Retrier{Retry: Retry{Initial: time.Millisecond, Max: 4 * time.Millisecond, Deadline: tc.deadline}, Name: "t", Sleep: s.sleep}
			n := 0
			err := r.Do(context.Background(), "op", func(attempt int) (bool, error) {
				n++
				if attempt != n {
					t.Errorf("attempt %d, want %d", attempt, n)
				}
				if tc.deadline == time.Nanosecond {
					time.Sleep(time.Millisecond)
				}
				return tc.progress, tc.errs[n-1]
			})
			if n != tc.wantN {
				t.Errorf("%d attempts, want %d", n, tc.wantN)
			}
			switch {
			case tc.wantErr == nil && err != nil:
				t.Errorf("err = %v", err)
			case tc.wantErr != nil && err == nil:
				t.Errorf("err = nil, want %v", tc.wantErr)
			case tc.wantErr != nil && !errors.Is(err, tc.wantErr):
				t.Errorf("err = %v, want %v", err, tc.wantErr)
			}
			for _, d := range s.d {
				if d <= 0 || d > 4*time.Millisecond {
					t.Errorf("slept %v, outside (0, Max]", d)
				}
			}
		})
	}
}

func TestRetrierDoCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	err := Retrier{}.Do(ctx, "op", func(int) (bool, error) {
		n++
		cancel()
		return false, apiErr(503, "")
	})
	if !errors.Is(err, context.Canceled) || n != 1 {
		t.Errorf("err = %v after %d attempts, want context.Canceled after 1", err, n)
	}
}

func TestRoundChunk(t *testing.T) {
	for _, tc := range []struct{ n, want int64 }{
		{0, 7}, {-1, 7}, {1, 256 << 10}, {256 << 10, 256 << 10}, {256<<10 + 1, 512 << 10},
	} {
		if got := RoundChunk(tc.n, 7); got != tc.want {
			t.Errorf("RoundChunk(%d, 7) = %d, want %d", tc.n, got, tc.want)
		}
	}
}

func TestSleep(t *testing.T) {
	if err := Sleep(context.Background(), time.Microsecond); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("Sleep on a canceled context = %v", err)
	}
}
