package ipa

import (
	"archive/zip"
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"io/fs"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"howett.net/plist"

	"github.com/storesign/storesign/internal/testenv"
	"github.com/storesign/storesign/signing/macho"
)

// TestCodeResourcesCorpus rebuilds every bundle's CodeResources of the
// corpus IPAs from the files in the archive, hashed as they are, with the
// hash types of the bundle executable's signature, and compares bytes with
// the original.
//
// CodeResources in the current format (the iOS rule sets codesign writes
// since Xcode 7: deviceagent 2023, permissions 2020) are rebuilt with our
// own rule sets and must match byte for byte.
//
// The older ones (simplesaucy 2015, isign 2016: Xcode 6 and 7.0) use an
// older rule set ("^" of weight 20 instead of "^.*", "nested" rules for
// Frameworks/ and top-level files, no dSYM or DS_Store rules) and SHA-1
// only, from before codesign wrote SHA-256. Resign upgrades them to the
// current rules and hash types; here they are rebuilt with their own
// rules (read from the file) and their own hash type, and then must match
// byte for byte too: the layout, the files sealed, optional lproj
// entries, the bare <data> of SHA-1-only files2 entries.
//
// isign-Test.ipa was changed after signing by isign's test suite: it lacks
// two files its CodeResources seals (Frameworks/libswiftCore.dylib and
// embedded.mobileprovision), whose digests are taken from the original,
// and has two it does not (isignTestAppTests/Info.plist and
// isignTestAppUITests/Info.plist), which are left out.
func TestCodeResourcesCorpus(t *testing.T) {
	var ipas []string
	for _, dir := range []string{"ios", "ios/apple"} {
		m, err := filepath.Glob(filepath.Join(testenv.Corpus(t, dir), "*.ipa"))
		if err != nil {
			t.Fatal(err)
		}
		ipas = append(ipas, m...)
	}
	missingOK := map[string]bool{"isign-Test.ipa": true}
	var exact, current int
	for _, p := range ipas {
		zr, err := zip.OpenReader(p)
		if err != nil {
			continue
		}
		defer zr.Close()
		byName := map[string]*zip.File{}
		for _, f := range zr.File {
			byName[f.Name] = f
		}
		for _, f := range zr.File {
			dir, ok := strings.CutSuffix(f.Name, "/_CodeSignature/CodeResources")
			if !ok {
				continue
			}
			name := filepath.Base(p) + ":" + dir
			t.Run(name, func(t *testing.T) {
				cur := testCorpusBundle(t, zr.File, byName, dir, missingOK[filepath.Base(p)])
				exact++
				if cur {
					current++
				}
			})
		}
	}
	t.Logf("%d CodeResources rebuilt byte for byte, %d of them in the current format", exact, current)
	if current < 10 {
		t.Errorf("%d current-format CodeResources matched, want 10 (deviceagent's 9, permissions')", current)
	}
}

// testCorpusBundle rebuilds dir's CodeResources and reports whether it is
// in the current format.
func testCorpusBundle(t *testing.T, files []*zip.File, byName map[string]*zip.File, dir string, fillMissing bool) bool {
	orig := testenv.ZipFile(t, byName[dir+"/_CodeSignature/CodeResources"])
	var cr codeResources
	if _, err := plist.Unmarshal(orig, &cr); err != nil {
		t.Fatal(err)
	}
	var info map[string]any
	if f := byName[dir+"/Info.plist"]; f != nil {
		if _, err := plist.Unmarshal(testenv.ZipFile(t, f), &info); err != nil {
			t.Fatal(err)
		}
	}
	exe, _ := info["CFBundleExecutable"].(string)
	if exe == "" || byName[dir+"/"+exe] == nil {
		t.Fatalf("no executable %q", exe)
	}
	exeData := testenv.ZipFile(t, byName[dir+"/"+exe])
	sig, err := macho.ReadSignature(bytes.NewReader(exeData), int64(len(exeData)))
	if err != nil {
		t.Fatal(err)
	}
	types := sig.Slices[0].HashTypes
	for _, s := range sig.Slices[1:] {
		if !slices.Equal(s.HashTypes, types) {
			t.Fatalf("slices with different hash types: %v, %v", types, s.HashTypes)
		}
	}
	hashes := sealHashesOf(types)

	rules1, err := parseRules(cr.Rules)
	if err != nil {
		t.Fatal(err)
	}
	rules2, err := parseRules(cr.Rules2)
	if err != nil {
		t.Fatal(err)
	}
	current := sameRules(rules1, iosRules()) && sameRules(rules2, iosRules2())
	if current {
		rules1, rules2 = iosRules(), iosRules2()
		// Our choice, made as codesign's from the executable's minimum
		// OS, must agree with the signature's.
		if got, err := macho.HashTypes(bytes.NewReader(exeData), int64(len(exeData))); err != nil || sealHashesOf(got) != hashes {
			t.Errorf("macho.HashTypes = %v, %v; the signature has %v", got, err, types)
		}
	}

	var res []resource
	seen := map[string]bool{}
	var nestedDirs []string
	for rel, v := range cr.Files2 {
		if d, ok := v.(map[string]any); ok && d["cdhash"] != nil {
			cd, _ := d["cdhash"].([]byte)
			req, _ := d["requirement"].(string)
			res = append(res, resource{rel: rel, nested: &nestedSeal{cdhash: cd, requirement: req}})
			nestedDirs = append(nestedDirs, rel+"/")
			seen[rel] = true
		}
	}
	for _, f := range files {
		rel, ok := strings.CutPrefix(f.Name, dir+"/")
		if !ok || strings.HasSuffix(f.Name, "/") || rel == exe || strings.HasPrefix(rel, "_CodeSignature/") {
			continue
		}
		if slices.ContainsFunc(nestedDirs, func(d string) bool { return strings.HasPrefix(rel, d) }) {
			continue
		}
		if _, sealed := cr.Files[rel]; fillMissing && !sealed && cr.Files2[rel] == nil {
			t.Logf("%s: added to the archive after signing, left out", rel)
			continue
		}
		data := testenv.ZipFile(t, f)
		if f.Mode()&fs.ModeSymlink != 0 {
			res = append(res, resource{rel: rel, symlink: true, target: string(data)})
		} else {
			s1, s2 := sha1.Sum(data), sha256.Sum256(data)
			res = append(res, resource{rel: rel, sum: fileSum{s1[:], s2[:]}})
		}
		seen[rel] = true
	}
	if fillMissing {
		for _, rel := range slices.Sorted(mapKeys(cr.Files, cr.Files2)) {
			if seen[rel] {
				continue
			}
			r := resource{rel: rel}
			r.sum.sha1 = digestOf(cr.Files[rel], "hash")
			if r.sum.sha1 == nil {
				r.sum.sha1 = digestOf(cr.Files2[rel], "hash")
			}
			r.sum.sha256 = digestOf(cr.Files2[rel], "hash2")
			t.Logf("%s: missing from the archive, digests taken from the original", rel)
			res = append(res, r)
		}
	}

	got := buildCodeResourcesWith(res, hashes, rules1, rules2)
	if !bytes.Equal(got, orig) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(orig), "\n")
		for i := range min(len(gl), len(wl)) {
			if gl[i] != wl[i] {
				t.Fatalf("line %d:\n got %q\nwant %q", i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("got %d lines, want %d", len(gl), len(wl))
	}

	// The reading side: Verify's parse of the rebuilt file gives the same
	// seals as the original's.
	var back codeResources
	if _, err := plist.Unmarshal(got, &back); err != nil {
		t.Fatal(err)
	}
	for rel, v := range cr.Files2 {
		h1, h2, link, opt, err := files2Entry(v)
		b1, b2, blink, bopt, berr := files2Entry(back.Files2[rel])
		if err != nil || berr != nil || !bytes.Equal(h1, b1) || !bytes.Equal(h2, b2) || link != blink || opt != bopt {
			t.Errorf("%s: files2Entry differs after rebuilding", rel)
		}
	}
	r2, err := parseRules(back.Rules2)
	if err != nil || !sameRules(r2, rules2) {
		t.Errorf("rules2 read back: %v", err)
	}
	return current
}

// sameRules compares rule sets, in any order.
func sameRules(a, b []rule) bool {
	key := func(rs []rule) []string {
		var out []string
		for _, r := range rs {
			r.re = nil
			out = append(out, strings.Join([]string{r.pattern, path.Join(boolStr(r.omit), boolStr(r.optional), boolStr(r.nested)), strconv.FormatFloat(r.weight, 'g', -1, 64)}, "|"))
		}
		slices.Sort(out)
		return out
	}
	return slices.Equal(key(a), key(b))
}

func boolStr(b bool) string {
	if b {
		return "t"
	}
	return "f"
}

func mapKeys(ms ...map[string]any) func(func(string) bool) {
	return func(yield func(string) bool) {
		done := map[string]bool{}
		for _, m := range ms {
			for k := range m {
				if done[k] {
					continue
				}
				done[k] = true
				if !yield(k) {
					return
				}
			}
		}
	}
}

// digestOf reads a files/files2 value: bare data, or a dict's key.
func digestOf(v any, key string) []byte {
	switch v := v.(type) {
	case []byte:
		if key == "hash" {
			return v
		}
	case map[string]any:
		b, _ := v[key].([]byte)
		return b
	}
	return nil
}
