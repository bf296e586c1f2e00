package plistx

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"howett.net/plist"

	"github.com/storesign/storesign/internal/testenv"
)

// corpusPlist is one plist found in a corpus IPA.
type corpusPlist struct {
	name string // ipa:entry, or ipa:entry#entitlements
	data []byte
}

// corpusPlists returns every plist of the corpus IPAs: *.plist files,
// _CodeSignature/CodeResources and the XML entitlements blobs embedded in
// the code signatures.
func corpusPlists(t *testing.T) []corpusPlist {
	t.Helper()
	var ipas []string
	for _, dir := range []string{"ios", "ios/apple"} {
		m, err := filepath.Glob(filepath.Join(testenv.Corpus(t, dir), "*.ipa"))
		if err != nil {
			t.Fatal(err)
		}
		ipas = append(ipas, m...)
	}
	sort.Strings(ipas)
	var out []corpusPlist
	for _, p := range ipas {
		zr, err := zip.OpenReader(p)
		if err != nil {
			continue // NotAnApp.ipa and the like
		}
		base := filepath.Base(p)
		for _, f := range zr.File {
			if f.FileInfo().IsDir() || f.Mode()&0o170000 == 0o120000 {
				continue
			}
			isPlist := strings.HasSuffix(f.Name, ".plist") || strings.HasSuffix(f.Name, "_CodeSignature/CodeResources")
			if !isPlist && f.UncompressedSize64 < 4096 {
				continue
			}
			b := testenv.ZipFile(t, f)
			if isPlist {
				out = append(out, corpusPlist{base + ":" + f.Name, b})
				continue
			}
			for i, e := range entitlementBlobs(b) {
				suffix := "#entitlements"
				if i > 0 {
					suffix += "-" + string(rune('0'+i))
				}
				out = append(out, corpusPlist{base + ":" + f.Name + suffix, e})
			}
		}
		zr.Close()
	}
	return out
}

// entitlementBlobs finds the payloads of the XML entitlements blobs
// (magic 0xfade7171) in a Mach-O file, one per architecture.
func entitlementBlobs(b []byte) [][]byte {
	magic := []byte{0xfa, 0xde, 0x71, 0x71}
	var out [][]byte
	for off := 0; ; {
		i := bytes.Index(b[off:], magic)
		if i < 0 {
			return out
		}
		at := off + i
		off = at + 4
		if at+8 > len(b) {
			return out
		}
		n := int(binary.BigEndian.Uint32(b[at+4:]))
		if n < 8 || at+n > len(b) || !bytes.HasPrefix(b[at+8:at+n], []byte("<?xml")) {
			continue
		}
		out = append(out, b[at+8:at+n])
	}
}

// notCanonical lists the corpus plists that Apple's current writers did
// not write, by the end of their entry name, and why. Every other plist
// of the corpus must re-encode to its own bytes.
var notCanonical = []struct{ suffix, why string }{
	// dsymutil writes its Info.plist from a template: the old "Apple
	// Computer" DOCTYPE, the dict indented one level.
	{".dSYM/Contents/Info.plist", "dsymutil template"},
	// Apple's own frameworks (XCTest and friends, built by Apple, 2023),
	// Xcode 6/7 (2015, 2016) and ibtool (storyboardc, every year) write
	// binary plists through CFPropertyListWrite: keys in CFDictionary's
	// hash order and only identical objects shared (equal strings from
	// different objects are written twice). Neither can be recovered from
	// the values.
	{".framework/Info.plist", "Apple-built framework: CF hash order"},
	{".storyboardc/Info.plist", "ibtool: CF hash order"},
	{"simplesaucy-2015-dev-swift.ipa:Payload/SimpleSaucyApp.app/Info.plist", "Xcode 6.3: CF hash order"},
	{"Payload/Test.app/Info.plist", "Xcode 7 (2016): CF hash order"},
	{"Payload/isignTestApp.app/Info.plist", "Xcode 7 (2016): CF hash order"},
}

// canonicalFrameworks are frameworks built by the app's developer with
// Xcode 13+, whose Info.plists are canonical although they match the
// ".framework/Info.plist" pattern above.
var canonicalFrameworks = []string{"CocoaLumberjack.framework/Info.plist"}

// TestCorpus re-encodes every plist of the corpus IPAs in its own format
// and compares bytes: XML written by codesign and Xcode (CodeResources,
// entitlements, XML Info.plists, version.plist) and the binary Info.plists
// of current Xcode must come out identical. The others (notCanonical)
// must at least keep their values.
func TestCorpus(t *testing.T) {
	ps := corpusPlists(t)
	if len(ps) < 40 {
		t.Fatalf("found %d plists in the corpus, want at least 40", len(ps))
	}
	var exact, binaryExact int
	for _, p := range ps {
		t.Run(p.name, func(t *testing.T) {
			var v any
			f, err := plist.Unmarshal(p.data, &v)
			if err != nil {
				t.Fatal(err)
			}
			want := Binary
			if f == plist.XMLFormat {
				want = XML
			}
			if got := FormatOf(p.data); got != want {
				t.Fatalf("FormatOf = %v, want %v", got, want)
			}
			out, err := Marshal(v, want)
			if err != nil {
				t.Fatal(err)
			}
			why := expectedDifference(p.name)
			same := bytes.Equal(out, p.data)
			if same != Canonical(p.data) {
				t.Errorf("Canonical = %v, bytes equal = %v", !same, same)
			}
			switch {
			case same && why != "":
				t.Errorf("re-encodes exactly, but listed as not canonical (%s)", why)
			case !same && why == "":
				t.Errorf("re-encoded bytes differ at byte %d of %d (got %d bytes)", firstDiff(out, p.data), len(p.data), len(out))
			case same:
				exact++
				if want == Binary {
					binaryExact++
				}
			}
			var back any
			if _, err := plist.Unmarshal(out, &back); err != nil {
				t.Fatalf("our encoding does not parse: %v", err)
			}
			if !equalValues(v, back) {
				t.Errorf("values differ after re-encoding")
			}
		})
	}
	t.Logf("%d of %d plists re-encoded byte for byte (%d binary)", exact, len(ps), binaryExact)
	if binaryExact < 2 {
		t.Errorf("%d binary plists re-encoded exactly, want 2 (Permissions.app and CocoaLumberjack Info.plists)", binaryExact)
	}
}

func expectedDifference(name string) string {
	for _, c := range canonicalFrameworks {
		if strings.HasSuffix(name, c) {
			return ""
		}
	}
	for _, n := range notCanonical {
		if strings.HasSuffix(name, n.suffix) {
			return n.why
		}
	}
	return ""
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
