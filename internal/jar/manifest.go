package jar

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// Attribute is one "Name: value" header of a manifest section.
type Attribute struct {
	Name  string
	Value string
}

// Attributes is an ordered list of headers. Names compare without regard
// to ASCII case, as in java.util.jar.Attributes.
type Attributes []Attribute

// Get returns the value of the first attribute called name and whether it
// exists.
func (a Attributes) Get(name string) (string, bool) {
	for _, at := range a {
		if strings.EqualFold(at.Name, name) {
			return at.Value, true
		}
	}
	return "", false
}

// Set replaces the value of the attribute called name, or appends it.
func (a *Attributes) Set(name, value string) {
	for i, at := range *a {
		if strings.EqualFold(at.Name, name) {
			(*a)[i].Value = value
			return
		}
	}
	*a = append(*a, Attribute{name, value})
}

// Delete removes every attribute for which drop returns true.
func (a *Attributes) Delete(drop func(Attribute) bool) {
	out := (*a)[:0]
	for _, at := range *a {
		if !drop(at) {
			out = append(out, at)
		}
	}
	*a = out
}

// Section is a named (per-entry) section of a manifest or signature file.
type Section struct {
	// Name is the value of the section's "Name" header: the entry name.
	Name string
	// Attrs are the section's other headers, in order.
	Attrs Attributes
	// Raw holds the section's bytes as parsed, from its "Name:" line to
	// the end of the blank line that closes it (or the end of the file):
	// exactly the bytes a .SF per-entry digest covers. It is nil for
	// sections built in memory.
	Raw []byte
}

// Manifest is a JAR manifest (META-INF/MANIFEST.MF) or signature file
// (.SF): main attributes followed by named sections.
type Manifest struct {
	// Main holds the main attributes, in order.
	Main Attributes
	// MainRaw holds the main section's bytes as parsed, including the
	// blank line that closes it: what "-Digest-Manifest-Main-Attributes"
	// covers. Nil for manifests built in memory.
	MainRaw []byte
	// Sections holds the named sections in file order. Parsing keeps
	// duplicates; [Manifest.Section] returns the first.
	Sections []*Section
}

// Section returns the first section called name, or nil.
func (m *Manifest) Section(name string) *Section {
	for _, s := range m.Sections {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Marshal writes the manifest as java.util.jar.Manifest.write does: the
// version attribute (Manifest-Version, else Signature-Version) first, then
// the other main attributes, a blank line, then each section as "Name:"
// line, attributes and blank line. Lines end with CRLF and are wrapped at
// 72 bytes, continuation lines starting with one space. Raw bytes are
// ignored.
func (m *Manifest) Marshal() []byte {
	var b bytes.Buffer
	writeMain(&b, m.Main)
	for _, s := range m.Sections {
		writeSection(&b, s)
	}
	return b.Bytes()
}

// MarshalSection writes one section as [Manifest.Marshal] would, closing
// blank line included.
func MarshalSection(s *Section) []byte {
	var b bytes.Buffer
	writeSection(&b, s)
	return b.Bytes()
}

func writeMain(b *bytes.Buffer, main Attributes) {
	version := -1
	for _, vn := range []string{"Manifest-Version", "Signature-Version"} {
		for i, a := range main {
			if strings.EqualFold(a.Name, vn) {
				version = i
				break
			}
		}
		if version >= 0 {
			break
		}
	}
	if version >= 0 {
		writeLine(b, main[version].Name+": "+main[version].Value)
	}
	for i, a := range main {
		if i != version {
			writeLine(b, a.Name+": "+a.Value)
		}
	}
	b.WriteString("\r\n")
}

func writeSection(b *bytes.Buffer, s *Section) {
	writeLine(b, "Name: "+s.Name)
	for _, a := range s.Attrs {
		writeLine(b, a.Name+": "+a.Value)
	}
	b.WriteString("\r\n")
}

// writeLine writes line wrapped as Java's Manifest.println72 does: at most
// 72 bytes per line, continuations of one space and 71 bytes. Like Java 11
// and later it splits at byte boundaries, inside multi-byte characters if
// need be.
func writeLine(b *bytes.Buffer, line string) {
	if len(line) > 0 {
		b.WriteByte(line[0])
		line = line[1:]
		for len(line) > 71 {
			b.WriteString(line[:71])
			b.WriteString("\r\n ")
			line = line[71:]
		}
		b.WriteString(line)
	}
	b.WriteString("\r\n")
}

// ErrManifest is wrapped by every manifest parsing error.
var ErrManifest = errors.New("jar: malformed manifest")

// ParseManifest parses a manifest or signature file. It is tolerant as
// Java's reader is: lines may end in CRLF, LF or CR, long values continue
// on lines that start with one space, and several blank lines may separate
// sections. Each section keeps its raw bytes for digesting.
func ParseManifest(data []byte) (*Manifest, error) {
	m := &Manifest{}
	pos := 0
	// Main section: from the start to the first blank line.
	main, raw, next, err := parseSection(data, 0, true)
	if err != nil {
		return nil, err
	}
	m.Main = main
	m.MainRaw = data[:raw]
	pos = next
	for pos < len(data) {
		// Skip extra blank lines between sections.
		if n := lineEnd(data, pos); n == pos {
			pos = skipEOL(data, pos)
			continue
		}
		start := pos
		attrs, end, next, err := parseSection(data, pos, false)
		if err != nil {
			return nil, err
		}
		if len(attrs) == 0 || !strings.EqualFold(attrs[0].Name, "Name") {
			return nil, fmt.Errorf("%w: section at byte %d does not start with a Name header", ErrManifest, start)
		}
		if attrs[0].Value == "" {
			return nil, fmt.Errorf("%w: section at byte %d has an empty Name", ErrManifest, start)
		}
		m.Sections = append(m.Sections, &Section{Name: attrs[0].Value, Attrs: attrs[1:], Raw: data[start:end]})
		pos = next
	}
	return m, nil
}

// parseSection reads headers from pos up to and including the blank line
// that ends the section. It returns the attributes, the end of the raw
// section (after the blank line, or the end of data) and where the next
// section may start.
func parseSection(data []byte, pos int, main bool) (attrs Attributes, end, next int, err error) {
	var cur []byte // the header being read, continuations joined
	flush := func(at int) error {
		if cur == nil {
			return nil
		}
		name, value, ok := bytes.Cut(cur, []byte(": "))
		if !ok {
			// Java accepts "Name:" with nothing after only as an error;
			// be tolerant of "Name:" at the end of a value.
			if n, found := bytes.CutSuffix(cur, []byte(":")); found {
				name, value, ok = n, nil, true
			}
		}
		if !ok || !validName(name) {
			return fmt.Errorf("%w: invalid header %q at byte %d", ErrManifest, truncate(cur, 40), at)
		}
		attrs = append(attrs, Attribute{Name: string(name), Value: string(value)})
		cur = nil
		return nil
	}
	lineStart := pos
	for pos < len(data) {
		e := lineEnd(data, pos)
		line := data[pos:e]
		nextLine := skipEOL(data, e)
		if len(line) == 0 {
			if e == len(data) {
				pos = e
				break
			}
			if err := flush(lineStart); err != nil {
				return nil, 0, 0, err
			}
			return attrs, nextLine, nextLine, nil
		}
		if line[0] == ' ' {
			if cur == nil {
				return nil, 0, 0, fmt.Errorf("%w: continuation line without a header at byte %d", ErrManifest, pos)
			}
			cur = append(cur, line[1:]...)
		} else {
			if err := flush(lineStart); err != nil {
				return nil, 0, 0, err
			}
			lineStart = pos
			cur = append([]byte{}, line...)
		}
		pos = nextLine
	}
	if err := flush(lineStart); err != nil {
		return nil, 0, 0, err
	}
	return attrs, len(data), len(data), nil
}

func validName(name []byte) bool {
	if len(name) == 0 || len(name) > 70 {
		return false
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// lineEnd returns the index of the CR or LF that ends the line at pos, or
// len(data).
func lineEnd(data []byte, pos int) int {
	if i := bytes.IndexAny(data[pos:], "\r\n"); i >= 0 {
		return pos + i
	}
	return len(data)
}

// skipEOL skips the CRLF, LF or CR at e.
func skipEOL(data []byte, e int) int {
	switch {
	case e >= len(data):
		return len(data)
	case data[e] == '\r' && e+1 < len(data) && data[e+1] == '\n':
		return e + 2
	}
	return e + 1
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}
