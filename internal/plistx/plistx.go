package plistx

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"howett.net/plist"

	"github.com/storesign/storesign/internal/limits"
)

// Format is a property list encoding.
type Format int

const (
	// XML is Apple's XML property list, version 1.0.
	XML Format = iota + 1
	// Binary is the bplist00 binary property list.
	Binary
)

// String returns "xml" or "binary".
func (f Format) String() string {
	switch f {
	case XML:
		return "xml"
	case Binary:
		return "binary"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// ErrFormat is returned for a format other than XML and Binary.
var ErrFormat = errors.New("plistx: unknown format")

// An UnsupportedValueError reports a value no property list can hold.
type UnsupportedValueError struct {
	Path string // where in the value, as /key/0/key
	Type string // its Go type
}

func (e *UnsupportedValueError) Error() string {
	return fmt.Sprintf("plistx: %s at %q cannot be written in a property list", e.Type, pathOr(e.Path))
}

// An InvalidStringError reports a string or key that is not valid UTF-8,
// which a CFString cannot hold.
type InvalidStringError struct {
	Path string
}

func (e *InvalidStringError) Error() string {
	return fmt.Sprintf("plistx: string at %q is not valid UTF-8", pathOr(e.Path))
}

func pathOr(p string) string {
	if p == "" {
		return "/"
	}
	return p
}

// Marshal encodes v in format f.
func Marshal(v any, f Format) ([]byte, error) {
	switch f {
	case XML:
		return MarshalXML(v)
	case Binary:
		return MarshalBinary(v)
	}
	return nil, ErrFormat
}

// FormatOf returns the format of an encoded property list: Binary for
// bplist00, XML for anything starting with "<", else 0.
func FormatOf(b []byte) Format {
	switch {
	case bytes.HasPrefix(b, []byte("bplist00")):
		return Binary
	case len(bytes.TrimLeft(b, " \t\r\n")) > 0 && bytes.TrimLeft(b, " \t\r\n")[0] == '<':
		return XML
	}
	return 0
}

// Canonical reports whether b, decoded and encoded again in its own
// format, gives b back: whether b is laid out exactly as Apple's tools
// (see the package documentation) would write its values. A plist that
// does not parse, or an OpenStep text plist, is not canonical; nor is a
// binary plist holding a date with a fraction of a second, which
// howett.net/plist does not decode exactly.
func Canonical(b []byte) bool {
	f := FormatOf(b)
	if f == 0 {
		return false
	}
	var v any
	if _, err := plist.Unmarshal(b, &v); err != nil {
		return false
	}
	out, err := Marshal(v, f)
	return err == nil && bytes.Equal(out, b)
}

// compareKeys orders keys as CFStringCompare without options: by UTF-16
// code unit. It differs from Go's byte order only between characters
// above U+FFFF (surrogate pairs, 0xD800-0xDFFF) and U+E000-U+FFFF.
func compareKeys(a, b string) int {
	for a != "" && b != "" {
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		if ra != rb {
			return cmpUnit(ra, rb)
		}
		a, b = a[na:], b[nb:]
	}
	return len(a) - len(b)
}

// cmpUnit compares the first UTF-16 code units of two different runes,
// then the second.
func cmpUnit(a, b rune) int {
	a1, a2 := units(a)
	b1, b2 := units(b)
	if a1 != b1 {
		return int(a1) - int(b1)
	}
	return int(a2) - int(b2)
}

func units(r rune) (uint16, uint16) {
	if r >= 0x10000 {
		h, l := utf16.EncodeRune(r)
		return uint16(h), uint16(l)
	}
	return uint16(r), 0
}

// sortedKeys returns m's keys in CF's order.
func sortedKeys(keys []string) []string {
	slices.SortFunc(keys, compareKeys)
	return keys
}

// kind is the plist type of a normalized value.
type kind int

const (
	kString kind = iota
	kBool
	kInt   // int64 in i
	kUint  // uint64 in u, above math.MaxInt64 or written as unsigned
	kReal  // float64 in f; f32 when it came as a float32
	kData  // b
	kDate  // t
	kArray // arr
	kDict  // keys (sorted), vals
)

// node is a value ready to write.
type node struct {
	kind kind
	s    string
	bl   bool
	i    int64
	u    uint64
	f    float64
	f32  bool
	b    []byte
	t    time.Time
	arr  []*node
	keys []string
	vals []*node
}

// normalize turns a Go value into nodes, checking what a plist can hold.
func normalize(v any, path string) (*node, error) {
	switch v := v.(type) {
	case string:
		if !utf8.ValidString(v) {
			return nil, &InvalidStringError{Path: path}
		}
		return &node{kind: kString, s: v}, nil
	case bool:
		return &node{kind: kBool, bl: v}, nil
	case int:
		return &node{kind: kInt, i: int64(v)}, nil
	case int8:
		return &node{kind: kInt, i: int64(v)}, nil
	case int16:
		return &node{kind: kInt, i: int64(v)}, nil
	case int32:
		return &node{kind: kInt, i: int64(v)}, nil
	case int64:
		return &node{kind: kInt, i: v}, nil
	case uint:
		return uintNode(uint64(v)), nil
	case uint8:
		return uintNode(uint64(v)), nil
	case uint16:
		return uintNode(uint64(v)), nil
	case uint32:
		return uintNode(uint64(v)), nil
	case uint64:
		return uintNode(v), nil
	case float32:
		return &node{kind: kReal, f: float64(v), f32: true}, nil
	case float64:
		return &node{kind: kReal, f: v}, nil
	case []byte:
		return &node{kind: kData, b: v}, nil
	case time.Time:
		return &node{kind: kDate, t: v}, nil
	case map[string]any:
		n := &node{kind: kDict, keys: make([]string, 0, len(v))}
		for k := range v {
			if !utf8.ValidString(k) {
				return nil, &InvalidStringError{Path: path + "/" + k}
			}
			n.keys = append(n.keys, k)
		}
		sortedKeys(n.keys)
		n.vals = make([]*node, len(n.keys))
		for i, k := range n.keys {
			c, err := normalize(v[k], path+"/"+k)
			if err != nil {
				return nil, err
			}
			n.vals[i] = c
		}
		return n, nil
	case []any:
		n := &node{kind: kArray, arr: make([]*node, len(v))}
		for i, e := range v {
			c, err := normalize(e, fmt.Sprintf("%s/%d", path, i))
			if err != nil {
				return nil, err
			}
			n.arr[i] = c
		}
		return n, nil
	case nil:
		return nil, &UnsupportedValueError{Path: path, Type: "nil"}
	}
	return normalizeReflect(reflect.ValueOf(v), path)
}

func uintNode(u uint64) *node {
	if u <= 1<<63-1 {
		return &node{kind: kInt, i: int64(u)}
	}
	return &node{kind: kUint, u: u}
}

// normalizeReflect accepts other maps with string keys and slices.
func normalizeReflect(rv reflect.Value, path string) (*node, error) {
	switch rv.Kind() {
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			break
		}
		m := make(map[string]any, rv.Len())
		it := rv.MapRange()
		for it.Next() {
			m[it.Key().String()] = it.Value().Interface()
		}
		return normalize(m, path)
	case reflect.Slice, reflect.Array:
		if rv.Type().Elem().Kind() == reflect.Uint8 {
			b := make([]byte, rv.Len())
			reflect.Copy(reflect.ValueOf(b), rv)
			return normalize(b, path)
		}
		s := make([]any, rv.Len())
		for i := range s {
			s[i] = rv.Index(i).Interface()
		}
		return normalize(s, path)
	case reflect.String:
		return normalize(rv.String(), path)
	case reflect.Bool:
		return normalize(rv.Bool(), path)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return normalize(rv.Int(), path)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return normalize(rv.Uint(), path)
	case reflect.Float64:
		return normalize(rv.Float(), path)
	case reflect.Float32:
		return normalize(float32(rv.Float()), path)
	}
	return nil, &UnsupportedValueError{Path: path, Type: rv.Type().String()}
}

// Unmarshal decodes the property list b (XML, binary or OpenStep) into v
// as howett.net/plist does, after checking that its nesting stays within
// limits.MaxNesting: that decoder recurses, and a hostile plist nested a
// million deep would overflow the stack. It returns the format found.
func Unmarshal(b []byte, v any) (int, error) {
	if err := limits.CheckPlistNesting("property list", b, limits.MaxNesting); err != nil {
		return 0, err
	}
	return plist.Unmarshal(b, v)
}
