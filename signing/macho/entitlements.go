package macho

import (
	"encoding/asn1"
	"fmt"
	"math/big"
	"sort"
	"unicode/utf8"

	"github.com/storesign/storesign/internal/plistx"
)

// parseEntitlements parses an XML (or binary) entitlements plist.
func parseEntitlements(xml []byte) (map[string]any, error) {
	var v any
	if _, err := plistx.Unmarshal(xml, &v); err != nil {
		return nil, fmt.Errorf("parsing the entitlements plist: %w", err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("the entitlements plist is not a dictionary")
	}
	return m, nil
}

// entitlementsDER encodes an XML (or binary) plist of entitlements in
// Apple's DER form (special slot 7): [APPLICATION 16] { INTEGER 1, dict },
// where a dictionary is [CONTEXT 16] { SEQUENCE { UTF8String key, value }
// ... } with keys in byte order, an array a SEQUENCE, and booleans,
// integers and strings their universal types.
func entitlementsDER(ents map[string]any) ([]byte, error) {
	body, err := derValue(ents, 0)
	if err != nil {
		return nil, fmt.Errorf("encoding the entitlements as DER: %w", err)
	}
	return tlv(0x70, append([]byte{0x02, 0x01, 0x01}, body...)), nil
}

func derValue(v any, depth int) ([]byte, error) {
	if depth > 32 {
		return nil, fmt.Errorf("nested too deeply")
	}
	switch x := v.(type) {
	case bool:
		if x {
			return []byte{0x01, 0x01, 0xff}, nil
		}
		return []byte{0x01, 0x01, 0x00}, nil
	case string:
		if !utf8.ValidString(x) {
			return nil, fmt.Errorf("string %q is not valid UTF-8", x)
		}
		return tlv(0x0c, []byte(x)), nil
	case uint64:
		b, _ := asn1.Marshal(new(big.Int).SetUint64(x))
		return b, nil
	case int64:
		b, _ := asn1.Marshal(big.NewInt(x))
		return b, nil
	case []any:
		var body []byte
		for _, e := range x {
			d, err := derValue(e, depth+1)
			if err != nil {
				return nil, err
			}
			body = append(body, d...)
		}
		return tlv(0x30, body), nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var body []byte
		for _, k := range keys {
			if !utf8.ValidString(k) {
				return nil, fmt.Errorf("key %q is not valid UTF-8", k)
			}
			d, err := derValue(x[k], depth+1)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			body = append(body, tlv(0x30, append(tlv(0x0c, []byte(k)), d...))...)
		}
		return tlv(0xb0, body), nil
	}
	return nil, fmt.Errorf("values of type %T cannot be encoded (only dictionaries, arrays, strings, integers and booleans)", v)
}

// tlv encodes a DER tag, definite length and content.
func tlv(tag byte, content []byte) []byte {
	n := len(content)
	out := []byte{tag}
	switch {
	case n < 0x80:
		out = append(out, byte(n))
	case n < 0x100:
		out = append(out, 0x81, byte(n))
	case n < 0x10000:
		out = append(out, 0x82, byte(n>>8), byte(n))
	case n < 0x1000000:
		out = append(out, 0x83, byte(n>>16), byte(n>>8), byte(n))
	default:
		out = append(out, 0x84, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(out, content...)
}

// decodeEntitlementsDER decodes Apple's DER entitlements (the payload of
// the 0xfade7172 blob) into the values parseEntitlements returns: maps,
// []any, strings, bools, int64 or uint64.
func decodeEntitlementsDER(b []byte) (map[string]any, error) {
	tag, body, rest, err := readTLV(b)
	if err != nil {
		return nil, err
	}
	if tag != 0x70 || len(rest) != 0 {
		return nil, fmt.Errorf("DER entitlements: not an [APPLICATION 16] value")
	}
	tag, ver, body, err := readTLV(body)
	if err != nil {
		return nil, err
	}
	if tag != 0x02 || len(ver) != 1 || ver[0] != 1 {
		return nil, fmt.Errorf("DER entitlements: unsupported version")
	}
	v, rest, err := decodeDERValue(body, 0)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok || len(rest) != 0 {
		return nil, fmt.Errorf("DER entitlements: not a dictionary")
	}
	return m, nil
}

// readTLV reads one DER tag (single byte), definite length and content.
func readTLV(b []byte) (tag byte, content, rest []byte, err error) {
	if len(b) < 2 {
		return 0, nil, nil, fmt.Errorf("DER entitlements: truncated")
	}
	tag = b[0]
	if tag&0x1f == 0x1f {
		return 0, nil, nil, fmt.Errorf("DER entitlements: multi-byte tag")
	}
	n, p := int(b[1]), 2
	if n >= 0x80 {
		k := n & 0x7f
		if k == 0 || k > 4 || len(b) < 2+k {
			return 0, nil, nil, fmt.Errorf("DER entitlements: bad length")
		}
		n = 0
		for _, c := range b[2 : 2+k] {
			n = n<<8 | int(c)
		}
		p += k
		if n < 0x80 || n < 1<<(8*(k-1)) {
			return 0, nil, nil, fmt.Errorf("DER entitlements: non-minimal length")
		}
	}
	if n > len(b)-p {
		return 0, nil, nil, fmt.Errorf("DER entitlements: truncated")
	}
	return tag, b[p : p+n], b[p+n:], nil
}

func decodeDERValue(b []byte, depth int) (any, []byte, error) {
	if depth > 32 {
		return nil, nil, fmt.Errorf("DER entitlements: nested too deeply")
	}
	tag, body, rest, err := readTLV(b)
	if err != nil {
		return nil, nil, err
	}
	switch tag {
	case 0x01:
		if len(body) != 1 || body[0] != 0 && body[0] != 0xff {
			return nil, nil, fmt.Errorf("DER entitlements: bad boolean")
		}
		return body[0] == 0xff, rest, nil
	case 0x02:
		var n *big.Int
		full := b[:len(b)-len(rest)]
		if _, err := asn1.Unmarshal(full, &n); err != nil {
			return nil, nil, fmt.Errorf("DER entitlements: bad integer: %v", err)
		}
		switch {
		case n.IsInt64():
			if n.Sign() >= 0 {
				return uint64(n.Int64()), rest, nil
			}
			return n.Int64(), rest, nil
		case n.IsUint64():
			return n.Uint64(), rest, nil
		}
		return nil, nil, fmt.Errorf("DER entitlements: integer out of range")
	case 0x0c:
		if !utf8.Valid(body) {
			return nil, nil, fmt.Errorf("DER entitlements: invalid UTF-8")
		}
		return string(body), rest, nil
	case 0x30:
		arr := []any{}
		for len(body) > 0 {
			var v any
			if v, body, err = decodeDERValue(body, depth+1); err != nil {
				return nil, nil, err
			}
			arr = append(arr, v)
		}
		return arr, rest, nil
	case 0xb0:
		m := map[string]any{}
		prev := ""
		for len(body) > 0 {
			var t byte
			var entry []byte
			if t, entry, body, err = readTLV(body); err != nil {
				return nil, nil, err
			}
			if t != 0x30 {
				return nil, nil, fmt.Errorf("DER entitlements: dictionary entry is not a SEQUENCE")
			}
			t, key, val, err := readTLV(entry)
			if err != nil {
				return nil, nil, err
			}
			if t != 0x0c || !utf8.Valid(key) {
				return nil, nil, fmt.Errorf("DER entitlements: dictionary key is not a UTF8String")
			}
			if len(m) > 0 && string(key) <= prev {
				return nil, nil, fmt.Errorf("DER entitlements: dictionary keys out of order")
			}
			prev = string(key)
			v, left, err := decodeDERValue(val, depth+1)
			if err != nil {
				return nil, nil, err
			}
			if len(left) != 0 {
				return nil, nil, fmt.Errorf("DER entitlements: trailing data in a dictionary entry")
			}
			m[string(key)] = v
		}
		return m, rest, nil
	}
	return nil, nil, fmt.Errorf("DER entitlements: unsupported tag 0x%02x", tag)
}

// normalizeEntitlements maps the integers of decoded entitlements to one
// type (uint64 when not negative) for comparison.
func normalizeEntitlements(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = normalizeEntitlements(e)
		}
		return m
	case []any:
		a := make([]any, len(x))
		for i, e := range x {
			a[i] = normalizeEntitlements(e)
		}
		return a
	case int64:
		if x >= 0 {
			return uint64(x)
		}
	}
	return v
}
