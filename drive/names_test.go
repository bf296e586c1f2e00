package drive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"unicode/utf8"

	"github.com/storesign/storesign/drive/drivetest"
)

func TestLocalName(t *testing.T) {
	for _, ok := range []string{"app.apk", "Game 1.0 (final).ipa", "jeu-été.aab", "ゲーム.ipa", "a..b.apk", "-rf.apk", strings.Repeat("a", MaxLocalName)} {
		if got, err := LocalName(ok); err != nil || got != ok {
			t.Errorf("LocalName(%q) = %q, %v; want it unchanged", ok, got, err)
		}
	}
	for _, tc := range []struct{ name, reason string }{
		{"", "is empty"},
		{".", "relative folder"},
		{"..", "relative folder"},
		{"ok.apk\npath=/etc/passwd", "U+000A"},
		{"ok.apk\r", "U+000D"},
		{"a\x00b", "U+0000"},
		{"a\x1b[31mred.apk", "U+001B"},
		{"a\u0085b", "U+0085"},
		{"a\u2028b.apk", "U+2028"},
		{"gpj\u202e.exe", "U+202E"},
		{"../../etc/passwd", "path separator"},
		{"sub/app.apk", "path separator"},
		{`..\app.apk`, "path separator"},
		{".bashrc", "leading dot"},
		{".app.apk.123.tmp", "leading dot"},
		{"\xff\xfe.apk", "UTF-8"},
		{strings.Repeat("a", MaxLocalName+1), "too long"},
	} {
		_, err := LocalName(tc.name)
		var ne *NameError
		if !errors.As(err, &ne) || !errors.Is(err, ErrBadName) {
			t.Errorf("LocalName(%q) = %v, want a *NameError", tc.name, err)
			continue
		}
		if !strings.Contains(err.Error(), tc.reason) && !strings.Contains(ne.Reason, strings.TrimPrefix(tc.reason, "leading ")) {
			t.Errorf("LocalName(%q): %v, want it to say %q", tc.name, err, tc.reason)
		}
		if strings.ContainsAny(err.Error(), "\r\n\x00\x1b") {
			t.Errorf("LocalName(%q): the message holds a control character: %q", tc.name, err)
		}
	}
}

func TestDisplayName(t *testing.T) {
	if got := DisplayName("a\nb"); got != `"a\nb"` {
		t.Errorf("DisplayName = %s", got)
	}
	long := DisplayName(strings.Repeat("é", 100))
	if !utf8.ValidString(long) || len(long) > maxDisplayName+8 || !strings.HasSuffix(long, "…") {
		t.Errorf("DisplayName of a long name = %q", long)
	}
}

// FuzzLocalName checks that an accepted name is one path element that
// prints on one line, and that errors print on one line.
func FuzzLocalName(f *testing.F) {
	for _, s := range []string{"app.apk", "ok.apk\npath=/etc/passwd", "../x", ".x", "a\u202eb", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		got, err := LocalName(name)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		if got != name || strings.ContainsAny(got, `/\`) || got == ".." || strings.HasPrefix(got, ".") || !SafeText(got) || len(got) > MaxLocalName {
			t.Fatalf("accepted %q", name)
		}
	})
}

// hostileDrive serves a folder whose listing is what page returns for
// the n-th request (from 1).
func hostileDrive(t *testing.T, page func(n int, token string) map[string]any) *Client {
	t.Helper()
	const folder = "1FolderFolderFolderFolder"
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasSuffix(r.URL.Path, "/files/"+folder):
			json.NewEncoder(w).Encode(map[string]any{"id": folder, "name": "in", "mimeType": FolderMimeType})
		case strings.HasSuffix(r.URL.Path, "/files"):
			json.NewEncoder(w).Encode(page(int(n.Add(1)), r.URL.Query().Get("pageToken")))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	c, err := New(context.Background(), WithEndpoint(srv.URL), WithRetry(fastRetry), WithoutEnvironment())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func file(id, name string) map[string]any {
	return map[string]any{"id": id, "name": name, "mimeType": "application/octet-stream", "size": "1", "md5Checksum": strings.Repeat("0", 32)}
}

func TestListLimits(t *testing.T) {
	const folder = "1FolderFolderFolderFolder"
	t.Run("endless pages", func(t *testing.T) {
		c := hostileDrive(t, func(n int, _ string) map[string]any {
			return map[string]any{"files": []any{}, "nextPageToken": fmt.Sprint("t", n)}
		})
		_, err := c.List(context.Background(), folder)
		if !errors.Is(err, ErrBadMetadata) || !strings.Contains(err.Error(), "pages") {
			t.Errorf("List = %v, want ErrBadMetadata about pages", err)
		}
	})
	t.Run("repeated token", func(t *testing.T) {
		c := hostileDrive(t, func(n int, _ string) map[string]any {
			return map[string]any{"files": []any{file(fmt.Sprintf("1File%020d", n), "a.apk")}, "nextPageToken": "again"}
		})
		_, err := c.List(context.Background(), folder)
		if !errors.Is(err, ErrBadMetadata) || !strings.Contains(err.Error(), "page token") {
			t.Errorf("List = %v, want ErrBadMetadata about the page token", err)
		}
	})
	t.Run("too many files", func(t *testing.T) {
		c := hostileDrive(t, func(n int, _ string) map[string]any {
			files := make([]any, 1000)
			for i := range files {
				files[i] = file(fmt.Sprintf("1File%010d%010d", n, i), "a.apk")
			}
			return map[string]any{"files": files, "nextPageToken": fmt.Sprint("t", n)}
		})
		_, err := c.List(context.Background(), folder)
		if !errors.Is(err, ErrBadMetadata) || !strings.Contains(err.Error(), "items") {
			t.Errorf("List = %v, want ErrBadMetadata about items", err)
		}
	})
	t.Run("malformed items skipped", func(t *testing.T) {
		c := hostileDrive(t, func(n int, _ string) map[string]any {
			bad := file("1Good00000000000000002", "b.apk")
			bad["md5Checksum"] = "not hex"
			link := file("1Good00000000000000003", "c.apk")
			link["webViewLink"] = "javascript:alert(1)"
			return map[string]any{"files": []any{
				file("1Good00000000000000001", "a.apk"),
				file("bad\nid=forged0000", "x.apk"),
				bad, link,
			}}
		})
		files, err := c.List(context.Background(), folder)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, f := range files {
			ids = append(ids, f.ID)
			if f.WebViewLink != "" {
				t.Errorf("%s: web link %q kept", f.ID, f.WebViewLink)
			}
		}
		if strings.Join(ids, ",") != "1Good00000000000000001,1Good00000000000000003" {
			t.Errorf("listed %v, want the two well-formed items", ids)
		}
	})
}

// TestStatRefusesMalformedID checks that a file whose metadata no Drive
// server sends is refused by Stat.
func TestStatRefusesMalformedID(t *testing.T) {
	const id = "1Good00000000000000001"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"id": id + "\nid=forged", "name": "a.apk", "mimeType": "application/octet-stream"})
	}))
	defer srv.Close()
	c, err := New(context.Background(), WithEndpoint(srv.URL), WithRetry(fastRetry), WithoutEnvironment())
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Stat(context.Background(), id)
	if !errors.Is(err, ErrBadMetadata) || strings.Contains(err.Error(), "\n") {
		t.Errorf("Stat = %q, want a one-line ErrBadMetadata", err)
	}
}

// TestAmbiguousNamesQuoted checks that a hostile name in a candidate list
// is quoted, keeping the message on one line.
func TestAmbiguousNamesQuoted(t *testing.T) {
	s, c := newTest(t, drivetest.Options{})
	in, err := s.AddFolder("", "", "in")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"a.apk", "b.apk\nid=forged"} {
		if _, err := s.AddFile(in, n, strings.NewReader(n)); err != nil {
			t.Fatal(err)
		}
	}
	_, err = c.Find(context.Background(), in, FindOptions{Name: "*.apk*"})
	var ae *AmbiguousError
	if !errors.As(err, &ae) || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), `"b.apk\nid=forged"`) {
		t.Errorf("Find = %q, want one line with the hostile name quoted", err)
	}
}
