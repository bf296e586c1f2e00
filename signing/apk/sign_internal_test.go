package apk

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
)

func TestSigningBlockRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 100, 4000, 4084, 4085, 9000} {
		pairs := []idValue{{blockIDSchemeV2, bytes.Repeat([]byte{1}, n)}, {blockIDSchemeV3, []byte("v3")}}
		block := buildSigningBlock(pairs)
		if len(block)%pageAlignment != 0 {
			t.Errorf("n=%d: block of %d bytes, not a multiple of 4096", n, len(block))
		}
		file := append(append([]byte("entries"), block...), "PK\x01\x02"...)
		start, ok := findSigningBlock(bytes.NewReader(file), int64(7+len(block)))
		if !ok || start != 7 {
			t.Errorf("n=%d: found at %d, %t", n, start, ok)
		}
		// Walk the pairs: ours, then the padding entry.
		p := block[8 : len(block)-24]
		var ids []uint32
		for len(p) > 0 {
			l := binary.LittleEndian.Uint64(p)
			ids = append(ids, binary.LittleEndian.Uint32(p[8:]))
			p = p[8+l:]
		}
		if len(ids) < 2 || ids[0] != blockIDSchemeV2 || ids[1] != blockIDSchemeV3 {
			t.Errorf("n=%d: pairs %x", n, ids)
		}
	}
}

func TestDigestNeeded(t *testing.T) {
	for name, want := range map[string]bool{
		"classes.dex":            true,
		"res/":                   false,
		"META-INF/MANIFEST.MF":   false,
		"META-INF/CERT.SF":       false,
		"META-INF/cert.rsa":      false,
		"META-INF/X.EC":          false,
		"META-INF/x.dsa":         false,
		"META-INF/SIG-foo":       false,
		"META-INF/services/a.b":  true,
		"META-INF/com/android/x": true,
		"META-INF/proguard.txt":  true,
		"meta-inf/manifest.mf":   true, // case-sensitive prefix, as apksig
	} {
		if got := digestNeeded(name); got != want {
			t.Errorf("digestNeeded(%q) = %t", name, got)
		}
	}
}

func TestWriteAttrWrapsAt70(t *testing.T) {
	var b bytes.Buffer
	writeAttr(&b, "Name", strings.Repeat("x", 150))
	lines := strings.Split(strings.TrimSuffix(b.String(), "\r\n"), "\r\n")
	if len(lines) != 3 || len(lines[0]) != 70 || len(lines[1]) != 70 || lines[1][0] != ' ' {
		t.Errorf("lines %q", lines)
	}
}

func TestJavaSort(t *testing.T) {
	s := []string{"b", "\uffff", "\U0001F600", "a", "B"}
	javaSort(s)
	// UTF-16 order puts the surrogate pair (D83D...) before U+FFFF.
	want := []string{"B", "a", "b", "\U0001F600", "\uffff"}
	if strings.Join(s, ",") != strings.Join(want, ",") {
		t.Errorf("got %q, want %q", s, want)
	}
}

// FuzzApkSigningBlockFinder checks that the finder of an input's APK
// Signing Block never panics nor returns a block outside the file.
func FuzzApkSigningBlockFinder(f *testing.F) {
	f.Add(append([]byte("xxxx"), buildSigningBlock([]idValue{{1, []byte("a")}})...), int64(4+4096))
	f.Add([]byte("short"), int64(5))
	f.Fuzz(func(t *testing.T, b []byte, cd int64) {
		if cd < 0 || cd > int64(len(b)) {
			return
		}
		start, ok := findSigningBlock(bytes.NewReader(b), cd)
		if ok && (start < 0 || start+32 > cd) {
			t.Fatalf("block at %d before directory at %d", start, cd)
		}
	})
}
