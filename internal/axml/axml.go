package axml

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf16"
)

// ErrMalformed is wrapped by every error about the structure of the binary
// XML.
var ErrMalformed = errors.New("axml: malformed binary XML")

// ErrUnsupportedValue is wrapped when an attribute the caller needs has a
// type it cannot use (a resource reference for minSdkVersion, say).
var ErrUnsupportedValue = errors.New("axml: unsupported attribute value")

// Chunk types of the ResXMLTree format.
const (
	chunkStringPool   = 0x0001
	chunkXML          = 0x0003
	chunkStartElement = 0x0102
	chunkEndElement   = 0x0103
	chunkResourceMap  = 0x0180
)

// Res_value data types.
const (
	typeReference = 0x01
	typeString    = 0x03
	typeIntDec    = 0x10
	typeIntHex    = 0x11
	typeBoolean   = 0x12
)

// ValueType is the kind of an attribute value, grouped as apksig groups
// them.
type ValueType int

// Value types.
const (
	ValueOther ValueType = iota
	ValueString
	ValueInt
	ValueReference
	ValueBoolean
)

// Limits of the parser: a document beyond one is refused with a
// [*LimitError]. Real manifests are a few hundred KiB at most, with a few
// thousand elements.
const (
	maxDepth      = 1 << 12
	maxDocument   = 32 << 20 // bytes
	maxElements   = 1 << 20
	maxAttributes = 4096     // per element
	maxDecoded    = 16 << 20 // bytes of strings decoded, in total
)

// LimitError reports a document beyond one of the parser's limits (size,
// element count, attributes per element, nesting, decoded strings). It
// matches [ErrMalformed].
type LimitError struct {
	What         string
	Value, Limit int64
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("axml: %s is %d, above the limit of %d: the manifest is damaged or crafted; rebuild the app with the Android Gradle Plugin", e.What, e.Value, e.Limit)
}

// Unwrap returns [ErrMalformed].
func (e *LimitError) Unwrap() error { return ErrMalformed }

// Attribute is one attribute of an element.
type Attribute struct {
	Namespace  string
	Name       string
	ResourceID uint32 // from the resource map; 0 when the name has none
	Type       ValueType
	Data       uint32 // the raw Res_value data
	rawType    uint8
	str        string
}

// Int returns the value as an integer (int, boolean and reference types).
func (a *Attribute) Int() int64 { return int64(int32(a.Data)) }

// String returns the value as text, as apksig's getAttributeStringValue does.
func (a *Attribute) String() string {
	switch a.Type {
	case ValueString:
		return a.str
	case ValueBoolean:
		return strconv.FormatBool(a.Data != 0)
	case ValueInt:
		return strconv.FormatInt(a.Int(), 10)
	case ValueReference:
		return fmt.Sprintf("@%08x", a.Data)
	}
	return fmt.Sprintf("?type=%#x data=%#x", a.rawType, a.Data)
}

// Element is a start-element event.
type Element struct {
	Depth      int // 1 for the root element
	Namespace  string
	Name       string
	Attributes []Attribute
}

// Walk calls fn for every start element of the document, in order. It
// stops at the first error, from the data or from fn.
func Walk(data []byte, fn func(*Element) error) error {
	if len(data) < 8 {
		return fmt.Errorf("%w: too short", ErrMalformed)
	}
	if len(data) > maxDocument {
		return &LimitError{What: "the document size", Value: int64(len(data)), Limit: maxDocument}
	}
	typ, hdr, size, err := chunkHeader(data)
	if err != nil {
		return err
	}
	if typ != chunkXML {
		return fmt.Errorf("%w: no XML chunk (type %#04x)", ErrMalformed, typ)
	}
	body := data[hdr:size]
	var pool *stringPool
	var resMap []byte
	depth, elements := 0, 0
	for len(body) > 0 {
		if len(body) < 8 {
			// Trailing junk shorter than a header: Android ignores it.
			break
		}
		typ, hdr, size, err := chunkHeader(body)
		if err != nil {
			return err
		}
		chunk := body[:size]
		body = body[size:]
		switch typ {
		case chunkStringPool:
			if pool == nil {
				p, err := parseStringPool(chunk, hdr)
				if err != nil {
					return err
				}
				pool = p
			}
		case chunkResourceMap:
			if resMap == nil {
				resMap = chunk[hdr:]
				resMap = resMap[:len(resMap)/4*4]
			}
		case chunkStartElement:
			if pool == nil {
				return fmt.Errorf("%w: element before string pool", ErrMalformed)
			}
			if depth >= maxDepth {
				return &LimitError{What: "the element nesting depth", Value: int64(depth + 1), Limit: maxDepth}
			}
			if elements++; elements > maxElements {
				return &LimitError{What: "the number of elements", Value: int64(elements), Limit: maxElements}
			}
			depth++
			el, err := parseElement(chunk, hdr, pool, resMap)
			if err != nil {
				return err
			}
			el.Depth = depth
			if err := fn(el); err != nil {
				return err
			}
		case chunkEndElement:
			if depth == 0 {
				return fmt.Errorf("%w: unbalanced end element", ErrMalformed)
			}
			depth--
		}
	}
	return nil
}

func chunkHeader(b []byte) (typ uint16, hdr, size int, err error) {
	typ = binary.LittleEndian.Uint16(b)
	hdr = int(binary.LittleEndian.Uint16(b[2:]))
	s := binary.LittleEndian.Uint32(b[4:])
	if hdr < 8 || uint64(s) < uint64(hdr) || uint64(s) > uint64(len(b)) {
		return 0, 0, 0, fmt.Errorf("%w: chunk %#04x: bad header (header %d, size %d, %d bytes left)", ErrMalformed, typ, hdr, s, len(b))
	}
	return typ, hdr, int(s), nil
}

type stringPool struct {
	utf8    bool
	count   int
	offsets []byte // count u32 offsets
	strs    []byte // string data
	cache   map[uint32]string
	// decoded counts the bytes of strings decoded so far: string offsets
	// may all point at one long string, so decoding is what is bounded.
	decoded int64
}

func parseStringPool(chunk []byte, hdr int) (*stringPool, error) {
	if hdr < 28 {
		return nil, fmt.Errorf("%w: string pool header too short", ErrMalformed)
	}
	le := binary.LittleEndian
	count := uint64(le.Uint32(chunk[8:]))
	styles := uint64(le.Uint32(chunk[12:]))
	flags := le.Uint32(chunk[16:])
	start := uint64(le.Uint32(chunk[20:]))
	stylesStart := uint64(le.Uint32(chunk[24:]))
	n := uint64(len(chunk))
	if uint64(hdr)+count*4 > n {
		return nil, fmt.Errorf("%w: string pool offsets out of bounds", ErrMalformed)
	}
	end := n
	if styles > 0 {
		if stylesStart < start || stylesStart > n {
			return nil, fmt.Errorf("%w: string pool styles out of bounds", ErrMalformed)
		}
		end = stylesStart
	}
	if count > 0 && start > end {
		return nil, fmt.Errorf("%w: string pool data out of bounds", ErrMalformed)
	}
	if start > end {
		start = end
	}
	return &stringPool{
		utf8:    flags&0x100 != 0,
		count:   int(count),
		offsets: chunk[hdr : uint64(hdr)+count*4],
		strs:    chunk[start:end],
		cache:   make(map[uint32]string),
	}, nil
}

// get returns string i; 0xFFFFFFFF is the empty "no string" index.
func (p *stringPool) get(i uint32) (string, error) {
	if i == 0xFFFFFFFF {
		return "", nil
	}
	if uint64(i) >= uint64(p.count) {
		return "", fmt.Errorf("%w: string index %d out of range (%d strings)", ErrMalformed, i, p.count)
	}
	if s, ok := p.cache[i]; ok {
		return s, nil
	}
	off := uint64(binary.LittleEndian.Uint32(p.offsets[4*i:]))
	if off >= uint64(len(p.strs)) {
		return "", fmt.Errorf("%w: string %d offset out of bounds", ErrMalformed, i)
	}
	b := p.strs[off:]
	var s string
	var err error
	if p.utf8 {
		s, err = decodeUTF8(b)
	} else {
		s, err = decodeUTF16(b)
	}
	if err != nil {
		return "", fmt.Errorf("%w: string %d: %v", ErrMalformed, i, err)
	}
	if p.decoded += int64(len(s)); p.decoded > maxDecoded {
		return "", &LimitError{What: "the size of the strings decoded", Value: p.decoded, Limit: maxDecoded}
	}
	if len(p.cache) < 4096 {
		p.cache[i] = s
	}
	return s, nil
}

func decodeUTF8(b []byte) (string, error) {
	// UTF-16 length, then UTF-8 length, each 1 or 2 bytes.
	_, b, ok := utf8Len(b)
	if !ok {
		return "", errors.New("truncated length")
	}
	n, b, ok := utf8Len(b)
	if !ok || n > len(b) {
		return "", errors.New("truncated string")
	}
	return string(b[:n]), nil
}

func utf8Len(b []byte) (int, []byte, bool) {
	if len(b) < 1 {
		return 0, nil, false
	}
	n := int(b[0])
	if n&0x80 == 0 {
		return n, b[1:], true
	}
	if len(b) < 2 {
		return 0, nil, false
	}
	return (n&0x7f)<<8 | int(b[1]), b[2:], true
}

func decodeUTF16(b []byte) (string, error) {
	if len(b) < 2 {
		return "", errors.New("truncated length")
	}
	le := binary.LittleEndian
	n := int(le.Uint16(b))
	b = b[2:]
	if n&0x8000 != 0 {
		if len(b) < 2 {
			return "", errors.New("truncated length")
		}
		n = (n&0x7fff)<<16 | int(le.Uint16(b))
		b = b[2:]
	}
	if n > len(b)/2 {
		return "", errors.New("truncated string")
	}
	u := make([]uint16, n)
	for i := range u {
		u[i] = le.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u)), nil
}

func parseElement(chunk []byte, hdr int, pool *stringPool, resMap []byte) (*Element, error) {
	ext := chunk[hdr:]
	if len(ext) < 20 {
		return nil, fmt.Errorf("%w: start element too short", ErrMalformed)
	}
	le := binary.LittleEndian
	ns, err := pool.get(le.Uint32(ext))
	if err != nil {
		return nil, err
	}
	name, err := pool.get(le.Uint32(ext[4:]))
	if err != nil {
		return nil, err
	}
	attrStart := int(le.Uint16(ext[8:]))
	attrSize := int(le.Uint16(ext[10:]))
	attrCount := int(le.Uint16(ext[12:]))
	if attrCount > maxAttributes {
		return nil, &LimitError{What: "the number of attributes of an element", Value: int64(attrCount), Limit: maxAttributes}
	}
	if attrCount > 0 && attrSize < 20 {
		return nil, fmt.Errorf("%w: attribute size %d too small", ErrMalformed, attrSize)
	}
	if attrStart+attrCount*attrSize > len(ext) {
		return nil, fmt.Errorf("%w: attributes out of bounds", ErrMalformed)
	}
	el := &Element{Namespace: ns, Name: name, Attributes: make([]Attribute, 0, attrCount)}
	for i := range attrCount {
		a := ext[attrStart+i*attrSize:]
		var at Attribute
		if at.Namespace, err = pool.get(le.Uint32(a)); err != nil {
			return nil, err
		}
		nameIdx := le.Uint32(a[4:])
		if at.Name, err = pool.get(nameIdx); err != nil {
			return nil, err
		}
		if uint64(nameIdx) < uint64(len(resMap)/4) {
			at.ResourceID = le.Uint32(resMap[4*nameIdx:])
		}
		at.rawType = a[15]
		at.Data = le.Uint32(a[16:])
		switch at.rawType {
		case typeString:
			at.Type = ValueString
			if at.str, err = pool.get(at.Data); err != nil {
				return nil, err
			}
		case typeIntDec, typeIntHex:
			at.Type = ValueInt
		case typeBoolean:
			at.Type = ValueBoolean
		case typeReference:
			at.Type = ValueReference
		}
		el.Attributes = append(el.Attributes, at)
	}
	return el, nil
}
