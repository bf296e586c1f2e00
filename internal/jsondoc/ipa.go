package jsondoc

import (
	"fmt"
	"strings"

	"github.com/storesign/storesign/signing/ipa"
	"github.com/storesign/storesign/signing/macho"
)

// IPAInfo is what only the IPA documents report: the signed bundles.
type IPAInfo struct {
	// Bundles are the signed bundles and loose binaries, innermost
	// first, the app last.
	Bundles []IPABundle `json:"bundles"`
}

// IPABundle is one signed bundle (app, appex, framework...) or loose
// binary of an IPA. The fields marked so are left out when empty.
type IPABundle struct {
	// Path is the bundle's path inside the archive.
	Path string `json:"path"`
	// Kind is "app", "appex", "framework", "xctest", "xpc", "bundle" or
	// "dylib".
	Kind string `json:"kind"`
	// BundleID is its CFBundleIdentifier (left out when empty).
	BundleID string `json:"bundleId,omitempty"`
	// AppleSigned reports code Apple signed, left as it was.
	AppleSigned bool `json:"appleSigned"`
	// Identifier and TeamID are the code signature's.
	Identifier string `json:"identifier"`
	TeamID     string `json:"teamId"`
	// CDHashes are the code directory hashes, one per architecture in
	// the order of Archs.
	CDHashes []string `json:"cdHashes"`
	Archs    []string `json:"archs"`
	// Authority lists the common names of the signature's certificates,
	// leaf first, as codesign -dvvv prints them (left out when empty).
	Authority []string `json:"authority,omitempty"`
	// Anchor is what the certificate chain was checked against: "apple"
	// (Apple Root CA), "roots" (the --root certificates), or left out
	// when it was not checked (verify only).
	Anchor string `json:"anchor,omitempty"`
	// Profile is the embedded provisioning profile (left out for code
	// without one).
	Profile *Profile `json:"profile,omitempty"`
	// Requirement is the designated requirement, as codesign -d -r-
	// prints it (left out when empty).
	Requirement string `json:"requirement,omitempty"`
	// SigningTime is the signature's signing time (verify and inspect;
	// left out when absent); CertificateExpires the leaf's expiry.
	SigningTime        string `json:"signingTime,omitempty"`
	CertificateExpires string `json:"certificateExpires,omitempty"`
	// Entitlements is the XML plist signed into the executable (left out
	// when none).
	Entitlements string `json:"entitlements,omitempty"`
	// EntitlementChanges says what resign did with each entitlement the
	// bundle was signed with (ipa resign only; left out otherwise).
	EntitlementChanges []EntitlementChange `json:"entitlementChanges,omitempty"`
	// Problems say what is wrong with the bundle's signature (verify and
	// inspect); Deviations how it differs from what current codesign
	// writes. Both left out when empty.
	Problems   []string `json:"problems,omitempty"`
	Deviations []string `json:"deviations,omitempty"`
}

// Profile is an embedded provisioning profile.
type Profile struct {
	Name string `json:"name"`
	UUID string `json:"uuid"`
	// TeamID and ApplicationIdentifier ("ABCDE12345.com.example.app")
	// are the profile's.
	TeamID                string `json:"teamId"`
	ApplicationIdentifier string `json:"applicationIdentifier"`
	// Kind is "app-store", "ad-hoc", "enterprise" or "development".
	Kind    string `json:"kind"`
	Expires string `json:"expires"`
}

// EntitlementChange is what ipa resign did with one entitlement.
type EntitlementChange struct {
	Key string `json:"key"`
	// Action is "kept", "changed", "dropped" or "added".
	Action string `json:"action"`
	// Old and New are the values before and after on one line (a list
	// as [a, b]); left out when absent.
	Old string `json:"old,omitempty"`
	New string `json:"new,omitempty"`
	// Reason says why it changed; left out when kept.
	Reason string `json:"reason,omitempty"`
}

func ipaInfo(rep *ipa.Report) *IPAInfo {
	info := &IPAInfo{Bundles: []IPABundle{}}
	for _, b := range rep.Bundles {
		j := IPABundle{
			Path: b.Path, Kind: b.Kind, BundleID: b.BundleID, AppleSigned: b.AppleSigned,
			Identifier: b.Identifier, TeamID: b.TeamID, CDHashes: list(b.CDHashes), Archs: list(b.Archs),
			Authority: b.Authority, Anchor: anchorName(b.Anchor), Requirement: b.Requirement,
			SigningTime: optTime(b.SigningTime), CertificateExpires: optTime(b.CertificateExpires),
			Entitlements: b.Entitlements, Problems: b.Problems, Deviations: b.Deviations,
		}
		if p := b.Profile; p != nil {
			j.Profile = &Profile{Name: p.Name, UUID: p.UUID, TeamID: p.TeamID, ApplicationIdentifier: p.AppID, Kind: p.Kind, Expires: timeString(p.Expires)}
		}
		for _, c := range b.EntitlementChanges {
			j.EntitlementChanges = append(j.EntitlementChanges, EntitlementChange{Key: c.Key, Action: c.Action, Old: c.Old, New: c.New, Reason: c.Reason})
		}
		info.Bundles = append(info.Bundles, j)
	}
	return info
}

// anchorName is a lowercase name for a chain anchor of signing/macho.
func anchorName(a string) string {
	switch a {
	case macho.AnchorApple:
		return "apple"
	case macho.AnchorRoots:
		return "roots"
	}
	return strings.ToLower(a)
}

func iosApp(rep *ipa.Report) *App {
	return &App{ID: rep.BundleID, Name: rep.Name, Version: rep.Version, Build: rep.Build}
}

// iosSigners are the leaf certificates of the bundles' signatures, each
// once: described in full when the report holds the certificate, else by
// its common name and expiry.
func iosSigners(rep *ipa.Report) []Signer {
	out := []Signer{}
	seen := map[string]bool{}
	for _, b := range rep.Bundles {
		if b.AppleSigned || len(b.Authority) == 0 {
			continue
		}
		s := Signer{CommonName: b.Authority[0], NotAfter: optTime(b.CertificateExpires)}
		key := s.CommonName + "\x00" + s.NotAfter
		if b.Certificate != nil {
			s = newSigner(b.Certificate)
			key = s.CertificateSHA256
		}
		if !seen[key] {
			seen[key] = true
			out = append(out, s)
		}
	}
	return out
}

// ipaProblems are the bundles' problems, each after its bundle's path,
// else err's message.
func ipaProblems(rep *ipa.Report, err error) []string {
	out := []string{}
	if rep != nil {
		for _, b := range rep.Bundles {
			for _, p := range b.Problems {
				out = append(out, fmt.Sprintf("%s: %s", b.Path, p))
			}
		}
	}
	if len(out) == 0 && err != nil {
		out = append(out, err.Error())
	}
	return out
}

// InspectDoc is the document of ipa inspect: what codesign -dvvv shows
// for each bundle.
type InspectDoc struct {
	Header
	File File `json:"file"`
	App  *App `json:"app"`
	// Signers are the leaf certificates of the signatures (see
	// [IPAVerify]).
	Signers []Signer `json:"signers"`
	// Problems are the bundles' problems, each after its bundle's path.
	Problems []string `json:"problems"`
	IPA      *IPAInfo `json:"ipa"`
}

// IPAInspect is the document of ipa inspect, rep what [ipa.InspectFile]
// returned for the IPA at file. It reads the file.
func IPAInspect(file string, rep *ipa.Report) *InspectDoc {
	d := &InspectDoc{Header: header("ipa inspect"), File: newFile(file), App: &App{}, Signers: []Signer{}, Problems: []string{}, IPA: &IPAInfo{Bundles: []IPABundle{}}}
	if rep == nil {
		return d
	}
	d.App, d.Signers, d.Problems, d.IPA = iosApp(rep), iosSigners(rep), ipaProblems(rep, nil), ipaInfo(rep)
	return d
}

// CheckDoc is the document of ipa check: the pre-flight checks of an
// App Store upload.
type CheckDoc struct {
	Header
	File File `json:"file"`
	App  *App `json:"app"`
	// MinimumOSVersion, SDK (DTSDKName) and Xcode (DTXcode) are the
	// app's; left out when absent.
	MinimumOSVersion string `json:"minimumOsVersion,omitempty"`
	SDK              string `json:"sdk,omitempty"`
	Xcode            string `json:"xcode,omitempty"`
	// Passed reports that no finding is an error.
	Passed   bool      `json:"passed"`
	Findings []Finding `json:"findings"`
}

// Finding is one finding of ipa check.
type Finding struct {
	// Code is the ITMS code App Store Connect reports for it.
	Code string `json:"code"`
	// Severity is "error" (App Store Connect refuses the build) or
	// "warning".
	Severity string `json:"severity"`
	// Bundle is the bundle's path inside the archive.
	Bundle  string `json:"bundle"`
	Message string `json:"message"`
	// Fix says what to do; left out when there is no advice.
	Fix string `json:"fix,omitempty"`
}

// IPACheck is the document of ipa check, rep what [ipa.CheckFile]
// returned for the IPA at file. It reads the file.
func IPACheck(file string, rep *ipa.CheckReport) *CheckDoc {
	d := &CheckDoc{Header: header("ipa check"), File: newFile(file), App: &App{}, Findings: []Finding{}}
	if rep == nil {
		return d
	}
	d.App = &App{ID: rep.BundleID, Version: rep.Version, Build: rep.Build}
	d.MinimumOSVersion, d.SDK, d.Xcode = rep.MinimumOSVersion, rep.SDK, rep.Xcode
	d.Passed = !rep.Failed()
	for _, f := range rep.Findings {
		d.Findings = append(d.Findings, Finding{Code: f.Code, Severity: string(f.Severity), Bundle: f.Bundle, Message: f.Message, Fix: f.Fix})
	}
	return d
}
