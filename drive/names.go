package drive

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on what a Drive server sends. Drive's own are far below the
// listing caps (a folder of builds holds hundreds of files); a server
// that exceeds them is broken or hostile, and is refused rather than
// followed without end.
const (
	// MaxLocalName is the longest Drive name, in bytes, that
	// [LocalName] accepts as a local file name (the limit of ext4, APFS
	// and NTFS).
	MaxLocalName = 255
	// MaxListFiles is the most items a folder listing returns.
	MaxListFiles = 100_000
	// MaxListPages is the most pages a folder listing reads.
	MaxListPages = 1_000
	// maxDisplayName is how much of a name an error message shows.
	maxDisplayName = 80
)

// ErrBadName is wrapped by the *[NameError] of a Drive name that cannot be
// used as a local file name.
var ErrBadName = errors.New("drive: unusable file name")

// ErrBadMetadata is wrapped by errors about metadata no Drive server
// sends: malformed IDs or checksums, listings without end.
var ErrBadMetadata = errors.New("drive: malformed metadata from the server")

// NameError is a Drive file name refused by [LocalName]: the name of a
// file uploaded by someone else decides no local path.
type NameError struct {
	Name   string // the name as Drive gave it
	Reason string // "holds a path separator", "is too long (300 bytes)"...
}

func (e *NameError) Error() string {
	return fmt.Sprintf("drive: the Drive file name %s %s, so it cannot name a local file", DisplayName(e.Name), e.Reason)
}

func (e *NameError) Unwrap() error { return ErrBadName }

// LocalName returns name unchanged when it can be used as the name of a
// local file in a folder of downloads, and a *[NameError] otherwise: an
// empty name, "." or "..", a name with a path separator (/ or \), a NUL,
// a control character (a line break would forge lines of key=value
// output), a Unicode line separator or bidirectional override, invalid
// UTF-8, a leading dot (a hidden file, such as .bashrc or a temp file of
// ours), or more than [MaxLocalName] bytes. Nothing is rewritten: a name
// that needs changing is refused, and the caller chooses the local name.
func LocalName(name string) (string, error) {
	bad := func(reason string) (string, error) { return "", &NameError{Name: name, Reason: reason} }
	switch {
	case name == "":
		return bad("is empty")
	case name == "." || name == "..":
		return bad("is a relative folder name")
	case len(name) > MaxLocalName:
		return bad(fmt.Sprintf("is too long (%d bytes, at most %d)", len(name), MaxLocalName))
	case !utf8.ValidString(name):
		return bad("is not valid UTF-8")
	}
	if i := strings.IndexFunc(name, unsafeRune); i >= 0 {
		r, _ := utf8.DecodeRuneInString(name[i:])
		return bad(fmt.Sprintf("holds the control character %U", r))
	}
	switch {
	case strings.ContainsAny(name, `/\`):
		return bad("holds a path separator")
	case strings.HasPrefix(name, "."):
		return bad("starts with a dot (a hidden file)")
	}
	return name, nil
}

// unsafeRune reports the characters that change how text is laid out or
// split into lines: C0 and C1 controls, DEL, line and paragraph
// separators, and bidirectional embeddings, overrides and isolates
// ("gpj.exe" shown as "exe.jpg").
func unsafeRune(r rune) bool {
	switch {
	case unicode.IsControl(r):
		return true
	case r == '\u2028' || r == '\u2029':
		return true
	case r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069', r == '\u200e', r == '\u200f', r == '\u061c':
		return true
	}
	return false
}

// SafeText reports whether s can be printed as is on a line read by a
// machine (a key=value line, an Actions output): valid UTF-8 without the
// characters [LocalName] refuses for layout.
func SafeText(s string) bool {
	return utf8.ValidString(s) && strings.IndexFunc(s, unsafeRune) < 0
}

// DisplayName is name as an error message shows it: quoted, with control
// characters escaped, and cut to 80 bytes.
func DisplayName(name string) string {
	if len(name) > maxDisplayName {
		cut := maxDisplayName
		for cut > 0 && !utf8.RuneStart(name[cut]) {
			cut--
		}
		return strconv.QuoteToGraphic(name[:cut]) + "…"
	}
	return strconv.QuoteToGraphic(name)
}

// checkMeta refuses metadata no Drive server sends: an ID that is not
// letters, digits, - and _, checksums that are not hex of the right
// length, a negative size. A web link that is not an https URL without
// control characters is dropped.
func checkMeta(f *File) error {
	bad := func(what string, v string) error {
		return fmt.Errorf("%w: %s %s: check STORESIGN_DRIVE_ENDPOINT, or try again later", ErrBadMetadata, what, DisplayName(v))
	}
	switch {
	case !validID(f.ID) || len(f.ID) > 256:
		return bad("file ID", f.ID)
	case f.MD5 != "" && !isHex(f.MD5, 32):
		return bad("MD5 of file "+f.ID, f.MD5)
	case f.SHA256 != "" && !isHex(f.SHA256, 64):
		return bad("SHA-256 of file "+f.ID, f.SHA256)
	case f.Size < 0:
		return bad("size of file "+f.ID, strconv.FormatInt(f.Size, 10))
	case f.ShortcutTarget != "" && !validID(f.ShortcutTarget):
		return bad("shortcut target of file "+f.ID, f.ShortcutTarget)
	}
	if f.WebViewLink != "" {
		u, err := url.Parse(f.WebViewLink)
		if err != nil || u.Scheme != "https" || u.Host == "" || !SafeText(f.WebViewLink) || strings.ContainsAny(f.WebViewLink, " \"'<>`") {
			f.WebViewLink = ""
		}
	}
	return nil
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, c := range []byte(s) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// shownName is name as a message shows it: as is when it is safe text of
// a reasonable length, else as [DisplayName] shows it.
func shownName(name string) string {
	if len(name) <= maxDisplayName && SafeText(name) {
		return name
	}
	return DisplayName(name)
}
