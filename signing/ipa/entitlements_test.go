package ipa

import (
	"bytes"
	"context"
	"errors"
	"io"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"howett.net/plist"

	"github.com/storesign/storesign/signing/macho"
	"github.com/storesign/storesign/signing/provision"
	"github.com/storesign/storesign/signing/signingtest"
)

func TestEntitlementsPolicy(t *testing.T) {
	apple := signingtest.NewApple(signingtest.AppleOptions{})
	tests := []struct {
		name     string
		profile  signingtest.ProfileOptions
		bundleID string
		want     map[string]any // nil value: absent
	}{
		{"app store wildcard", signingtest.ProfileOptions{AppID: "com.example.*", Entitlements: map[string]any{
			"com.apple.security.application-groups": []string{"group.com.example.shared"},
			"aps-environment":                       "production",
		}}, "com.example.app.share", map[string]any{
			"application-identifier":                "ABCDE12345.com.example.app.share",
			"com.apple.developer.team-identifier":   "ABCDE12345",
			"keychain-access-groups":                []any{"ABCDE12345.com.example.app.share"},
			"com.apple.security.application-groups": []any{"group.com.example.shared"},
			"aps-environment":                       "production",
			"beta-reports-active":                   true,
			"get-task-allow":                        nil,
		}},
		{"development", signingtest.ProfileOptions{AppID: "com.example.app", Kind: "development"}, "com.example.app", map[string]any{
			"application-identifier": "ABCDE12345.com.example.app",
			"get-task-allow":         true,
		}},
		{"ad hoc", signingtest.ProfileOptions{AppID: "*", Kind: "ad-hoc"}, "org.other.app", map[string]any{
			"application-identifier": "ABCDE12345.org.other.app",
			"get-task-allow":         nil,
		}},
		{"icloud", signingtest.ProfileOptions{AppID: "com.example.app", Entitlements: map[string]any{
			"com.apple.developer.icloud-container-environment": []string{"Development", "Production"},
			"com.apple.developer.icloud-services":              "*",
			"com.apple.developer.associated-domains":           "*",
		}}, "com.example.app", map[string]any{
			"com.apple.developer.icloud-container-environment": "Production",
			"com.apple.developer.icloud-services":              nil,
			"com.apple.developer.associated-domains":           nil,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := provision.Parse(apple.Profile(tt.profile))
			if err != nil {
				t.Fatal(err)
			}
			out, err := entitlementsFor(p, tt.bundleID)
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			if format, err := plist.Unmarshal(out, &got); err != nil || format != plist.XMLFormat {
				t.Fatalf("format %d, %v", format, err)
			}
			for k, want := range tt.want {
				g, ok := got[k]
				if want == nil {
					if ok {
						t.Errorf("%s = %v, want absent", k, g)
					}
					continue
				}
				if plistString(g) != plistString(want) {
					t.Errorf("%s = %v, want %v", k, g, want)
				}
			}
		})
	}
}

func plistString(v any) string {
	b, _ := plist.Marshal(v, plist.XMLFormat)
	return strings.TrimSpace(string(b))
}

func TestEntitlementsOverride(t *testing.T) {
	apple := signingtest.NewApple(signingtest.AppleOptions{})
	p, _ := provision.Parse(apple.Profile(signingtest.ProfileOptions{AppID: "com.example.app"}))
	in := []byte(`<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><dict><key>get-task-allow</key><true/><key>application-identifier</key><string>ABCDE12345.com.example.app</string></dict></plist>`)
	out, warn, err := overrideEntitlements(in, p)
	if err != nil || warn == "" || strings.Contains(string(out), "get-task-allow") {
		t.Errorf("override kept get-task-allow for App Store: %v %q\n%s", err, warn, out)
	}
	if _, _, err := overrideEntitlements([]byte("nope"), p); err == nil {
		t.Error("a non-plist was accepted")
	}
}

// studioEnts are the entitlements a studio's Xcode signed its app with:
// its own team OLDTEAM123, bundle ID com.studio.game, a development
// profile.
var studioEnts = map[string]any{
	"application-identifier":                           "OLDTEAM123.com.studio.game",
	"com.apple.developer.team-identifier":              "OLDTEAM123",
	"com.apple.developer.associated-domains":           []any{"applinks:example.com", "webcredentials:example.com"},
	"com.apple.security.application-groups":            []any{"group.com.example.shared"},
	"com.apple.developer.icloud-container-identifiers": []any{"iCloud.com.example.app"},
	"com.apple.developer.icloud-services":              []any{"CloudKit"},
	"com.apple.developer.icloud-container-environment": "Development",
	"com.apple.developer.ubiquity-kvstore-identifier":  "OLDTEAM123.com.studio.game",
	"keychain-access-groups":                           []any{"OLDTEAM123.com.studio.game", "OLDTEAM123.com.example.shared"},
	"aps-environment":                                  "development",
	"get-task-allow":                                   true,
}

// publisherGrants are what the publisher's profile grants besides the
// defaults of signingtest (its team's keychain groups, get-task-allow,
// beta-reports-active for the App Store).
var publisherGrants = map[string]any{
	"com.apple.developer.associated-domains":           "*",
	"com.apple.security.application-groups":            []any{"group.com.example.shared", "group.com.example.other"},
	"com.apple.developer.icloud-container-identifiers": []any{"iCloud.com.example.app"},
	"com.apple.developer.icloud-services":              "*",
	"com.apple.developer.icloud-container-environment": []any{"Development", "Production"},
	"com.apple.developer.ubiquity-kvstore-identifier":  "ABCDE12345.*",
	"aps-environment": "production",
}

func without(m map[string]any, keys ...string) map[string]any {
	out := maps.Clone(m)
	for _, k := range keys {
		delete(out, k)
	}
	return out
}

func with(m map[string]any, kv ...any) map[string]any {
	out := maps.Clone(m)
	for i := 0; i < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

func entsXML(t testing.TB, m map[string]any) []byte {
	t.Helper()
	b, err := plist.MarshalIndent(m, plist.XMLFormat, "\t")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFitEntitlements(t *testing.T) {
	apple := signingtest.NewApple(signingtest.AppleOptions{})
	// fitted is what studioEnts become with the publisher's App Store
	// profile and the bundle ID com.example.app.
	fitted := map[string]any{
		"application-identifier":                           "ABCDE12345.com.example.app",
		"com.apple.developer.team-identifier":              "ABCDE12345",
		"com.apple.developer.associated-domains":           []any{"applinks:example.com", "webcredentials:example.com"},
		"com.apple.security.application-groups":            []any{"group.com.example.shared"},
		"com.apple.developer.icloud-container-identifiers": []any{"iCloud.com.example.app"},
		"com.apple.developer.icloud-services":              []any{"CloudKit"},
		"com.apple.developer.icloud-container-environment": "Production",
		"com.apple.developer.ubiquity-kvstore-identifier":  "ABCDE12345.com.example.app",
		"keychain-access-groups":                           []any{"ABCDE12345.com.example.app", "ABCDE12345.com.example.shared"},
		"aps-environment":                                  "production",
		"get-task-allow":                                   false,
		"beta-reports-active":                              true,
	}
	tests := []struct {
		name    string
		orig    map[string]any // nil: unsigned
		profile signingtest.ProfileOptions
		drop    bool
		want    map[string]any
		actions map[string]string // key -> action; unlisted keys: any
		// ungranted, when not empty, is the error's keys.
		ungranted []string
	}{{
		name:    "app store wildcard of another team",
		orig:    studioEnts,
		profile: signingtest.ProfileOptions{AppID: "com.example.*", Entitlements: publisherGrants},
		want:    fitted,
		actions: map[string]string{
			"application-identifier":                           EntitlementChanged,
			"com.apple.developer.team-identifier":              EntitlementChanged,
			"com.apple.developer.associated-domains":           EntitlementKept,
			"com.apple.security.application-groups":            EntitlementKept,
			"com.apple.developer.icloud-container-identifiers": EntitlementKept,
			"com.apple.developer.icloud-services":              EntitlementKept,
			"com.apple.developer.icloud-container-environment": EntitlementChanged,
			"com.apple.developer.ubiquity-kvstore-identifier":  EntitlementChanged,
			"keychain-access-groups":                           EntitlementChanged,
			"aps-environment":                                  EntitlementChanged,
			"get-task-allow":                                   EntitlementChanged,
			"beta-reports-active":                              EntitlementAdded,
		},
	}, {
		name:      "associated domains not granted",
		orig:      studioEnts,
		profile:   signingtest.ProfileOptions{AppID: "com.example.app", Entitlements: without(publisherGrants, "com.apple.developer.associated-domains")},
		ungranted: []string{"com.apple.developer.associated-domains", "com.apple.developer.associated-domains"},
	}, {
		name:    "associated domains not granted, dropped",
		orig:    studioEnts,
		profile: signingtest.ProfileOptions{AppID: "com.example.app", Entitlements: without(publisherGrants, "com.apple.developer.associated-domains")},
		drop:    true,
		want:    without(fitted, "com.apple.developer.associated-domains"),
		actions: map[string]string{"com.apple.developer.associated-domains": EntitlementDropped},
	}, {
		name:      "an app group not listed",
		orig:      studioEnts,
		profile:   signingtest.ProfileOptions{AppID: "com.example.app", Entitlements: with(publisherGrants, "com.apple.security.application-groups", []any{"group.com.example.other"})},
		ungranted: []string{"com.apple.security.application-groups"},
	}, {
		name:    "app groups granted by a wildcard, push not granted, dropped",
		orig:    with(studioEnts, "com.apple.security.application-groups", []any{"group.a", "group.b"}),
		profile: signingtest.ProfileOptions{AppID: "com.example.app", Entitlements: with(without(publisherGrants, "aps-environment"), "com.apple.security.application-groups", "*")},
		drop:    true,
		want:    with(without(fitted, "aps-environment"), "com.apple.security.application-groups", []any{"group.a", "group.b"}),
		actions: map[string]string{"aps-environment": EntitlementDropped, "com.apple.security.application-groups": EntitlementKept},
	}, {
		name:    "a keychain group of another team's pattern is dropped from the list",
		orig:    with(studioEnts, "keychain-access-groups", []any{"OLDTEAM123.com.studio.game", "ZZZZZ99999.shared"}),
		profile: signingtest.ProfileOptions{AppID: "com.example.app", Entitlements: publisherGrants},
		drop:    true,
		want:    with(fitted, "keychain-access-groups", []any{"ABCDE12345.com.example.app"}),
		actions: map[string]string{"keychain-access-groups": EntitlementChanged},
	}, {
		name:      "private entitlement",
		orig:      with(studioEnts, "com.apple.private.security.no-sandbox", true),
		profile:   signingtest.ProfileOptions{AppID: "com.example.app", Entitlements: publisherGrants},
		ungranted: []string{"com.apple.private.security.no-sandbox"},
	}, {
		name:    "development profile: debugging stays",
		orig:    studioEnts,
		profile: signingtest.ProfileOptions{AppID: "com.example.*", Kind: "development", Entitlements: with(publisherGrants, "aps-environment", "development")},
		want: with(without(fitted, "beta-reports-active"), "get-task-allow", true, "aps-environment", "development",
			"com.apple.developer.icloud-container-environment", "Development"),
		actions: map[string]string{"get-task-allow": EntitlementKept, "aps-environment": EntitlementKept, "com.apple.developer.icloud-container-environment": EntitlementKept},
	}, {
		name:    "development profile: an explicit false stays, beta-reports-active goes",
		orig:    map[string]any{"application-identifier": "ABCDE12345.com.example.app", "get-task-allow": false, "beta-reports-active": true},
		profile: signingtest.ProfileOptions{AppID: "com.example.app", Kind: "development"},
		want:    map[string]any{"application-identifier": "ABCDE12345.com.example.app", "com.apple.developer.team-identifier": "ABCDE12345", "get-task-allow": false},
		actions: map[string]string{"get-task-allow": EntitlementKept, "beta-reports-active": EntitlementDropped, "com.apple.developer.team-identifier": EntitlementAdded},
	}, {
		name:    "ad hoc: no debugging, no TestFlight; absent get-task-allow stays absent",
		orig:    map[string]any{"application-identifier": "OLDTEAM123.com.studio.game"},
		profile: signingtest.ProfileOptions{AppID: "*", Kind: "ad-hoc"},
		want:    map[string]any{"application-identifier": "ABCDE12345.com.example.app", "com.apple.developer.team-identifier": "ABCDE12345"},
	}, {
		name:    "containers without an environment get one",
		orig:    without(studioEnts, "com.apple.developer.icloud-container-environment"),
		profile: signingtest.ProfileOptions{AppID: "com.example.app", Entitlements: publisherGrants},
		want:    fitted,
		actions: map[string]string{"com.apple.developer.icloud-container-environment": EntitlementAdded},
	}, {
		name:    "unsigned input: the profile's entitlements",
		profile: signingtest.ProfileOptions{AppID: "com.example.*", Entitlements: publisherGrants},
		want: map[string]any{
			"application-identifier":                           "ABCDE12345.com.example.app",
			"keychain-access-groups":                           []any{"ABCDE12345.com.example.app"},
			"com.apple.developer.icloud-container-environment": "Production",
			"com.apple.developer.associated-domains":           nil,
		},
		actions: map[string]string{"application-identifier": EntitlementAdded, "aps-environment": EntitlementAdded},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := provision.Parse(apple.Profile(tt.profile))
			if err != nil {
				t.Fatal(err)
			}
			var orig []byte
			if tt.orig != nil {
				orig = entsXML(t, tt.orig)
			}
			out, changes, err := fitEntitlements(orig, p, "com.example.app", fitOptions{path: "Payload/Example.app", drop: tt.drop})
			if len(tt.ungranted) > 0 {
				var ne *EntitlementNotGrantedError
				if !errors.As(err, &ne) {
					t.Fatalf("err = %v, want an EntitlementNotGrantedError", err)
				}
				var keys []string
				for _, u := range ne.Ungranted {
					keys = append(keys, u.Key)
				}
				if !slices.Equal(keys, tt.ungranted) {
					t.Errorf("ungranted %v, want %v", keys, tt.ungranted)
				}
				msg := err.Error()
				for _, s := range []string{"Payload/Example.app", "com.example.app", tt.ungranted[0], capabilityOf(tt.ungranted[0]), "--drop-ungranted-entitlements"} {
					if !strings.Contains(msg, s) {
						t.Errorf("the error does not say %q: %s", s, msg)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			if format, err := plist.Unmarshal(out, &got); err != nil || format != plist.XMLFormat {
				t.Fatalf("format %d, %v", format, err)
			}
			if tt.orig != nil {
				// A signed input: exactly the keys wanted.
				for k := range got {
					if _, ok := tt.want[k]; !ok {
						t.Errorf("%s = %v, not wanted", k, got[k])
					}
				}
			}
			for k, want := range tt.want {
				g, ok := got[k]
				if want == nil {
					if ok {
						t.Errorf("%s = %v, want absent", k, g)
					}
					continue
				}
				if plistString(g) != plistString(want) {
					t.Errorf("%s = %v, want %v", k, g, want)
				}
			}
			byKey := map[string]EntitlementChange{}
			for _, c := range changes {
				if _, dup := byKey[c.Key]; dup {
					t.Errorf("%s reported twice", c.Key)
				}
				byKey[c.Key] = c
				if (c.Action == EntitlementKept) != (c.Reason == "") {
					t.Errorf("%s %s with reason %q", c.Key, c.Action, c.Reason)
				}
			}
			for k, a := range tt.actions {
				if byKey[k].Action != a {
					t.Errorf("%s: %+v, want %s", k, byKey[k], a)
				}
			}
			// Every key of the input and of the output is reported.
			for k := range got {
				if _, ok := byKey[k]; !ok {
					t.Errorf("%s not reported", k)
				}
			}
			for k := range tt.orig {
				if _, ok := byKey[k]; !ok {
					t.Errorf("%s not reported", k)
				}
			}
		})
	}
}

// TestFitEntitlementsUnchanged checks that entitlements which already fit
// are signed as they were, byte for byte.
func TestFitEntitlementsUnchanged(t *testing.T) {
	apple := signingtest.NewApple(signingtest.AppleOptions{})
	p, err := provision.Parse(apple.Profile(signingtest.ProfileOptions{AppID: "com.example.app", Entitlements: publisherGrants}))
	if err != nil {
		t.Fatal(err)
	}
	orig := entsXML(t, studioEnts)
	first, _, err := fitEntitlements(orig, p, "com.example.app", fitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Whatever their layout, the original bytes are kept.
	apples := bytes.ReplaceAll(first, []byte("\n\t"), []byte("\n"))
	again, changes, err := fitEntitlements(apples, p, "com.example.app", fitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, apples) {
		t.Errorf("fitted entitlements re-encoded:\n%s", again)
	}
	for _, c := range changes {
		if c.Action != EntitlementKept {
			t.Errorf("%+v", c)
		}
	}
}

func TestAllows(t *testing.T) {
	tests := []struct {
		grant, v any
		want     bool
	}{
		{"*", []any{"applinks:a.com"}, true},
		{"*", true, true},
		{"ABCDE12345.*", "ABCDE12345.com.example", true},
		{"ABCDE12345.*", "ZZZZZ99999.com.example", false},
		{[]any{"ABCDE12345.*"}, []any{"ABCDE12345.a", "ABCDE12345.b"}, true},
		{[]any{"group.a", "group.b"}, []any{"group.a"}, true},
		{[]any{"group.a"}, []any{"group.a", "group.c"}, false},
		{[]any{"group.a"}, []any{}, true},
		{"production", "production", true},
		{"production", "development", false},
		{true, false, true},
		{true, true, true},
		{false, true, false},
		{false, false, true},
		{"true", true, false},
		{uint64(1), uint64(1), true},
		{[]any{uint64(1), uint64(2)}, uint64(2), true},
		{[]any{"Development", "Production"}, "Production", true},
	}
	for _, tt := range tests {
		if got := allows(tt.grant, tt.v); got != tt.want {
			t.Errorf("allows(%v, %v) = %v, want %v", tt.grant, tt.v, got, tt.want)
		}
	}
}

// studioIPA returns an IPA as a studio delivers it: signed by its own team
// (OLDTEAM123) with a development profile, the app's executable with
// studioEnts, the other bundles with what their profile grants.
func studioIPA(t *testing.T) []byte {
	t.Helper()
	studio := signingtest.NewApple(signingtest.AppleOptions{TeamID: "OLDTEAM123", Organization: "Studio"})
	grants := with(publisherGrants,
		"com.apple.developer.ubiquity-kvstore-identifier", "OLDTEAM123.*",
		"aps-environment", "development")
	p, err := provision.Parse(studio.Profile(signingtest.ProfileOptions{AppID: "com.studio.*", Kind: "development", Entitlements: grants}))
	if err != nil {
		t.Fatal(err)
	}
	in := signingtest.IPA(signingtest.IPAOptions{})
	out, _ := resign(t, in, Options{
		Identity:     studio.Identity,
		Profiles:     []*provision.Profile{p},
		BundleID:     "com.studio.game",
		Entitlements: entsXML(t, studioEnts),
		Now:          func() time.Time { return signingtest.Epoch.Add(time.Hour) },
	})
	return out
}

// TestResignFitsSignedEntitlements re-signs a studio's signed app with the
// publisher's wildcard App Store profile of another team, end to end.
func TestResignFitsSignedEntitlements(t *testing.T) {
	in := studioIPA(t)
	fix := newFixture(t, signingtest.ProfileOptions{Name: "Publisher wildcard", AppID: "com.example.*", Entitlements: publisherGrants})
	opts := fix.opts()
	opts.BundleID = "com.example.app"
	out, rep := resign(t, in, opts)
	if _, err := Verify(context.Background(), bytes.NewReader(out), int64(len(out)), fix.vopts()); err != nil {
		t.Fatal(err)
	}
	app := signedEntsOf(t, out, "Payload/Example.app/Example")
	want := map[string]any{
		"application-identifier":                           "ABCDE12345.com.example.app",
		"com.apple.developer.team-identifier":              "ABCDE12345",
		"com.apple.developer.associated-domains":           []any{"applinks:example.com", "webcredentials:example.com"},
		"com.apple.security.application-groups":            []any{"group.com.example.shared"},
		"com.apple.developer.icloud-container-identifiers": []any{"iCloud.com.example.app"},
		"com.apple.developer.icloud-services":              []any{"CloudKit"},
		"com.apple.developer.icloud-container-environment": "Production",
		"com.apple.developer.ubiquity-kvstore-identifier":  "ABCDE12345.com.example.app",
		"keychain-access-groups":                           []any{"ABCDE12345.com.example.app", "ABCDE12345.com.example.shared"},
		"aps-environment":                                  "production",
		"get-task-allow":                                   false,
		"beta-reports-active":                              true,
	}
	if plistString(app) != plistString(want) {
		t.Errorf("the app's entitlements:\n%s\nwant\n%s", plistString(app), plistString(want))
	}
	share := signedEntsOf(t, out, "Payload/Example.app/PlugIns/Share.appex/Share")
	for k, v := range map[string]any{
		"application-identifier":                          "ABCDE12345.com.example.app.share",
		"keychain-access-groups":                          []any{"ABCDE12345.com.example.app.share"},
		"com.apple.developer.ubiquity-kvstore-identifier": "ABCDE12345.com.example.app.share",
		"get-task-allow":                                  false,
	} {
		if plistString(share[k]) != plistString(v) {
			t.Errorf("the extension's %s = %v, want %v", k, share[k], v)
		}
	}
	var appRep *BundleReport
	for i, b := range rep.Bundles {
		if b.Path == "Payload/Example.app" {
			appRep = &rep.Bundles[i]
		}
		if b.Kind == "framework" || b.Kind == "dylib" {
			if len(b.EntitlementChanges) > 0 {
				t.Errorf("%s: entitlement changes %v", b.Path, b.EntitlementChanges)
			}
		} else if len(b.EntitlementChanges) == 0 {
			t.Errorf("%s: no entitlement changes reported", b.Path)
		}
	}
	if appRep == nil {
		t.Fatal("no report of the app")
	}
	got := map[string]EntitlementChange{}
	for _, c := range appRep.EntitlementChanges {
		got[c.Key] = c
	}
	for k, a := range map[string]string{
		"com.apple.developer.associated-domains": EntitlementKept,
		"keychain-access-groups":                 EntitlementChanged,
		"get-task-allow":                         EntitlementChanged,
		"beta-reports-active":                    EntitlementAdded,
	} {
		if got[k].Action != a {
			t.Errorf("%s: %+v, want %s", k, got[k], a)
		}
	}
	if c := got["keychain-access-groups"]; c.Old != "[OLDTEAM123.com.studio.game, OLDTEAM123.com.example.shared]" || c.New != "[ABCDE12345.com.example.app, ABCDE12345.com.example.shared]" || c.Reason == "" {
		t.Errorf("keychain-access-groups: %+v", c)
	}

	t.Run("not granted", func(t *testing.T) {
		fix := newFixture(t, signingtest.ProfileOptions{Name: "Publisher wildcard", AppID: "com.example.*", Entitlements: without(publisherGrants, "com.apple.developer.associated-domains")})
		opts := fix.opts()
		opts.BundleID = "com.example.app"
		_, err := Resign(context.Background(), bytes.NewReader(in), int64(len(in)), io.Discard, opts)
		var ne *EntitlementNotGrantedError
		if !errors.As(err, &ne) || ne.Path != "Payload/Example.app" || ne.Ungranted[0].Key != "com.apple.developer.associated-domains" {
			t.Fatalf("err = %v", err)
		}
		if !strings.Contains(err.Error(), "register the explicit App ID com.example.app with the capability Associated Domains") {
			t.Errorf("the error does not say how to fix it: %v", err)
		}
		opts.DropUngrantedEntitlements = true
		out, rep := resign(t, in, opts)
		if _, err := Verify(context.Background(), bytes.NewReader(out), int64(len(out)), fix.vopts()); err != nil {
			t.Fatal(err)
		}
		if app := signedEntsOf(t, out, "Payload/Example.app/Example"); app["com.apple.developer.associated-domains"] != nil {
			t.Errorf("associated domains signed: %v", app)
		}
		var dropped bool
		for _, b := range rep.Bundles {
			for _, c := range b.EntitlementChanges {
				if b.Path == "Payload/Example.app" && c.Key == "com.apple.developer.associated-domains" {
					dropped = c.Action == EntitlementDropped && c.Old == "[applinks:example.com, webcredentials:example.com]" && strings.Contains(c.Reason, "Associated Domains")
				}
			}
		}
		if !dropped {
			t.Error("the dropped associated domains are not reported")
		}
	})
}

// signedEntsOf returns the entitlements the binary name of ipa is signed
// with.
func signedEntsOf(t *testing.T, ipa []byte, name string) map[string]any {
	t.Helper()
	b := readZip(t, zipFiles(t, ipa)[name])
	info, err := macho.Verify(context.Background(), bytes.NewReader(b), int64(len(b)), macho.VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if _, err := plist.Unmarshal(info.Slices[0].Entitlements, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// FuzzSignedEntitlements feeds arbitrary binaries to the reader of the
// entitlements they were signed with: no panic, and on a signed binary
// the entitlements it was signed with.
func FuzzSignedEntitlements(f *testing.F) {
	apple := signingtest.NewApple(signingtest.AppleOptions{})
	ents := entsXML(f, studioEnts)
	for _, archs := range [][]string{{"arm64"}, {"arm64", "arm64e"}} {
		bin := signingtest.IOSBinary(signingtest.IOSBinaryOptions{Archs: archs, CodeSize: 3000})
		var signed bytes.Buffer
		_, err := macho.Sign(context.Background(), bytes.NewReader(bin), int64(len(bin)), &signed, macho.SignOptions{
			Identity: apple.Identity, Identifier: "com.example.app", Entitlements: ents,
			Now: func() time.Time { return signingtest.Epoch },
		})
		if err != nil {
			f.Fatal(err)
		}
		if got, err := macho.Entitlements(bytes.NewReader(signed.Bytes()), int64(signed.Len())); err != nil || !bytes.Equal(got, ents) {
			f.Fatalf("%v: read %q", archs, got)
		}
		f.Add(signed.Bytes())
		f.Add(bin)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		macho.Entitlements(bytes.NewReader(data), int64(len(data)))
	})
}

// TestFitEntitlementsRename checks that an App Clip's parent and an app's
// clip identifiers follow a new bundle ID, and that other team-prefixed
// values only change their prefix and exact bundle ID.
func TestFitEntitlementsRename(t *testing.T) {
	apple := signingtest.NewApple(signingtest.AppleOptions{})
	rename := func(id string) string {
		if rest, ok := strings.CutPrefix(id, "com.studio.game"); ok {
			return "com.example.app" + rest
		}
		return id
	}
	tests := []struct {
		name, newID string
		orig, want  map[string]any
		grants      map[string]any
	}{{
		name:  "clip",
		newID: "com.example.app.Clip",
		orig: map[string]any{
			"application-identifier":                             "OLDTEAM123.com.studio.game.Clip",
			"com.apple.developer.parent-application-identifiers": []any{"OLDTEAM123.com.studio.game"},
			"keychain-access-groups":                             []any{"OLDTEAM123.com.studio.game.Clip", "OLDTEAM123.com.studio.game.shared"},
		},
		grants: map[string]any{"com.apple.developer.parent-application-identifiers": []any{"ABCDE12345.com.example.app"}},
		want: map[string]any{
			"application-identifier":                             "ABCDE12345.com.example.app.Clip",
			"com.apple.developer.team-identifier":                "ABCDE12345",
			"com.apple.developer.parent-application-identifiers": []any{"ABCDE12345.com.example.app"},
			"keychain-access-groups":                             []any{"ABCDE12345.com.example.app.Clip", "ABCDE12345.com.studio.game.shared"},
			"beta-reports-active":                                true,
		},
	}, {
		name:  "app",
		newID: "com.example.app",
		orig: map[string]any{
			"application-identifier":                                 "OLDTEAM123.com.studio.game",
			"com.apple.developer.associated-appclip-app-identifiers": []any{"OLDTEAM123.com.studio.game.Clip"},
		},
		grants: map[string]any{"com.apple.developer.associated-appclip-app-identifiers": []any{"ABCDE12345.com.example.app.Clip"}},
		want: map[string]any{
			"application-identifier":                                 "ABCDE12345.com.example.app",
			"com.apple.developer.team-identifier":                    "ABCDE12345",
			"com.apple.developer.associated-appclip-app-identifiers": []any{"ABCDE12345.com.example.app.Clip"},
			"beta-reports-active":                                    true,
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := provision.Parse(apple.Profile(signingtest.ProfileOptions{AppID: "com.example.*", Entitlements: tt.grants}))
			if err != nil {
				t.Fatal(err)
			}
			out, _, err := fitEntitlements(entsXML(t, tt.orig), p, tt.newID, fitOptions{rename: rename})
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			if _, err := plist.Unmarshal(out, &got); err != nil {
				t.Fatal(err)
			}
			if plistString(got) != plistString(tt.want) {
				t.Errorf("got\n%s\nwant\n%s", plistString(got), plistString(tt.want))
			}
		})
	}
}

// TestFitEntitlementsWildcardAppID: a build signed with its wildcard
// profile's application-identifier (as Xcode signs test runners) keeps
// the wildcard with a development or ad hoc profile of the same wildcard,
// and gets its explicit App ID for the App Store.
func TestFitEntitlementsWildcardAppID(t *testing.T) {
	orig := entsXML(t, map[string]any{
		"application-identifier":              "OLDTEAM123.*",
		"com.apple.developer.team-identifier": "OLDTEAM123",
		"keychain-access-groups":              []any{"OLDTEAM123.*"},
	})
	apple := signingtest.NewApple(signingtest.AppleOptions{})
	for _, tt := range []struct {
		kind, appID, want string
	}{
		{"development", "*", "ABCDE12345.*"},
		{"ad-hoc", "*", "ABCDE12345.*"},
		{"development", "com.example.*", "ABCDE12345.com.example.runner"},
		{"app-store", "*", "ABCDE12345.com.example.runner"},
	} {
		p, err := provision.Parse(apple.Profile(signingtest.ProfileOptions{AppID: tt.appID, Kind: tt.kind}))
		if err != nil {
			t.Fatal(err)
		}
		out, _, err := fitEntitlements(orig, p, "com.example.runner", fitOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]any
		if _, err := plist.Unmarshal(out, &got); err != nil {
			t.Fatal(err)
		}
		if got["application-identifier"] != tt.want || plistString(got["keychain-access-groups"]) != plistString([]any{"ABCDE12345.*"}) {
			t.Errorf("%s %s: %v", tt.kind, tt.appID, got)
		}
	}
}
