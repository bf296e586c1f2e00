package ipa

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"howett.net/plist"

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
	out, err := plist.MarshalIndent(ents, plist.XMLFormat, "\t")
	if err != nil {
		return nil, fmt.Errorf("encoding the entitlements of %s: %w", bundleID, err)
	}
	return append(out, '\n'), nil
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
	if _, err := plist.Unmarshal(data, &m); err != nil {
		return nil, "", fmt.Errorf("ipa: the entitlements are not a plist dictionary: %v", err)
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if _, ok := p.Entitlements[k]; !ok && k != "application-identifier" && k != "com.apple.developer.team-identifier" && k != "get-task-allow" {
			return nil, "", fmt.Errorf("ipa: the entitlement %s is not granted by the profile %q (%s): remove it from the entitlements, or enable the capability for the App ID and regenerate the profile", k, p.Name, p.UUID)
		}
	}
	if gta, ok := m["get-task-allow"].(bool); ok && gta && p.Kind != provision.Development {
		delete(m, "get-task-allow")
		out, err := plist.MarshalIndent(m, plist.XMLFormat, "\t")
		if err != nil {
			return nil, "", err
		}
		return append(out, '\n'), fmt.Sprintf("get-task-allow removed from the given entitlements: the %s profile %q does not allow debugging", p.Kind, p.Name), nil
	}
	return data, "", nil
}

// checkEntitlements parses entitlements given by the user.
func checkEntitlements(data []byte) error {
	var m map[string]any
	if _, err := plist.Unmarshal(data, &m); err != nil {
		return fmt.Errorf("ipa: the entitlements are not a plist dictionary: %v", err)
	}
	return nil
}
