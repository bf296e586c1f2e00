package ipa

import (
	"crypto/sha1"
	"crypto/sha256"
	"strings"
	"testing"
)

// TestCodeResourcesFormat pins the layout codesign writes: keys sorted,
// tabs, <data> on three lines, optional lproj files, symlinks in files2
// only, omitted files absent from files2, and Xcode's iOS rule sets.
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
	}))
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
