package cms

import (
	"bytes"
	"encoding/asn1"
	"fmt"
	"math/big"
)

// element is one BER TLV: a tag, and either primitive content or
// constructed children (kept as bytes, decoded on demand).
type element struct {
	class      int
	tag        int
	compound   bool
	indefinite bool
	content    []byte // the content octets (without the end-of-contents marker)
	full       []byte // the whole encoding, header to end-of-contents
}

// reader decodes BER under limits: lengths are checked against the
// input, nesting against maxDepth.
type reader struct {
	maxDepth int
}

// next decodes the element at the start of b and returns it with the
// bytes that follow it.
func (r *reader) next(b []byte, depth int) (element, []byte, error) {
	if depth > r.maxDepth {
		return element{}, nil, limitError("nesting depth", -1, int64(r.maxDepth))
	}
	if len(b) < 2 {
		return element{}, nil, malformed("truncated element")
	}
	e := element{class: int(b[0] >> 6), compound: b[0]&0x20 != 0, tag: int(b[0] & 0x1f)}
	if e.tag == 0x1f {
		return element{}, nil, malformed("high tag numbers are not used in CMS")
	}
	l := int(b[1])
	hdr := 2
	switch {
	case l == 0x80:
		if !e.compound {
			return element{}, nil, malformed("indefinite length on a primitive element")
		}
		e.indefinite = true
		// The content runs to the end-of-contents marker, past nested
		// elements that may themselves be indefinite.
		rest := b[hdr:]
		for {
			if len(rest) >= 2 && rest[0] == 0 && rest[1] == 0 {
				n := len(b) - len(rest)
				e.content = b[hdr:n]
				e.full = b[:n+2]
				return e, b[n+2:], nil
			}
			var err error
			if _, rest, err = r.next(rest, depth+1); err != nil {
				return element{}, nil, err
			}
		}
	case l > 0x80:
		n := l & 0x7f
		if n > 4 || len(b) < 2+n {
			return element{}, nil, malformed("bad length")
		}
		l = 0
		for _, c := range b[2 : 2+n] {
			l = l<<8 | int(c)
		}
		hdr += n
	}
	if l < 0 || l > len(b)-hdr {
		return element{}, nil, malformed("element of %d bytes runs past the end of its container", l)
	}
	e.content = b[hdr : hdr+l]
	e.full = b[:hdr+l]
	return e, b[hdr+l:], nil
}

// children decodes the elements of a constructed element, at most max
// of them (0: no limit); what names them in a limit error.
func (r *reader) children(e element, depth int, what string, max int) ([]element, error) {
	return r.collect(e, depth, what, max, func() error { return limitError(what, -1, int64(max)) })
}

// fields decodes the fields of a SEQUENCE of at most max fields: more is
// a malformed structure, not a limit.
func (r *reader) fields(e element, depth int, what string, max int) ([]element, error) {
	return r.collect(e, depth, what, max, func() error { return malformed("%s: more than %d", what, max) })
}

func (r *reader) collect(e element, depth int, what string, max int, tooMany func() error) ([]element, error) {
	if !e.compound {
		return nil, malformed("%s is not constructed", what)
	}
	var out []element
	for rest := e.content; len(rest) > 0; {
		if max > 0 && len(out) == max {
			return nil, tooMany()
		}
		c, r2, err := r.next(rest, depth+1)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
		rest = r2
	}
	return out, nil
}

func (e element) is(class, tag int, compound bool) bool {
	return e.class == class && e.tag == tag && e.compound == compound
}

func (e element) isUniversal(tag int) bool {
	return e.class == asn1.ClassUniversal && e.tag == tag
}

// oid decodes an OBJECT IDENTIFIER element.
func (e element) oid() (asn1.ObjectIdentifier, error) {
	if !e.is(asn1.ClassUniversal, asn1.TagOID, false) || len(e.content) == 0 {
		return nil, malformed("expected an object identifier")
	}
	var out asn1.ObjectIdentifier
	v := 0
	for i, c := range e.content {
		if v > 1<<24 || (v == 0 && c == 0x80) {
			return nil, malformed("bad object identifier")
		}
		v = v<<7 | int(c&0x7f)
		if c&0x80 != 0 {
			if i == len(e.content)-1 {
				return nil, malformed("truncated object identifier")
			}
			continue
		}
		if out == nil {
			if v < 80 {
				out = asn1.ObjectIdentifier{v / 40, v % 40}
			} else {
				out = asn1.ObjectIdentifier{2, v - 80}
			}
		} else {
			out = append(out, v)
		}
		if len(out) > 64 {
			return nil, malformed("object identifier too long")
		}
		v = 0
	}
	return out, nil
}

// integer decodes an INTEGER element as a two's complement number.
func (e element) integer() (*big.Int, error) {
	if !e.is(asn1.ClassUniversal, asn1.TagInteger, false) || len(e.content) == 0 {
		return nil, malformed("expected an integer")
	}
	if len(e.content) > 128 {
		return nil, limitError("integer size (bytes)", int64(len(e.content)), 128)
	}
	n := new(big.Int).SetBytes(e.content)
	if e.content[0]&0x80 != 0 {
		n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(len(e.content))*8))
	}
	return n, nil
}

// smallInt decodes a small non-negative INTEGER (a version).
func (e element) smallInt() (int, error) {
	n, err := e.integer()
	if err != nil {
		return 0, err
	}
	if n.Sign() < 0 || n.BitLen() > 16 {
		return 0, malformed("version %v out of range", n)
	}
	return int(n.Int64()), nil
}

// octets decodes a primitive OCTET STRING element.
func (e element) octets() ([]byte, error) {
	if !e.is(asn1.ClassUniversal, asn1.TagOctetString, false) {
		return nil, malformed("expected an octet string")
	}
	return e.content, nil
}

// DER writing.

// tlv encodes one definite-length DER element.
func tlv(tag byte, content []byte) []byte {
	n := len(content)
	var out []byte
	switch {
	case n < 0x80:
		out = make([]byte, 0, 2+n)
		out = append(out, tag, byte(n))
	case n < 0x100:
		out = append(make([]byte, 0, 3+n), tag, 0x81, byte(n))
	case n < 0x10000:
		out = append(make([]byte, 0, 4+n), tag, 0x82, byte(n>>8), byte(n))
	case n < 0x1000000:
		out = append(make([]byte, 0, 5+n), tag, 0x83, byte(n>>16), byte(n>>8), byte(n))
	default:
		out = append(make([]byte, 0, 6+n), tag, 0x84, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(out, content...)
}

// indefinite encodes a constructed element with BER's indefinite length,
// as codesign writes the outer layers of its signatures.
func indefinite(tag byte, content []byte) []byte {
	out := make([]byte, 0, 4+len(content))
	out = append(out, tag, 0x80)
	out = append(out, content...)
	return append(out, 0, 0)
}

func seq(parts ...[]byte) []byte { return tlv(0x30, bytes.Join(parts, nil)) }

// setOf encodes a DER SET OF: elements sorted by their encodings.
func setOf(tag byte, parts [][]byte) []byte {
	return tlv(tag, bytes.Join(sortedDER(parts), nil))
}

func sortedDER(parts [][]byte) [][]byte {
	sorted := append([][]byte(nil), parts...)
	// Insertion sort: sets in CMS hold a handful of elements.
	for i := 1; i < len(sorted); i++ {
		for j := i; j > 0 && bytes.Compare(sorted[j-1], sorted[j]) > 0; j-- {
			sorted[j-1], sorted[j] = sorted[j], sorted[j-1]
		}
	}
	return sorted
}

func mustMarshal(v any) []byte {
	b, err := asn1.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("cms: internal error: %v", err))
	}
	return b
}
