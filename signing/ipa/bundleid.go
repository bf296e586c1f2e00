package ipa

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// ErrBadBundleID is wrapped by every *[BundleIDError].
var ErrBadBundleID = errors.New("ipa: unusable bundle ID")

// maxBundleID is the longest bundle ID accepted (Apple's limit is 155
// for App Store IDs; Info.plist strings of other bundles get some room).
const maxBundleID = 255

// BundleIDError is a bundle ID that cannot be signed: the one asked for
// in [Options.BundleID], or a CFBundleIdentifier of the app. Such IDs end
// up in code signatures, profiles' matching, file names and log lines.
type BundleIDError struct {
	BundleID string
	Where    string // "the new bundle ID" or the Info.plist entry
	Reason   string
}

func (e *BundleIDError) Error() string {
	return fmt.Sprintf("ipa: bundle ID %s (%s) %s: a bundle ID is letters, digits, - and . between them, as in com.example.app", strconv.QuoteToGraphic(e.BundleID), e.Where, e.Reason)
}

func (e *BundleIDError) Unwrap() error { return ErrBadBundleID }

// checkBundleID refuses a bundle ID that is empty, too long, holds a
// control character, a path separator, a space or another character
// outside letters, digits, -, _ and ., or an empty component ("..",
// a leading or trailing dot). strict (for the ID asked for) also refuses
// _, which Apple does not accept in new IDs.
func checkBundleID(id, where string, strict bool) error {
	bad := func(reason string) error { return &BundleIDError{BundleID: id, Where: where, Reason: reason} }
	switch {
	case id == "":
		return bad("is empty")
	case len(id) > maxBundleID:
		return bad(fmt.Sprintf("is %d bytes long, more than %d", len(id), maxBundleID))
	}
	for _, r := range id {
		switch {
		case unicode.IsControl(r):
			return bad(fmt.Sprintf("holds the control character %U", r))
		case r == '/' || r == '\\':
			return bad("holds a path separator")
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9', r == '-', r == '.':
		case r == '_' && !strict:
		default:
			return bad(fmt.Sprintf("holds %q", r))
		}
	}
	if strings.HasPrefix(id, ".") || strings.HasSuffix(id, ".") || strings.Contains(id, "..") {
		return bad("has an empty component (a leading, trailing or double dot)")
	}
	return nil
}
