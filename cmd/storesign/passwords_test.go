package main

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/storesign/storesign/signing"
)

func TestReadPasswordLine(t *testing.T) {
	tests := []struct {
		in    string
		lines []string // then EOF
	}{
		{"", nil},
		{"pw", []string{"pw"}},
		{"pw\n", []string{"pw"}},
		{"one\ntwo\n", []string{"one", "two"}},
		{"one\r\ntwo\r\n", []string{"one", "two"}},
		{"cr-at-end\r", []string{"cr-at-end"}},
		{"a\rb\n", []string{"a\rb"}}, // a lone CR is kept, as apksigner
		{"\nsecond", []string{"", "second"}},
	}
	for _, tc := range tests {
		r := bufio.NewReader(strings.NewReader(tc.in))
		var got []string
		for {
			line, eof := readPasswordLine(r)
			if eof {
				break
			}
			got = append(got, string(line))
		}
		if !slices.Equal(got, tc.lines) {
			t.Errorf("%q: lines %q, want %q", tc.in, got, tc.lines)
		}
	}
}

func TestPasswordVariants(t *testing.T) {
	cp437, err := passwordEncoding("ibm437")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		extra bool
		pw    string
		want  []string
	}{
		{"ascii", false, "secret", []string{"secret"}},
		{"ascii-encoding", true, "secret", []string{"secret"}},
		// As given, then its UTF-8 bytes as characters (keytool on a
		// UTF-8 console stores the first, JKS writers that take bytes the
		// second).
		{"latin", false, "äx", []string{"äx", "\u00c3\u00a4x"}},
		// --pass-encoding's bytes as characters come first: "ä" is 0x84 in
		// code page 437.
		{"cp437", true, "äx", []string{"\u0084x", "äx", "\u00c3\u00a4x"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := &passwordReader{}
			if tc.extra {
				p.extra = cp437
			}
			if got := p.variants([]rune(tc.pw), nil); !slices.Equal(got, tc.want) {
				t.Errorf("variants %q, want %q", got, tc.want)
			}
		})
	}
	// Bytes read from a file or stdin that are not UTF-8: also taken as
	// Latin-1 characters.
	p := &passwordReader{}
	if got := p.variantsOf([]byte{0xe4, 'x'}); !slices.Contains(got, "äx") {
		t.Errorf("variants of Latin-1 bytes %q lack %q", got, "äx")
	}
}

func TestPasswordEncodingNames(t *testing.T) {
	for _, name := range []string{"ibm437", "IBM437", "cp437", "437", "utf-8", "UTF8", "cp65001", "windows-1252", "ISO-8859-1"} {
		if _, err := passwordEncoding(name); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	for _, name := range []string{"no-such-charset", "cp99999"} {
		if _, err := passwordEncoding(name); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestJKSForm(t *testing.T) {
	if got, ok := jksForm("\u00e4x"); !ok || got != "\xe4x" {
		t.Errorf("jksForm(äx) = %q, %v", got, ok)
	}
	if _, ok := jksForm("€"); ok {
		t.Error("jksForm takes a character above U+00FF")
	}
}

// TestPasswordReaderSpecs reads the specs as apksigner does: one line
// per password from one file and from stdin, and says nothing of the
// password in errors.
func TestPasswordReaderSpecs(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "pw.txt")
	if err := os.WriteFile(file, []byte("first-pw\nsecond-pw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("STORESIGN_TEST_PW", "env-pw")
	var prompts bytes.Buffer
	p := &passwordReader{stdin: strings.NewReader("stdin-1\nstdin-2\n"), prompt: &prompts}
	steps := []struct {
		spec, want string
		err        error
	}{
		{"pass:inline-pw", "inline-pw", nil},
		{"env:STORESIGN_TEST_PW", "env-pw", nil},
		{"file:" + file, "first-pw", nil},
		{"stdin", "stdin-1", nil},
		{"file:" + file, "second-pw", nil},
		{"stdin", "stdin-2", nil},
		{"file:" + file, "", signing.ErrPasswordSpec},
		{"stdin", "", errStdinClosed},
		{"plain-pw", "", nil},
	}
	for _, st := range steps {
		got, err := p.read(st.spec, "Keystore password for signer #1")
		switch {
		case st.err != nil:
			if !errors.Is(err, st.err) {
				t.Errorf("%s: err %v, want %v", st.spec, err, st.err)
			}
		case st.want == "":
			if err == nil || strings.Contains(err.Error(), "plain-pw") {
				t.Errorf("%s: err %v, want one without the value", st.spec, err)
			}
		case err != nil || len(got) == 0 || got[0] != st.want:
			t.Errorf("%s: %q, %v; want %q", st.spec, got, err, st.want)
		}
	}
	if n := strings.Count(prompts.String(), "Keystore password for signer #1: \n"); n != 2 {
		t.Errorf("%d prompts, want 2 (one per line read from stdin): %q", n, prompts.String())
	}
}
