package ipa

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"strings"
	"testing"
	"unicode/utf8"

	"howett.net/plist"

	"github.com/storesign/storesign/signing/signingtest"
)

// FuzzScan feeds arbitrary archives to the scanner and to Inspect: no
// panic, and an error or a well-formed bundle tree.
func FuzzScan(f *testing.F) {
	f.Add(signingtest.IPA(signingtest.IPAOptions{Minimal: true}))
	f.Add(absurdZip())
	f.Add([]byte("PK\x05\x06" + strings.Repeat("\x00", 18)))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := scan(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		if a.app == nil || len(a.bundles) == 0 || a.bundles[len(a.bundles)-1] != a.app {
			t.Fatal("scan succeeded without the app last")
		}
		for _, b := range a.bundles {
			if b.exeEntry == nil || b.infoEntry == nil {
				t.Fatalf("%s: no executable or Info.plist", b.dir)
			}
		}
		Inspect(context.Background(), bytes.NewReader(data), int64(len(data)), VerifyOptions{})
	})
}

// FuzzCodeResources round-trips file names and symlink targets through
// the CodeResources writer and parser, and parses arbitrary plists.
func FuzzCodeResources(f *testing.F) {
	f.Add("en.lproj/Localizable.strings", "", []byte(nil))
	f.Add("data/link", "target.json", []byte(nil))
	f.Add("a&b<c>\"d'.txt", "", []byte("<plist><dict><key>files2</key><dict><key>a</key><data>AA==</data></dict></dict></plist>"))
	f.Fuzz(func(t *testing.T, name, target string, raw []byte) {
		var cr codeResources
		if _, err := plist.Unmarshal(raw, &cr); err == nil {
			for _, v := range cr.Files2 {
				files2Entry(v)
			}
		}
		if !validName(name) || strings.ContainsAny(target, "\x00\r") || !utf8.ValidString(target) || !validXML(target) {
			return
		}
		content := []byte(name)
		s1, s2 := sha1.Sum(content), sha256.Sum256(content)
		res := resource{rel: name, sum: fileSum{s1[:], s2[:]}, symlink: target != "", target: target}
		out := buildCodeResources([]resource{res}, sealSHA1|sealSHA256)
		var got codeResources
		if _, err := plist.Unmarshal(out, &got); err != nil {
			t.Fatalf("our CodeResources does not parse: %v\n%s", err, out)
		}
		m, ok := match(iosRules2(), name)
		if !ok || m.omit {
			return
		}
		v, ok := got.Files2[name]
		if !ok {
			t.Fatalf("%q not in files2", name)
		}
		h1, h2, tgt, _, err := files2Entry(v)
		if err != nil {
			t.Fatal(err)
		}
		if target != "" {
			if tgt != target {
				t.Fatalf("symlink %q, want %q", tgt, target)
			}
		} else if !bytes.Equal(h1, s1[:]) || !bytes.Equal(h2, s2[:]) {
			t.Fatal("hashes do not round-trip")
		}
	})
}

func validName(name string) bool {
	return name != "" && utf8.ValidString(name) && validXML(name) && checkName(name) == nil && !strings.ContainsAny(name, "\r")
}

// validXML reports whether s has only characters XML 1.0 allows.
func validXML(s string) bool {
	for _, r := range s {
		if r < 0x20 && r != '\t' && r != '\n' || r == 0xfffe || r == 0xffff || r == utf8.RuneError {
			return false
		}
	}
	return true
}

// FuzzInfoPlist re-signs a minimal app whose Info.plist is arbitrary:
// no panic; when it signs, the edited Info.plist keeps its form and the
// result verifies.
func FuzzInfoPlist(f *testing.F) {
	fx := newFixture(f)
	for _, fl := range signingtest.IPAFiles(signingtest.IPAOptions{}) {
		if strings.HasSuffix(fl.Name, "/Info.plist") {
			f.Add(fl.Data)
		}
	}
	f.Fuzz(func(t *testing.T, info []byte) {
		in := corrupt(signingtest.IPAOptions{Minimal: true}, setFile("Payload/Example.app/Info.plist", info))
		opts := fx.opts()
		opts.BundleVersion = "7"
		var out bytes.Buffer
		if _, err := Resign(context.Background(), bytes.NewReader(in), int64(len(in)), &out, opts); err != nil {
			return
		}
		b := out.Bytes()
		if _, err := Verify(context.Background(), bytes.NewReader(b), int64(len(b)), fx.vopts()); err != nil {
			t.Fatalf("re-signed app does not verify: %v", err)
		}
		var m map[string]any
		wantFormat, _ := plist.Unmarshal(info, &m)
		got := readZip(t, zipFiles(t, b)["Payload/Example.app/Info.plist"])
		var m2 map[string]any
		format, err := plist.Unmarshal(got, &m2)
		if err != nil || format != wantFormat || m2["CFBundleVersion"] != "7" {
			t.Fatalf("Info.plist: format %d (want %d), err %v, version %v", format, wantFormat, err, m2["CFBundleVersion"])
		}
	})
}
