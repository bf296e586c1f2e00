package play

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxReleaseNotes is the longest "what's new" text Play takes, in
// characters.
const MaxReleaseNotes = 500

// maxNotesFile bounds a release notes file read into memory.
const maxNotesFile = 64 << 10

// langRE matches the language codes Play uses ("en-US", "fr-FR", "es-419",
// "zh-Hans-CN" style tags).
var langRE = regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{2,8}){0,2}$`)

func checkNotes(notes map[string]string) error {
	for lang, text := range notes {
		if !langRE.MatchString(lang) {
			return fmt.Errorf("%w: release notes language %q is not a language code such as en-US", ErrBadOptions, lang)
		}
		if n := utf8.RuneCountInString(text); n > MaxReleaseNotes {
			return fmt.Errorf("%w: the %s release notes have %d characters, Play takes at most %d: shorten them", ErrBadOptions, lang, n, MaxReleaseNotes)
		}
		if !utf8.ValidString(text) {
			return fmt.Errorf("%w: the %s release notes are not UTF-8 text", ErrBadOptions, lang)
		}
	}
	return nil
}

// ReadReleaseNotes reads release notes from dir in either layout:
//
//   - one file per language, dir/<lang>.txt ("en-US.txt");
//   - fastlane supply's, dir/<lang>/changelogs/<versionCode>.txt, else
//     dir/<lang>/changelogs/default.txt (dir is then fastlane's
//     metadata/android folder).
//
// Texts are trimmed of surrounding space. A language with no file for
// versionCode and no default.txt is left out.
func ReadReleaseNotes(dir string, versionCode int64) (map[string]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("play: reading release notes: %w", err)
	}
	notes := map[string]string{}
	read := func(lang, path string) error {
		if !langRE.MatchString(lang) {
			return fmt.Errorf("play: reading release notes: %s: %q is not a language code such as en-US", path, lang)
		}
		fi, err := os.Stat(path)
		if err != nil {
			return fmt.Errorf("play: reading release notes: %w", err)
		}
		if !fi.Mode().IsRegular() || fi.Size() > maxNotesFile {
			return fmt.Errorf("play: reading release notes: %s is not a text file of at most %d bytes", path, maxNotesFile)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("play: reading release notes: %w", err)
		}
		text := strings.TrimSpace(strings.ReplaceAll(string(b), "\r\n", "\n"))
		if text == "" {
			return nil
		}
		notes[lang] = text
		return nil
	}
	for _, e := range ents {
		name := e.Name()
		switch {
		case strings.HasPrefix(name, "."):
		case !e.IsDir() && strings.HasSuffix(name, ".txt"):
			if err := read(strings.TrimSuffix(name, ".txt"), filepath.Join(dir, name)); err != nil {
				return nil, err
			}
		case e.IsDir() && langRE.MatchString(name):
			cl := filepath.Join(dir, name, "changelogs")
			for _, f := range []string{strconv.FormatInt(versionCode, 10) + ".txt", "default.txt"} {
				p := filepath.Join(cl, f)
				if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
					continue
				}
				if err := read(name, p); err != nil {
					return nil, err
				}
				break
			}
		}
	}
	if err := checkNotes(notes); err != nil {
		return nil, err
	}
	return notes, nil
}
