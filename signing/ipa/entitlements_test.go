package ipa

import (
	"strings"
	"testing"

	"howett.net/plist"

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
