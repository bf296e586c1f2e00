package axml

import (
	"errors"
	"fmt"
)

// Resource IDs of the android: attributes read from the manifest.
const (
	attrDebuggable           = 0x0101000f
	attrMinSDKVersion        = 0x0101020c
	attrVersionCode          = 0x0101021b
	attrVersionName          = 0x0101021c
	attrTargetSDKVersion     = 0x01010270
	attrMaxSDKVersion        = 0x01010271
	attrTargetSandboxVersion = 0x0101054c
	attrVersionCodeMajor     = 0x01010576
)

// Manifest is what storesign needs from AndroidManifest.xml.
type Manifest struct {
	Package     string
	VersionCode int64 // versionCodeMajor<<32 | versionCode
	VersionName string
	// MinSDKVersion is the largest minSdkVersion of the uses-sdk elements,
	// 1 when absent, as Android assumes. A codename counts as the SDK level
	// before its release.
	MinSDKVersion int
	// TargetSDKVersion is 0 when absent (Android then uses MinSDKVersion).
	TargetSDKVersion int
	// MaxSDKVersion is 0 when absent.
	MaxSDKVersion int
	// Debuggable is android:debuggable of the first application
	// element, read as [Debuggable] reads it; false when absent or when
	// its value cannot tell (a resource reference), for which Debuggable
	// returns an error.
	Debuggable bool
	// TargetSandboxVersion is 1 when absent.
	TargetSandboxVersion int
}

// CodenameError reports a minSdkVersion codename apksig does not know.
type CodenameError struct{ Codename string }

func (e *CodenameError) Error() string {
	return fmt.Sprintf("axml: unsupported codename in minSdkVersion: %q", e.Codename)
}

// ParseManifest parses a binary AndroidManifest.xml.
func ParseManifest(data []byte) (*Manifest, error) {
	m := &Manifest{MinSDKVersion: 1, TargetSandboxVersion: 1}
	seenApp := false
	var major, minor int64
	err := Walk(data, func(el *Element) error {
		if el.Namespace != "" {
			return nil
		}
		switch {
		case el.Depth == 1 && el.Name == "manifest":
			for i := range el.Attributes {
				a := &el.Attributes[i]
				switch {
				case a.ResourceID == 0 && a.Namespace == "" && a.Name == "package":
					m.Package = a.String()
				case a.ResourceID == attrVersionCode:
					v, err := intValue(a, "versionCode")
					if err != nil {
						return err
					}
					minor = v & 0xFFFFFFFF
				case a.ResourceID == attrVersionCodeMajor:
					v, err := intValue(a, "versionCodeMajor")
					if err != nil {
						return err
					}
					major = v & 0xFFFFFFFF
				case a.ResourceID == attrVersionName:
					if a.Type == ValueString || a.Type == ValueInt {
						m.VersionName = a.String()
					}
				case a.ResourceID == attrTargetSandboxVersion:
					v, err := intValue(a, "targetSandboxVersion")
					if err != nil {
						return err
					}
					m.TargetSandboxVersion = int(v)
				}
			}
		case el.Depth == 2 && el.Name == "uses-sdk":
			minSDK := 1
			for i := range el.Attributes {
				a := &el.Attributes[i]
				switch a.ResourceID {
				case attrMinSDKVersion:
					v, err := sdkValue(a, "minSdkVersion")
					if err != nil {
						return err
					}
					minSDK = v
				case attrTargetSDKVersion:
					v, err := sdkValue(a, "targetSdkVersion")
					if err != nil {
						return err
					}
					m.TargetSDKVersion = max(m.TargetSDKVersion, v)
				case attrMaxSDKVersion:
					v, err := intValue(a, "maxSdkVersion")
					if err != nil {
						return err
					}
					m.MaxSDKVersion = int(v)
				}
			}
			m.MinSDKVersion = max(m.MinSDKVersion, minSDK)
		case el.Depth == 2 && el.Name == "application" && !seenApp:
			seenApp = true
			// A value that cannot tell (a resource reference) leaves it
			// false here; Debuggable reports it.
			m.Debuggable, _ = debuggable(el)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	m.VersionCode = major<<32 | minor
	return m, nil
}

// errStop ends a Walk early.
var errStop = errors.New("stop")

// Debuggable reports whether the app of a binary AndroidManifest.xml is
// debuggable, as apksig's ApkUtils.getDebuggableFromBinaryAndroidManifest
// decides (apksigner's --debuggable-apk-permitted false): by the
// android:debuggable attribute of the first application element under
// manifest; false without one. A boolean counts as itself; a string or a
// decimal integer is true when it reads "true", "TRUE" or "1"; a
// hexadecimal integer never is. Any other value cannot tell: a resource
// reference (refused on purpose by apksig, as it may resolve differently
// on different devices) or another type gives an error wrapping
// [ErrUnsupportedValue]. Only the document up to that element is read.
func Debuggable(data []byte) (bool, error) {
	var (
		d   bool
		err error
	)
	werr := Walk(data, func(el *Element) error {
		if el.Depth == 2 && el.Namespace == "" && el.Name == "application" {
			d, err = debuggable(el)
			return errStop
		}
		return nil
	})
	if werr != nil && werr != errStop {
		return false, werr
	}
	return d, err
}

// debuggable reads android:debuggable of an application element.
func debuggable(el *Element) (bool, error) {
	for i := range el.Attributes {
		a := &el.Attributes[i]
		if a.ResourceID != attrDebuggable {
			continue
		}
		switch a.rawType {
		case typeBoolean:
			return a.Data != 0, nil
		case typeIntDec:
			return a.Data == 1, nil
		case typeIntHex:
			return false, nil // apksig compares "0x1" with "1"
		case typeString:
			return a.str == "true" || a.str == "TRUE" || a.str == "1", nil
		case typeReference:
			return false, fmt.Errorf("%w: android:debuggable references a resource (%s): only a constant boolean, string or integer tells whether the APK is debuggable", ErrUnsupportedValue, a.String())
		}
		return false, fmt.Errorf("%w: android:debuggable has a value of type %#x: only a boolean, string or integer tells whether the APK is debuggable", ErrUnsupportedValue, a.rawType)
	}
	return false, nil
}

func intValue(a *Attribute, what string) (int64, error) {
	if a.Type != ValueInt {
		return 0, fmt.Errorf("%w: android:%s must be an integer, not %s", ErrUnsupportedValue, what, a.String())
	}
	return a.Int(), nil
}

func sdkValue(a *Attribute, what string) (int, error) {
	switch a.Type {
	case ValueInt:
		return int(a.Int()), nil
	case ValueString:
		return SDKForCodename(a.String())
	}
	return 0, fmt.Errorf("%w: android:%s must be an integer, not %s", ErrUnsupportedValue, what, a.String())
}

// codenames maps the first letter of platform codenames to the SDK level
// apksig assumes for them (one below the release's level).
var codenames = [...]struct {
	c   byte
	sdk int
}{
	{'C', 2}, {'D', 3}, {'E', 4}, {'F', 7}, {'G', 8}, {'H', 10}, {'I', 13},
	{'J', 15}, {'K', 18}, {'L', 20}, {'M', 22}, {'N', 23}, {'O', 25},
}

// SDKForCodename returns the SDK level apksig assumes for a preview
// platform codename given as minSdkVersion: pessimistically the level
// before the release ("N" is 23; letters past "O" count up from "O"
// is 25, so "Q" is 27).
func SDKForCodename(name string) (int, error) {
	switch name {
	case "Baklava":
		return 34, nil
	case "CinnamonBun":
		return 35, nil
	case "CANARY":
		return 9999, nil
	}
	if name == "" || name[0] < 'A' || name[0] > 'Z' {
		return 0, &CodenameError{Codename: name}
	}
	c := name[0]
	sdk := 1
	for _, e := range codenames {
		if e.c == c {
			return e.sdk, nil
		}
		if e.c < c {
			sdk = e.sdk + int(c-e.c)
		}
	}
	return sdk, nil
}
