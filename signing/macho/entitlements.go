package macho

import (
	"encoding/asn1"
	"fmt"
	"math/big"
	"sort"

	"howett.net/plist"
)

// parseEntitlements parses an XML (or binary) entitlements plist.
func parseEntitlements(xml []byte) (map[string]any, error) {
	var v any
	if _, err := plist.Unmarshal(xml, &v); err != nil {
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
