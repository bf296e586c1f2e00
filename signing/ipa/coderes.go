package ipa

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// A resource rule of CodeResources: files matching pattern are omitted or
// optional; among the rules that match, the heaviest wins.
type rule struct {
	pattern  string
	re       *regexp.Regexp
	omit     bool
	optional bool
	weight   float64 // 0: the rule is written as <true/>
}

func compileRules(rs []rule) []rule {
	for i := range rs {
		rs[i].re = regexp.MustCompile(rs[i].pattern)
	}
	return rs
}

// Xcode's default rule sets for iOS (shallow) bundles, exactly as codesign
// writes them.
func iosRules() []rule {
	return compileRules([]rule{
		{pattern: `^.*`},
		{pattern: `^.*\.lproj/`, optional: true, weight: 1000},
		{pattern: `^.*\.lproj/locversion.plist$`, omit: true, weight: 1100},
		{pattern: `^Base\.lproj/`, weight: 1010},
		{pattern: `^version.plist$`},
	})
}

func iosRules2() []rule {
	return compileRules([]rule{
		{pattern: `.*\.dSYM($|/)`, weight: 11},
		{pattern: `^(.*/)?\.DS_Store$`, omit: true, weight: 2000},
		{pattern: `^.*`},
		{pattern: `^.*\.lproj/`, optional: true, weight: 1000},
		{pattern: `^.*\.lproj/locversion.plist$`, omit: true, weight: 1100},
		{pattern: `^Base\.lproj/`, weight: 1010},
		{pattern: `^Info\.plist$`, omit: true, weight: 20},
		{pattern: `^PkgInfo$`, omit: true, weight: 20},
		{pattern: `^embedded\.provisionprofile$`, weight: 20},
		{pattern: `^version\.plist$`, weight: 20},
	})
}

// match returns the heaviest rule matching rel (a rule without a weight
// weighs 1, as in codesign), and whether any matched.
func match(rules []rule, rel string) (rule, bool) {
	var best rule
	found := false
	for _, r := range rules {
		if !r.re.MatchString(rel) {
			continue
		}
		w, bw := max(r.weight, 1), max(best.weight, 1)
		// On equal weights an omitting rule wins, as Xcode's seals show
		// ("^" and "^Info\.plist$" both weigh 20 in older rule sets).
		if !found || w > bw || w == bw && r.omit && !best.omit {
			best, found = r, true
		}
	}
	return best, found
}

// resource is one file sealed by CodeResources.
type resource struct {
	rel     string // relative to the bundle folder
	sum     fileSum
	symlink bool
	target  string
	// nested, when set, seals nested code (a bundle or a loose Mach-O) in
	// files2 by cdhash and designated requirement.
	nested *nestedSeal
}

// nestedSeal is how a parent seals nested code.
type nestedSeal struct {
	cdhash      []byte
	requirement string
}

// sealed is what the rules say about one file: whether it is listed in
// files (v1) and files2, and as optional.
type sealed struct {
	in1, opt1 bool
	in2, opt2 bool
}

func seal(rules1, rules2 []rule, r resource) sealed {
	var s sealed
	if m, ok := match(rules1, r.rel); ok && !m.omit && !r.symlink && r.nested == nil {
		s.in1, s.opt1 = true, m.optional
	}
	if m, ok := match(rules2, r.rel); ok && !m.omit {
		s.in2, s.opt2 = true, m.optional
	}
	return s
}

// buildCodeResources returns _CodeSignature/CodeResources for resources
// (every file of the bundle but its main executable and its own
// _CodeSignature), formatted as Xcode's codesign writes it.
func buildCodeResources(res []resource) []byte {
	rules1, rules2 := iosRules(), iosRules2()
	slices.SortFunc(res, func(a, b resource) int { return strings.Compare(a.rel, b.rel) })
	var w plistWriter
	w.raw("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n<plist version=\"1.0\">\n")
	w.open("dict")
	w.key("files")
	w.open("dict")
	for _, r := range res {
		s := seal(rules1, rules2, r)
		if !s.in1 {
			continue
		}
		w.key(r.rel)
		if s.opt1 {
			w.open("dict")
			w.key("hash")
			w.data(r.sum.sha1)
			w.key("optional")
			w.line("<true/>")
			w.close("dict")
		} else {
			w.data(r.sum.sha1)
		}
	}
	w.close("dict")
	w.key("files2")
	w.open("dict")
	for _, r := range res {
		s := seal(rules1, rules2, r)
		if !s.in2 {
			continue
		}
		w.key(r.rel)
		w.open("dict")
		if r.nested != nil {
			w.key("cdhash")
			w.data(r.nested.cdhash)
			if s.opt2 {
				w.key("optional")
				w.line("<true/>")
			}
			w.key("requirement")
			w.str(r.nested.requirement)
		} else if r.symlink {
			if s.opt2 {
				w.key("optional")
				w.line("<true/>")
			}
			w.key("symlink")
			w.str(r.target)
		} else {
			w.key("hash")
			w.data(r.sum.sha1)
			w.key("hash2")
			w.data(r.sum.sha256)
			if s.opt2 {
				w.key("optional")
				w.line("<true/>")
			}
		}
		w.close("dict")
	}
	w.close("dict")
	for _, set := range []struct {
		name  string
		rules []rule
	}{{"rules", rules1}, {"rules2", rules2}} {
		w.key(set.name)
		w.open("dict")
		rs := slices.Clone(set.rules)
		slices.SortFunc(rs, func(a, b rule) int { return strings.Compare(a.pattern, b.pattern) })
		for _, r := range rs {
			w.key(r.pattern)
			if r.weight == 0 && !r.omit && !r.optional {
				w.line("<true/>")
				continue
			}
			w.open("dict")
			if r.omit {
				w.key("omit")
				w.line("<true/>")
			}
			if r.optional {
				w.key("optional")
				w.line("<true/>")
			}
			w.key("weight")
			w.line("<real>" + strconv.FormatFloat(r.weight, 'f', -1, 64) + "</real>")
			w.close("dict")
		}
		w.close("dict")
	}
	w.close("dict")
	w.raw("</plist>\n")
	return w.buf.Bytes()
}

// plistWriter writes XML plists indented with tabs as CFPropertyList does.
type plistWriter struct {
	buf   bytes.Buffer
	depth int
}

func (w *plistWriter) raw(s string) { w.buf.WriteString(s) }
func (w *plistWriter) line(s string) {
	for range w.depth {
		w.buf.WriteByte('\t')
	}
	w.buf.WriteString(s)
	w.buf.WriteByte('\n')
}
func (w *plistWriter) open(tag string)  { w.line("<" + tag + ">"); w.depth++ }
func (w *plistWriter) close(tag string) { w.depth--; w.line("</" + tag + ">") }
func (w *plistWriter) key(k string)     { w.line("<key>" + escape(k) + "</key>") }
func (w *plistWriter) str(s string)     { w.line("<string>" + escape(s) + "</string>") }
func (w *plistWriter) data(b []byte) {
	w.line("<data>")
	w.line(base64.StdEncoding.EncodeToString(b))
	w.line("</data>")
}

func escape(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	// CFPropertyList leaves quotes alone and keeps newlines as is.
	r := strings.NewReplacer("&#34;", "\"", "&#39;", "'", "&#xA;", "\n", "&#x9;", "\t", "&#xD;", "\r")
	return r.Replace(b.String())
}

// codeResources is a parsed CodeResources, for verification.
type codeResources struct {
	Files  map[string]any `plist:"files"`
	Files2 map[string]any `plist:"files2"`
	Rules  map[string]any `plist:"rules"`
	Rules2 map[string]any `plist:"rules2"`
}

// files2Entry decodes one files2 value.
func files2Entry(v any) (hash1, hash2 []byte, symlink string, optional bool, err error) {
	switch v := v.(type) {
	case []byte:
		return v, nil, "", false, nil
	case map[string]any:
		hash1, _ = v["hash"].([]byte)
		hash2, _ = v["hash2"].([]byte)
		symlink, _ = v["symlink"].(string)
		optional, _ = v["optional"].(bool)
		if hash1 == nil && hash2 == nil && symlink == "" {
			if _, nested := v["cdhash"]; nested {
				return nil, nil, "", optional, nil
			}
			return nil, nil, "", false, fmt.Errorf("no hash")
		}
		return hash1, hash2, symlink, optional, nil
	}
	return nil, nil, "", false, fmt.Errorf("unexpected %T", v)
}

// parseRules reads a CodeResources rule set ("rules2"): the files the
// signer sealed are decided by its own rules, which differ between Xcode
// versions and platforms.
func parseRules(m map[string]any) ([]rule, error) {
	if len(m) == 0 {
		return iosRules2(), nil
	}
	var rs []rule
	for _, pattern := range slices.Sorted(maps.Keys(m)) {
		re, err := regexp.Compile(pattern)
		if err != nil {
			return nil, fmt.Errorf("rule %q: %v", pattern, err)
		}
		r := rule{pattern: pattern, re: re}
		switch v := m[pattern].(type) {
		case bool:
			if !v {
				r.omit = true
			}
		case map[string]any:
			r.omit, _ = v["omit"].(bool)
			r.optional, _ = v["optional"].(bool)
			switch w := v["weight"].(type) {
			case float64:
				r.weight = w
			case uint64:
				r.weight = float64(w)
			case int64:
				r.weight = float64(w)
			}
		default:
			return nil, fmt.Errorf("rule %q: unexpected %T", pattern, v)
		}
		rs = append(rs, r)
	}
	return rs, nil
}
