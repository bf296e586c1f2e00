package apk

import (
	"bytes"
	"strings"
)

// vMFSection is a section of a JAR manifest or signature file, read as
// leniently as apksig and Android read them: lines end in CRLF, LF or CR;
// a line starting with a space continues the previous one; a header
// without ": " is a name with an empty value; names are not validated.
type vMFSection struct {
	start, size int // the bytes of the section, up to and including the blank line that ends it
	attrs       []vMFAttr
	name        string
	named       bool // the first header is "Name"
}

type vMFAttr struct{ name, value string }

// get returns the first value of the attribute called name (ASCII case
// insensitive).
func (s *vMFSection) get(name string) (string, bool) {
	for _, a := range s.attrs {
		if strings.EqualFold(a.name, name) {
			return a.value, true
		}
	}
	return "", false
}

// vMFParser reads sections one after the other.
type vMFParser struct {
	data     []byte
	off      int
	buffered []byte // a line read ahead; non-nil and empty means "end of section"
	hasBuf   bool
}

// vParseMF returns the main section and the individual sections.
func vParseMF(data []byte) (*vMFSection, []*vMFSection) {
	p := &vMFParser{data: data}
	main := p.section()
	if main == nil {
		main = &vMFSection{}
	}
	var out []*vMFSection
	for s := p.section(); s != nil; s = p.section() {
		out = append(out, s)
	}
	return main, out
}

func (p *vMFParser) section() *vMFSection {
	var start int
	var attr []byte
	for {
		start = p.off
		var ok bool
		attr, ok = p.attribute()
		if !ok {
			return nil
		}
		if len(attr) > 0 {
			break
		}
	}
	s := &vMFSection{start: start}
	s.attrs = append(s.attrs, vParseMFAttr(attr))
	for {
		a, ok := p.attribute()
		if !ok || len(a) == 0 {
			break
		}
		s.attrs = append(s.attrs, vParseMFAttr(a))
	}
	s.size = p.off - start
	if strings.EqualFold(s.attrs[0].name, "Name") {
		s.name, s.named = s.attrs[0].value, true
	}
	return s
}

func vParseMFAttr(b []byte) vMFAttr {
	name, value, ok := bytes.Cut(b, []byte(": "))
	if !ok {
		return vMFAttr{name: string(b)}
	}
	return vMFAttr{name: string(name), value: string(value)}
}

// attribute returns the next header with its continuations joined, an
// empty slice at the end of a section, and false at the end of input.
func (p *vMFParser) attribute() ([]byte, bool) {
	if p.hasBuf && len(p.buffered) == 0 {
		p.hasBuf, p.buffered = false, nil
		return []byte{}, true
	}
	line, ok := p.line()
	if !ok {
		if p.hasBuf {
			b := p.buffered
			p.hasBuf, p.buffered = false, nil
			return b, true
		}
		return nil, false
	}
	if len(line) == 0 {
		if p.hasBuf {
			b := p.buffered
			p.hasBuf, p.buffered = true, []byte{}
			return b, true
		}
		return []byte{}, true
	}
	var attr []byte
	if !p.hasBuf {
		attr = append([]byte(nil), line...)
	} else {
		if line[0] != ' ' {
			b := p.buffered
			p.buffered = line
			return b, true
		}
		attr = append(p.buffered, line[1:]...)
		p.hasBuf, p.buffered = false, nil
	}
	for {
		line, ok := p.line()
		switch {
		case !ok:
			return attr, true
		case len(line) == 0:
			p.hasBuf, p.buffered = true, []byte{}
			return attr, true
		case line[0] == ' ':
			attr = append(attr, line[1:]...)
		default:
			p.hasBuf, p.buffered = true, line
			return attr, true
		}
	}
}

// line returns the next line without its end, and false at the end of
// input.
func (p *vMFParser) line() ([]byte, bool) {
	if p.off >= len(p.data) {
		return nil, false
	}
	start := p.off
	end, next := len(p.data), len(p.data)
	if i := bytes.IndexAny(p.data[start:], "\r\n"); i >= 0 {
		end = start + i
		next = end + 1
		if p.data[end] == '\r' && next < len(p.data) && p.data[next] == '\n' {
			next++
		}
	}
	p.off = next
	return p.data[start:end:end], true
}
