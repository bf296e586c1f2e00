package macho_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"path"
	"sort"
	"strconv"
	"testing"

	"go.mozilla.org/pkcs7"
	"howett.net/plist"

	"github.com/storesign/storesign/signing/macho"
	"github.com/storesign/storesign/signing/signingtest"
)

// TestSameAsCodesign re-signs every binary of the Apple-signed apps in the
// corpus with what codesign was given: a certificate with the original
// signer's subject, the same identifier, entitlements, Info.plist and
// CodeResources. For signatures in the current format (CodeDirectory
// 0x20400 with DER entitlements on executables) every CodeDirectory, the
// requirements, both entitlements blobs, the room reserved for the
// signature and __LINKEDIT's sizes must be Apple's, byte for byte: only
// the CMS differs (another key). Older signatures must come out in the
// current format, with the code page hashes codesign would keep.
func TestSameAsCodesign(t *testing.T) {
	for _, tc := range []struct {
		ipa     string
		current bool
	}{
		{"apple/deviceagent-2023-dev-sha256.ipa", true},
		{"apple/permissions-2020-dev-2cd.ipa", false}, // no DER entitlements yet
		{"apple/simplesaucy-2015-dev-swift.ipa", false},
	} {
		t.Run(path.Base(tc.ipa), func(t *testing.T) {
			files := ipaFiles(t, tc.ipa)
			names := make([]string, 0, len(files))
			for name, b := range files {
				if macho.IsMachO(b) && !bytes.Contains([]byte(name), []byte(".dSYM/")) {
					names = append(names, name)
				}
			}
			sort.Strings(names)
			if len(names) == 0 {
				t.Fatal("no Mach-O files")
			}
			for _, name := range names {
				t.Run(name, func(t *testing.T) {
					sameAsCodesign(t, files, name, tc.current)
				})
			}
		})
	}
}

func sameAsCodesign(t *testing.T, files map[string][]byte, name string, current bool) {
	in := files[name]
	orig, err := macho.ReadSignature(bytes.NewReader(in), int64(len(in)))
	if err != nil {
		t.Fatal(err)
	}
	first := orig.Slices[0]
	p7, err := pkcs7.Parse(first.CMS)
	if err != nil {
		t.Fatalf("parsing Apple's CMS: %v", err)
	}
	leaf := p7.GetOnlySigner()
	if leaf == nil {
		t.Fatal("no signer certificate in Apple's CMS")
	}
	team := ""
	if ou := leaf.Subject.OrganizationalUnit; len(ou) > 0 {
		team = ou[0]
	}
	apple := signingtest.NewApple(signingtest.AppleOptions{TeamID: team, Subject: &leaf.Subject})
	opts := macho.SignOptions{
		Identity:     apple.Identity,
		Identifier:   first.Identifier,
		TeamID:       first.TeamID,
		Entitlements: first.Entitlements,
		Now:          fixedNow,
	}
	// A bundle's executable seals its bundle's Info.plist and
	// CodeResources; a loose binary its own linked-in Info.plist.
	dir := path.Dir(name)
	if info, ok := files[dir+"/Info.plist"]; ok {
		var m map[string]any
		if _, err := plist.Unmarshal(info, &m); err == nil && m["CFBundleExecutable"] == path.Base(name) {
			opts.InfoPlist = info
			opts.CodeResources = files[dir+"/_CodeSignature/CodeResources"]
		}
	}
	var out bytes.Buffer
	if _, err := macho.Sign(context.Background(), bytes.NewReader(in), int64(len(in)), &out, opts); err != nil {
		t.Fatal(err)
	}
	// Our output is what codesign writes: no deviation, even strictly.
	if _, err := macho.Verify(context.Background(), bytes.NewReader(out.Bytes()), int64(out.Len()), macho.VerifyOptions{
		Roots: apple.Root.Pool(), InfoPlist: opts.InfoPlist, CodeResources: opts.CodeResources, Strict: true,
	}); err != nil {
		t.Errorf("strict verification of our output: %v", err)
	}
	if !current {
		info, err := macho.Verify(context.Background(), bytes.NewReader(in), int64(len(in)), macho.VerifyOptions{InfoPlist: opts.InfoPlist, CodeResources: opts.CodeResources})
		if err != nil {
			t.Errorf("verifying Apple's signature: %v", err)
		} else if len(info.Slices[0].Deviations) == 0 {
			t.Errorf("Apple's older signature shows no deviation from current codesign")
		} else {
			t.Logf("Apple's older signature: %s", info.Slices[0].Deviations)
		}
	}
	got, err := macho.ReadSignature(bytes.NewReader(out.Bytes()), int64(out.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Slices) != len(orig.Slices) {
		t.Fatalf("%d slices, Apple's %d", len(got.Slices), len(orig.Slices))
	}
	if current && out.Len() != len(in) {
		t.Errorf("%d bytes, Apple's %d", out.Len(), len(in))
	}
	for i, o := range orig.Slices {
		g := got.Slices[i]
		if current {
			if g.Reserved != o.Reserved || g.LinkeditFileSize != o.LinkeditFileSize || g.LinkeditVMSize != o.LinkeditVMSize {
				t.Errorf("%s: reserved %d, __LINKEDIT %d/%d; Apple's %d, %d/%d", o.Arch, g.Reserved, g.LinkeditFileSize, g.LinkeditVMSize, o.Reserved, o.LinkeditFileSize, o.LinkeditVMSize)
			}
			if len(g.CodeDirectories) != len(o.CodeDirectories) {
				t.Fatalf("%s: %d CodeDirectories, Apple's %d", o.Arch, len(g.CodeDirectories), len(o.CodeDirectories))
			}
			for j := range o.CodeDirectories {
				if !bytes.Equal(g.CodeDirectories[j], o.CodeDirectories[j]) {
					t.Errorf("%s: CodeDirectory %d (%s) differs from Apple's:\n%s", o.Arch, j, o.HashTypes[j], cdDiff(g.CodeDirectories[j], o.CodeDirectories[j]))
				}
			}
			if !bytes.Equal(g.Requirements, o.Requirements) {
				t.Errorf("%s: requirements\n%x\nApple's\n%x", o.Arch, g.Requirements, o.Requirements)
			}
			if !bytes.Equal(g.Entitlements, o.Entitlements) || !bytes.Equal(g.EntitlementsDER, o.EntitlementsDER) {
				t.Errorf("%s: entitlements %q DER %x\nApple's %q DER %x", o.Arch, g.Entitlements, g.EntitlementsDER, o.Entitlements, o.EntitlementsDER)
			}
			continue
		}
		// An older signature is upgraded: the current CodeDirectory
		// version with exec-segment fields, the identifier and team kept,
		// and every code page but the header's (whose signature size
		// changes) hashed as before.
		if g.Version != 0x20400 || g.Identifier != o.Identifier || g.TeamID != o.TeamID {
			t.Errorf("%s: version %#x identifier %q team %q; Apple's %#x %q %q", o.Arch, g.Version, g.Identifier, g.TeamID, o.Version, o.Identifier, o.TeamID)
		}
		if len(first.InfoPlist) > 0 && opts.InfoPlist == nil {
			if want := codeSlot(o.CodeDirectories[0], -1); !bytes.Equal(codeSlot(g.CodeDirectories[0], -1), want) {
				t.Errorf("%s: Info.plist slot %x, Apple's %x", o.Arch, codeSlot(g.CodeDirectories[0], -1), want)
			}
		}
		for j, oc := range o.CodeDirectories {
			k := indexOf(g.HashTypes, o.HashTypes[j])
			if k < 0 {
				t.Errorf("%s: no %s CodeDirectory", o.Arch, o.HashTypes[j])
				continue
			}
			gc := g.CodeDirectories[k]
			if n := nCode(oc); n != nCode(gc) {
				t.Errorf("%s: %d code pages, Apple's %d", o.Arch, nCode(gc), n)
				continue
			}
			for p := (o.HeaderSize + 4095) / 4096; p < nCode(oc); p++ {
				if !bytes.Equal(codeSlot(gc, p), codeSlot(oc, p)) {
					t.Errorf("%s: %s page %d hash differs from Apple's", o.Arch, o.HashTypes[j], p)
					break
				}
			}
		}
	}
}

func be32(b []byte, off int) int {
	return int(b[off])<<24 | int(b[off+1])<<16 | int(b[off+2])<<8 | int(b[off+3])
}

func nCode(cd []byte) int { return be32(cd, 28) }

// codeSlot returns hash slot i of a CodeDirectory: code pages from 0,
// special slots below 0.
func codeSlot(cd []byte, i int) []byte {
	hs := int(cd[36])
	o := be32(cd, 16) + i*hs
	if o < 0 || o+hs > len(cd) {
		return nil
	}
	return cd[o : o+hs]
}

// cdDiff names the CodeDirectory fields and slots that differ.
func cdDiff(got, want []byte) string {
	var out []byte
	hdr := min(len(got), len(want), 88)
	for _, f := range []struct {
		name     string
		off, len int
	}{
		{"length", 4, 4}, {"version", 8, 4}, {"flags", 12, 4}, {"hashOffset", 16, 4}, {"identOffset", 20, 4},
		{"nSpecialSlots", 24, 4}, {"nCodeSlots", 28, 4}, {"codeLimit", 32, 4}, {"hashSize", 36, 1}, {"hashType", 37, 1},
		{"platform", 38, 1}, {"pageSize", 39, 1}, {"scatterOffset", 44, 4}, {"teamOffset", 48, 4}, {"codeLimit64", 56, 8},
		{"execSegBase", 64, 8}, {"execSegLimit", 72, 8}, {"execSegFlags", 80, 8},
	} {
		if f.off+f.len <= hdr && !bytes.Equal(got[f.off:f.off+f.len], want[f.off:f.off+f.len]) {
			out = append(out, "  "+f.name+": "+hex.EncodeToString(got[f.off:f.off+f.len])+" want "+hex.EncodeToString(want[f.off:f.off+f.len])+"\n"...)
		}
	}
	if len(got) >= 40 && len(want) >= 40 && be32(got, 24) == be32(want, 24) && be32(got, 28) == be32(want, 28) {
		for i := -be32(got, 24); i < be32(got, 28); i++ {
			if g, w := codeSlot(got, i), codeSlot(want, i); !bytes.Equal(g, w) {
				out = append(out, "  slot "+strconv.Itoa(i)+": "+hex.EncodeToString(g)+" want "+hex.EncodeToString(w)+"\n"...)
			}
		}
	}
	return string(out)
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

// TestVerifyLinkedInfoPlist checks that Verify binds a loose binary's
// linked-in Info.plist (__TEXT,__info_plist) to special slot 1, as
// codesign does: a signature hashing anything else there fails.
func TestVerifyLinkedInfoPlist(t *testing.T) {
	files := ipaFiles(t, "apple/simplesaucy-2015-dev-swift.ipa")
	in := files["Payload/SimpleSaucyApp.app/Frameworks/libswiftCore.dylib"]
	if in == nil {
		t.Fatal("libswiftCore.dylib missing from the corpus IPA")
	}
	sig, err := macho.ReadSignature(bytes.NewReader(in), int64(len(in)))
	if err != nil {
		t.Fatal(err)
	}
	if len(sig.Slices[0].InfoPlist) == 0 {
		t.Fatal("no linked-in Info.plist read")
	}
	good, _ := signBytes(t, in, macho.SignOptions{Identifier: "com.apple.dt.runtime.swiftCore"})
	verifyBytes(t, good, macho.VerifyOptions{})
	bad, _ := signBytes(t, in, macho.SignOptions{Identifier: "com.apple.dt.runtime.swiftCore", InfoPlist: []byte("other")})
	_, err = macho.Verify(context.Background(), bytes.NewReader(bad), int64(len(bad)), macho.VerifyOptions{})
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("linked into the binary")) {
		t.Errorf("verifying a signature that does not bind the linked-in Info.plist: %v", err)
	}
}

// TestDefaultIdentifier checks the identifier codesign gives loose
// binaries, against the ones it gave in the corpus apps.
func TestDefaultIdentifier(t *testing.T) {
	for _, tc := range []struct{ ipa, name string }{
		{"apple/deviceagent-2023-dev-sha256.ipa", "Payload/DeviceAgent-Runner.app/Frameworks/libXCTestSwiftSupport.dylib"},
		{"apple/simplesaucy-2015-dev-swift.ipa", "Payload/SimpleSaucyApp.app/Frameworks/libswiftCore.dylib"},
		{"apple/simplesaucy-2015-dev-swift.ipa", "Payload/SimpleSaucyApp.app/Frameworks/libswiftUIKit.dylib"},
	} {
		in := ipaFiles(t, tc.ipa)[tc.name]
		sig, err := macho.ReadSignature(bytes.NewReader(in), int64(len(in)))
		if err != nil {
			t.Fatal(err)
		}
		got, err := macho.DefaultIdentifier(bytes.NewReader(in), int64(len(in)), tc.name)
		if err != nil || got != sig.Slices[0].Identifier {
			t.Errorf("%s: %q, %v; codesign gave %q", tc.name, got, err, sig.Slices[0].Identifier)
		}
	}
}

// TestEntitlements reads the entitlements of the first slice alone, as
// ReadSignature reads them, from Apple-signed binaries thin and fat.
func TestEntitlements(t *testing.T) {
	files := ipaFiles(t, "apple/deviceagent-2023-dev-sha256.ipa")
	for _, name := range []string{
		"Payload/DeviceAgent-Runner.app/DeviceAgent-Runner",
		"Payload/DeviceAgent-Runner.app/PlugIns/DeviceAgent.xctest/DeviceAgent",
		"Payload/DeviceAgent-Runner.app/Frameworks/XCTest.framework/XCTest",
	} {
		in := files[name]
		sig, err := macho.ReadSignature(bytes.NewReader(in), int64(len(in)))
		if err != nil {
			t.Fatal(err)
		}
		got, err := macho.Entitlements(bytes.NewReader(in), int64(len(in)))
		if err != nil || !bytes.Equal(got, sig.Slices[0].Entitlements) {
			t.Errorf("%s: %q, %v; the signature holds %q", name, got, err, sig.Slices[0].Entitlements)
		}
	}
	if got, err := macho.Entitlements(bytes.NewReader(signingtest.IOSMachO(t, "arm64", "15.0")), int64(len(signingtest.IOSMachO(t, "arm64", "15.0")))); got != nil || err != nil {
		t.Errorf("unsigned binary: %q, %v", got, err)
	}
}
