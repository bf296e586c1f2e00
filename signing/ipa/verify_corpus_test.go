package ipa

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/storesign/storesign/signing/macho"
	"github.com/storesign/storesign/signing/provision"
	"github.com/storesign/storesign/signing/signingtest"
)

// TestCorpusExpiredDescribed reads the DeviceAgent app Xcode signed in
// 2023, whose certificate has expired: Inspect and Verify describe every
// signature in full all the same (identifier, team, cdhashes, authority,
// entitlements, the chain checked at the signing time), as codesign -dvvv
// does, and name the expiry as the problem, in the words the profile
// check uses.
func TestCorpusExpiredDescribed(t *testing.T) {
	in := corpusFile(t, "apple/deviceagent-2023-dev-sha256.ipa")
	const expired = `the signing certificate "iPhone Developer: Karl Krukow (YTTN6Y2QS9)" is valid from 2022-12-08 to 2023-12-08 only`
	rep, err := Inspect(context.Background(), bytes.NewReader(in), int64(len(in)), VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	check := func(rep *Report) {
		t.Helper()
		if len(rep.Bundles) != 10 {
			t.Errorf("%d bundles, want 10", len(rep.Bundles))
		}
		for _, b := range rep.Bundles {
			if b.Identifier == "" || b.TeamID != "FYD86LA7RE" || len(b.CDHashes) == 0 || len(b.CDHashes) != len(b.Archs) ||
				len(b.Authority) != 3 || b.Authority[2] != "Apple Root CA" || b.Anchor != macho.AnchorApple || b.SigningTime == nil || b.Certificate == nil {
				t.Errorf("%s: identifier %q team %q cdhashes %v archs %v authority %q anchor %q", b.Path, b.Identifier, b.TeamID, b.CDHashes, b.Archs, b.Authority, b.Anchor)
			}
			if len(b.Problems) == 0 || b.Problems[0] != expired {
				t.Errorf("%s: problems %q, want first %q", b.Path, b.Problems, expired)
			}
			if n := strings.Count(strings.Join(b.Problems, "\n"), "is valid from"); n != 1 {
				t.Errorf("%s: the expiry is reported %d times: %q", b.Path, n, b.Problems)
			}
			for _, p := range b.Problems {
				if strings.Contains(p, "x509") || strings.Contains(p, "does not lead to Apple Root CA") {
					t.Errorf("%s: %q: the expiry reads as a broken chain", b.Path, p)
				}
			}
			if b.Kind == "app" && (b.Identifier != "sh.calaba.DeviceAgent.xctrunner" || !strings.Contains(b.Entitlements, "application-identifier") || b.Profile == nil) {
				t.Errorf("app: identifier %q profile %v entitlements %q", b.Identifier, b.Profile, b.Entitlements)
			}
		}
	}
	check(rep)
	vrep, err := Verify(context.Background(), bytes.NewReader(in), int64(len(in)), VerifyOptions{})
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), expired) {
		t.Errorf("Verify: %v, want ErrInvalid: %s", err, expired)
	}
	check(vrep)
}

// TestCorpusAppleSignedVerify verifies the apps Apple's codesign signed
// (expired long ago, so at their signing time): each verifies, the
// DeviceAgent test runner among them, signed by Xcode with its wildcard
// profile's own application identifier, FYD86LA7RE.*.
func TestCorpusAppleSignedVerify(t *testing.T) {
	for _, name := range []string{"deviceagent-2023-dev-sha256.ipa", "permissions-2020-dev-2cd.ipa", "simplesaucy-2015-dev-swift.ipa"} {
		t.Run(name, func(t *testing.T) {
			in := corpusFile(t, "apple/"+name)
			if _, err := Verify(context.Background(), bytes.NewReader(in), int64(len(in)), VerifyOptions{AllowExpired: true}); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestAppIDProblem checks the signed application-identifier against the
// profile: the bundle's, or a wildcard profile's own value; nothing else.
func TestAppIDProblem(t *testing.T) {
	wild := &provision.Profile{AppIDPrefix: "ABCDE12345", ApplicationIdentifier: "ABCDE12345.*"}
	prefix := &provision.Profile{AppIDPrefix: "ABCDE12345", ApplicationIdentifier: "ABCDE12345.com.example.*"}
	explicit := &provision.Profile{AppIDPrefix: "ABCDE12345", ApplicationIdentifier: "ABCDE12345.com.example.app"}
	for _, tt := range []struct {
		p     *provision.Profile
		appID any
		ok    bool
	}{
		{explicit, "ABCDE12345.com.example.app", true},
		{wild, "ABCDE12345.com.example.app", true},
		{wild, "ABCDE12345.*", true}, // as Xcode signs test runners
		{prefix, "ABCDE12345.com.example.*", true},
		{prefix, "ABCDE12345.*", false}, // more than the profile grants
		{wild, "ABCDE12345.com.other.app", false},
		{wild, "OTHERTEAM1.*", false},
		{explicit, "ABCDE12345.*", false},
		{explicit, "ABCDE12345.com.example.*", false},
		{wild, nil, false},
		{wild, []any{"ABCDE12345.*"}, false},
	} {
		ents := map[string]any{}
		if tt.appID != nil {
			ents["application-identifier"] = tt.appID
		}
		got := appIDProblem(ents, tt.p, "com.example.app")
		if (got == "") != tt.ok {
			t.Errorf("profile %s, signed %v: %q, want accepted %v", tt.p.ApplicationIdentifier, tt.appID, got, tt.ok)
		}
	}
}

// TestVerifyChainWarning: a signature whose chain was not checked against
// a root (it does not reach an embedded Apple Root CA) verifies, with a
// warning saying what that means; checked against roots, or reaching
// Apple Root CA, it has none.
func TestVerifyChainWarning(t *testing.T) {
	f := newFixture(t)
	out, _ := resign(t, signingtest.IPA(signingtest.IPAOptions{Minimal: true}), f.opts())
	verify := func(opts VerifyOptions) []string {
		t.Helper()
		rep, err := Verify(context.Background(), bytes.NewReader(out), int64(len(out)), opts)
		if err != nil {
			t.Fatal(err)
		}
		return rep.Warnings
	}
	opts := f.vopts()
	if w := verify(opts); len(w) != 0 {
		t.Errorf("checked against the roots: warnings %q", w)
	}
	opts.Roots = nil
	w := verify(opts)
	if len(w) != 1 || !strings.HasPrefix(w[0], "the certificate chain of every signature was not checked against Apple's roots") ||
		!strings.Contains(w[0], `"Test Apple Root CA"`) || !strings.Contains(w[0], "a device refuses an app whose chain does not reach Apple Root CA") {
		t.Errorf("not checked: warnings %q", w)
	}
	in := corpusFile(t, "apple/deviceagent-2023-dev-sha256.ipa")
	rep, err := Verify(context.Background(), bytes.NewReader(in), int64(len(in)), VerifyOptions{AllowExpired: true})
	if err != nil || len(rep.Warnings) != 0 {
		t.Errorf("Apple Root CA: %v, warnings %q", err, rep.Warnings)
	}
}
