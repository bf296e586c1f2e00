package androidinfo

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/storesign/storesign/internal/atomicfile"
	"github.com/storesign/storesign/internal/axml"
	"github.com/storesign/storesign/internal/zipx"
)

// Kind is the kind of Android build.
type Kind string

const (
	// KindAPK is an installable APK.
	KindAPK Kind = "apk"
	// KindAAB is an Android App Bundle.
	KindAAB Kind = "aab"
)

// Names of the entries that tell the kinds apart.
const (
	APKManifest    = "AndroidManifest.xml"
	BundleManifest = "base/manifest/AndroidManifest.xml"
	BundleConfig   = "BundleConfig.pb"
)

// maxManifest bounds the manifest read into memory.
const maxManifest = 8 << 20

// Errors returned by [Read].
var (
	// ErrNotAndroid means the archive holds neither an APK's nor a
	// bundle's manifest.
	ErrNotAndroid = errors.New("androidinfo: not an APK or app bundle (no AndroidManifest.xml, no base/manifest/AndroidManifest.xml)")
	// ErrMalformed means the manifest could not be read.
	ErrMalformed = errors.New("androidinfo: malformed manifest")
)

// Info is what [Read] found.
type Info struct {
	Kind        Kind
	Package     string
	VersionCode int64 // versionCodeMajor<<32 | versionCode
	VersionName string
}

// ReadFile reads the build in the regular file at path; errors from
// opening it are atomicfile.OpenInput's.
func ReadFile(path string) (*Info, error) {
	f, size, err := atomicfile.OpenInput(path, "an APK or app bundle")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Read(f, size)
}

// Read reads the build in r (size bytes).
func Read(r io.ReaderAt, size int64) (*Info, error) {
	a, err := zipx.Read(r, size)
	if err != nil {
		return nil, fmt.Errorf("reading the archive: %w", err)
	}
	var apkM, aabM *zipx.Entry
	bundle := false
	for _, e := range a.Entries {
		switch e.Name {
		case APKManifest:
			apkM = e
		case BundleManifest:
			aabM = e
		case BundleConfig:
			bundle = true
		}
	}
	var m *zipx.Entry
	info := &Info{}
	switch {
	case aabM != nil && (bundle || apkM == nil):
		m, info.Kind = aabM, KindAAB
	case apkM != nil:
		m, info.Kind = apkM, KindAPK
	default:
		return nil, ErrNotAndroid
	}
	data, err := m.ReadAll(r, a.CDOffset, maxManifest)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", m.Name, err)
	}
	if err := parseManifest(data, info); err != nil {
		return nil, fmt.Errorf("reading %s: %w", m.Name, err)
	}
	return info, nil
}

// parseManifest reads binary XML, or, failing that, aapt2's protocol
// buffer XmlNode.
func parseManifest(data []byte, info *Info) error {
	m, err := axml.ParseManifest(data)
	if err == nil {
		if m.Package == "" {
			return fmt.Errorf("%w: no package attribute", ErrMalformed)
		}
		info.Package, info.VersionCode, info.VersionName = m.Package, m.VersionCode, m.VersionName
		return nil
	}
	if perr := parseProto(data, info); perr != nil {
		return fmt.Errorf("%w: neither binary XML (%v) nor an aapt2 protocol buffer (%v)", ErrMalformed, err, perr)
	}
	return nil
}

var errProto = errors.New("malformed protocol buffer")

// field is one field of a protocol buffer message.
type field struct {
	num, wire uint64
	varint    uint64
	data      []byte
}

// fields splits a protocol buffer message into its fields, calling fn for
// each; it stops at the first error.
func fields(b []byte, fn func(f field) error) error {
	for len(b) > 0 {
		key, n := binary.Uvarint(b)
		if n <= 0 {
			return errProto
		}
		b = b[n:]
		f := field{num: key >> 3, wire: key & 7}
		switch f.wire {
		case 0:
			v, n := binary.Uvarint(b)
			if n <= 0 {
				return errProto
			}
			f.varint = v
			b = b[n:]
		case 1:
			if len(b) < 8 {
				return errProto
			}
			b = b[8:]
		case 2:
			l, n := binary.Uvarint(b)
			if n <= 0 || l > uint64(len(b)-n) {
				return errProto
			}
			f.data = b[n : n+int(l)]
			b = b[n+int(l):]
		case 5:
			if len(b) < 4 {
				return errProto
			}
			b = b[4:]
		default:
			return errProto
		}
		if err := fn(f); err != nil {
			return err
		}
	}
	return nil
}

// Field numbers of aapt2's Resources.proto.
const (
	xmlNodeElement    = 1 // XmlNode.element
	xmlElementName    = 3 // XmlElement.name
	xmlElementAttr    = 4 // XmlElement.attribute
	xmlAttrNamespace  = 1 // XmlAttribute.namespace_uri
	xmlAttrName       = 2 // XmlAttribute.name
	xmlAttrValue      = 3 // XmlAttribute.value
	xmlAttrResourceID = 5 // XmlAttribute.resource_id
	xmlAttrCompiled   = 6 // XmlAttribute.compiled_item (Item)
	itemPrim          = 7 // Item.prim (Primitive)
	primIntDecimal    = 6 // Primitive.int_decimal_value
	primIntHex        = 7 // Primitive.int_hexadecimal_value
)

const androidNS = "http://schemas.android.com/apk/res/android"

// parseProto reads the manifest element's package, versionCode,
// versionCodeMajor and versionName from an XmlNode.
func parseProto(data []byte, info *Info) error {
	var elem []byte
	err := fields(data, func(f field) error {
		if f.num == xmlNodeElement && f.wire == 2 {
			elem = f.data
		}
		return nil
	})
	if err != nil {
		return err
	}
	if elem == nil {
		return fmt.Errorf("%w: no root element", errProto)
	}
	var name string
	var pkg, vname string
	var code, major int64
	err = fields(elem, func(f field) error {
		switch {
		case f.num == xmlElementName && f.wire == 2:
			name = string(f.data)
		case f.num == xmlElementAttr && f.wire == 2:
			a, err := protoAttr(f.data)
			if err != nil {
				return err
			}
			switch {
			case a.ns == "" && a.name == "package":
				pkg = a.value
			case a.ns == androidNS && a.name == "versionName":
				vname = a.value
			case a.ns == androidNS && (a.name == "versionCode" || a.name == "versionCodeMajor"):
				v, err := a.int()
				if err != nil {
					return fmt.Errorf("android:%s: %w", a.name, err)
				}
				if a.name == "versionCode" {
					code = v
				} else {
					major = v
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if name != "manifest" {
		return fmt.Errorf("%w: root element is %q, not manifest", errProto, name)
	}
	if pkg == "" {
		return fmt.Errorf("%w: no package attribute", errProto)
	}
	info.Package, info.VersionName = pkg, vname
	info.VersionCode = major<<32 | code&0xffffffff
	return nil
}

type attr struct {
	ns, name, value string
	prim            *int64
}

func (a attr) int() (int64, error) {
	if a.prim != nil {
		return *a.prim, nil
	}
	s := strings.TrimSpace(a.value)
	base := 10
	if h, ok := strings.CutPrefix(s, "0x"); ok {
		s, base = h, 16
	}
	v, err := strconv.ParseInt(s, base, 64)
	if err != nil || v < 0 || v > 0xffffffff {
		return 0, fmt.Errorf("not a version number: %q", a.value)
	}
	return v, nil
}

func protoAttr(b []byte) (attr, error) {
	var a attr
	err := fields(b, func(f field) error {
		if f.wire != 2 {
			return nil
		}
		switch f.num {
		case xmlAttrNamespace:
			a.ns = string(f.data)
		case xmlAttrName:
			a.name = string(f.data)
		case xmlAttrValue:
			a.value = string(f.data)
		case xmlAttrCompiled:
			return fields(f.data, func(f field) error {
				if f.num != itemPrim || f.wire != 2 {
					return nil
				}
				return fields(f.data, func(f field) error {
					if (f.num == primIntDecimal || f.num == primIntHex) && f.wire == 0 {
						v := int64(uint32(f.varint))
						a.prim = &v
					}
					return nil
				})
			})
		}
		return nil
	})
	return a, err
}
