package actions

import (
	"archive/zip"
	"errors"
	"io"
	"strings"
)

// Kind is the kind of build a file holds.
type Kind string

// The kinds [Detect] tells apart.
const (
	KindIPA Kind = "ipa" // an iOS app archive: Payload/Name.app/...
	KindAPK Kind = "apk" // an Android package: AndroidManifest.xml at the root
	KindAAB Kind = "aab" // an Android App Bundle: base/manifest/AndroidManifest.xml
)

// Platform is the platform input's value for the kind: "ios" or "android".
func (k Kind) Platform() string {
	if k == KindIPA {
		return "ios"
	}
	return "android"
}

// String names the kind as the step summary does.
func (k Kind) String() string {
	switch k {
	case KindIPA:
		return "iOS"
	case KindAPK:
		return "Android (APK)"
	case KindAAB:
		return "Android (App Bundle)"
	}
	return string(k)
}

// ErrUnknownBuild is returned by [Detect] for a file that is neither an
// IPA, an APK nor an AAB.
var ErrUnknownBuild = errors.New("actions: not an iOS app (.ipa), an Android package (.apk) or an Android App Bundle (.aab)")

// Detect tells an IPA from an APK and an AAB by the names in the zip's
// central directory, whatever the file is called. It reads no entry data.
func Detect(r io.ReaderAt, size int64) (Kind, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return "", ErrUnknownBuild
	}
	var app, manifest, bundle bool
	for _, f := range zr.File {
		name := f.Name
		switch {
		case name == "AndroidManifest.xml":
			manifest = true
		case name == "base/manifest/AndroidManifest.xml" || name == "BundleConfig.pb":
			bundle = true
		case strings.HasPrefix(name, "Payload/"):
			rest := name[len("Payload/"):]
			if i := strings.IndexByte(rest, '/'); i > len(".app")-1 && strings.HasSuffix(rest[:i], ".app") {
				app = true
			}
		}
	}
	switch {
	case app && !manifest && !bundle:
		return KindIPA, nil
	case bundle && !manifest && !app:
		return KindAAB, nil
	case manifest && !app:
		return KindAPK, nil
	}
	return "", ErrUnknownBuild
}
