package drivetest

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
)

// The files.list query subset: comparisons of name, mimeType, trashed and
// fullText-free fields, "'ID' in parents", joined with and, or, not and
// parentheses. Strings are single-quoted with \' and \\ escapes.

type query func(f *entry) bool

type qtok struct {
	kind byte // 's' string, 'w' word, 'o' operator, '(' ')'
	val  string
}

func lexQuery(s string) ([]qtok, error) {
	var toks []qtok
	for i := 0; i < len(s); {
		ch := s[i]
		switch {
		case ch == ' ' || ch == '\t' || ch == '\n':
			i++
		case ch == '(' || ch == ')':
			toks = append(toks, qtok{kind: ch})
			i++
		case ch == '\'':
			var b strings.Builder
			i++
			for {
				if i >= len(s) {
					return nil, fmt.Errorf("unterminated string")
				}
				if s[i] == '\\' && i+1 < len(s) {
					b.WriteByte(s[i+1])
					i += 2
					continue
				}
				if s[i] == '\'' {
					i++
					break
				}
				b.WriteByte(s[i])
				i++
			}
			toks = append(toks, qtok{kind: 's', val: b.String()})
		case ch == '=' || ch == '!' || ch == '<' || ch == '>':
			j := i + 1
			if j < len(s) && s[j] == '=' {
				j++
			}
			toks = append(toks, qtok{kind: 'o', val: s[i:j]})
			i = j
		default:
			j := i
			for j < len(s) && (unicode.IsLetter(rune(s[j])) || unicode.IsDigit(rune(s[j])) || s[j] == '_' || s[j] == '.') {
				j++
			}
			if j == i {
				return nil, fmt.Errorf("unexpected %q", s[i])
			}
			toks = append(toks, qtok{kind: 'w', val: s[i:j]})
			i = j
		}
	}
	return toks, nil
}

type qparser struct {
	toks []qtok
	pos  int
}

func parseQuery(s string) (query, error) {
	if strings.TrimSpace(s) == "" {
		return func(*entry) bool { return true }, nil
	}
	toks, err := lexQuery(s)
	if err != nil {
		return nil, err
	}
	p := &qparser{toks: toks}
	q, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.pos != len(p.toks) {
		return nil, fmt.Errorf("unexpected %q", p.toks[p.pos].val)
	}
	return q, nil
}

func (p *qparser) peekWord(w string) bool {
	return p.pos < len(p.toks) && p.toks[p.pos].kind == 'w' && strings.EqualFold(p.toks[p.pos].val, w)
}

func (p *qparser) or() (query, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.peekWord("or") {
		p.pos++
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		a, b := l, r
		l = func(f *entry) bool { return a(f) || b(f) }
	}
	return l, nil
}

func (p *qparser) and() (query, error) {
	l, err := p.not()
	if err != nil {
		return nil, err
	}
	for p.peekWord("and") {
		p.pos++
		r, err := p.not()
		if err != nil {
			return nil, err
		}
		a, b := l, r
		l = func(f *entry) bool { return a(f) && b(f) }
	}
	return l, nil
}

func (p *qparser) not() (query, error) {
	if p.peekWord("not") {
		p.pos++
		q, err := p.not()
		if err != nil {
			return nil, err
		}
		return func(f *entry) bool { return !q(f) }, nil
	}
	return p.atom()
}

func (p *qparser) next() (qtok, error) {
	if p.pos >= len(p.toks) {
		return qtok{}, fmt.Errorf("unexpected end of query")
	}
	t := p.toks[p.pos]
	p.pos++
	return t, nil
}

func (p *qparser) atom() (query, error) {
	t, err := p.next()
	if err != nil {
		return nil, err
	}
	if t.kind == '(' {
		q, err := p.or()
		if err != nil {
			return nil, err
		}
		if c, err := p.next(); err != nil || c.kind != ')' {
			return nil, fmt.Errorf("missing )")
		}
		return q, nil
	}
	if t.kind == 's' {
		// 'value' in parents
		if !p.peekWord("in") {
			return nil, fmt.Errorf("expected 'in' after %q", t.val)
		}
		p.pos++
		f, err := p.next()
		if err != nil || f.kind != 'w' || f.val != "parents" {
			return nil, fmt.Errorf("only \"'ID' in parents\" is supported")
		}
		id := t.val
		return func(e *entry) bool { return slices.Contains(e.Parents, id) }, nil
	}
	if t.kind != 'w' {
		return nil, fmt.Errorf("unexpected %q", t.val)
	}
	field := t.val
	op, err := p.next()
	if err != nil {
		return nil, err
	}
	if !(op.kind == 'o' || (op.kind == 'w' && op.val == "contains")) {
		return nil, fmt.Errorf("expected an operator after %s", field)
	}
	v, err := p.next()
	if err != nil {
		return nil, err
	}
	switch field {
	case "trashed", "starred":
		if v.kind != 'w' || (v.val != "true" && v.val != "false") {
			return nil, fmt.Errorf("%s wants true or false", field)
		}
		want := v.val == "true"
		get := func(e *entry) bool { return e.Trashed }
		if field == "starred" {
			get = func(*entry) bool { return false }
		}
		switch op.val {
		case "=":
			return func(e *entry) bool { return get(e) == want }, nil
		case "!=":
			return func(e *entry) bool { return get(e) != want }, nil
		}
		return nil, fmt.Errorf("bad operator %s for %s", op.val, field)
	case "name", "mimeType":
		if v.kind != 's' {
			return nil, fmt.Errorf("%s wants a quoted string", field)
		}
		get := func(e *entry) string { return e.Name }
		if field == "mimeType" {
			get = func(e *entry) string { return e.MimeType }
		}
		s := v.val
		switch op.val {
		case "=":
			return func(e *entry) bool { return get(e) == s }, nil
		case "!=":
			return func(e *entry) bool { return get(e) != s }, nil
		case "contains":
			if field == "name" {
				// Drive matches name prefixes of words; a substring
				// match is a superset, good enough for a fake.
				return func(e *entry) bool { return strings.Contains(strings.ToLower(get(e)), strings.ToLower(s)) }, nil
			}
			return func(e *entry) bool { return strings.Contains(get(e), s) }, nil
		}
		return nil, fmt.Errorf("bad operator %s for %s", op.val, field)
	}
	return nil, fmt.Errorf("field %q is not supported by drivetest", field)
}
