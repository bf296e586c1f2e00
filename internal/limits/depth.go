package limits

import (
	"bytes"
	"encoding/binary"
)

// MaxNesting is the nesting depth the checks below allow by default: real
// profiles, entitlements, Info.plists and CMS signatures nest less than 20
// deep, and the recursive parsers storesign uses (go.mozilla.org/pkcs7's
// BER converter, howett.net/plist) exhaust the stack, a crash no recover
// catches, somewhere past a few hundred thousand levels.
const MaxNesting = 256

// CheckBERNesting returns an *Error when the BER (or DER) encoding in b
// nests constructed values more than max deep. It reads only the headers,
// in a loop, and stops without error at the first header it cannot read:
// errors of form are the real parser's to report. what names the input
// ("CMS signature of the profile").
func CheckBERNesting(what string, b []byte, max int) error {
	type open struct{ end int } // -1: indefinite length, ends at 00 00
	var stack []open
	pos := 0
	for pos < len(b) {
		if n := len(stack); n > 0 {
			top := stack[n-1]
			if top.end < 0 && pos+1 < len(b) && b[pos] == 0 && b[pos+1] == 0 {
				stack = stack[:n-1]
				pos += 2
				continue
			}
			if top.end >= 0 && pos >= top.end {
				stack = stack[:n-1]
				continue
			}
		}
		tag := b[pos]
		pos++
		if tag&0x1f == 0x1f { // high tag number form
			for pos < len(b) && b[pos]&0x80 != 0 {
				pos++
			}
			pos++
		}
		if pos >= len(b) {
			return nil
		}
		l := int64(b[pos])
		pos++
		indefinite := false
		switch {
		case l == 0x80:
			indefinite = true
		case l > 0x80:
			n := int(l & 0x7f)
			if n > 8 || pos+n > len(b) {
				return nil
			}
			l = 0
			for _, c := range b[pos : pos+n] {
				if l > (1<<55)-1 {
					return nil
				}
				l = l<<8 | int64(c)
			}
			pos += n
		}
		if !indefinite && !InRange(int64(pos), l, int64(len(b))) {
			return nil
		}
		if tag&0x20 == 0 { // primitive: skip the contents
			if indefinite {
				return nil
			}
			pos += int(l)
			continue
		}
		end := -1
		if !indefinite {
			end = pos + int(l)
		}
		stack = append(stack, open{end})
		if len(stack) > max {
			return &Error{What: "nesting depth of the " + what, Value: -1, Limit: int64(max), Fix: "check that it is the right file"}
		}
	}
	return nil
}

// CheckPlistNesting returns an *Error when the property list in b (XML,
// binary or OpenStep text) nests arrays and dictionaries more than max
// deep. It stops without error where it cannot read the list: errors of
// form are the real parser's to report.
func CheckPlistNesting(what string, b []byte, max int) error {
	var depth int
	switch {
	case bytes.HasPrefix(b, []byte("bplist")):
		depth = binaryPlistDepth(b, max)
	case bytes.HasPrefix(bytes.TrimLeft(b, " \t\r\n\ufeff"), []byte("<")):
		depth = xmlPlistDepth(b, max)
	default:
		depth = textPlistDepth(b, max)
	}
	if depth > max {
		return &Error{What: "nesting depth of the " + what, Value: -1, Limit: int64(max), Fix: "check that it is the right file"}
	}
	return nil
}

// xmlPlistDepth returns the deepest nesting of <array> and <dict>
// elements, or max+1 as soon as it is passed.
func xmlPlistDepth(b []byte, max int) int {
	depth, deepest := 0, 0
	for i := 0; i < len(b); i++ {
		if b[i] != '<' {
			continue
		}
		rest := b[i+1:]
		skipTo := func(end string) {
			if j := bytes.Index(rest, []byte(end)); j >= 0 {
				i += j + len(end)
			} else {
				i = len(b)
			}
		}
		switch {
		case bytes.HasPrefix(rest, []byte("!--")):
			skipTo("-->")
		case bytes.HasPrefix(rest, []byte("![CDATA[")):
			skipTo("]]>")
		case bytes.HasPrefix(rest, []byte("/array")), bytes.HasPrefix(rest, []byte("/dict")):
			depth--
		case bytes.HasPrefix(rest, []byte("array")), bytes.HasPrefix(rest, []byte("dict")):
			j := bytes.IndexByte(rest, '>')
			if j < 0 {
				return deepest
			}
			if rest[j-1] == '/' { // <array/>
				break
			}
			depth++
			if depth > deepest {
				deepest = depth
				if deepest > max {
					return deepest
				}
			}
		}
	}
	return deepest
}

// textPlistDepth returns the deepest nesting of ( and { in an OpenStep
// property list, outside quoted strings and comments.
func textPlistDepth(b []byte, max int) int {
	depth, deepest := 0, 0
	for i := 0; i < len(b); i++ {
		switch c := b[i]; c {
		case '"', '\'':
			for i++; i < len(b) && b[i] != c; i++ {
				if b[i] == '\\' {
					i++
				}
			}
		case '/':
			if i+1 < len(b) && b[i+1] == '*' {
				if j := bytes.Index(b[i+2:], []byte("*/")); j >= 0 {
					i += j + 3
				} else {
					return deepest
				}
			} else if i+1 < len(b) && b[i+1] == '/' {
				if j := bytes.IndexByte(b[i:], '\n'); j >= 0 {
					i += j
				} else {
					return deepest
				}
			}
		case '(', '{':
			depth++
			if depth > deepest {
				deepest = depth
				if deepest > max {
					return deepest
				}
			}
		case ')', '}':
			depth--
		}
	}
	return deepest
}

// binaryPlistDepth returns the longest chain of container objects in a
// binary property list (bplist00), or max+1 as soon as one is longer; 0
// when it cannot read the list (or meets a cycle: the parser refuses
// those).
func binaryPlistDepth(b []byte, max int) int {
	if len(b) < 8+32 {
		return 0
	}
	t := b[len(b)-32:]
	offSize, refSize := int(t[6]), int(t[7])
	numObjects := binary.BigEndian.Uint64(t[8:])
	top := binary.BigEndian.Uint64(t[16:])
	tableOff := binary.BigEndian.Uint64(t[24:])
	if offSize < 1 || offSize > 8 || refSize < 1 || refSize > 8 || numObjects == 0 || top >= numObjects ||
		numObjects > uint64(len(b)) || tableOff >= uint64(len(b)) || numObjects*uint64(offSize) > uint64(len(b))-tableOff {
		return 0
	}
	n := int(numObjects)
	be := func(p []byte) uint64 {
		var v uint64
		for _, c := range p {
			v = v<<8 | uint64(c)
		}
		return v
	}
	// children returns the object references of container object i
	// (nil for a scalar), and false when the list cannot be read.
	children := func(i int) ([]byte, bool, bool) {
		o := be(b[int(tableOff)+i*offSize : int(tableOff)+(i+1)*offSize])
		if o >= uint64(len(b)) {
			return nil, false, false
		}
		p := int(o)
		marker := b[p]
		kind := marker >> 4
		if kind != 0xA && kind != 0xB && kind != 0xC && kind != 0xD {
			return nil, false, true
		}
		count := uint64(marker & 0x0f)
		p++
		if count == 0x0f {
			if p >= len(b) || b[p]>>4 != 0x1 {
				return nil, false, false
			}
			size := 1 << (b[p] & 0x0f)
			if size > 8 || p+1+size > len(b) {
				return nil, false, false
			}
			count = be(b[p+1 : p+1+size])
			p += 1 + size
		}
		if kind == 0xD {
			count *= 2
		}
		if count > uint64(len(b)) || !InRange(int64(p), int64(count)*int64(refSize), int64(len(b))) {
			return nil, false, false
		}
		return b[p : p+int(count)*refSize], true, true
	}
	const (
		unseen = iota
		onPath
		done
	)
	state := make([]uint8, n)
	height := make([]int32, n) // containers on the longest path down, itself included
	type frame struct {
		obj  int
		refs []byte
	}
	refs, container, ok := children(int(top))
	if !ok || !container {
		return 0
	}
	stack := []frame{{int(top), refs}}
	state[top] = onPath
	for len(stack) > 0 {
		f := &stack[len(stack)-1]
		if len(f.refs) == 0 {
			// height holds the highest child so far: add the container.
			height[f.obj]++
			state[f.obj] = done
			stack = stack[:len(stack)-1]
			if len(stack) > 0 {
				parent := stack[len(stack)-1].obj
				height[parent] = max32(height[parent], height[f.obj])
			}
			continue
		}
		child := be(f.refs[:refSize])
		f.refs = f.refs[refSize:]
		if child >= numObjects {
			return 0
		}
		c := int(child)
		switch state[c] {
		case onPath:
			return 0 // a cycle
		case done:
			height[f.obj] = max32(height[f.obj], height[c])
			continue
		}
		r, container, ok := children(c)
		if !ok {
			return 0
		}
		if !container {
			state[c] = done
			continue
		}
		state[c] = onPath
		stack = append(stack, frame{c, r})
		if len(stack) > max {
			return max + 1
		}
	}
	return int(height[top])
}

func max32(a, b int32) int32 {
	if a > b {
		return a
	}
	return b
}
