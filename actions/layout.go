package actions

import (
	"errors"
	"fmt"
	"path"
	"strings"
	"unicode"

	"github.com/storesign/storesign/drive"
)

// The defaults of the release action's output-subfolder and output-name
// inputs: each build in a folder of its own, named after the app, its
// version and its build number, so that a re-run of the same build finds
// the earlier upload and replaces it, and a new build never does.
const (
	DefaultSubfolder = "{app}/{version} ({build})"
	DefaultName      = "{app}-{version}-{build}.{ext}"
)

// The appProperties a release sets on the signed build it uploads, which
// [Plan] reads: the delivered file's Drive ID and MD5.
const (
	SourceProperty    = "storesignSource"
	SourceMD5Property = "storesignSourceMd5"
)

// Layout says where a release puts a signed build in the output folder.
// Its templates hold placeholders: {app} (the app's name for iOS, its
// package name for Android), {bundle-id}, {version}, {build}, {platform}
// (ios or android), {ext} (ipa, apk or aab) and {input} (the delivered
// file's name without its extension). A value that is missing is
// "unknown"; slashes and control characters in a value become "-", so a
// value never adds a folder.
type Layout struct {
	// Subfolder is the folder path under the output folder, "/" between
	// folders; missing folders are made. Empty puts the build in the
	// output folder itself.
	Subfolder string
	// Name is the signed build's name in Drive. Empty keeps the name of
	// the signed file.
	Name string
}

// errPlaceholder is an unknown or unclosed placeholder.
var errPlaceholder = errors.New("actions: bad placeholder")

// placeholders are the names a Layout template may use.
const placeholders = "{app}, {bundle-id}, {version}, {build}, {platform}, {ext}, {input}"

// Check reports the first unknown or unclosed placeholder of l's
// templates.
func (l Layout) Check() error {
	for _, t := range []string{l.Subfolder, l.Name} {
		if _, err := expand(t, func(string) string { return "x" }); err != nil {
			return err
		}
	}
	return nil
}

// Place returns the sub-folder path and the name a signed build gets,
// from what the report says of it and the signed file's name.
func (l Layout) Place(r *Report, file string) (subfolder, name string, err error) {
	ext := strings.TrimPrefix(strings.ToLower(path.Ext(file)), ".")
	platform := "android"
	app := r.BundleID
	if r.Platform == KindIPA.String() {
		platform, app = "ios", r.App
	}
	if app == "" {
		app = r.App
	}
	input := strings.TrimSuffix(r.Input, path.Ext(r.Input))
	if input == "" {
		input = strings.TrimSuffix(file, path.Ext(file))
	}
	vals := map[string]string{"app": app, "bundle-id": r.BundleID, "version": r.Version, "build": r.Build,
		"platform": platform, "ext": ext, "input": input}
	value := func(k string) string { return pathPart(vals[k]) }
	if subfolder, err = expand(l.Subfolder, value); err != nil {
		return "", "", err
	}
	var segs []string
	for _, s := range strings.Split(subfolder, "/") {
		if s = strings.TrimSpace(s); s != "" {
			segs = append(segs, s)
		}
	}
	subfolder = strings.Join(segs, "/")
	name = file
	if l.Name != "" {
		if name, err = expand(l.Name, value); err != nil {
			return "", "", err
		}
		name = strings.ReplaceAll(name, "/", "-")
	}
	for _, s := range append(segs, name) {
		if _, err := drive.LocalName(s); err != nil {
			return "", "", err
		}
	}
	return subfolder, name, nil
}

// expand replaces each {name} of t with value(name).
func expand(t string, value func(string) string) (string, error) {
	var b strings.Builder
	for {
		i := strings.IndexByte(t, '{')
		if i < 0 {
			b.WriteString(t)
			return b.String(), nil
		}
		j := strings.IndexByte(t[i:], '}')
		if j < 0 {
			return "", fmt.Errorf("%w: %s is not closed", errPlaceholder, t[i:])
		}
		k := t[i+1 : i+j]
		if k == "" || strings.ContainsAny(k, "{}, ") || !strings.Contains(placeholders, "{"+k+"}") {
			return "", fmt.Errorf("%w: {%s} is none of %s", errPlaceholder, k, placeholders)
		}
		b.WriteString(t[:i])
		b.WriteString(value(k))
		t = t[i+j+1:]
	}
}

// pathPart makes a value from a build (an app's name) fit for one Drive
// folder or file name: no slashes or control characters, no leading dot,
// at most 100 bytes; "unknown" when empty.
func pathPart(v string) string {
	v = strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || unsafeRune(r) || unicode.IsControl(r) {
			return '-'
		}
		return r
	}, strings.ToValidUTF8(strings.TrimSpace(v), "-"))
	v = strings.TrimLeft(strings.TrimSpace(v), ".")
	if len(v) > 100 {
		n := 100
		for n > 0 && !utf8RuneStart(v[n]) {
			n--
		}
		v = v[:n]
	}
	if v = strings.TrimSpace(v); v == "" {
		return "unknown"
	}
	return v
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
