package plistx

import (
	"bytes"
	"encoding/binary"
	"math"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"howett.net/plist"
)

// FuzzMarshal has two halves. Arbitrary bytes that howett.net/plist
// decodes must encode in both formats without panicking, and the binary
// encoding must decode to the same values. And the bytes, read as a
// recipe, build a random value that must survive encode, decode in both
// formats (XML keeps dates to the second, and needs XML-safe strings).
func FuzzMarshal(f *testing.F) {
	for _, v := range []any{
		map[string]any{"CFBundleIdentifier": "com.example.app", "n": int64(-3), "d": []byte{1, 2, 3}},
		[]any{true, false, 1.5, float32(2), time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC), "é✓"},
	} {
		for _, fm := range []Format{XML, Binary} {
			b, err := Marshal(v, fm)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Add([]byte("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f"))
	f.Fuzz(func(t *testing.T, in []byte) {
		var v any
		if _, err := plist.Unmarshal(in, &v); err == nil {
			if x, err := MarshalXML(v); err == nil {
				var back any
				plist.Unmarshal(x, &back) // may fail: CF writes control characters raw
			}
			if b, err := MarshalBinary(v); err == nil {
				var back any
				if _, err := plist.Unmarshal(b, &back); err != nil {
					t.Fatalf("our binary plist does not parse: %v", err)
				}
				// Dates far from 2001 lose precision in the float64
				// seconds; the recipe half checks dates.
				if !hasDate(v, func(time.Time) bool { return true }) && !equalValues(v, back) {
					t.Fatalf("binary round trip changed %#v into %#v", v, back)
				}
			}
		}

		r := recipe{b: in}
		val := r.value(0)
		b, err := MarshalBinary(val)
		if err != nil {
			t.Fatal(err)
		}
		var back any
		if _, err := plist.Unmarshal(b, &back); err != nil {
			t.Fatalf("binary: %v", err)
		}
		if !equalValues(decodedForm(val, false), back) {
			t.Fatalf("binary round trip: %#v became %#v", val, back)
		}
		x, err := MarshalXML(val)
		if err != nil {
			t.Fatal(err)
		}
		back = nil
		if _, err := plist.Unmarshal(x, &back); err != nil {
			t.Fatalf("xml: %v\n%s", err, x)
		}
		if !equalValues(decodedForm(val, true), back) {
			t.Fatalf("xml round trip: %#v became %#v\n%s", val, back, x)
		}
		// howett.net/plist decodes a binary date through a float64 sum
		// that loses bits of a fraction of a second, so only whole
		// seconds survive a binary decode and encode exactly.
		fractional := hasDate(val, func(t time.Time) bool { return t.Nanosecond() != 0 })
		if !Canonical(x) || !fractional && !Canonical(b) {
			t.Fatal("our own output is not canonical")
		}
	})
}

// hasDate reports whether v holds a date for which pred is true.
func hasDate(v any, pred func(time.Time) bool) bool {
	switch v := v.(type) {
	case map[string]any:
		for _, e := range v {
			if hasDate(e, pred) {
				return true
			}
		}
	case []any:
		for _, e := range v {
			if hasDate(e, pred) {
				return true
			}
		}
	case time.Time:
		return pred(v)
	}
	return false
}

// recipe turns fuzz bytes into a plist value.
type recipe struct{ b []byte }

func (r *recipe) byte() byte {
	if len(r.b) == 0 {
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *recipe) u64() uint64 {
	var buf [8]byte
	n := copy(buf[:], r.b)
	r.b = r.b[n:]
	return binary.LittleEndian.Uint64(buf[:])
}

// str returns a string of XML-safe characters (no control characters
// other than tab and newline, which XML keeps; no \r, which XML
// parsers turn into \n).
func (r *recipe) str() string {
	n := int(r.byte() % 24)
	var sb strings.Builder
	alphabet := []rune("aZ09 .-_<>&\"'\t\né✓\u00a0\uff01\U0001F600")
	for range n {
		sb.WriteRune(alphabet[int(r.byte())%len(alphabet)])
	}
	return sb.String()
}

func (r *recipe) value(depth int) any {
	k := r.byte() % 11
	if depth > 4 && k >= 9 {
		k %= 9
	}
	switch k {
	case 0:
		return r.str()
	case 1:
		return r.byte()&1 == 1
	case 2:
		return int64(r.u64())
	case 3:
		return r.u64()
	case 4:
		f := math.Float64frombits(r.u64())
		if math.IsNaN(f) {
			f = math.NaN()
		}
		return f
	case 5:
		return float32(int8(r.byte())) / 4
	case 6:
		n := int(r.byte())
		return bytes.Repeat([]byte{r.byte()}, n)
	case 7:
		return time.Unix(int64(int32(r.u64())), 0).UTC()
	case 8:
		return time.Unix(int64(int32(r.u64())), int64(r.byte())*1e6).UTC()
	case 9:
		n := int(r.byte() % 5)
		a := make([]any, n)
		for i := range a {
			a[i] = r.value(depth + 1)
		}
		return a
	default:
		n := int(r.byte() % 5)
		m := map[string]any{}
		for range n {
			m[r.str()] = r.value(depth + 1)
		}
		return m
	}
}

// decodedForm is v as howett.net/plist decodes our encoding of it:
// non-negative integers as uint64, float32 as float64 in XML, dates to
// the second in XML.
func decodedForm(v any, xml bool) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[k] = decodedForm(e, xml)
		}
		return m
	case []any:
		a := make([]any, len(v))
		for i, e := range v {
			a[i] = decodedForm(e, xml)
		}
		return a
	case int64:
		if v >= 0 {
			return uint64(v)
		}
	case float32:
		if xml {
			return float64(v)
		}
	case time.Time:
		if xml {
			return v.Truncate(time.Second)
		}
	case string:
		if !utf8.ValidString(v) {
			panic("recipe made invalid UTF-8")
		}
	}
	return v
}
