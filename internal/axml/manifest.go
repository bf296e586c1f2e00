package axml

import "fmt"

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
	// Debuggable is android:debuggable of the application element.
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
			for i := range el.Attributes {
				a := &el.Attributes[i]
				if a.ResourceID != attrDebuggable {
					continue
				}
				switch a.Type {
				case ValueBoolean, ValueInt:
					m.Debuggable = a.Data != 0
				case ValueString:
					s := a.String()
					m.Debuggable = s == "true" || s == "TRUE" || s == "1"
				default:
					return fmt.Errorf("%w: android:debuggable must be a constant, not %s", ErrUnsupportedValue, a.String())
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	m.VersionCode = major<<32 | minor
	return m, nil
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
