package gapi

import (
	"context"
	"errors"
	"io"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"testing/iotest"
	"time"
)

// session is a resumable upload session in memory: it keeps up to keep
// bytes of each chunk, and fails the chunks listed in fail.
type session struct {
	size, held int64
	keep       int64
	fail       map[int]error // by call number, from 1
	calls      []string
}

func (s *session) put(off, n int64) (bool, int64, error) {
	s.calls = append(s.calls, rangeOf(off, n))
	if err := s.fail[len(s.calls)]; err != nil {
		return false, 0, err
	}
	if n > 0 && off == s.held {
		s.held += min(n, s.keep)
	}
	if s.held == s.size {
		return true, 0, nil
	}
	return false, s.held, nil
}

func rangeOf(off, n int64) string {
	if n == 0 {
		return "status"
	}
	return string(rune('0'+off)) + "+" + string(rune('0'+n))
}

func TestResume(t *testing.T) {
	transient := apiErr(503, "")
	for _, tc := range []struct {
		name      string
		size      int64
		keep      int64
		fail      map[int]error
		want      string
		wantErr   error
		wantProgr string
	}{
		{name: "whole", size: 9, keep: 4, want: "0+4 4+4 8+1", wantProgr: "4 8"},
		{name: "empty", size: 0, keep: 4, want: "status"},
		{name: "retry asks status", size: 8, keep: 4, fail: map[int]error{2: transient}, want: "0+4 4+4 status 4+4", wantProgr: "4"},
		{name: "partial keep", size: 8, keep: 3, want: "0+4 3+4 6+2", wantProgr: "3 6"},
		{name: "permanent", size: 8, keep: 4, fail: map[int]error{1: Permanent{Err: io.EOF}}, want: "0+4", wantErr: io.EOF},
		{name: "no progress", size: 8, keep: 0, fail: map[int]error{}, want: "0+4", wantErr: ErrNoProgress},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &session{size: tc.size, keep: tc.keep, fail: tc.fail}
			var progr []string
			deadline := time.Hour
			if tc.wantErr == ErrNoProgress {
				deadline = time.Nanosecond
			}
			r := Retrier{Retry: Retry{Initial: time.Millisecond, Deadline: deadline}, Sleep: func(ctx context.Context, d time.Duration) error {
				time.Sleep(time.Millisecond)
				return nil
			}}
			err := r.Resume(context.Background(), "op", tc.size, 4, s.put, func(off int64) {
				progr = append(progr, string(rune('0'+off)))
			})
			if tc.wantErr == nil && err != nil || tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if got := strings.Join(s.calls, " "); !strings.HasPrefix(got, tc.want) {
				t.Errorf("calls %q, want %q", got, tc.want)
			}
			if tc.wantErr == nil {
				if got := strings.Join(progr, " "); got != tc.wantProgr {
					t.Errorf("progress %q, want %q", got, tc.wantProgr)
				}
			}
		})
	}
}

func TestChunkReader(t *testing.T) {
	kicks, sent := 0, 0
	c := NewChunkReader(strings.NewReader("abcdef"), 6, func() { kicks++ }, func() { sent++ })
	b, err := io.ReadAll(iotest.OneByteReader(c))
	if err != nil || string(b) != "abcdef" {
		t.Fatalf("read %q, %v", b, err)
	}
	if kicks != 6 || sent == 0 {
		t.Errorf("kicks %d, sent %d", kicks, sent)
	}
	c.Detach()
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, ErrDetached) {
		t.Errorf("after Detach: %v", err)
	}

	short := NewChunkReader(strings.NewReader("ab"), 4, nil, nil)
	if _, err := io.ReadAll(short); err == nil || !strings.Contains(err.Error(), "shorter") {
		t.Errorf("short source: %v", err)
	}
	bad := NewChunkReader(iotest.ErrReader(syscall.EIO), 4, nil, nil)
	_, err = io.ReadAll(bad)
	var p Permanent
	if !errors.As(err, &p) || !errors.Is(err, syscall.EIO) {
		t.Errorf("failing source: %v, want a Permanent EIO", err)
	}
}

func TestHideSession(t *testing.T) {
	err := HideSession(&url.Error{Op: "Put", URL: "https://www.googleapis.com/upload/x?uploadType=resumable&upload_id=SECRET", Err: syscall.ECONNRESET})
	if s := err.Error(); strings.Contains(s, "SECRET") || !strings.Contains(s, "upload_id=REDACTED") {
		t.Errorf("HideSession: %s", s)
	}
	plain := errors.New("x?upload_id=1")
	if HideSession(plain) != plain {
		t.Error("HideSession changed an error without a URL")
	}
}
