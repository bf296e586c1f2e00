package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/ianaindex"
	"golang.org/x/text/encoding/unicode"

	"github.com/storesign/storesign/internal/atomicfile"
	"github.com/storesign/storesign/signing"
)

// passwordReader reads apksigner's password specs as its
// PasswordRetriever does: pass:PASSWORD, env:VAR, file:PATH and stdin.
// A file, and standard input, give one line per password asked, so
// "--ks-pass stdin --key-pass stdin" reads two lines and
// "--ks-pass file:p --key-pass file:p" the first two lines of p. On a
// terminal, stdin prompts and reads without echo.
//
// A command has one passwordReader for all its signers, as apksigner
// has one PasswordRetriever: the second signer reading stdin, or a file
// the first one read, gets the next line (see withEncoding for a
// signer's --pass-encoding).
//
// Each password comes with its variants (see variants), which callers
// try in order.
type passwordReader struct {
	stdin  io.Reader // os.Stdin
	prompt io.Writer // where prompts go (stderr)
	// terminal reports whether stdin is a terminal, and readHidden
	// reads a line from it without echo; nil: never a terminal.
	terminal   func() bool
	readHidden func() ([]byte, error)
	// extra is --pass-encoding's character encoding, or nil.
	extra encoding.Encoding

	// lines is what was read of stdin and of each file, shared with
	// the readers withEncoding returns; nil until first needed.
	lines *passwordLines
}

// passwordLines is the state of a command's password sources: one
// buffered reader of stdin, and one reader per distinct file.
type passwordLines struct {
	in    *bufio.Reader
	files map[string]*bytes.Reader
}

// shared returns p's password sources, making them if needed.
func (p *passwordReader) shared() *passwordLines {
	if p.lines == nil {
		p.lines = &passwordLines{}
	}
	return p.lines
}

// withEncoding returns a reader for one signer: it reads the same
// stdin and files as p, line after line, and tries the signer's
// --pass-encoding (encodingName, "" for none) for its passwords.
func (p *passwordReader) withEncoding(encodingName string) (*passwordReader, error) {
	q := *p
	q.lines = p.shared()
	q.extra = nil
	if encodingName != "" {
		enc, err := passwordEncoding(encodingName)
		if err != nil {
			return nil, err
		}
		q.extra = enc
	}
	return &q, nil
}

// newPasswordReader returns the reader of a command's passwords, from
// the process's standard input and files; prompts go to prompt (the
// command's stderr).
func newPasswordReader(prompt io.Writer) *passwordReader {
	return &passwordReader{stdin: os.Stdin, prompt: prompt, terminal: func() bool { return isTerminal(os.Stdin) },
		readHidden: func() ([]byte, error) { return readNoEcho(os.Stdin) }}
}

// passwordEncoding finds a character encoding by the names Java knows
// it by (ibm437, cp437, windows-1252, utf-8, ...).
func passwordEncoding(name string) (encoding.Encoding, error) {
	if strings.EqualFold(name, "cp65001") { // Windows' name for UTF-8, as apksigner
		return unicode.UTF8, nil
	}
	enc, err := ianaindex.IANA.Encoding(name)
	if err != nil || enc == nil {
		enc, err = ianaindex.IANA.Encoding("ibm" + strings.TrimPrefix(strings.ToLower(name), "cp"))
	}
	if err != nil || enc == nil {
		enc, err = htmlindex.Get(name) // the WHATWG labels: utf8, latin1, ...
	}
	if err != nil || enc == nil {
		return nil, usagef("--pass-encoding %s: unknown character encoding: give a name such as ibm437, windows-1252 or utf-8", name)
	}
	return enc, nil
}

// read returns the password spec names, with its variants, most likely
// first; description says which password it is ("Keystore password for
// signer #1"), as apksigner's prompts do. Errors never hold the password.
func (p *passwordReader) read(spec, description string) ([]string, error) {
	switch {
	case strings.HasPrefix(spec, "pass:"), strings.HasPrefix(spec, "env:"):
		pw, err := signing.ReadPassword(spec)
		if err != nil {
			return nil, err
		}
		return p.variants([]rune(pw), nil), nil
	case strings.HasPrefix(spec, "file:"):
		line, err := p.fileLine(spec, description)
		if err != nil {
			return nil, err
		}
		return p.variantsOf(line), nil
	case spec == "stdin":
		line, err := p.stdinLine(description)
		if err != nil {
			return nil, err
		}
		return p.variantsOf(line), nil
	}
	return nil, usagef("unsupported password spec for %s: give pass:PASSWORD, env:VAR, file:PATH or stdin (the value is not shown: it may be the password)", strings.ToLower(description[:1])+description[1:])
}

// fileLine returns the next line of the file a file: spec names.
func (p *passwordReader) fileLine(spec, description string) ([]byte, error) {
	path := spec[len("file:"):]
	key, err := filepath.Abs(path)
	if err == nil {
		if real, err := filepath.EvalSymlinks(key); err == nil {
			key = real
		}
	} else {
		key = path
	}
	lines := p.shared()
	r, ok := lines.files[key]
	if !ok {
		b, err := atomicfile.ReadInput(path, "a password file", atomicfile.MaxPasswordFile)
		if err != nil {
			// signing.ReadPassword says what went wrong without the path.
			if _, perr := signing.ReadPassword(spec); perr != nil {
				return nil, perr
			}
			return nil, fmt.Errorf("%w: reading the file named in the file: spec", signing.ErrPasswordSpec)
		}
		r = bytes.NewReader(b)
		if lines.files == nil {
			lines.files = map[string]*bytes.Reader{}
		}
		lines.files[key] = r
	}
	line, eof := readPasswordLine(r)
	if eof {
		return nil, fmt.Errorf("%w: no line left for the %s in the file named in the file: spec (each password read from one file takes the next line)", signing.ErrPasswordSpec, lowerFirst(description))
	}
	return line, nil
}

// stdinLine reads the next line of standard input, with a prompt; on a
// terminal without echo.
func (p *passwordReader) stdinLine(description string) ([]byte, error) {
	if p.terminal != nil && p.terminal() {
		fmt.Fprintf(p.prompt, "%s: ", description)
		line, err := p.readHidden()
		fmt.Fprintln(p.prompt)
		if err != nil {
			return nil, fmt.Errorf("reading the %s from the terminal: %w", lowerFirst(description), err)
		}
		return line, nil
	}
	lines := p.shared()
	if lines.in == nil {
		lines.in = bufio.NewReader(p.stdin)
	}
	// No prompt when nothing is left to read: callers that chose stdin
	// themselves then say which flag to pass.
	if _, err := lines.in.Peek(1); err != nil {
		return nil, fmt.Errorf("%w: failed to read the %s: %w", signing.ErrPasswordSpec, lowerFirst(description), errStdinClosed)
	}
	fmt.Fprintf(p.prompt, "%s: \n", description)
	line, _ := readPasswordLine(lines.in)
	return line, nil
}

// readPasswordLine reads up to "\n", "\r\n" or a "\r" at the end, as
// apksigner. eof is true when nothing at all was left to read.
func readPasswordLine(r io.ByteReader) (line []byte, eof bool) {
	eof = true
	for {
		b, err := r.ReadByte()
		if err != nil {
			return line, eof
		}
		eof = false
		switch b {
		case '\n':
			return line, false
		case '\r':
			next, err := r.ReadByte()
			if err != nil || next == '\n' {
				return line, false
			}
			if s, ok := r.(io.ByteScanner); ok {
				s.UnreadByte()
			}
		}
		line = append(line, b)
	}
}

// variantsOf returns the variants of a password read as bytes: decoded
// as UTF-8, and its bytes taken as Latin-1 characters.
func (p *passwordReader) variantsOf(b []byte) []string {
	return p.variants([]rune(string(b)), b)
}

// variants returns the forms of a password apksigner tries, as
// PasswordRetriever lists them: encoded with --pass-encoding and each
// byte taken as a character (keytool's quirk on consoles that are not
// Unicode), as given, encoded as UTF-8 with each byte taken as a
// character, and (raw, when read as bytes) the bytes read taken as
// characters. A form is a string of its characters (UTF-8); see
// keystoreForms for how keystores take them.
func (p *passwordReader) variants(pw []rune, raw []byte) []string {
	var out []string
	add := func(s string) {
		for _, o := range out {
			if o == s {
				return
			}
		}
		out = append(out, s)
	}
	if p.extra != nil {
		if b, err := p.extra.NewEncoder().Bytes([]byte(string(pw))); err == nil {
			add(latin1(b))
		}
	}
	add(string(pw))
	add(latin1([]byte(string(pw))))
	if raw != nil {
		add(latin1(raw))
	}
	return out
}

// latin1 returns the string whose characters are the bytes of b.
func latin1(b []byte) string {
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

// jksForm returns a password form as keystore-go's JKS loader takes it
// (one byte per character, as Java's JKS does with characters below
// 256), and false for a form with characters it cannot take.
func jksForm(s string) (string, bool) {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xff {
			return "", false
		}
		b = append(b, byte(r))
	}
	return string(b), true
}

// lowerFirst lowercases the first letter of a description for use
// inside a sentence.
func lowerFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError {
		return s
	}
	return strings.ToLower(string(r)) + s[n:]
}

// errNoTerminal is returned by readNoEcho where terminals are not supported.
var errNoTerminal = errors.New("not a terminal")

// errStdinClosed is wrapped by a password read from stdin when nothing
// is left to read.
var errStdinClosed = errors.New("standard input closed")
