package jar

import (
	"bytes"
	"crypto"
	"strings"
	"testing"
)

func TestMarshalWrapsAt72Bytes(t *testing.T) {
	long := "base/assets/" + strings.Repeat("a", 100) + "/very_long_name_to_force_wrapping_of_the_manifest_line_beyond_seventy_two.txt"
	m := &Manifest{
		Main: Attributes{{"Created-By", "17.0.15 (Debian)"}, {"Manifest-Version", "1.0"}},
		Sections: []*Section{
			{Name: "classes.dex", Attrs: Attributes{{"SHA-256-Digest", "mOpuTyFvL7S2n/+bOkSELDhobKaF8/VdxIxdP7EQe+Q="}}},
			{Name: long, Attrs: Attributes{{"SHA-256-Digest", "LXEWQrcmsEQBYnyp+6wy9chTD7GQPMTbAiWHF5IaSIE="}}},
		},
	}
	want := "Manifest-Version: 1.0\r\n" +
		"Created-By: 17.0.15 (Debian)\r\n" +
		"\r\n" +
		"Name: classes.dex\r\n" +
		"SHA-256-Digest: mOpuTyFvL7S2n/+bOkSELDhobKaF8/VdxIxdP7EQe+Q=\r\n" +
		"\r\n" +
		"Name: base/assets/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n" +
		" aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/very_long_name_to_force_\r\n" +
		" wrapping_of_the_manifest_line_beyond_seventy_two.txt\r\n" +
		"SHA-256-Digest: LXEWQrcmsEQBYnyp+6wy9chTD7GQPMTbAiWHF5IaSIE=\r\n" +
		"\r\n"
	got := string(m.Marshal())
	if got != want {
		t.Fatalf("Marshal:\n%q\nwant\n%q", got, want)
	}
	for _, line := range strings.Split(got, "\r\n") {
		if len(line) > 72 {
			t.Errorf("line of %d bytes: %q", len(line), line)
		}
	}
	back, err := ParseManifest([]byte(got))
	if err != nil {
		t.Fatal(err)
	}
	if back.Sections[1].Name != long {
		t.Errorf("round trip name = %q", back.Sections[1].Name)
	}
	if !bytes.Equal(back.Sections[1].Raw, MarshalSection(m.Sections[1])) {
		t.Errorf("raw section %q", back.Sections[1].Raw)
	}
	if string(back.MainRaw) != "Manifest-Version: 1.0\r\nCreated-By: 17.0.15 (Debian)\r\n\r\n" {
		t.Errorf("MainRaw %q", back.MainRaw)
	}
}

func TestWriteLineSplitsMultibyte(t *testing.T) {
	// Java 11+ splits at byte 72 even inside a UTF-8 sequence.
	line := "Name: " + strings.Repeat("é", 40)
	var b bytes.Buffer
	writeLine(&b, line)
	first, _, _ := strings.Cut(b.String(), "\r\n")
	if len(first) != 72 {
		t.Fatalf("first line %d bytes", len(first))
	}
	m, err := ParseManifest([]byte("M: 1\r\n\r\n" + b.String() + "\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Sections[0].Name != strings.Repeat("é", 40) {
		t.Errorf("name %q", m.Sections[0].Name)
	}
}

func TestParseManifest(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		main     Attributes
		sections []string // name=raw
		err      string
	}{
		{
			name:     "crlf",
			in:       "Manifest-Version: 1.0\r\n\r\nName: a\r\nX: 1\r\n\r\nName: b\r\nX: 2\r\n\r\n",
			main:     Attributes{{"Manifest-Version", "1.0"}},
			sections: []string{"a=Name: a\r\nX: 1\r\n\r\n", "b=Name: b\r\nX: 2\r\n\r\n"},
		},
		{
			name:     "lf and continuation",
			in:       "Manifest-Version: 1.0\nCreated-By: a\n b\n\nName: lo\n ng\nX: 1\n",
			main:     Attributes{{"Manifest-Version", "1.0"}, {"Created-By", "ab"}},
			sections: []string{"long=Name: lo\n ng\nX: 1\n"},
		},
		{
			name:     "cr only, extra blank lines",
			in:       "Manifest-Version: 1.0\r\r\rName: a\rX: 1\r\r\r",
			main:     Attributes{{"Manifest-Version", "1.0"}},
			sections: []string{"a=Name: a\rX: 1\r\r"},
		},
		{
			name: "main only without final newline",
			in:   "Manifest-Version: 1.0",
			main: Attributes{{"Manifest-Version", "1.0"}},
		},
		{name: "empty", in: ""},
		{name: "no colon", in: "Manifest-Version 1.0\r\n", err: "invalid header"},
		{name: "bad name", in: "Mani fest: 1.0\r\n", err: "invalid header"},
		{name: "leading continuation", in: " x\r\n", err: "continuation"},
		{name: "section without name", in: "A: 1\r\n\r\nX: 1\r\n", err: "does not start with a Name"},
		{name: "empty name", in: "A: 1\r\n\r\nName: \r\n", err: "empty Name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseManifest([]byte(tt.in))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Main) != len(tt.main) {
				t.Fatalf("main = %v, want %v", m.Main, tt.main)
			}
			for i := range m.Main {
				if m.Main[i] != tt.main[i] {
					t.Errorf("main[%d] = %v, want %v", i, m.Main[i], tt.main[i])
				}
			}
			var got []string
			for _, s := range m.Sections {
				got = append(got, s.Name+"="+string(s.Raw))
			}
			if strings.Join(got, "|") != strings.Join(tt.sections, "|") {
				t.Errorf("sections = %q, want %q", got, tt.sections)
			}
		})
	}
}

func TestAttributes(t *testing.T) {
	var a Attributes
	a.Set("SHA-256-Digest", "x")
	a.Set("sha-256-digest", "y")
	a.Set("Other", "z")
	if v, _ := a.Get("SHA-256-DIGEST"); v != "y" || len(a) != 2 {
		t.Fatalf("a = %v", a)
	}
	a.Delete(func(at Attribute) bool { return strings.HasSuffix(at.Name, "-Digest") })
	if _, ok := a.Get("SHA-256-Digest"); ok || len(a) != 1 {
		t.Fatalf("after delete a = %v", a)
	}
}

func TestSignerName(t *testing.T) {
	for in, want := range map[string]string{
		"upload":            "UPLOAD",
		"my-upload-key":     "MY-UPLOA",
		"key.alias":         "KEY_ALIA",
		"über":              "_BER",
		"android_debug_key": "ANDROID_",
		"":                  "",
	} {
		if got := SignerName(in); got != want {
			t.Errorf("SignerName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIsSignatureFile(t *testing.T) {
	for name, want := range map[string]bool{
		"META-INF/MANIFEST.MF":  true,
		"meta-inf/manifest.mf":  true,
		"META-INF/CERT.SF":      true,
		"META-INF/CERT.RSA":     true,
		"META-INF/X.EC":         true,
		"META-INF/X.DSA":        true,
		"META-INF/SIG-X.Y":      true,
		"META-INF/a/CERT.SF":    false,
		"META-INF/services/x":   false,
		"base/META-INF/CERT.SF": false,
		"BundleConfig.pb":       false,
	} {
		if got := IsSignatureFile(name); got != want {
			t.Errorf("IsSignatureFile(%q) = %v", name, got)
		}
	}
}

func TestBuildSignatureFile(t *testing.T) {
	mf := []byte("Manifest-Version: 1.0\r\nCreated-By: x\r\n\r\nName: a\r\nSHA-256-Digest: AAAA\r\n\r\n")
	sf, err := BuildSignatureFile(mf, SignatureFileOptions{
		Main:                 Attributes{{"Created-By", "1.0 (Android)"}, {"X-Android-APK-Signed", "2, 3"}},
		MainAttributesDigest: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	m, err := ParseManifest(sf)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range m.Main {
		names = append(names, a.Name)
	}
	if got := strings.Join(names, ","); got != "Signature-Version,Created-By,X-Android-APK-Signed,SHA-256-Digest-Manifest,SHA-256-Digest-Manifest-Main-Attributes" {
		t.Errorf("main attributes %s", got)
	}
	if v, _ := m.Main.Get("SHA-256-Digest-Manifest"); v != Digest(crypto.SHA256, mf) {
		t.Errorf("manifest digest %s", v)
	}
	if v, _ := m.Main.Get("SHA-256-Digest-Manifest-Main-Attributes"); v != Digest(crypto.SHA256, mf[:40]) {
		t.Errorf("main attributes digest %s", v)
	}
	if v, _ := m.Sections[0].Attrs.Get("SHA-256-Digest"); v != Digest(crypto.SHA256, mf[40:]) {
		t.Errorf("section digest %s", v)
	}
}

func FuzzParseManifest(f *testing.F) {
	f.Add([]byte("Manifest-Version: 1.0\r\nCreated-By: 17\r\n\r\nName: a\r\nSHA-256-Digest: AAAA\r\n\r\n"))
	f.Add([]byte("Manifest-Version: 1.0\nX: a\n b\n\n\nName: x\n y\n"))
	f.Add([]byte("Signature-Version: 1.0\rA: b\r\rName: c\r"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseManifest(data)
		if err != nil {
			return
		}
		// Raw sections are slices of the input, in order.
		for _, s := range m.Sections {
			if !bytes.Contains(data, s.Raw) {
				t.Fatalf("raw section not in input")
			}
		}
		// Marshal is a fixed point after one round.
		out := m.Marshal()
		m2, err := ParseManifest(out)
		if err != nil {
			t.Fatalf("reparsing %q: %v", out, err)
		}
		if out2 := m2.Marshal(); !bytes.Equal(out, out2) {
			t.Fatalf("round trip differs:\n%q\n%q", out, out2)
		}
		if len(m2.Sections) != len(m.Sections) {
			t.Fatalf("sections %d != %d", len(m2.Sections), len(m.Sections))
		}
	})
}
