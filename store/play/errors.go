package play

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/oauth2"
	"google.golang.org/api/googleapi"

	"github.com/storesign/storesign/internal/gapi"
)

// Errors callers may branch on with errors.Is. The error returned carries
// a message a planner can act on; these are what it wraps.
var (
	// ErrNotInvited: the account may not manage the app (HTTP 403).
	ErrNotInvited = errors.New("play: the account has no access to the app in Play Console")
	// ErrAppNotFound: no app with that package name (HTTP 404 on a new edit).
	ErrAppNotFound = errors.New("play: app not found in Play Console")
	// ErrDraftApp: an app never published takes only draft releases.
	ErrDraftApp = errors.New("play: a draft app can only take draft releases")
	// ErrVersionCodeUsed: the version code is already on Play.
	ErrVersionCodeUsed = errors.New("play: version code already used")
	// ErrWrongPackage: the build is not of the app asked for.
	ErrWrongPackage = errors.New("play: wrong package name")
	// ErrWrongSigner: the build is not signed with the expected key.
	ErrWrongSigner = errors.New("play: wrong signer")
	// ErrTrackNotFound: no such track on the app.
	ErrTrackNotFound = errors.New("play: track not found")
	// ErrAuth: the credentials were refused.
	ErrAuth = errors.New("play: credentials rejected")
	// ErrRateLimited: Play kept refusing requests for their rate.
	ErrRateLimited = errors.New("play: rate limited")
	// ErrEditGone: the edit was deleted meanwhile, most often because
	// another upload to the app committed first. Upload starts over by
	// itself a few times before returning it.
	ErrEditGone = errors.New("play: the edit was deleted meanwhile")
	// ErrRejected: Play refused the build or the release for another
	// reason; the message quotes Play's.
	ErrRejected = errors.New("play: refused by Google Play")
	// ErrNotAndroid: the file is not an APK or app bundle.
	ErrNotAndroid = errors.New("play: not an APK or app bundle")
	// ErrBadOptions: the options contradict each other or Play's rules.
	ErrBadOptions = errors.New("play: invalid options")
)

// Error is a failed call to Play. Its message says what to do; Unwrap
// returns one of the Err sentinels when one applies, else the API error.
type Error struct {
	Op     string // what was being done: "creating an edit for com.example.app"
	Code   int    // HTTP status, 0 for a transport failure
	Reason string // the API's reason, when it gives one
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

// VersionCodeUsedError says where a version code is already used.
type VersionCodeUsedError struct {
	Package     string
	VersionCode int64
	// Track is the track that holds it, or "" when an uploaded APK or
	// bundle of the app has it (Play keeps every version code ever
	// uploaded, on a track or not).
	Track string
	// Store is Play's own message when Play refused the upload.
	Store string
}

func (e *VersionCodeUsedError) Error() string {
	where := "an APK or bundle uploaded earlier"
	if e.Track != "" {
		where = "a release on track " + e.Track
	}
	msg := fmt.Sprintf("version code %d of %s is already used by %s", e.VersionCode, e.Package, where)
	if e.Store != "" {
		msg += " (Google Play: " + e.Store + ")"
	}
	return msg + ": every upload needs a new, higher versionCode: rebuild with versionCode raised in build.gradle"
}

// Unwrap returns [ErrVersionCodeUsed].
func (e *VersionCodeUsedError) Unwrap() error { return ErrVersionCodeUsed }

// WrongPackageError is a build whose package is not the one asked for.
type WrongPackageError struct{ Want, Got string }

func (e *WrongPackageError) Error() string {
	return fmt.Sprintf("the build is of package %s, not %s: upload the right build, or give the package it was built for", e.Got, e.Want)
}

// Unwrap returns [ErrWrongPackage].
func (e *WrongPackageError) Unwrap() error { return ErrWrongPackage }

// WrongSignerError is a build not signed with the expected certificate.
type WrongSignerError struct {
	Want string   // the expected SHA-256, lowercase hex
	Got  []string // the signers' certificate SHA-256s
}

func (e *WrongSignerError) Error() string {
	if len(e.Got) == 0 {
		return fmt.Sprintf("the build is not signed, or its signature cannot be read: sign it with the upload key registered in Play Console (Setup > App signing), whose certificate SHA-256 is %s", e.Want)
	}
	return fmt.Sprintf("the build is signed by the certificate with SHA-256 %s, not %s: re-sign it with the upload key registered in Play Console (Setup > App signing), or correct the expected fingerprint", strings.Join(e.Got, ", "), e.Want)
}

// Unwrap returns [ErrWrongSigner].
func (e *WrongSignerError) Unwrap() error { return ErrWrongSigner }

// permanent marks an error that must not be retried (a local failure).
type permanent = gapi.Permanent

var (
	errStalled    = gapi.ErrStalled
	errNoProgress = gapi.ErrNoProgress
)

// retryable reports whether err is worth another attempt.
func retryable(err error) bool { return gapi.Retryable(err) }

// retrier returns the client's retry policy.
func (c *Client) retrier() gapi.Retrier {
	return gapi.Retrier{Retry: gapi.Retry(c.retry), Name: "play", Log: c.log, Sleep: c.sleep}
}

// retryLoop runs fn under the client's retry policy: see [gapi.Retrier.Do].
func (c *Client) retryLoop(ctx context.Context, op string, fn func(attempt int) (progressed bool, err error)) error {
	return c.retrier().Do(ctx, op, fn)
}

// call runs an API call with retries and turns its failure into an *Error.
func (c *Client) call(ctx context.Context, op, pkg string, fn func() error) error {
	err := c.retryLoop(ctx, op, func(int) (bool, error) { return false, fn() })
	if err == nil {
		return nil
	}
	return c.explain(op, pkg, err)
}

// msgDraftApp is Play's refusal of a release that is not a draft on an
// app never published.
const msgDraftApp = "Only releases with status draft may be created on draft app."

// codeUsed recognises Play's refusals of a version code used before:
// "APK specifies a version code that has already been used."
// (apkUpgradeVersionConflict), "Version code 7 has already been used.",
// "You cannot insert a bundle with the same version code as an APK in the
// edit." (replacingBundleWithApk), "Cannot replace a bundle of version
// code 7 with an APK.".
func codeUsed(msg, reason string) bool {
	m := strings.ToLower(msg)
	return reason == "apkUpgradeVersionConflict" || reason == "replacingBundleWithApk" ||
		strings.Contains(m, "has already been used") || strings.Contains(m, "same version code") ||
		strings.Contains(m, "cannot replace a bundle")
}

// explain turns err into an *Error with advice.
func (c *Client) explain(op, pkg string, err error) error {
	var pe *Error
	if errors.As(err, &pe) {
		return err
	}
	var vu *VersionCodeUsedError
	if errors.As(err, &vu) {
		return err
	}
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("%s: %w", op, err)
	}
	var p permanent
	if errors.As(err, &p) {
		return fmt.Errorf("%s: %w", op, p.Err)
	}
	who := "the account"
	if c.account != "" {
		who = c.account
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		desc := gapi.TokenError(re)
		return &Error{Op: op, Msg: fmt.Sprintf("getting an access token for %s failed (%s): check the credentials file or GOOGLE_APPLICATION_CREDENTIALS, and that the key is not revoked", who, desc), Err: ErrAuth}
	}
	var ge *googleapi.Error
	if !errors.As(err, &ge) {
		return &Error{Op: op, Msg: fmt.Sprintf("%v (network or server failure; run again)", err), Err: err}
	}
	e := &Error{Op: op, Code: ge.Code, Reason: gapi.Reason(ge), Err: ge}
	msg := strings.TrimSpace(ge.Message)
	if msg == "" {
		msg = fmt.Sprintf("HTTP %d", ge.Code)
	}
	switch {
	case strings.Contains(msg, msgDraftApp) || strings.Contains(strings.ToLower(msg), "draft app"):
		e.Err = ErrDraftApp
		e.Msg = fmt.Sprintf("Google Play: %q: %s has never been published, so it takes only draft releases: upload with status draft and roll it out in Play Console, until the first release is reviewed and published", msg, pkg)
	case strings.Contains(msg, "ackBundleInstallationWarning") || strings.Contains(strings.ToLower(msg), "installation size"):
		e.Err = ErrRejected
		e.Msg = fmt.Sprintf("Google Play: %q: the bundle's install size is large: make it smaller (asset packs, Play Asset Delivery), or accept the warning (UploadOptions.AckBundleInstallationWarning)", msg)
	case strings.Contains(msg, "changesNotSentForReview") && strings.Contains(msg, "must not be set"):
		e.Err = ErrRejected
		e.Msg = fmt.Sprintf("Google Play: %q: this app's changes go to review by themselves: upload without changes-not-sent-for-review", msg)
	case strings.Contains(msg, "changesNotSentForReview"):
		e.Err = ErrRejected
		e.Msg = fmt.Sprintf("Google Play: %q: this app's changes are not sent for review automatically: upload again with changes-not-sent-for-review (--changes-not-sent-for-review), then send them for review in Play Console (Publishing overview)", msg)
	case codeUsed(msg, e.Reason):
		e.Err = ErrVersionCodeUsed
		e.Msg = fmt.Sprintf("Google Play: %q: every upload needs a new, higher versionCode: rebuild with versionCode raised", msg)
	case (ge.Code == 401 || ge.Code == 403) && (e.Reason == "permissionDenied" || strings.Contains(msg, "insufficient permissions")):
		// Play answers 401 or 403 with this when the account was not
		// invited in Play Console, or not to this app.
		e.Err = ErrNotInvited
		e.Msg = notInvited(msg, who, pkg)
	case ge.Code == 401:
		e.Err = ErrAuth
		e.Msg = fmt.Sprintf("Google Play rejected the credentials (%s): check the service account key or access token (an access token lasts an hour), and that the workload identity provider may impersonate the service account", msg)
	case ge.Code == 403 && (e.Reason == "userRateLimitExceeded" || e.Reason == "rateLimitExceeded"):
		e.Err = ErrRateLimited
		e.Msg = fmt.Sprintf("Google Play kept rate-limiting the requests (%s): run again later", msg)
	case ge.Code == 403 && (e.Reason == "insufficientPermissions" || strings.Contains(msg, "insufficient authentication scopes")) && strings.Contains(msg, "scope"):
		e.Err = ErrAuth
		e.Msg = fmt.Sprintf("the token does not carry the androidpublisher scope (%s): make it with --scopes=https://www.googleapis.com/auth/androidpublisher", msg)
	case ge.Code == 403:
		e.Err = ErrNotInvited
		e.Msg = notInvited(msg, who, pkg)
	case ge.Code == 404 && strings.HasPrefix(op, "creating an edit"):
		e.Err = ErrAppNotFound
		e.Msg = fmt.Sprintf("Google Play: %q: no app %s in Play Console that %s can see: create the app in Play Console first (the very first bundle is uploaded by hand there), check the package name, and that %s is invited to this app in Play Console (Users and permissions)", msg, pkg, who, who)
	case ge.Code == 404 && strings.Contains(msg, "Edit"):
		e.Err = ErrEditGone
		e.Msg = fmt.Sprintf("Google Play: %q: the edit is gone (it expired, or another upload or a change in Play Console was committed meanwhile): run again", msg)
	case ge.Code == 429:
		e.Err = ErrRateLimited
		e.Msg = fmt.Sprintf("Google Play kept rate-limiting the requests (%s): run again later", msg)
	case ge.Code >= 500:
		e.Msg = fmt.Sprintf("Google Play kept failing (HTTP %d: %s): run again later", ge.Code, msg)
	case ge.Code == 400 || ge.Code == 403 || ge.Code == 404 || ge.Code == 409:
		e.Err = ErrRejected
		e.Msg = fmt.Sprintf("Google Play: %q (HTTP %d)", msg, ge.Code)
	default:
		e.Msg = fmt.Sprintf("HTTP %d: %s", ge.Code, msg)
	}
	return e
}

func notInvited(msg, who, pkg string) string {
	return fmt.Sprintf("Google Play: %q: %s may not manage %s: in Play Console, Users and permissions > Invite new users, invite %s with the app's Release permissions, then run again (new permissions can take a few minutes, sometimes hours, to apply)", msg, who, pkg, who)
}
