package drive

import (
	"fmt"
	"net/url"
	"strings"
)

// Ref is a parsed reference to a Drive file or folder.
type Ref struct {
	ID          string
	ResourceKey string // from a link's resourcekey parameter, if any
}

// validID reports whether s looks like a Drive ID: 10 or more letters,
// digits, - and _.
func validID(s string) bool {
	if len(s) < 10 {
		return false
	}
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// ParseRef accepts a file or folder ID, or any Drive link form:
//
//	https://drive.google.com/file/d/ID/view?usp=sharing
//	https://drive.google.com/open?id=ID
//	https://drive.google.com/uc?id=ID&export=download
//	https://drive.google.com/drive/folders/ID
//	https://drive.google.com/drive/u/0/folders/ID?resourcekey=KEY
//	https://docs.google.com/document/d/ID/edit
func ParseRef(s string) (Ref, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Ref{}, fmt.Errorf("%w: empty", ErrBadReference)
	}
	if !strings.Contains(s, "/") && !strings.Contains(s, "?") {
		if !validID(s) {
			return Ref{}, fmt.Errorf("%w: %q: an ID is letters, digits, - and _", ErrBadReference, s)
		}
		return Ref{ID: s}, nil
	}
	if !strings.Contains(s, "://") && !strings.HasPrefix(s, "/") && !strings.HasPrefix(s, "?") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return Ref{}, fmt.Errorf("%w: %q: give the file ID or a https://drive.google.com/... link", ErrBadReference, s)
	}
	q := u.Query()
	ref := Ref{ResourceKey: q.Get("resourcekey")}
	if id := q.Get("id"); id != "" {
		ref.ID = id
	} else {
		parts := strings.Split(strings.Trim(u.Path, "/"), "/")
		for i := 0; i+1 < len(parts); i++ {
			if parts[i] == "d" || parts[i] == "folders" {
				ref.ID = parts[i+1]
				break
			}
		}
	}
	if !validID(ref.ID) {
		return Ref{}, fmt.Errorf("%w: %q: no file or folder ID in the link", ErrBadReference, s)
	}
	return ref, nil
}
