package actions

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/storesign/storesign/internal/androidinfo"
	"github.com/storesign/storesign/internal/plistx"
)

// AppInfo is what the step summary shows of an app: read from the build
// itself, so that it describes what was signed.
type AppInfo struct {
	Name     string // display name (iOS); empty for Android
	BundleID string // bundle ID (iOS) or package name (Android)
	Version  string // CFBundleShortVersionString or versionName
	Build    string // CFBundleVersion or versionCode
}

// maxInfo bounds the size of an Info.plist read into memory.
const maxInfo = 8 << 20

// ReadAppInfo reads the app's name, identifier and version from an IPA's
// main Info.plist, an APK's AndroidManifest.xml, or an app bundle's
// base/manifest/AndroidManifest.xml (aapt2's protocol buffer form, or
// binary XML; read with internal/androidinfo).
func ReadAppInfo(r io.ReaderAt, size int64, kind Kind) (*AppInfo, error) {
	switch kind {
	case KindIPA:
		return readIPAInfo(r, size)
	case KindAPK, KindAAB:
		m, err := androidinfo.Read(r, size)
		if err != nil {
			return nil, fmt.Errorf("reading the build: %w", err)
		}
		info := &AppInfo{BundleID: m.Package, Version: m.VersionName}
		if m.VersionCode != 0 {
			info.Build = strconv.FormatInt(m.VersionCode, 10)
		}
		return info, nil
	}
	return &AppInfo{}, nil
}

// readIPAInfo reads the main app's Payload/*.app/Info.plist.
func readIPAInfo(r io.ReaderAt, size int64) (*AppInfo, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("reading the build: %w", err)
	}
	for _, f := range zr.File {
		rest, ok := strings.CutPrefix(f.Name, "Payload/")
		if !ok {
			continue
		}
		app, file, ok := strings.Cut(rest, "/")
		if !ok || file != "Info.plist" || !strings.HasSuffix(app, ".app") {
			continue
		}
		data, err := readEntry(f)
		if err != nil {
			return nil, err
		}
		return infoFromPlist(data)
	}
	return nil, fmt.Errorf("reading the build: no Payload/*.app/Info.plist")
}

func readEntry(f *zip.File) ([]byte, error) {
	if f.UncompressedSize64 > maxInfo {
		return nil, fmt.Errorf("reading %s: too large", f.Name)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", f.Name, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, maxInfo+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", f.Name, err)
	}
	return data, nil
}

func infoFromPlist(data []byte) (*AppInfo, error) {
	var p struct {
		DisplayName  string `plist:"CFBundleDisplayName"`
		Name         string `plist:"CFBundleName"`
		ID           string `plist:"CFBundleIdentifier"`
		ShortVersion string `plist:"CFBundleShortVersionString"`
		Version      string `plist:"CFBundleVersion"`
	}
	if _, err := plistx.Unmarshal(bytes.Clone(data), &p); err != nil {
		return nil, fmt.Errorf("reading Info.plist: %w", err)
	}
	name := p.DisplayName
	if name == "" {
		name = p.Name
	}
	return &AppInfo{Name: name, BundleID: p.ID, Version: p.ShortVersion, Build: p.Version}, nil
}
