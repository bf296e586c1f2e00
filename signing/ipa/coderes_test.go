package ipa

import (
	"crypto/sha1"
	"crypto/sha256"
	"reflect"
	"slices"
	"strings"
	"testing"

	"howett.net/plist"

	"github.com/storesign/storesign/internal/plistx"
)

// TestCodeResourcesFormat pins the layout codesign writes for a SHA-1 and
// SHA-256 signature: keys sorted, tabs, <data> on three lines, optional
// lproj files, symlinks in files2 only, omitted files absent from files2,
// and Xcode's iOS rule sets.
func TestCodeResourcesFormat(t *testing.T) {
	sum := func(s string) fileSum {
		a, b := sha1.Sum([]byte(s)), sha256.Sum256([]byte(s))
		return fileSum{a[:], b[:]}
	}
	got := string(buildCodeResources([]resource{
		{rel: "b.txt", sum: sum("b")},
		{rel: "Info.plist", sum: sum("i")},
		{rel: "en.lproj/L.strings", sum: sum("l")},
		{rel: "link", symlink: true, target: "b.txt"},
	}, sealSHA1|sealSHA256))
	want := `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>files</key>
	<dict>
		<key>Info.plist</key>
		<data>
		BC3EUS+j05HFFwzzqmHmpjj4Q0I=
		</data>
		<key>b.txt</key>
		<data>
		6dcfXufJLW3J6S/9rRe4vUlBj5g=
		</data>
		<key>en.lproj/L.strings</key>
		<dict>
			<key>hash</key>
			<data>
			B8NCvm5WDn9DhC4uIbd05h2F8Ec=
			</data>
			<key>optional</key>
			<true/>
		</dict>
	</dict>
	<key>files2</key>
	<dict>
		<key>b.txt</key>
		<dict>
			<key>hash</key>
			<data>
			6dcfXufJLW3J6S/9rRe4vUlBj5g=
			</data>
			<key>hash2</key>
			<data>
			PiPoFgA5WUoziU9lZOGxNIu9egCI1CxKy3PurtWcAJ0=
			</data>
		</dict>
		<key>en.lproj/L.strings</key>
		<dict>
			<key>hash</key>
			<data>
			B8NCvm5WDn9DhC4uIbd05h2F8Ec=
			</data>
			<key>hash2</key>
			<data>
			rKyGwOYJypBvYysOLazMsrd9IrBiHyDr7OGkg1uT9vA=
			</data>
			<key>optional</key>
			<true/>
		</dict>
		<key>link</key>
		<dict>
			<key>symlink</key>
			<string>b.txt</string>
		</dict>
	</dict>
	<key>rules</key>
	<dict>
		<key>^.*</key>
		<true/>
		<key>^.*\.lproj/</key>
		<dict>
			<key>optional</key>
			<true/>
			<key>weight</key>
			<real>1000</real>
		</dict>
		<key>^.*\.lproj/locversion.plist$</key>
		<dict>
			<key>omit</key>
			<true/>
			<key>weight</key>
			<real>1100</real>
		</dict>
		<key>^Base\.lproj/</key>
		<dict>
			<key>weight</key>
			<real>1010</real>
		</dict>
		<key>^version.plist$</key>
		<true/>
	</dict>
	<key>rules2</key>
	<dict>
		<key>.*\.dSYM($|/)</key>
		<dict>
			<key>weight</key>
			<real>11</real>
		</dict>
		<key>^(.*/)?\.DS_Store$</key>
		<dict>
			<key>omit</key>
			<true/>
			<key>weight</key>
			<real>2000</real>
		</dict>
		<key>^.*</key>
		<true/>
		<key>^.*\.lproj/</key>
		<dict>
			<key>optional</key>
			<true/>
			<key>weight</key>
			<real>1000</real>
		</dict>
		<key>^.*\.lproj/locversion.plist$</key>
		<dict>
			<key>omit</key>
			<true/>
			<key>weight</key>
			<real>1100</real>
		</dict>
		<key>^Base\.lproj/</key>
		<dict>
			<key>weight</key>
			<real>1010</real>
		</dict>
		<key>^Info\.plist$</key>
		<dict>
			<key>omit</key>
			<true/>
			<key>weight</key>
			<real>20</real>
		</dict>
		<key>^PkgInfo$</key>
		<dict>
			<key>omit</key>
			<true/>
			<key>weight</key>
			<real>20</real>
		</dict>
		<key>^embedded\.provisionprofile$</key>
		<dict>
			<key>weight</key>
			<real>20</real>
		</dict>
		<key>^version\.plist$</key>
		<dict>
			<key>weight</key>
			<real>20</real>
		</dict>
	</dict>
</dict>
</plist>
`
	if got != want {
		gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
		for i := range min(len(gl), len(wl)) {
			if gl[i] != wl[i] {
				t.Fatalf("line %d:\n got %q\nwant %q", i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("got %d lines, want %d", len(gl), len(wl))
	}
}

// TestCodeResourcesHashTypes checks files2 against the signature's hash
// types, as the corpus shows codesign writes them: SHA-256 only
// (deviceagent, 2023) gives {hash2}; SHA-1 and SHA-256 (permissions, 2020)
// {hash, hash2}; SHA-1 only (simplesaucy, 2015) bare <data>, or {hash,
// optional}. "files" always holds SHA-1 digests.
func TestCodeResourcesHashTypes(t *testing.T) {
	s1, s2 := sha1.Sum([]byte("x")), sha256.Sum256([]byte("x"))
	sum := fileSum{s1[:], s2[:]}
	res := []resource{
		{rel: "a.png", sum: sum},
		{rel: "en.lproj/A.strings", sum: sum},
		{rel: "Frameworks/X.framework", nested: &nestedSeal{cdhash: s1[:], requirement: "cdhash H\"00\""}},
	}
	for _, tc := range []struct {
		name   string
		hashes sealHashes
		a      any
		lproj  map[string]any
	}{
		{"sha256", sealSHA256, map[string]any{"hash2": s2[:]}, map[string]any{"hash2": s2[:], "optional": true}},
		{"default", 0, map[string]any{"hash2": s2[:]}, map[string]any{"hash2": s2[:], "optional": true}},
		{"sha1+sha256", sealSHA1 | sealSHA256, map[string]any{"hash": s1[:], "hash2": s2[:]}, map[string]any{"hash": s1[:], "hash2": s2[:], "optional": true}},
		{"sha1", sealSHA1, s1[:], map[string]any{"hash": s1[:], "optional": true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := buildCodeResources(slices.Clone(res), tc.hashes)
			var cr codeResources
			if _, err := plist.Unmarshal(out, &cr); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(cr.Files2["a.png"], tc.a) {
				t.Errorf("a.png: %#v, want %#v", cr.Files2["a.png"], tc.a)
			}
			if !reflect.DeepEqual(cr.Files2["en.lproj/A.strings"], tc.lproj) {
				t.Errorf("lproj: %#v, want %#v", cr.Files2["en.lproj/A.strings"], tc.lproj)
			}
			want := map[string]any{"cdhash": s1[:], "requirement": "cdhash H\"00\""}
			if !reflect.DeepEqual(cr.Files2["Frameworks/X.framework"], want) {
				t.Errorf("nested: %#v", cr.Files2["Frameworks/X.framework"])
			}
			if !reflect.DeepEqual(cr.Files["a.png"], s1[:]) {
				t.Errorf("files: %#v", cr.Files["a.png"])
			}
			if _, ok := cr.Files["Frameworks/X.framework"]; ok {
				t.Error("nested code in files (v1)")
			}
			if !plistx.Canonical(out) {
				t.Error("not in CF's layout")
			}
		})
	}
}

func TestSealHashesOf(t *testing.T) {
	if sealHashesOf([]string{"sha1", "sha256"}) != sealSHA1|sealSHA256 || sealHashesOf([]string{"sha256"}) != sealSHA256 ||
		sealHashesOf([]string{"sha1"}) != sealSHA1 || sealHashesOf(nil) != sealSHA256 {
		t.Error("sealHashesOf")
	}
}

// TestCodeResourcesInvalidUTF8 checks that a name or symlink target that
// is not UTF-8 (which no Mac file system holds) is written, not a panic.
func TestCodeResourcesInvalidUTF8(t *testing.T) {
	s1, s2 := sha1.Sum(nil), sha256.Sum256(nil)
	out := buildCodeResources([]resource{
		{rel: "caf\xe9.txt", sum: fileSum{s1[:], s2[:]}},
		{rel: "link", symlink: true, target: "\xff"},
	}, sealSHA256)
	var cr codeResources
	if _, err := plist.Unmarshal(out, &cr); err != nil {
		t.Fatal(err)
	}
	if _, ok := cr.Files2["caf\uFFFD.txt"]; !ok {
		t.Errorf("files2: %v", cr.Files2)
	}
}
