package drive

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/api/googleapi"

	"github.com/storesign/storesign/drive/drivetest"
	"github.com/storesign/storesign/internal/gapi"
)

func apiErr(code int, reason string) error {
	return &googleapi.Error{Code: code, Message: "m", Errors: []googleapi.ErrorItem{{Reason: reason}}}
}

func TestRetryDeadline(t *testing.T) {
	s, c := newTest(t, drivetest.Options{Faults: drivetest.Faults{Rate: 1, Kinds: []drivetest.Fault{drivetest.Fault503}}},
		WithRetry(Retry{Initial: time.Millisecond, Max: 5 * time.Millisecond, Deadline: 100 * time.Millisecond}))
	folder, _ := s.AddFolder("", "", "in")
	start := time.Now()
	_, err := c.List(context.Background(), folder)
	if err == nil || !strings.Contains(err.Error(), "Drive kept failing (HTTP 503") || !strings.Contains(err.Error(), "run again later") {
		t.Fatalf("got %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("gave up after %s", d)
	}
	if n := len(s.Requests()); n < 3 {
		t.Errorf("only %d attempts", n)
	}
	// Cancelling stops at once.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.List(ctx, folder); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestExplain(t *testing.T) {
	c := &Client{account: "signer@p.iam.gserviceaccount.com"}
	for _, tc := range []struct {
		err  error
		is   error
		want string
	}{
		{apiErr(401, "authError"), ErrAuth, "Drive rejected the credentials"},
		{apiErr(404, "notFound"), ErrNotFound, "share the file or folder with signer@p.iam.gserviceaccount.com"},
		{apiErr(403, "storageQuotaExceeded"), ErrNoQuota, "service accounts have no storage quota"},
		{apiErr(403, "teamDriveFileLimitExceeded"), ErrNoQuota, "storage is full"},
		{apiErr(403, "cannotDownloadAbusiveFile"), ErrPermission, "flagged"},
		{apiErr(403, "insufficientFilePermissions"), ErrPermission, "give signer@p.iam.gserviceaccount.com Editor access"},
		{apiErr(403, "fileNotDownloadable"), ErrGoogleDoc, "Google Docs file"},
		{apiErr(403, "userRateLimitExceeded"), ErrRateLimited, "run again later"},
		{apiErr(503, "backendError"), nil, "Drive kept failing (HTTP 503"},
		{&url.Error{Op: "Get", URL: "u", Err: syscall.ECONNRESET}, syscall.ECONNRESET, "network or server failure"},
	} {
		err := c.explain("doing it", "1ID", tc.err)
		if tc.is != nil && !errors.Is(err, tc.is) {
			t.Errorf("%v: %v does not wrap %v", tc.err, err, tc.is)
		}
		if !strings.HasPrefix(err.Error(), "doing it: ") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: message %q lacks %q", tc.err, err, tc.want)
		}
	}
}

func TestHideSession(t *testing.T) {
	err := gapi.HideSession(&url.Error{Op: "Put", URL: "https://www.googleapis.com/upload/drive/v3/files?uploadType=resumable&upload_id=SECRET", Err: syscall.ECONNRESET})
	if strings.Contains(err.Error(), "SECRET") || !strings.Contains(err.Error(), "connection reset") {
		t.Errorf("got %v", err)
	}
}
