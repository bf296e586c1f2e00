package plistx

import (
	"bytes"
	"encoding/base64"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"howett.net/plist"
)

func mustXML(t *testing.T, v any) string {
	t.Helper()
	b, err := MarshalXML(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// body strips the XML header and footer.
func body(s string) string {
	s = strings.TrimPrefix(s, xmlHeader)
	return strings.TrimSuffix(s, "</plist>\n")
}

func TestMarshalXMLScalars(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    any
		want string
	}{
		{"string", "a&b<c>\"d'\te", "<string>a&amp;b&lt;c&gt;\"d'\te</string>\n"},
		{"empty string", "", "<string></string>\n"},
		{"unicode", "héllo ✓", "<string>héllo ✓</string>\n"},
		{"true", true, "<true/>\n"},
		{"false", false, "<false/>\n"},
		{"int", int64(-42), "<integer>-42</integer>\n"},
		{"uint", uint64(math.MaxUint64), "<integer>18446744073709551615</integer>\n"},
		{"int kinds", int8(7), "<integer>7</integer>\n"},
		{"real whole", 1000.0, "<real>1000</real>\n"},
		{"real", 0.1, "<real>0.10000000000000001</real>\n"},
		{"real float32", float32(0.5), "<real>0.5</real>\n"},
		{"real big", 1e20, "<real>1e+20</real>\n"},
		{"real small", 1.5e-7, "<real>1.4999999999999999e-07</real>\n"},
		{"real zero", 0.0, "<real>0.0</real>\n"},
		{"real negative zero", math.Copysign(0, -1), "<real>0.0</real>\n"},
		{"nan", math.NaN(), "<real>nan</real>\n"},
		{"inf", math.Inf(1), "<real>+infinity</real>\n"},
		{"-inf", math.Inf(-1), "<real>-infinity</real>\n"},
		{"date", time.Date(2024, 2, 29, 23, 59, 59, 900_000_000, time.FixedZone("x", 3600)), "<date>2024-02-29T22:59:59Z</date>\n"},
		{"empty data", []byte{}, "<data>\n</data>\n"},
		{"empty dict", map[string]any{}, "<dict/>\n"},
		{"empty array", []any{}, "<array/>\n"},
		{"string slice", []string{"a"}, "<array>\n\t<string>a</string>\n</array>\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := body(mustXML(t, tc.v)); got != tc.want {
				t.Errorf("got %q\nwant %q", got, tc.want)
			}
		})
	}
}

// TestMarshalXMLData checks CF's base64 lines: 76 characters less 8 per
// level of indentation, indentation counted up to 8 levels only.
func TestMarshalXMLData(t *testing.T) {
	data := bytes.Repeat([]byte{0xfb, 0xef, 0xbe}, 100) // "++++" groups
	enc := base64.StdEncoding.EncodeToString(data)
	for depth := 0; depth <= 10; depth++ {
		var v any = data
		for range depth {
			v = []any{v}
		}
		got := mustXML(t, v)
		capped := min(depth, 8)
		lineLen := 76 - 8*capped
		var want strings.Builder
		for rest := enc; rest != ""; {
			n := min(lineLen, len(rest))
			want.WriteString(strings.Repeat("\t", capped) + rest[:n] + "\n")
			rest = rest[n:]
		}
		tabs := strings.Repeat("\t", depth)
		wantData := tabs + "<data>\n" + want.String() + tabs + "</data>\n"
		if !strings.Contains(got, wantData) {
			t.Errorf("depth %d: data not laid out as CF does:\n%s", depth, got)
		}
	}
	// A partial last group is padded, on its own line when the previous
	// line is full.
	got := body(mustXML(t, bytes.Repeat([]byte{0}, 65)))
	want := "<data>\n" + strings.Repeat("A", 76) + "\nAAAAAAAAAAA=\n</data>\n"
	if got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

// TestKeyOrder checks CFStringCompare's order, by UTF-16 code unit: a
// character above U+FFFF (a surrogate pair, 0xD83D...) sorts before
// U+FF01, unlike in UTF-8 byte order.
func TestKeyOrder(t *testing.T) {
	v := map[string]any{"\uff01": 1, "\U0001F600": 2, "b": 3, "B": 4, "a~": 5, "a.": 6, "a": 7, "é": 8}
	got := mustXML(t, v)
	var keys []string
	for _, line := range strings.Split(got, "\n") {
		if k, ok := strings.CutPrefix(strings.TrimSpace(line), "<key>"); ok {
			keys = append(keys, strings.TrimSuffix(k, "</key>"))
		}
	}
	want := []string{"B", "a", "a.", "a~", "b", "é", "\U0001F600", "\uff01"}
	if strings.Join(keys, " ") != strings.Join(want, " ") {
		t.Errorf("keys %q, want %q", keys, want)
	}
}

func TestMarshalErrors(t *testing.T) {
	var ue *UnsupportedValueError
	if _, err := MarshalXML(map[string]any{"a": []any{struct{}{}}}); !errors.As(err, &ue) || ue.Path != "/a/0" {
		t.Errorf("struct: %v", err)
	}
	if _, err := MarshalBinary(map[string]any{"a": nil}); !errors.As(err, &ue) {
		t.Errorf("nil: %v", err)
	}
	var se *InvalidStringError
	if _, err := MarshalBinary(map[string]any{"k": "\xff"}); !errors.As(err, &se) || se.Path != "/k" {
		t.Errorf("invalid UTF-8: %v", err)
	}
	if _, err := MarshalXML(map[string]any{"\xff": 1}); !errors.As(err, &se) {
		t.Errorf("invalid UTF-8 key: %v", err)
	}
	if _, err := Marshal(1, Format(9)); !errors.Is(err, ErrFormat) {
		t.Errorf("format: %v", err)
	}
}

// TestMarshalBinaryLayout checks a small bplist byte for byte: object
// order (dict, keys, values depth first), shared equal values, ASCII and
// UTF-16 strings, integer sizes, the trailer.
func TestMarshalBinaryLayout(t *testing.T) {
	got, err := MarshalBinary(map[string]any{
		"b": "x",
		"a": []any{"x", uint64(300), int64(-1), "é", true, true},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []byte("bplist00")
	offs := []int{}
	obj := func(b ...byte) { offs = append(offs, len(want)); want = append(want, b...) }
	obj(0xD2, 1, 2, 3, 9)                                     // 0 dict: keys a, b; values 3, 9
	obj(0x51, 'a')                                            // 1
	obj(0x51, 'b')                                            // 2
	obj(0xA6, 4, 5, 6, 7, 8, 8)                               // 3 array
	obj(0x51, 'x')                                            // 4
	obj(0x11, 0x01, 0x2c)                                     // 5 300
	obj(0x13, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff) // 6 -1
	obj(0x61, 0x00, 0xe9)                                     // 7 UTF-16
	obj(0x09)                                                 // 8 true, shared
	// 9: "x" again is object 4, so the dict's second value is 4.
	want[8+4] = 4
	table := len(want)
	for _, o := range offs {
		want = append(want, byte(o))
	}
	want = append(want, 0, 0, 0, 0, 0, 0, 1, 1)
	want = append(want, 0, 0, 0, 0, 0, 0, 0, byte(len(offs)))
	want = append(want, 0, 0, 0, 0, 0, 0, 0, 0)
	want = append(want, 0, 0, 0, 0, 0, 0, 0, byte(table))
	if !bytes.Equal(got, want) {
		t.Errorf("got  %x\nwant %x", got, want)
	}
}

// TestMarshalBinarySizes checks the sizes that grow: counts of 15 and
// more, 2-byte references past 255 objects, 2-byte offsets, 16-byte
// unsigned integers, 4-byte reals for float32.
func TestMarshalBinarySizes(t *testing.T) {
	arr := make([]any, 300)
	for i := range arr {
		arr[i] = int64(i + 1000)
	}
	v := map[string]any{"arr": arr, "big": uint64(math.MaxUint64), "f": float32(1.5), "s": strings.Repeat("z", 20)}
	b, err := MarshalBinary(v)
	if err != nil {
		t.Fatal(err)
	}
	tr := b[len(b)-32:]
	if tr[6] != 2 || tr[7] != 2 {
		t.Errorf("offset size %d, ref size %d, want 2 and 2", tr[6], tr[7])
	}
	if !bytes.Contains(b, []byte{0xAF, 0x11, 0x01, 0x2c}) {
		t.Error("no array marker with a 2-byte count of 300")
	}
	if !bytes.Contains(b, append([]byte{0x14, 0, 0, 0, 0, 0, 0, 0, 0}, bytes.Repeat([]byte{0xff}, 8)...)) {
		t.Error("no 16-byte integer")
	}
	if !bytes.Contains(b, []byte{0x22, 0x3f, 0xc0, 0, 0}) {
		t.Error("no 4-byte real")
	}
	if !bytes.Contains(b, append([]byte{0x5f, 0x10, 20}, strings.Repeat("z", 20)...)) {
		t.Error("no long ASCII string")
	}
	var back any
	if _, err := plist.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !equalValues(back, map[string]any{"arr": toUint(arr), "big": uint64(math.MaxUint64), "f": float32(1.5), "s": strings.Repeat("z", 20)}) {
		t.Errorf("round trip: %v", back)
	}
}

func toUint(a []any) []any {
	out := make([]any, len(a))
	for i, v := range a {
		out[i] = uint64(v.(int64))
	}
	return out
}

func TestCanonical(t *testing.T) {
	x := mustXML(t, map[string]any{"k": "v"})
	b, err := MarshalBinary(map[string]any{"k": "v"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		in   string
		want bool
	}{
		{"xml", x, true},
		{"binary", string(b), true},
		{"spaces", strings.Replace(x, "\t", "    ", 1), false},
		{"unsorted", strings.Replace(mustXML(t, map[string]any{"a": 1, "b": 2}), "<key>a</key>\n\t<integer>1</integer>\n\t<key>b</key>\n\t<integer>2</integer>", "<key>b</key>\n\t<integer>2</integer>\n\t<key>a</key>\n\t<integer>1</integer>", 1), false},
		{"garbage", "<plist", false},
		{"openstep", "{k = v;}", false},
		{"empty", "", false},
	} {
		if got := Canonical([]byte(tc.in)); got != tc.want {
			t.Errorf("%s: Canonical = %v, want %v", tc.name, got, tc.want)
		}
	}
}
