package ipa

import (
	"archive/zip"
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"path"
	"strings"
	"testing"
	"time"

	"go.mozilla.org/pkcs7"
	"howett.net/plist"

	"github.com/storesign/storesign/internal/testenv"
	"github.com/storesign/storesign/signing/macho"
	"github.com/storesign/storesign/signing/provision"
	"github.com/storesign/storesign/signing/signingtest"
)

// resignLikeXcode re-signs the DeviceAgent app Xcode signed in 2023
// with a certificate of the same subject and a profile with the same
// grants.
func resignLikeXcode(t *testing.T) (in, out []byte) {
	t.Helper()
	in = corpusFile(t, "apple/deviceagent-2023-dev-sha256.ipa")
	exe := testenv.ZipFiles(t, in)["Payload/DeviceAgent-Runner.app/DeviceAgent-Runner"]
	sig, err := macho.ReadSignature(bytes.NewReader(exe), int64(len(exe)))
	if err != nil {
		t.Fatal(err)
	}
	p7, err := pkcs7.Parse(sig.Slices[0].CMS)
	if err != nil || p7.GetOnlySigner() == nil {
		t.Fatalf("reading Apple's signer: %v", err)
	}
	leaf := p7.GetOnlySigner()
	apple := signingtest.NewApple(signingtest.AppleOptions{TeamID: "FYD86LA7RE", Subject: &leaf.Subject, Development: true})
	prof, err := provision.Parse(apple.Profile(signingtest.ProfileOptions{
		Name: "DeviceAgent", AppID: "*", TeamID: "FYD86LA7RE", Kind: "development",
		Entitlements: map[string]any{"keychain-access-groups": []any{"FYD86LA7RE.*", "com.apple.token"}},
		Created:      time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
	}))
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC) }
	out, _ = resign(t, in, Options{Identity: apple.Identity, Chain: []*x509.Certificate{apple.WWDR.Certificate, apple.Root.Certificate}, Profiles: []*provision.Profile{prof}, Now: now})
	return in, out
}

// TestEntryOrder checks the output's zip entries against Xcode's IPA:
// the same entries, each folder entry before the entries under it, and
// the files copied as they were in the input's order within their folder.
func TestEntryOrder(t *testing.T) {
	in, out := resignLikeXcode(t)
	names := func(b []byte) []string {
		zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		var n []string
		for _, f := range zr.File {
			n = append(n, f.Name)
		}
		return n
	}
	before, after := names(in), names(out)
	pos := map[string]int{}
	for i, n := range after {
		pos[n] = i
	}
	for _, n := range before {
		i, ok := pos[n]
		if !ok {
			t.Errorf("%s: missing", n)
			continue
		}
		for p := path.Dir(strings.TrimSuffix(n, "/")); p != "."; p = path.Dir(p) {
			if j, ok := pos[p+"/"]; ok && j > i {
				t.Errorf("%s written before its folder entry %s/", n, p)
			}
		}
	}
	if len(after) != len(before) {
		t.Errorf("%d entries, Xcode's IPA %d", len(after), len(before))
	}
	// Within a folder, the files copied as they were keep their order;
	// what is rewritten (code, signatures, the profile) is written where
	// the streaming allows (see the package documentation), and a nested
	// bundle's folder entry before the bundle.
	files := testenv.ZipFiles(t, in)
	last := map[string]int{}
	for _, n := range before {
		d := path.Dir(strings.TrimSuffix(n, "/"))
		if strings.HasSuffix(n, "/") || macho.IsMachO(files[n]) || strings.Contains(n, "/_CodeSignature/") || path.Base(n) == "embedded.mobileprovision" {
			continue
		}
		if j, ok := last[d]; ok && pos[n] < j {
			t.Errorf("%s moved before an entry that preceded it in %s", n, d)
		}
		last[d] = pos[n]
	}
}

// TestSameAsXcode re-signs an app Xcode signed (2023, current format)
// with what Xcode had: a certificate with the same subject and a profile
// with the same grants. Every binary must get Apple's CodeDirectories
// byte for byte except the CodeResources slot (it seals the new profile
// and the nested code we re-signed, bytes only Apple's key can make), and
// Apple's requirements, entitlements, reserved room and __LINKEDIT; every
// CodeResources must be Apple's byte for byte except the digests of those
// files.
func TestSameAsXcode(t *testing.T) {
	in, out := resignLikeXcode(t)
	orig, got := testenv.ZipFiles(t, in), testenv.ZipFiles(t, out)
	const app = "Payload/DeviceAgent-Runner.app/"

	// Files whose bytes may change: the profile, and the signed code with
	// its seals.
	changed := map[string]bool{app + "embedded.mobileprovision": true}
	for name, b := range orig {
		if macho.IsMachO(b) && !strings.Contains(name, ".dSYM/") {
			changed[name] = true
		}
		if strings.HasSuffix(name, "/_CodeSignature/CodeResources") {
			changed[name] = true
		}
	}
	n := 0
	for name, ob := range orig {
		gb, ok := got[name]
		if !ok {
			t.Errorf("%s: missing from the output", name)
			continue
		}
		switch {
		case strings.HasSuffix(name, "/_CodeSignature/CodeResources"):
			sameCodeResources(t, name, gb, ob, path.Dir(path.Dir(name)), changed)
		case changed[name] && macho.IsMachO(ob):
			sameSignature(t, name, gb, ob)
			n++
		case !changed[name] && !bytes.Equal(gb, ob):
			t.Errorf("%s: content changed", name)
		}
	}
	if n < 10 {
		t.Errorf("compared %d binaries, want every one of the app's", n)
	}
}

// sameSignature compares our signature of a binary with Apple's.
func sameSignature(t *testing.T, name string, gotBin, appleBin []byte) {
	t.Helper()
	g, err := macho.ReadSignature(bytes.NewReader(gotBin), int64(len(gotBin)))
	if err != nil {
		t.Errorf("%s: %v", name, err)
		return
	}
	a, err := macho.ReadSignature(bytes.NewReader(appleBin), int64(len(appleBin)))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if len(gotBin) != len(appleBin) {
		t.Errorf("%s: %d bytes, Apple's %d", name, len(gotBin), len(appleBin))
	}
	if len(g.Slices) != len(a.Slices) {
		t.Errorf("%s: %d slices, Apple's %d", name, len(g.Slices), len(a.Slices))
		return
	}
	for i, as := range a.Slices {
		gs := g.Slices[i]
		if gs.Reserved != as.Reserved || gs.LinkeditFileSize != as.LinkeditFileSize || gs.LinkeditVMSize != as.LinkeditVMSize {
			t.Errorf("%s %s: reserved %d, __LINKEDIT %d/%d; Apple's %d, %d/%d", name, as.Arch, gs.Reserved, gs.LinkeditFileSize, gs.LinkeditVMSize, as.Reserved, as.LinkeditFileSize, as.LinkeditVMSize)
		}
		if !bytes.Equal(gs.Requirements, as.Requirements) {
			t.Errorf("%s %s: requirements differ from Apple's", name, as.Arch)
		}
		if !bytes.Equal(gs.Entitlements, as.Entitlements) || !bytes.Equal(gs.EntitlementsDER, as.EntitlementsDER) {
			t.Errorf("%s %s: entitlements\n%s\nApple's\n%s", name, as.Arch, gs.Entitlements, as.Entitlements)
		}
		if len(gs.CodeDirectories) != len(as.CodeDirectories) {
			t.Errorf("%s %s: %d CodeDirectories, Apple's %d", name, as.Arch, len(gs.CodeDirectories), len(as.CodeDirectories))
			continue
		}
		for j, acd := range as.CodeDirectories {
			gcd := bytes.Clone(gs.CodeDirectories[j])
			// The CodeResources slot (-3) may differ; compare the rest.
			if hs, hashOff := int(acd[36]), be32(acd[16:]); len(gcd) == len(acd) && be32(acd[24:]) >= 3 {
				copy(gcd[hashOff-3*hs:hashOff-2*hs], acd[hashOff-3*hs:hashOff-2*hs])
			}
			if !bytes.Equal(gcd, acd) {
				t.Errorf("%s %s: CodeDirectory %d differs from Apple's beyond the CodeResources slot", name, as.Arch, j)
			}
		}
	}
}

func be32(b []byte) int { return int(b[0])<<24 | int(b[1])<<16 | int(b[2])<<8 | int(b[3]) }

// sameCodeResources compares our CodeResources with Apple's: the same
// bytes once Apple's digests of the files that changed are replaced by
// ours; no other digest may differ.
func sameCodeResources(t *testing.T, name string, gotCR, appleCR []byte, bundle string, changed map[string]bool) {
	t.Helper()
	var g, a map[string]any
	if _, err := plist.Unmarshal(gotCR, &g); err != nil {
		t.Errorf("%s: %v", name, err)
		return
	}
	if _, err := plist.Unmarshal(appleCR, &a); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	want := string(appleCR)
	for _, section := range []string{"files", "files2"} {
		gf, _ := g[section].(map[string]any)
		af, _ := a[section].(map[string]any)
		for key, av := range af {
			gv, ok := gf[key]
			if !ok {
				t.Errorf("%s: %s[%s] missing", name, section, key)
				continue
			}
			ad, gd := digests(av), digests(gv)
			if len(ad) != len(gd) {
				t.Errorf("%s: %s[%s]: %d digests, Apple's %d", name, section, key, len(gd), len(ad))
				continue
			}
			for i := range ad {
				if bytes.Equal(ad[i], gd[i]) {
					continue
				}
				if !changed[bundle+"/"+key] {
					t.Errorf("%s: %s[%s] digest differs from Apple's", name, section, key)
					continue
				}
				want = strings.Replace(want, base64.StdEncoding.EncodeToString(ad[i]), base64.StdEncoding.EncodeToString(gd[i]), 1)
			}
		}
		if len(gf) != len(af) {
			t.Errorf("%s: %s has %d entries, Apple's %d", name, section, len(gf), len(af))
		}
	}
	if string(gotCR) != want {
		t.Errorf("%s: not Apple's bytes once the changed digests are replaced", name)
	}
}

// digests returns the hash and hash2 values of a files/files2 entry.
func digests(v any) [][]byte {
	switch v := v.(type) {
	case []byte:
		return [][]byte{v}
	case map[string]any:
		var out [][]byte
		for _, k := range []string{"hash", "hash2", "cdhash"} {
			if b, ok := v[k].([]byte); ok {
				out = append(out, b)
			}
		}
		return out
	}
	return nil
}
