package drive

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"time"

	"golang.org/x/oauth2"
	"google.golang.org/api/googleapi"

	"github.com/storesign/storesign/internal/gapi"
)

// Errors callers may branch on with errors.Is. The error returned carries a
// message a planner can act on; these are what it wraps.
var (
	ErrNotFound     = errors.New("drive: not found")
	ErrPermission   = errors.New("drive: permission denied")
	ErrNoQuota      = errors.New("drive: no storage quota")
	ErrAuth         = errors.New("drive: credentials rejected")
	ErrGoogleDoc    = errors.New("drive: a Google Docs file has no binary content")
	ErrNotFolder    = errors.New("drive: not a folder")
	ErrIsFolder     = errors.New("drive: is a folder")
	ErrExists       = errors.New("drive: a different file of that name exists")
	ErrChecksum     = errors.New("drive: checksum mismatch")
	ErrRateLimited  = errors.New("drive: rate limited")
	ErrBadReference = errors.New("drive: not a Drive file ID or link")
)

// AmbiguousError is returned by [Client.Find] when several files match and
// Newest was not asked.
type AmbiguousError struct {
	Folder     string
	Pattern    string
	Candidates []*File
}

func (e *AmbiguousError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d files in folder %s match %q: ", len(e.Candidates), e.Folder, e.Pattern)
	for i, f := range e.Candidates {
		if i > 0 {
			b.WriteString(", ")
		}
		if i == 10 {
			fmt.Fprintf(&b, "and %d more", len(e.Candidates)-i)
			break
		}
		fmt.Fprintf(&b, "%s (%s, %s)", shownName(f.Name), f.ID, f.ModifiedTime.UTC().Format(time.RFC3339))
	}
	b.WriteString(": give the exact name, or ask for the newest")
	return b.String()
}

// Error is a failed Drive call. Its message says what to do; Unwrap
// returns one of the Err sentinels when one applies, else the API error.
type Error struct {
	Op     string // what was being done: "downloading 1AbC"
	Code   int    // HTTP status, 0 for a transport failure
	Reason string // Drive's reason ("notFound", "storageQuotaExceeded")
	Msg    string // the advice
	Err    error
}

func (e *Error) Error() string {
	if e.Msg == "" {
		return e.Op + ": " + e.Err.Error()
	}
	return e.Op + ": " + e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

// permanent marks an error that must not be retried (a local failure).
type permanent = gapi.Permanent

var (
	errStalled    = gapi.ErrStalled
	errNoProgress = gapi.ErrNoProgress
	errDetached   = gapi.ErrDetached
)

// retrier returns the client's retry policy.
func (c *Client) retrier() gapi.Retrier {
	return gapi.Retrier{Retry: gapi.Retry(c.retry), Name: "drive", Log: c.log, Sleep: c.sleep}
}

// retryLoop runs fn under the client's retry policy: see [gapi.Retrier.Do].
func (c *Client) retryLoop(ctx context.Context, op string, fn func() (progressed bool, err error)) error {
	return c.retrier().Do(ctx, op, func(int) (bool, error) { return fn() })
}

// call runs an API call with retries and turns its failure into an *Error.
func (c *Client) call(ctx context.Context, op, id string, fn func() error) error {
	err := c.retryLoop(ctx, op, func() (bool, error) { return false, fn() })
	if err == nil {
		return nil
	}
	return c.explain(op, id, err)
}

// explain turns err into an *Error with advice.
func (c *Client) explain(op, id string, err error) error {
	var de *Error
	if errors.As(err, &de) {
		return err
	}
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("%s: %w", op, err)
	}
	var p permanent
	if errors.As(err, &p) {
		if errors.Is(err, syscall.ENOSPC) {
			return &Error{Op: op, Msg: "no space left on the device: free disk space on the runner or write to a bigger disk", Err: p.Err}
		}
		return fmt.Errorf("%s: %w", op, p.Err)
	}
	who := "the account"
	if c.account != "" {
		who = c.account
	}
	if c.subject != "" {
		who = c.subject
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		desc := gapi.TokenError(re)
		return &Error{Op: op, Msg: fmt.Sprintf("getting an access token for %s failed (%s): check the credentials file or GOOGLE_APPLICATION_CREDENTIALS, that the key is not revoked, and for --subject that domain-wide delegation grants the Drive scope", who, desc), Err: ErrAuth}
	}
	var ge *googleapi.Error
	if !errors.As(err, &ge) {
		return &Error{Op: op, Msg: fmt.Sprintf("%v (network or server failure; run again)", err), Err: err}
	}
	e := &Error{Op: op, Code: ge.Code, Reason: gapi.Reason(ge), Err: ge}
	msg := ge.Message
	if msg == "" {
		msg = fmt.Sprintf("HTTP %d", ge.Code)
	}
	switch {
	case ge.Code == 401:
		e.Err = ErrAuth
		e.Msg = fmt.Sprintf("Drive rejected the credentials (%s): check the credentials file or GOOGLE_APPLICATION_CREDENTIALS, and that the workload identity provider may impersonate the service account", msg)
	case ge.Code == 404:
		e.Err = ErrNotFound
		e.Msg = fmt.Sprintf("%s not found, or %s cannot see it: check the ID or link and share the file or folder with %s (for a shared drive, add it as a member)", id, who, who)
	case ge.Code == 403 && (strings.Contains(strings.ToLower(msg), "service accounts do not have storage quota") ||
		(e.Reason == "storageQuotaExceeded" && strings.HasSuffix(who, ".gserviceaccount.com"))):
		e.Err = ErrNoQuota
		e.Msg = fmt.Sprintf("service accounts have no storage quota of their own (%s): upload into a folder in a shared drive where %s is a Content manager, or use domain-wide delegation (--subject user@domain)", msg, who)
	case ge.Code == 403 && (e.Reason == "storageQuotaExceeded" || e.Reason == "quotaExceeded" || e.Reason == "teamDriveFileLimitExceeded"):
		e.Err = ErrNoQuota
		e.Msg = fmt.Sprintf("the Drive storage is full (%s): free space in the owner's Drive, or upload into a shared drive with room", msg)
	case ge.Code == 403 && e.Reason == "cannotDownloadAbusiveFile":
		e.Err = ErrPermission
		e.Msg = fmt.Sprintf("Drive flagged %s as malware or spam and will not serve it (%s): ask the studio to upload the build again, or have the file's owner download it from the Drive web page", id, msg)
	case ge.Code == 403 && (e.Reason == "insufficientScopes" || strings.Contains(msg, "insufficient authentication scopes")):
		e.Err = ErrPermission
		e.Msg = fmt.Sprintf("the token's scope does not allow this (%s): use the full drive scope", msg)
	case ge.Code == 403 && (e.Reason == "userRateLimitExceeded" || e.Reason == "rateLimitExceeded"):
		e.Err = ErrRateLimited
		e.Msg = fmt.Sprintf("Drive kept rate-limiting the requests (%s): run again later", msg)
	case ge.Code == 429:
		e.Err = ErrRateLimited
		e.Msg = fmt.Sprintf("Drive kept rate-limiting the requests (%s): run again later", msg)
	case ge.Code == 403 && e.Reason == "downloadQuotaExceeded":
		e.Err = ErrRateLimited
		e.Msg = fmt.Sprintf("the file's download quota is used up (%s): try again in 24 hours or make a copy of the file", msg)
	case ge.Code == 403 && e.Reason == "fileNotDownloadable":
		e.Err = ErrGoogleDoc
		e.Msg = fmt.Sprintf("%s is a Google Docs file without binary content: upload the build itself, not a document", id)
	case ge.Code == 403:
		e.Err = ErrPermission
		e.Msg = fmt.Sprintf("permission denied on %s (%s): give %s Editor access to the folder (Content manager on a shared drive)", id, msg, who)
	case ge.Code >= 500:
		e.Msg = fmt.Sprintf("Drive kept failing (HTTP %d: %s): run again later", ge.Code, msg)
	default:
		e.Msg = fmt.Sprintf("HTTP %d: %s", ge.Code, msg)
	}
	return e
}
