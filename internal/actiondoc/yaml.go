package actiondoc

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Node is a YAML mapping entry: a key with a scalar value or children.
// A sequence item is a Node with Key "-" and the item's text as Value.
type Node struct {
	Key      string
	Value    string
	Children []*Node
}

// Child returns the child named key, or nil.
func (n *Node) Child(key string) *Node {
	if n == nil {
		return nil
	}
	for _, c := range n.Children {
		if c.Key == key {
			return c
		}
	}
	return nil
}

// Get returns the scalar value of the child named key, or "".
func (n *Node) Get(key string) string {
	if c := n.Child(key); c != nil {
		return c.Value
	}
	return ""
}

// ErrSyntax is returned by [Parse] for a line it cannot read.
var ErrSyntax = errors.New("actiondoc: unsupported YAML")

// line is a line of a YAML file without its indentation.
type line struct {
	num    int
	indent int
	text   string
}

// Parse reads the YAML subset of action.yml files into a tree whose root
// has the top-level keys as children.
func Parse(data []byte) (*Node, error) {
	raw := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	p := &parser{raw: raw}
	root := &Node{}
	if err := p.block(root, -1); err != nil {
		return nil, err
	}
	return root, nil
}

type parser struct {
	raw []string
	i   int
}

// next returns the next line that is not blank or a comment, without
// consuming it.
func (p *parser) next() (line, bool) {
	for p.i < len(p.raw) {
		t := p.raw[p.i]
		s := strings.TrimLeft(t, " ")
		if s == "" || strings.HasPrefix(s, "#") {
			p.i++
			continue
		}
		return line{num: p.i + 1, indent: len(t) - len(s), text: strings.TrimRight(s, " ")}, true
	}
	return line{}, false
}

// block reads the entries indented deeper than parent into n.
func (p *parser) block(n *Node, parent int) error {
	indent := -1
	for {
		l, ok := p.next()
		if !ok || l.indent <= parent {
			return nil
		}
		if indent < 0 {
			indent = l.indent
		}
		if l.indent != indent {
			return fmt.Errorf("%w: line %d is indented %d, want %d", ErrSyntax, l.num, l.indent, indent)
		}
		p.i++
		if l.text == "-" || strings.HasPrefix(l.text, "- ") {
			// A sequence item: kept as text, with the lines under it.
			item := &Node{Key: "-", Value: strings.TrimSpace(strings.TrimPrefix(l.text, "-"))}
			n.Children = append(n.Children, item)
			p.skip(l.indent)
			continue
		}
		key, val, ok := cutKey(l.text)
		if !ok {
			return fmt.Errorf("%w: line %d: %q is no key: value", ErrSyntax, l.num, l.text)
		}
		c := &Node{Key: key}
		n.Children = append(n.Children, c)
		switch {
		case val == "":
			if err := p.block(c, l.indent); err != nil {
				return err
			}
		case val == ">" || val == ">-" || val == "|" || val == "|-":
			c.Value = p.scalar(l.indent, val[0] == '>')
		default:
			v, err := unquote(val)
			if err != nil {
				return fmt.Errorf("%w: line %d: %v", ErrSyntax, l.num, err)
			}
			c.Value = v
		}
	}
}

// skip consumes the lines indented deeper than indent.
func (p *parser) skip(indent int) {
	for p.i < len(p.raw) {
		t := p.raw[p.i]
		s := strings.TrimLeft(t, " ")
		if s != "" && len(t)-len(s) <= indent {
			return
		}
		p.i++
	}
}

// scalar reads a block scalar under a key at indent: folded (lines joined
// with spaces, a blank line a line break) or literal.
func (p *parser) scalar(indent int, folded bool) string {
	var ls []string
	min := -1
	for p.i < len(p.raw) {
		t := p.raw[p.i]
		s := strings.TrimLeft(t, " ")
		if s != "" && len(t)-len(s) <= indent {
			break
		}
		if s != "" && (min < 0 || len(t)-len(s) < min) {
			min = len(t) - len(s)
		}
		ls = append(ls, t)
		p.i++
	}
	for len(ls) > 0 && strings.TrimSpace(ls[len(ls)-1]) == "" {
		ls = ls[:len(ls)-1]
	}
	for i, l := range ls {
		if len(l) >= min {
			ls[i] = strings.TrimRight(l[min:], " ")
		} else {
			ls[i] = ""
		}
	}
	if !folded {
		return strings.Join(ls, "\n")
	}
	var b strings.Builder
	for i, l := range ls {
		switch {
		case l == "":
			b.WriteString("\n")
		case i > 0 && ls[i-1] != "":
			b.WriteString(" " + l)
		default:
			b.WriteString(l)
		}
	}
	return b.String()
}

// cutKey splits "key: value" and "key:".
func cutKey(s string) (key, val string, ok bool) {
	if strings.HasSuffix(s, ":") && !strings.ContainsAny(s[:len(s)-1], " \"'") {
		return s[:len(s)-1], "", true
	}
	i := strings.Index(s, ": ")
	if i <= 0 || strings.ContainsAny(s[:i], "\"'") {
		return "", "", false
	}
	return s[:i], strings.TrimSpace(s[i+2:]), true
}

// unquote reads a plain, single- or double-quoted scalar.
func unquote(v string) (string, error) {
	switch {
	case strings.HasPrefix(v, `"`):
		return strconv.Unquote(v)
	case strings.HasPrefix(v, "'"):
		if len(v) < 2 || !strings.HasSuffix(v, "'") {
			return "", fmt.Errorf("unclosed quote in %s", v)
		}
		return strings.ReplaceAll(v[1:len(v)-1], "''", "'"), nil
	}
	return v, nil
}
