package plistx

import (
	"bytes"
	"math"
	"strconv"
	"time"
)

const xmlHeader = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
`

// MarshalXML encodes v as CoreFoundation's XML writer does (see the
// package documentation).
func MarshalXML(v any) ([]byte, error) {
	n, err := normalize(v, "")
	if err != nil {
		return nil, err
	}
	var w xmlWriter
	w.buf.WriteString(xmlHeader)
	w.value(n, 0)
	w.buf.WriteString("</plist>\n")
	return w.buf.Bytes(), nil
}

type xmlWriter struct {
	buf bytes.Buffer
}

func (w *xmlWriter) indent(depth int) {
	for range depth {
		w.buf.WriteByte('\t')
	}
}

// escaped writes s with only &, < and > escaped, as CF does; quotes and
// control characters are written as they are.
func (w *xmlWriter) escaped(s string) {
	start := 0
	for i := 0; i < len(s); i++ {
		var rep string
		switch s[i] {
		case '<':
			rep = "&lt;"
		case '>':
			rep = "&gt;"
		case '&':
			rep = "&amp;"
		default:
			continue
		}
		w.buf.WriteString(s[start:i])
		w.buf.WriteString(rep)
		start = i + 1
	}
	w.buf.WriteString(s[start:])
}

func (w *xmlWriter) value(n *node, depth int) {
	w.indent(depth)
	switch n.kind {
	case kString:
		w.buf.WriteString("<string>")
		w.escaped(n.s)
		w.buf.WriteString("</string>\n")
	case kBool:
		if n.bl {
			w.buf.WriteString("<true/>\n")
		} else {
			w.buf.WriteString("<false/>\n")
		}
	case kInt:
		w.buf.WriteString("<integer>")
		w.buf.WriteString(strconv.FormatInt(n.i, 10))
		w.buf.WriteString("</integer>\n")
	case kUint:
		w.buf.WriteString("<integer>")
		w.buf.WriteString(strconv.FormatUint(n.u, 10))
		w.buf.WriteString("</integer>\n")
	case kReal:
		w.buf.WriteString("<real>")
		w.buf.WriteString(formatReal(n.f))
		w.buf.WriteString("</real>\n")
	case kDate:
		w.buf.WriteString("<date>")
		w.buf.WriteString(formatDate(n.t))
		w.buf.WriteString("</date>\n")
	case kData:
		w.buf.WriteString("<data>\n")
		w.base64(n.b, depth)
		w.indent(depth)
		w.buf.WriteString("</data>\n")
	case kArray:
		if len(n.arr) == 0 {
			w.buf.WriteString("<array/>\n")
			return
		}
		w.buf.WriteString("<array>\n")
		for _, c := range n.arr {
			w.value(c, depth+1)
		}
		w.indent(depth)
		w.buf.WriteString("</array>\n")
	case kDict:
		if len(n.keys) == 0 {
			w.buf.WriteString("<dict/>\n")
			return
		}
		w.buf.WriteString("<dict>\n")
		for i, k := range n.keys {
			w.indent(depth + 1)
			w.buf.WriteString("<key>")
			w.escaped(k)
			w.buf.WriteString("</key>\n")
			w.value(n.vals[i], depth+1)
		}
		w.indent(depth)
		w.buf.WriteString("</dict>\n")
	}
}

const b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// base64 writes b as CF does: lines of 76 characters less 8 per level of
// indentation, indentation and line length counting at most 8 levels.
// 76-8k is a multiple of 4, so lines break between groups of four.
func (w *xmlWriter) base64(b []byte, depth int) {
	depth = min(depth, 8)
	perLine := (76 - 8*depth) / 4 * 3 // input bytes per full line
	for len(b) > 0 {
		chunk := b[:min(perLine, len(b))]
		b = b[len(chunk):]
		w.indent(depth)
		for len(chunk) >= 3 {
			v := uint(chunk[0])<<16 | uint(chunk[1])<<8 | uint(chunk[2])
			w.buf.Write([]byte{b64[v>>18&63], b64[v>>12&63], b64[v>>6&63], b64[v&63]})
			chunk = chunk[3:]
		}
		switch len(chunk) {
		case 1:
			v := uint(chunk[0]) << 16
			w.buf.Write([]byte{b64[v>>18&63], b64[v>>12&63], '=', '='})
		case 2:
			v := uint(chunk[0])<<16 | uint(chunk[1])<<8
			w.buf.Write([]byte{b64[v>>18&63], b64[v>>12&63], b64[v>>6&63], '='})
		}
		w.buf.WriteByte('\n')
	}
}

// formatReal formats f as CF's __CFNumberCopyFormattingDescriptionAsFloat64:
// "nan", "+infinity", "-infinity", "0.0" for both zeros, else C's "%.17g".
func formatReal(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "+infinity"
	case math.IsInf(f, -1):
		return "-infinity"
	case f == 0:
		return "0.0"
	}
	return strconv.FormatFloat(f, 'g', 17, 64)
}

// formatDate writes t in UTC to the second, as CF (which drops the
// fraction: CFAbsoluteTimeGetGregorianDate, then an int cast of the
// seconds).
func formatDate(t time.Time) string {
	t = t.UTC()
	// Round toward negative infinity like CF's floor of the absolute
	// time for whole seconds; the fraction is dropped.
	t = t.Truncate(time.Second)
	return t.Format("2006-01-02T15:04:05Z")
}
