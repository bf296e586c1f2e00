package play_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/storesign/storesign/store/play"
)

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestReadReleaseNotes(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  map[string]string
		err   string
	}{
		{"flat", map[string]string{"en-US.txt": "Bug fixes.\r\n", "de-DE.txt": "  Fehlerbehebungen.\n", ".hidden.txt": "x", "README.md": "x", "it-IT.txt": " \n"},
			map[string]string{"en-US": "Bug fixes.", "de-DE": "Fehlerbehebungen."}, ""},
		{"fastlane", map[string]string{
			"en-US/changelogs/42.txt":      "For 42.",
			"en-US/changelogs/default.txt": "Default.",
			"fr-FR/changelogs/default.txt": "Par défaut.",
			"ja-JP/changelogs/41.txt":      "Old.",
			"en-US/title.txt":              "Game",
		}, map[string]string{"en-US": "For 42.", "fr-FR": "Par défaut."}, ""},
		{"bad-language", map[string]string{"english.txt": "x"}, nil, "not a language code"},
		{"too-long", map[string]string{"en-US.txt": strings.Repeat("x", 501)}, nil, "at most 500"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := play.ReadReleaseNotes(writeFiles(t, tt.files), 42)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("notes = %q, want %q", got, tt.want)
			}
		})
	}
	if _, err := play.ReadReleaseNotes(filepath.Join(t.TempDir(), "missing"), 1); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing dir: %v", err)
	}
}
