package ipa

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/storesign/storesign/internal/plistx"
)

// A resource rule of CodeResources: files matching pattern are omitted or
// optional; among the rules that match, the heaviest wins.
type rule struct {
	pattern  string
	re       *regexp.Regexp
	omit     bool
	optional bool
	nested   bool    // nested code: sealed by cdhash (older and macOS rule sets)
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

// sealHashes is the set of digests a files2 entry carries: codesign
// hashes each file with every hash type of the signature's
// CodeDirectories, "hash" for SHA-1 and "hash2" for SHA-256.
type sealHashes uint8

const (
	sealSHA1 sealHashes = 1 << iota
	sealSHA256
)

// sealHashesOf converts the hash type names of [macho.SliceInfo.HashTypes]
// ("sha1", "sha256"); none known: SHA-256 only, what current codesign
// writes for iOS 11 and later.
func sealHashesOf(types []string) sealHashes {
	var h sealHashes
	for _, t := range types {
		switch t {
		case "sha1":
			h |= sealSHA1
		case "sha256":
			h |= sealSHA256
		}
	}
	if h == 0 {
		h = sealSHA256
	}
	return h
}

// buildCodeResources returns _CodeSignature/CodeResources for resources
// (every file of the bundle but its main executable and its own
// _CodeSignature), byte for byte as codesign writes it for an iOS bundle
// whose CodeDirectories have the hash types hashes.
func buildCodeResources(res []resource, hashes sealHashes) []byte {
	return buildCodeResourcesWith(res, hashes, iosRules(), iosRules2())
}

// buildCodeResourcesWith is buildCodeResources with given rule sets (an
// older Xcode's, in tests). codesign builds the plist as a CFDictionary
// and writes it with CFPropertyListCreateData, which plistx reproduces:
//
//   - "files" (v1 rules) holds the SHA-1 of each file, as bare <data>, or
//     a dict of hash and optional;
//   - "files2" (v2 rules) holds a dict per file with one digest per hash
//     type (hash, hash2) and optional, collapsed to bare <data> when it
//     holds only a SHA-1 "hash" (SHA-1-only signatures); symlinks as
//     {symlink}, nested code as {cdhash, requirement};
//   - "rules" and "rules2": a rule without flags and weight is <true/>,
//     the others a dict of nested, omit, optional and weight (a real).
func buildCodeResourcesWith(res []resource, hashes sealHashes, rules1, rules2 []rule) []byte {
	files := map[string]any{}
	files2 := map[string]any{}
	for _, r := range res {
		s := seal(rules1, rules2, r)
		// A CFString holds only valid Unicode, and no Mac file name is
		// anything else: a name that is not UTF-8 (a zip written on
		// another system) is sealed under its U+FFFD spelling, which
		// Verify then reports as not sealed.
		r.rel = strings.ToValidUTF8(r.rel, "\uFFFD")
		r.target = strings.ToValidUTF8(r.target, "\uFFFD")
		if s.in1 {
			if s.opt1 {
				files[r.rel] = map[string]any{"hash": r.sum.sha1, "optional": true}
			} else {
				files[r.rel] = r.sum.sha1
			}
		}
		if !s.in2 {
			continue
		}
		e := map[string]any{}
		switch {
		case r.nested != nil:
			e["cdhash"] = r.nested.cdhash
			e["requirement"] = r.nested.requirement
		case r.symlink:
			e["symlink"] = r.target
		default:
			if hashes&sealSHA1 != 0 {
				e["hash"] = r.sum.sha1
			}
			if hashes&sealSHA256 != 0 || hashes == 0 {
				e["hash2"] = r.sum.sha256
			}
		}
		if s.opt2 {
			e["optional"] = true
		}
		if h, ok := e["hash"]; ok && len(e) == 1 {
			files2[r.rel] = h
		} else {
			files2[r.rel] = e
		}
	}
	cr := map[string]any{
		"files":  files,
		"files2": files2,
		"rules":  rulesPlist(rules1),
		"rules2": rulesPlist(rules2),
	}
	b, err := plistx.MarshalXML(cr)
	if err != nil {
		// Every string is valid UTF-8 (above) and every value a type
		// plistx writes.
		panic("ipa: internal error: writing CodeResources: " + err.Error())
	}
	return b
}

func rulesPlist(rs []rule) map[string]any {
	m := make(map[string]any, len(rs))
	for _, r := range rs {
		if r.weight == 0 && !r.omit && !r.optional && !r.nested {
			m[r.pattern] = true
			continue
		}
		d := map[string]any{"weight": r.weight}
		if r.omit {
			d["omit"] = true
		}
		if r.optional {
			d["optional"] = true
		}
		if r.nested {
			d["nested"] = true
		}
		m[r.pattern] = d
	}
	return m
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
			r.nested, _ = v["nested"].(bool)
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
