package limits

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"howett.net/plist"
)

func nested(depth int) any {
	var v any = "leaf"
	for range depth {
		v = []any{v, map[string]any{"k": 1}}
	}
	return v
}

func TestCheckPlistNesting(t *testing.T) {
	enc := func(format, depth int) []byte {
		b, err := plist.Marshal(nested(depth), format)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	deepXML := []byte("<plist>" + strings.Repeat("<array>", 1<<20) + strings.Repeat("</array>", 1<<20) + "</plist>")
	deepText := []byte(strings.Repeat("(", 1<<20) + strings.Repeat(")", 1<<20))
	for _, c := range []struct {
		name string
		data []byte
		ok   bool
	}{
		{"xml-10", enc(plist.XMLFormat, 10), true},
		{"xml-256", enc(plist.XMLFormat, 255), true}, // the dict adds a level
		{"xml-300", enc(plist.XMLFormat, 300), false},
		{"xml-empty-elements", []byte("<plist>" + strings.Repeat("<array/><dict/>", 1000) + "</plist>"), true},
		{"xml-in-comments-and-cdata", []byte("<plist><!--" + strings.Repeat("<array>", 1000) + "--><string><![CDATA[" + strings.Repeat("<dict>", 1000) + "]]></string></plist>"), true},
		{"xml-1M", deepXML, false},
		{"binary-10", enc(plist.BinaryFormat, 10), true},
		{"binary-300", enc(plist.BinaryFormat, 300), false},
		{"text-10", enc(plist.OpenStepFormat, 10), true},
		{"text-300", enc(plist.OpenStepFormat, 300), false},
		{"text-quoted", []byte(`("` + strings.Repeat("(", 1000) + `")`), true},
		{"text-1M", deepText, false},
		{"garbage", []byte("bplist00 and not much else, this is not a list at all"), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			err := CheckPlistNesting("test plist", c.data, MaxNesting)
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v", d)
			}
			if c.ok != (err == nil) || (err != nil && !errors.Is(err, ErrExceeded)) {
				t.Errorf("err = %v, want ok=%v", err, c.ok)
			}
		})
	}
}

func TestCheckBERNesting(t *testing.T) {
	deep := append(bytes.Repeat([]byte{0x30, 0x80}, 1<<20), bytes.Repeat([]byte{0, 0}, 1<<20)...)
	definite := []byte{0x04, 0x00}
	for range 300 {
		definite = append([]byte{0x30, 0x82, byte(len(definite) >> 8), byte(len(definite))}, definite...)
	}
	for _, c := range []struct {
		name string
		data []byte
		ok   bool
	}{
		{"indefinite-1M", deep, false},
		{"definite-300", definite, false},
		{"definite-56", definite[len(definite)-56*4-2:], true},
		{"primitive", []byte{0x04, 0x03, 1, 2, 3}, true},
		{"high-tag", []byte{0x3f, 0x81, 0x01, 0x80, 0x04, 0x00, 0x00, 0x00}, true},
		{"truncated", []byte{0x30, 0x84, 0xff, 0xff}, true},
		{"huge-length", []byte{0x30, 0x88, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := CheckBERNesting("test CMS", c.data, MaxNesting)
			if c.ok != (err == nil) || (err != nil && !errors.Is(err, ErrExceeded)) {
				t.Errorf("err = %v, want ok=%v", err, c.ok)
			}
		})
	}
}

// FuzzCheckNesting: the checks never panic and never loop.
func FuzzCheckNesting(f *testing.F) {
	for _, d := range []int{1, 5, 40} {
		for _, format := range []int{plist.XMLFormat, plist.BinaryFormat, plist.OpenStepFormat} {
			b, _ := plist.Marshal(nested(d), format)
			f.Add(b)
		}
	}
	f.Add(append(bytes.Repeat([]byte{0x30, 0x80}, 100), bytes.Repeat([]byte{0, 0}, 100)...))
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = CheckPlistNesting("fuzz", b, 8)
		_ = CheckBERNesting("fuzz", b, 8)
	})
}
