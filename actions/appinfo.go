package actions

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/storesign/storesign/internal/axml"
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

// maxInfo bounds the size of an Info.plist or manifest read into memory.
const maxInfo = 8 << 20

// ReadAppInfo reads the app's name, identifier and version from an IPA's
// main Info.plist, an APK's AndroidManifest.xml, or an app bundle's
// base/manifest/AndroidManifest.xml (aapt2's protocol buffer form, or
// binary XML).
func ReadAppInfo(r io.ReaderAt, size int64, kind Kind) (*AppInfo, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("reading the build: %w", err)
	}
	switch kind {
	case KindIPA:
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
	case KindAPK, KindAAB:
		name := "AndroidManifest.xml"
		if kind == KindAAB {
			name = "base/manifest/AndroidManifest.xml"
		}
		for _, f := range zr.File {
			if f.Name != name {
				continue
			}
			data, err := readEntry(f)
			if err != nil {
				return nil, err
			}
			m, err := axml.ParseManifest(data)
			if err != nil {
				if kind == KindAAB {
					if info, perr := protoManifestInfo(data); perr == nil {
						return info, nil
					}
				}
				return nil, fmt.Errorf("reading %s: %w", name, err)
			}
			info := &AppInfo{BundleID: m.Package, Version: m.VersionName}
			if m.VersionCode != 0 {
				info.Build = strconv.FormatInt(m.VersionCode, 10)
			}
			return info, nil
		}
		return nil, fmt.Errorf("reading the build: no %s", name)
	}
	return &AppInfo{}, nil
}

// errProto is a malformed protocol buffer.
var errProto = errors.New("actions: malformed protocol buffer manifest")

// protoField is one field of a protocol buffer message: its number and,
// for length-delimited fields, its bytes.
type protoField struct {
	num  uint64
	wire uint64
	data []byte
}

// protoFields splits a protocol buffer message into its fields.
func protoFields(b []byte) ([]protoField, error) {
	var out []protoField
	for len(b) > 0 {
		key, n := binary.Uvarint(b)
		if n <= 0 {
			return nil, errProto
		}
		b = b[n:]
		f := protoField{num: key >> 3, wire: key & 7}
		switch f.wire {
		case 0:
			_, n := binary.Uvarint(b)
			if n <= 0 {
				return nil, errProto
			}
			b = b[n:]
		case 1:
			if len(b) < 8 {
				return nil, errProto
			}
			b = b[8:]
		case 2:
			l, n := binary.Uvarint(b)
			if n <= 0 || l > uint64(len(b)-n) {
				return nil, errProto
			}
			f.data = b[n : n+int(l)]
			b = b[n+int(l):]
		case 5:
			if len(b) < 4 {
				return nil, errProto
			}
			b = b[4:]
		default:
			return nil, errProto
		}
		out = append(out, f)
	}
	return out, nil
}

// protoManifestInfo reads the manifest element's package, versionCode and
// versionName from aapt2's XmlNode form (Resources.proto: XmlNode.element
// = 1; XmlElement.name = 3, attribute = 4; XmlAttribute.namespace_uri = 1,
// name = 2, value = 3).
func protoManifestInfo(data []byte) (*AppInfo, error) {
	node, err := protoFields(data)
	if err != nil {
		return nil, err
	}
	for _, nf := range node {
		if nf.num != 1 || nf.wire != 2 {
			continue
		}
		elem, err := protoFields(nf.data)
		if err != nil {
			return nil, err
		}
		info := &AppInfo{}
		isManifest := false
		for _, ef := range elem {
			switch {
			case ef.num == 3 && ef.wire == 2:
				isManifest = string(ef.data) == "manifest"
			case ef.num == 4 && ef.wire == 2:
				attr, err := protoFields(ef.data)
				if err != nil {
					return nil, err
				}
				var ns, name, value string
				for _, af := range attr {
					if af.wire != 2 {
						continue
					}
					switch af.num {
					case 1:
						ns = string(af.data)
					case 2:
						name = string(af.data)
					case 3:
						value = string(af.data)
					}
				}
				const android = "http://schemas.android.com/apk/res/android"
				switch {
				case name == "package" && ns == "":
					info.BundleID = value
				case name == "versionCode" && ns == android:
					info.Build = value
				case name == "versionName" && ns == android:
					info.Version = value
				}
			}
		}
		if !isManifest || info.BundleID == "" {
			return nil, errProto
		}
		return info, nil
	}
	return nil, errProto
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
