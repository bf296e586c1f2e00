package appstore

import (
	"errors"
	"fmt"
	"strings"

	"github.com/storesign/storesign/signing/ipa"
)

// Errors callers branch on.
var (
	// ErrBadKey is returned for an API key that is not a P-256 PKCS#8
	// key, or lacks its key ID or issuer ID.
	ErrBadKey = errors.New("appstore: not an App Store Connect API key (want the AuthKey_<ID>.p8 file, its key ID and the issuer ID)")
	// ErrUnauthorized is returned when App Store Connect refuses the
	// key's tokens (wrong key ID or issuer ID, revoked key).
	ErrUnauthorized = errors.New("appstore: App Store Connect refused the API key")
	// ErrForbidden is returned when the key's role may not do what was
	// asked (uploading needs App Manager, Developer or Admin).
	ErrForbidden = errors.New("appstore: the API key is not allowed to do this")
	// ErrAppNotFound is returned when no app has the IPA's bundle ID.
	ErrAppNotFound = errors.New("appstore: no app with this bundle ID in App Store Connect")
	// ErrBuildUsed is returned when the version and build number were
	// already uploaded.
	ErrBuildUsed = errors.New("appstore: this build number was already uploaded for this version")
	// ErrProcessingFailed is returned when App Store Connect refuses the
	// build after the upload.
	ErrProcessingFailed = errors.New("appstore: App Store Connect refused the build")
	// ErrPreflight is returned when the IPA fails the checks of ipa.Check
	// before anything is uploaded.
	ErrPreflight = errors.New("appstore: the IPA would be refused")
)

// AppNotFoundError says which bundle ID has no app.
type AppNotFoundError struct{ BundleID string }

func (e *AppNotFoundError) Error() string {
	return fmt.Sprintf("no app with bundle ID %s in App Store Connect: create it first (Apps > + > New App, with this bundle ID), or check that the API key's team owns it", e.BundleID)
}

// Unwrap returns [ErrAppNotFound].
func (e *AppNotFoundError) Unwrap() error { return ErrAppNotFound }

// BuildUsedError says which version and build were already uploaded.
type BuildUsedError struct {
	BundleID, Version, Build string
	// Detail is App Store Connect's own words, when it said something.
	Detail string
}

func (e *BuildUsedError) Error() string {
	s := fmt.Sprintf("build %s of version %s of %s was already uploaded: give the IPA a higher CFBundleVersion (storesign ipa resign --bundle-version) and upload again", e.Build, e.Version, e.BundleID)
	if e.Detail != "" {
		s += " (App Store Connect: " + e.Detail + ")"
	}
	return s
}

// Unwrap returns [ErrBuildUsed].
func (e *BuildUsedError) Unwrap() error { return ErrBuildUsed }

// StateDetail is one of App Store Connect's errors, warnings or notes
// about an upload: an ITMS code or similar, and its description.
type StateDetail struct {
	Code        string `json:"code,omitempty"`
	Description string `json:"description,omitempty"`
}

func (d StateDetail) String() string {
	if d.Code == "" {
		return d.Description
	}
	return d.Code + ": " + d.Description
}

// ProcessingError carries App Store Connect's reasons for refusing a
// build.
type ProcessingError struct {
	BuildUploadID string
	State         string
	Errors        []StateDetail
}

func (e *ProcessingError) Error() string {
	if len(e.Errors) == 0 {
		return fmt.Sprintf("App Store Connect refused the build (state %s) without saying why: see the e-mail Apple sent to the account holder", e.State)
	}
	var parts []string
	for _, d := range e.Errors {
		parts = append(parts, d.String())
	}
	return "App Store Connect refused the build: " + strings.Join(parts, "; ")
}

// Unwrap returns [ErrProcessingFailed].
func (e *ProcessingError) Unwrap() error { return ErrProcessingFailed }

// PreflightError lists the findings of ipa.Check that would make Apple
// refuse the IPA.
type PreflightError struct{ Findings []ipa.Finding }

func (e *PreflightError) Error() string {
	var parts []string
	for _, f := range e.Findings {
		parts = append(parts, f.String())
	}
	return "the IPA would be refused, nothing was uploaded: " + strings.Join(parts, "; ")
}

// Unwrap returns [ErrPreflight].
func (e *PreflightError) Unwrap() error { return ErrPreflight }

// IncompleteError is returned when the upload of the file's parts
// stopped before every part was sent. Checkpoint, passed as
// UploadOptions.Resume, continues it without sending again the parts
// already sent.
type IncompleteError struct {
	Checkpoint *Checkpoint
	Err        error
}

func (e *IncompleteError) Error() string {
	return fmt.Sprintf("uploading the IPA: %d of %d parts sent: %v", len(e.Checkpoint.Done), e.Checkpoint.Parts, e.Err)
}

func (e *IncompleteError) Unwrap() error { return e.Err }
