package actions

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// InputError is a mistake in an action's inputs: a missing, contradictory
// or malformed value, or a secret that does not open. Its annotation names
// the input to fix.
type InputError struct {
	// Input is the input to fix, as action.yml names it ("p12-password");
	// several are joined with " and ".
	Input string
	// Msg says what is wrong and what to do, after the input's name.
	Msg string
	// Err is the underlying error, if any (never printed: it may come from
	// a parser that quotes its input).
	Err error
}

func (e *InputError) Error() string { return fmt.Sprintf("input %s %s", e.Input, e.Msg) }

func (e *InputError) Unwrap() error { return e.Err }

// Title is the annotation's title: which input to fix.
func (e *InputError) Title() string { return "Fix the " + e.Input + " input" }

// errNotBase64 is the error of a value outside the base64 alphabets.
var errNotBase64 = errors.New("actions: not base64")

// decodeBase64 decodes a standard or URL-safe base64 value, padded or not,
// ignoring line breaks and spaces (wrapped output of base64(1), a secret
// pasted with a trailing newline).
func decodeBase64(s string) ([]byte, error) {
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n':
			return -1
		}
		return r
	}, s)
	if s == "" || strings.Contains(s, "-----BEGIN") {
		// A PEM file pasted as is: its dashes and letters would pass
		// for URL-safe base64.
		return nil, errNotBase64
	}
	enc := base64.RawStdEncoding
	if strings.ContainsAny(s, "-_") {
		enc = base64.RawURLEncoding
	}
	b, err := enc.DecodeString(strings.TrimRight(s, "="))
	if err != nil || len(b) == 0 {
		return nil, errNotBase64
	}
	return b, nil
}

// splitBase64List splits a list of base64 values: one per line, or blocks
// wrapped at 64 or 76 columns (base64(1), openssl) one after the other or
// separated by blank lines. A line continues the block before it when that
// block's lines are all exactly 64 or 76 long and the line is no longer.
func splitBase64List(s string) []string {
	var (
		out   []string
		cur   []string
		width int
	)
	flush := func() {
		if len(cur) > 0 {
			out = append(out, strings.Join(cur, ""))
		}
		cur, width = nil, 0
	}
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			flush()
			continue
		}
		if len(cur) > 0 && (width == 64 || width == 76) && len(cur[len(cur)-1]) == width && len(line) <= width {
			cur = append(cur, line)
			continue
		}
		flush()
		cur, width = []string{line}, len(line)
	}
	flush()
	return out
}
