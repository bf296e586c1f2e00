package ipa

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/storesign/storesign/internal/plistx"
	"github.com/storesign/storesign/signing/macho"
	"github.com/storesign/storesign/signing/provision"
)

// entitlementsFor derives the entitlements of the bundle bundleID from
// its profile p, following the policy in the package documentation.
func entitlementsFor(p *provision.Profile, bundleID string) ([]byte, error) {
	ents := maps.Clone(p.Entitlements)
	prefix := p.AppIDPrefix
	team := p.TeamID
	ents["application-identifier"] = prefix + "." + bundleID
	if team != "" {
		ents["com.apple.developer.team-identifier"] = team
	}
	if v, ok := ents["keychain-access-groups"]; ok {
		var groups []string
		for _, g := range stringsOf(v) {
			if strings.HasSuffix(g, "*") {
				// The profile's wildcard stands for the app's own group,
				// which Xcode writes as $(AppIdentifierPrefix)$(CFBundleIdentifier).
				g = prefix + "." + bundleID
			}
			if !slices.Contains(groups, g) {
				groups = append(groups, g)
			}
		}
		ents["keychain-access-groups"] = groups
	}
	if p.Kind == provision.Development {
		ents["get-task-allow"] = true
	} else {
		delete(ents, "get-task-allow")
	}
	if v, ok := ents["com.apple.developer.icloud-container-environment"]; ok {
		if _, isList := v.([]any); isList {
			if p.Kind == provision.Development {
				ents["com.apple.developer.icloud-container-environment"] = "Development"
			} else {
				ents["com.apple.developer.icloud-container-environment"] = "Production"
			}
		}
	}
	for k, v := range ents {
		switch v := v.(type) {
		case string:
			if v == "*" {
				delete(ents, k)
			} else if v == prefix+".*" {
				ents[k] = prefix + "." + bundleID
			}
		case []any:
			var keep []any
			for _, x := range v {
				if s, ok := x.(string); ok && (s == "*" || s == prefix+".*") {
					continue
				}
				keep = append(keep, x)
			}
			if len(keep) == 0 {
				delete(ents, k)
			} else {
				ents[k] = keep
			}
		}
	}
	out, err := plistx.MarshalXML(ents)
	if err != nil {
		return nil, fmt.Errorf("encoding the entitlements of %s: %w", bundleID, err)
	}
	return out, nil
}

func stringsOf(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []string:
		return v
	case []any:
		var out []string
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// overrideEntitlements returns the user's entitlements for the main app,
// without get-task-allow unless the profile is a development one.
func overrideEntitlements(data []byte, p *provision.Profile) ([]byte, string, error) {
	var m map[string]any
	if _, err := plistx.Unmarshal(data, &m); err != nil {
		return nil, "", fmt.Errorf("ipa: the entitlements are not a plist dictionary: %v", err)
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if _, ok := p.Entitlements[k]; !ok && k != "application-identifier" && k != "com.apple.developer.team-identifier" && k != "get-task-allow" {
			return nil, "", fmt.Errorf("ipa: the entitlement %s is not granted by the profile %q (%s): remove it from the entitlements, or enable the capability for the App ID and regenerate the profile", k, p.Name, p.UUID)
		}
	}
	if gta, ok := m["get-task-allow"].(bool); ok && gta && p.Kind != provision.Development {
		delete(m, "get-task-allow")
		out, err := plistx.MarshalXML(m)
		if err != nil {
			return nil, "", fmt.Errorf("encoding the given entitlements: %w", err)
		}
		return out, fmt.Sprintf("get-task-allow removed from the given entitlements: the %s profile %q does not allow debugging", p.Kind, p.Name), nil
	}
	return data, "", nil
}

// checkEntitlements parses entitlements given by the user.
func checkEntitlements(data []byte) error {
	var m map[string]any
	if _, err := plistx.Unmarshal(data, &m); err != nil {
		return fmt.Errorf("ipa: the entitlements are not a plist dictionary: %v", err)
	}
	return nil
}

// Actions of an [EntitlementChange].
const (
	EntitlementKept    = "kept"
	EntitlementChanged = "changed"
	EntitlementDropped = "dropped"
	EntitlementAdded   = "added"
)

// EntitlementNotGrantedError is returned by [Resign] when a bundle was
// signed with entitlements its new provisioning profile does not grant,
// and Options.DropUngrantedEntitlements is not set.
type EntitlementNotGrantedError struct {
	Path     string // the bundle's folder inside the archive
	BundleID string // the bundle's (new) ID
	// Profile and AppID are the profile's name and application
	// identifier ("ABCDE12345.com.example.*").
	Profile, AppID string
	// Ungranted lists each entitlement (or value of a list entitlement)
	// the profile does not grant, with the app's value in Old.
	Ungranted []EntitlementChange
}

// Capabilities names the Apple Developer portal capabilities that would
// grant what is missing, one per kind, in the order of Ungranted.
func (e *EntitlementNotGrantedError) Capabilities() []string {
	var caps []string
	for _, u := range e.Ungranted {
		if c := capabilityOf(u.Key); !slices.Contains(caps, c) {
			caps = append(caps, c)
		}
	}
	return caps
}

func (e *EntitlementNotGrantedError) Error() string {
	var keys []string
	for _, u := range e.Ungranted {
		keys = append(keys, u.Key+" ("+u.Old+")")
	}
	caps := e.Capabilities()
	what := "the entitlement " + keys[0]
	if len(keys) > 1 {
		what = fmt.Sprintf("%d entitlements: %s", len(keys), strings.Join(keys, ", "))
	}
	fix := fmt.Sprintf("enable the capability %s for the App ID %s in the Apple Developer portal and download the profile again", strings.Join(caps, ", "), e.BundleID)
	if strings.HasSuffix(e.AppID, "*") {
		fix = fmt.Sprintf("register the explicit App ID %s with the capability %s in the Apple Developer portal and pass its profile (a wildcard App ID cannot hold it)", e.BundleID, strings.Join(caps, ", "))
	}
	return fmt.Sprintf("ipa: %s (%s) was signed with %s, which its profile %q (%s) does not grant: %s, or pass --drop-ungranted-entitlements (Options.DropUngrantedEntitlements) to sign it without",
		e.Path, e.BundleID, what, e.Profile, e.AppID, fix)
}

// capabilityOf names the Apple Developer portal capability that grants an
// entitlement, or describes it by its key.
func capabilityOf(key string) string {
	caps := map[string]string{
		"aps-environment":                                                          "Push Notifications",
		"com.apple.developer.associated-domains":                                   "Associated Domains",
		"com.apple.security.application-groups":                                    "App Groups",
		"keychain-access-groups":                                                   "Keychain Sharing",
		"com.apple.developer.icloud-container-identifiers":                         "iCloud",
		"com.apple.developer.icloud-services":                                      "iCloud",
		"com.apple.developer.icloud-container-environment":                         "iCloud",
		"com.apple.developer.icloud-container-development-container-identifiers":   "iCloud",
		"com.apple.developer.ubiquity-container-identifiers":                       "iCloud",
		"com.apple.developer.ubiquity-kvstore-identifier":                          "iCloud (key-value storage)",
		"com.apple.developer.in-app-payments":                                      "Apple Pay Payment Processing",
		"com.apple.developer.pass-type-identifiers":                                "Wallet",
		"com.apple.developer.healthkit":                                            "HealthKit",
		"com.apple.developer.healthkit.access":                                     "HealthKit",
		"com.apple.developer.homekit":                                              "HomeKit",
		"com.apple.developer.siri":                                                 "Siri",
		"com.apple.developer.applesignin":                                          "Sign In with Apple",
		"com.apple.developer.game-center":                                          "Game Center",
		"com.apple.developer.default-data-protection":                              "Data Protection",
		"com.apple.developer.networking.networkextension":                          "Network Extensions",
		"com.apple.developer.networking.vpn.api":                                   "Personal VPN",
		"com.apple.developer.networking.HotspotConfiguration":                      "Hotspot",
		"com.apple.developer.networking.multipath":                                 "Multipath",
		"com.apple.developer.networking.wifi-info":                                 "Access Wi-Fi Information",
		"com.apple.developer.nfc.readersession.formats":                            "NFC Tag Reading",
		"com.apple.developer.associated-appclip-app-identifiers":                   "App Clips",
		"com.apple.developer.parent-application-identifiers":                       "App Clips",
		"com.apple.developer.usernotifications.time-sensitive":                     "Time Sensitive Notifications",
		"com.apple.developer.usernotifications.communication":                      "Communication Notifications",
		"com.apple.developer.devicecheck.appattest-environment":                    "App Attest",
		"com.apple.developer.kernel.increased-memory-limit":                        "Increased Memory Limit",
		"com.apple.developer.ClassKit-environment":                                 "ClassKit",
		"com.apple.developer.authentication-services.autofill-credential-provider": "AutoFill Credential Provider",
		"com.apple.external-accessory.wireless-configuration":                      "Wireless Accessory Configuration",
		"inter-app-audio":     "Inter-App Audio",
		"beta-reports-active": "TestFlight (an App Store profile)",
	}
	if c, ok := caps[key]; ok {
		return c
	}
	return "that grants " + key
}

// fitOptions are what fitEntitlements needs besides the entitlements.
type fitOptions struct {
	path string // the bundle's folder, for errors
	// drop drops what the profile does not grant instead of failing.
	drop bool
	// rename, when not nil, gives the new ID of a bundle of the app from
	// its old one (Options.BundleID); it renames the App Clip and parent
	// app identifiers.
	rename func(string) string
}

// fitEntitlements fits orig, the XML entitlements a bundle was signed
// with (nil when none), to its new profile and bundle ID, following the
// policy in the package documentation. It returns the entitlements to
// sign with, orig itself when nothing changed, and what changed.
func fitEntitlements(orig []byte, p *provision.Profile, newID string, fo fitOptions) ([]byte, []EntitlementChange, error) {
	if orig == nil {
		out, err := entitlementsFor(p, newID)
		if err != nil {
			return nil, nil, err
		}
		var m map[string]any
		if _, err := plistx.Unmarshal(out, &m); err != nil {
			return nil, nil, fmt.Errorf("decoding the entitlements of %s: %w", newID, err)
		}
		var changes []EntitlementChange
		for _, k := range slices.Sorted(maps.Keys(m)) {
			changes = append(changes, EntitlementChange{Key: k, Action: EntitlementAdded, New: plistText(m[k]),
				Reason: fmt.Sprintf("from the profile %q: the input was not signed with entitlements", p.Name)})
		}
		return out, changes, nil
	}
	var old map[string]any
	if _, err := plistx.Unmarshal(orig, &old); err != nil {
		return nil, nil, fmt.Errorf("ipa: %s: the entitlements it was signed with are not a plist dictionary (%v): pass the entitlements to use (--entitlements)", fo.path, err)
	}
	f := &fitter{p: p, newID: newID, rename: fo.rename, out: map[string]any{}}
	f.newPrefix = p.AppIDPrefix
	if f.newPrefix == "" {
		f.newPrefix = p.TeamID
	}
	if appID, ok := old["application-identifier"].(string); ok {
		f.oldPrefix, f.oldBundle, _ = strings.Cut(appID, ".")
		if strings.HasSuffix(f.oldBundle, "*") {
			f.oldBundle = "" // signed with a wildcard: no bundle ID to replace
		}
	}
	f.oldTeam, _ = old["com.apple.developer.team-identifier"].(string)
	for _, k := range slices.Sorted(maps.Keys(old)) {
		f.fit(k, old[k])
	}
	f.addMissing(old)
	slices.SortStableFunc(f.changes, func(a, b EntitlementChange) int { return strings.Compare(a.Key, b.Key) })
	if len(f.ungranted) > 0 {
		if !fo.drop {
			return nil, nil, &EntitlementNotGrantedError{Path: fo.path, BundleID: newID, Profile: p.Name, AppID: p.ApplicationIdentifier, Ungranted: f.ungranted}
		}
	}
	if reflect.DeepEqual(old, f.out) {
		return orig, f.changes, nil
	}
	out, err := plistx.MarshalXML(f.out)
	if err != nil {
		return nil, nil, fmt.Errorf("encoding the entitlements of %s: %w", newID, err)
	}
	return out, f.changes, nil
}

// fitter is the state of one fitEntitlements.
type fitter struct {
	p                             *provision.Profile
	newID, newPrefix              string
	oldPrefix, oldBundle, oldTeam string
	rename                        func(string) string
	out                           map[string]any
	changes, ungranted            []EntitlementChange
}

func (f *fitter) dev() bool { return f.p.Kind == provision.Development }

// note records what happened to key, whose old value was old (nil: absent).
func (f *fitter) note(key string, old, nu any, reason string) {
	c := EntitlementChange{Key: key}
	switch {
	case old == nil && nu == nil:
		return
	case old == nil:
		c.Action, c.New = EntitlementAdded, plistText(nu)
	case nu == nil:
		c.Action, c.Old = EntitlementDropped, plistText(old)
	case reflect.DeepEqual(old, nu):
		c.Action, c.Old, c.New = EntitlementKept, plistText(old), plistText(nu)
	default:
		c.Action, c.Old, c.New = EntitlementChanged, plistText(old), plistText(nu)
	}
	if c.Action != EntitlementKept {
		c.Reason = reason
	}
	f.changes = append(f.changes, c)
}

// set puts v under key and notes it.
func (f *fitter) set(key string, old, v any, reason string) {
	if v != nil {
		f.out[key] = v
	}
	f.note(key, old, v, reason)
}

// refuse records a value the profile does not grant.
func (f *fitter) refuse(key string, v any) {
	f.ungranted = append(f.ungranted, EntitlementChange{Key: key, Action: EntitlementDropped, Old: plistText(v),
		Reason: fmt.Sprintf("not granted by the profile %q (%s): enable %s for the App ID", f.p.Name, f.p.ApplicationIdentifier, capabilityOf(key))})
}

func (f *fitter) fit(key string, v any) {
	grant, granted := f.p.Entitlements[key]
	kind := f.p.Kind.String()
	switch key {
	case "application-identifier":
		if s, _ := v.(string); strings.HasSuffix(s, "*") && f.reprefix(s, nil) == f.p.ApplicationIdentifier && f.p.Kind != provision.AppStore {
			// Signed with the profile's own wildcard, as Xcode signs
			// test runners: kept (the App Store alone wants it explicit).
			f.set(key, v, f.p.ApplicationIdentifier, "the profile's wildcard App ID, as the app was signed with a wildcard (not an App Store profile)")
			return
		}
		f.set(key, v, f.newPrefix+"."+f.newID, "the profile's App ID prefix and the bundle ID")
	case "com.apple.developer.team-identifier":
		if f.p.TeamID == "" {
			f.set(key, v, v, "")
			return
		}
		f.set(key, v, f.p.TeamID, "the profile's team")
	case "get-task-allow":
		allow, ok := grant.(bool)
		if !ok {
			allow = f.dev()
		}
		b, _ := v.(bool)
		if b && !allow {
			f.set(key, v, false, fmt.Sprintf("the %s profile does not allow debugging: false, as Xcode exports for distribution", kind))
			return
		}
		f.set(key, v, b, "")
	case "beta-reports-active":
		if g, _ := grant.(bool); g {
			f.set(key, v, v, "")
			return
		}
		f.set(key, v, nil, fmt.Sprintf("only App Store profiles have it (TestFlight); this one is %s", kind))
	case "aps-environment":
		g, ok := grant.(string)
		if !ok {
			f.refuseOrDrop(key, v)
			return
		}
		f.set(key, v, g, fmt.Sprintf("the push environment of the %s profile", kind))
	case "com.apple.developer.icloud-container-environment":
		want := f.icloudEnv()
		if !granted || !allows(grant, want) {
			f.refuseOrDrop(key, v)
			return
		}
		f.set(key, v, want, fmt.Sprintf("the iCloud environment of a %s profile, as Xcode exports it", kind))
	default:
		rename := func(id string) string { return id }
		if f.rename != nil && (key == "com.apple.developer.associated-appclip-app-identifiers" || key == "com.apple.developer.parent-application-identifiers") {
			// Identifiers of the other bundles of the app, renamed with it.
			rename = f.rename
		}
		nu := f.reprefix(v, rename)
		if list, ok := nu.([]any); ok {
			f.fitList(key, v, list)
			return
		}
		if !granted || !allows(grant, nu) {
			f.refuseOrDrop(key, v)
			return
		}
		f.set(key, v, nu, "re-prefixed for the new team and bundle ID")
	}
}

// fitList keeps the members of a list entitlement the profile grants.
func (f *fitter) fitList(key string, old any, list []any) {
	grant, granted := f.p.Entitlements[key]
	keep := []any{}
	var refused bool
	for _, x := range list {
		if granted && allows(grant, x) {
			keep = append(keep, x)
			continue
		}
		refused = true
		f.refuse(key, x)
	}
	if refused && len(keep) == 0 && len(list) > 0 {
		f.note(key, old, nil, f.ungrantedReason(key))
		return
	}
	reason := "re-prefixed for the new team and bundle ID"
	if refused {
		reason = "values " + f.ungrantedReason(key)
	}
	if !granted && len(list) == 0 {
		// An empty list asks for nothing; keep it as the app had it.
		f.set(key, old, keep, "")
		return
	}
	f.set(key, old, keep, reason)
}

func (f *fitter) refuseOrDrop(key string, v any) {
	f.refuse(key, v)
	f.note(key, v, nil, f.ungrantedReason(key))
}

func (f *fitter) ungrantedReason(key string) string {
	return fmt.Sprintf("not granted by the profile %q (%s); enable %s for the App ID %s", f.p.Name, f.p.ApplicationIdentifier, capabilityOf(key), f.newID)
}

// icloudEnv is the iCloud environment of the profile's kind.
func (f *fitter) icloudEnv() string {
	if f.dev() {
		return "Development"
	}
	return "Production"
}

// addMissing adds what Xcode derives from the profile when the app's
// entitlements lack it.
func (f *fitter) addMissing(old map[string]any) {
	add := func(key string, v any, reason string) {
		if _, ok := old[key]; !ok {
			f.set(key, nil, v, reason)
		}
	}
	add("application-identifier", f.newPrefix+"."+f.newID, "the profile's App ID prefix and the bundle ID")
	if f.p.TeamID != "" {
		add("com.apple.developer.team-identifier", f.p.TeamID, "the profile's team")
	}
	if f.dev() {
		add("get-task-allow", true, "a development profile allows debugging, as Xcode signs for development")
	} else if g, _ := f.p.Entitlements["beta-reports-active"].(bool); g {
		add("beta-reports-active", true, "the App Store profile grants it (TestFlight), as Xcode exports for the App Store")
	}
	_, containers := old["com.apple.developer.icloud-container-identifiers"]
	if grant, ok := f.p.Entitlements["com.apple.developer.icloud-container-environment"]; ok && containers && allows(grant, f.icloudEnv()) {
		add("com.apple.developer.icloud-container-environment", f.icloudEnv(), fmt.Sprintf("the iCloud environment of a %s profile, as Xcode exports it", f.p.Kind))
	}
}

// reprefix moves the identifiers of v prefixed with the old team or App ID
// prefix to the new one; the old bundle ID after the prefix becomes the
// new one ($(AppIdentifierPrefix)$(CFBundleIdentifier) as Xcode expands
// it), any other is passed through rename. Other values are returned as
// they are.
func (f *fitter) reprefix(v any, rename func(string) string) any {
	switch v := v.(type) {
	case string:
		for _, old := range []string{f.oldPrefix, f.oldTeam} {
			if old == "" || !strings.HasPrefix(v, old+".") {
				continue
			}
			rest := v[len(old)+1:]
			if f.oldBundle != "" && rest == f.oldBundle {
				rest = f.newID
			} else if rename != nil {
				rest = rename(rest)
			}
			nu := f.newPrefix
			if old == f.oldTeam && old != f.oldPrefix && f.p.TeamID != "" {
				nu = f.p.TeamID
			}
			return nu + "." + rest
		}
		return v
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = f.reprefix(x, rename)
		}
		return out
	}
	return v
}

// allows reports whether the profile's grant g allows the value v: "*"
// allows anything, a list its members (or what they match), a pattern
// ending in "*" (TEAM.*) the strings it prefixes, a scalar an equal
// value; a boolean grant true allows true and false.
func allows(g, v any) bool {
	if s, ok := g.(string); ok && s == "*" {
		return true
	}
	switch v := v.(type) {
	case []any:
		for _, x := range v {
			if !allows(g, x) {
				return false
			}
		}
		return true
	case string:
		switch g := g.(type) {
		case string:
			return matches(g, v)
		case []any:
			for _, x := range g {
				if s, ok := x.(string); ok && matches(s, v) {
					return true
				}
			}
		}
		return false
	case bool:
		b, ok := g.(bool)
		return ok && (b || !v)
	}
	if list, ok := g.([]any); ok {
		for _, x := range list {
			if reflect.DeepEqual(x, v) {
				return true
			}
		}
	}
	return reflect.DeepEqual(g, v)
}

func matches(pattern, s string) bool {
	if pattern == s || pattern == "*" {
		return true
	}
	prefix, ok := strings.CutSuffix(pattern, "*")
	return ok && strings.HasPrefix(s, prefix)
}

// plistText renders a plist value on one line: strings as they are,
// lists as [a, b], dictionaries as {k: v}.
func plistText(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case []any:
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = plistText(x)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case []string:
		return "[" + strings.Join(v, ", ") + "]"
	case map[string]any:
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(v)) {
			parts = append(parts, k+": "+plistText(v[k]))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case []byte:
		return fmt.Sprintf("<%d bytes>", len(v))
	}
	return fmt.Sprint(v)
}

// readOrigEnts fills b.origEnts from its executable's signature. A
// deflated executable is inflated up to its signature, at its end.
func (r *resigner) readOrigEnts(b *bundle) error {
	if b.origEnts != nil || b.exeEntry == nil {
		return nil
	}
	ra, size, done, err := openEntry(r.a.src, b.exeEntry.f)
	if err != nil {
		return err
	}
	defer done()
	// A signature that cannot be read counts as none: the profile's
	// entitlements are used, and signing reports what is wrong with the
	// binary.
	b.origEnts, _ = macho.Entitlements(ra, size)
	return nil
}
