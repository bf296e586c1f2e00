package drivetest

import (
	"strings"
	"testing"
	"time"
)

func testEntries() []*entry {
	return []*entry{
		{File: File{ID: "a", Name: "Game's 1.0.ipa", MimeType: "application/octet-stream", Parents: []string{"P"}, ModifiedTime: time.Unix(1, 0)}},
		{File: File{ID: "b", Name: `back\slash.apk`, MimeType: "application/octet-stream", Parents: []string{"P"}, Trashed: true}},
		{File: File{ID: "c", Name: "sub", MimeType: FolderMimeType, Parents: []string{"P"}}},
		{File: File{ID: "d", Name: "other.aab", MimeType: "application/octet-stream", Parents: []string{"Q"}}},
	}
}

func TestQuery(t *testing.T) {
	for _, tc := range []struct {
		q    string
		want string // IDs matched
	}{
		{``, "abcd"},
		{`'P' in parents`, "abc"},
		{`'P' in parents and trashed = false`, "ac"},
		{`'P' in parents and trashed=false and mimeType != 'application/vnd.google-apps.folder'`, "a"},
		{`name = 'Game\'s 1.0.ipa'`, "a"},
		{`name = 'back\\slash.apk'`, "b"},
		{`name contains 'GAME'`, "a"},
		{`not name contains '.ipa' and ('P' in parents or 'Q' in parents)`, "bcd"},
		{`'Q' in parents or 'P' in parents and trashed = true`, "bd"},
		{`(('P' in parents))`, "abc"},
		{`NAME = 'sub' OR name = 'other.aab'`, ""}, // fields are case-sensitive
		{`name = 'sub' OR name = 'other.aab'`, "cd"},
		{`mimeType contains 'folder'`, "c"},
		{`starred = false`, "abcd"},
	} {
		q, err := parseQuery(tc.q)
		if err != nil {
			if tc.want != "" {
				t.Errorf("%s: %v", tc.q, err)
			}
			continue
		}
		var got string
		for _, e := range testEntries() {
			if q(e) {
				got += e.ID
			}
		}
		if got != tc.want {
			t.Errorf("%s: matched %q, want %q", tc.q, got, tc.want)
		}
	}
	for _, bad := range []string{`name = 'x`, `name = x`, `'P' in owners`, `trashed = maybe`, `(name = 'x'`, `name = 'x')`, `and`, `name ~ 'x'`, `modifiedTime > '2020'`, `name`, `name =`} {
		if _, err := parseQuery(bad); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
}

// escape is how package drive quotes a name.
func escape(s string) string {
	return "'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `'`, `\'`) + "'"
}

func FuzzQuery(f *testing.F) {
	for _, s := range []string{`'P' in parents and trashed = false`, `name = 'a\'b'`, `not (name contains 'x' or mimeType = 'y')`, `(((`, `'`, `name = '\`} {
		f.Add(s, "Game's.ipa")
	}
	f.Fuzz(func(t *testing.T, s, name string) {
		if q, err := parseQuery(s); err == nil {
			for _, e := range testEntries() {
				q(e)
			}
		}
		// Any name quoted as package drive does matches exactly itself.
		q, err := parseQuery("name = " + escape(name) + " and trashed = false")
		if err != nil {
			t.Fatalf("quoted name %q: %v", name, err)
		}
		if !q(&entry{File: File{Name: name}}) || q(&entry{File: File{Name: name + "x"}}) {
			t.Fatalf("quoted name %q does not match exactly", name)
		}
	})
}
