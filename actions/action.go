package actions

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	githubactions "github.com/sethvargo/go-githubactions"
)

// Options says where an [Action] reads its environment and writes its
// workflow commands. The zero value uses the process's.
type Options struct {
	// Stdout receives workflow commands (::add-mask::, ::error::) and the
	// log. Nil means os.Stdout.
	Stdout io.Writer
	// Getenv reads the environment: INPUT_*, GITHUB_OUTPUT,
	// GITHUB_STEP_SUMMARY, RUNNER_TEMP. Nil means os.Getenv.
	Getenv func(string) string
	// Rand is the source of the delimiters of multi-line outputs. Nil
	// means crypto/rand.
	Rand io.Reader
	// Now is the clock the steps check expiry dates with. Nil means
	// time.Now.
	Now func() time.Time
}

// Action is one step of a storesign action. It is not safe for concurrent
// use.
type Action struct {
	gh     *githubactions.Action
	w      io.Writer
	getenv func(string) string
	rand   io.Reader
	now    func() time.Time
	masked map[string]bool
	words  map[string]string // planner-names, parsed on first use
}

// New returns an Action over the environment and output opts name.
func New(opts Options) *Action {
	if opts.Stdout == nil {
		opts.Stdout = os.Stdout
	}
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Action{
		gh:     githubactions.New(githubactions.WithWriter(opts.Stdout), githubactions.WithGetenv(opts.Getenv)),
		w:      opts.Stdout,
		getenv: opts.Getenv,
		rand:   opts.Rand,
		now:    opts.Now,
		masked: map[string]bool{},
	}
}

// EnvName is the environment variable an action.yml maps input name to:
// "p12-password" is INPUT_P12_PASSWORD.
func EnvName(input string) string {
	return "INPUT_" + strings.NewReplacer("-", "_", " ", "_").Replace(strings.ToUpper(input))
}

// Getenv reads a variable of the step's environment.
func (a *Action) Getenv(name string) string { return a.getenv(name) }

// Input returns the value of a plain input, trimmed of surrounding space,
// or "" when it is unset. Do not use it for secrets: see [Action.SecretInput].
func (a *Action) Input(name string) string {
	return strings.TrimSpace(a.getenv(EnvName(name)))
}

// SecretInput masks and returns a secret input such as a password. The
// whole value and each of its lines are masked before it is returned. A
// trailing line break, which copying a secret into GitHub often adds, is
// dropped; other spaces are kept, since they may be part of a password.
func (a *Action) SecretInput(name string) string {
	v := a.getenv(EnvName(name))
	a.Mask(v)
	return strings.TrimRight(v, "\r\n")
}

// Base64Input masks a base64-encoded secret input and returns its decoded
// bytes; nil when the input is empty. It accepts standard and URL-safe
// alphabets, with or without padding, wrapped or not. When the value is not
// base64 the error is an [*InputError] naming the input.
func (a *Action) Base64Input(name string) ([]byte, error) {
	v := a.getenv(EnvName(name))
	a.Mask(v)
	if strings.TrimSpace(v) == "" {
		return nil, nil
	}
	b, err := decodeBase64(v)
	if err != nil {
		return nil, &InputError{Input: name, Msg: "is not base64: encode the file with `base64 -w0 FILE` (on a Mac: `base64 -i FILE`) and paste the output into the secret", Err: err}
	}
	a.maskDecoded(b)
	return b, nil
}

// Base64ListInput is [Action.Base64Input] for an input holding several
// files, one base64 value per line (base64 -w0), or wrapped blocks
// separated by blank lines. Each is masked and decoded.
func (a *Action) Base64ListInput(name string) ([][]byte, error) {
	v := a.getenv(EnvName(name))
	a.Mask(v)
	var out [][]byte
	for i, blob := range splitBase64List(v) {
		b, err := decodeBase64(blob)
		if err != nil {
			return nil, &InputError{Input: name, Msg: fmt.Sprintf("value %d is not base64: put one `base64 -w0 FILE` output per line", i+1), Err: err}
		}
		a.maskDecoded(b)
		out = append(out, b)
	}
	return out, nil
}

// Mask tells the runner to hide values in the log from now on: each value
// whole, each of its lines, and each line trimmed of surrounding space.
// Empty values are skipped; a value is masked once.
func (a *Action) Mask(values ...string) {
	for _, v := range values {
		cands := []string{strings.TrimRight(v, "\r\n")}
		if ls := lines(v); len(ls) > 1 {
			for _, line := range ls {
				// A line of punctuation ("{", "},") in a JSON key is no
				// secret, and masking it would hide every brace.
				if maskableLine(line) {
					cands = append(cands, line, strings.TrimSpace(line))
				}
			}
		}
		for _, c := range cands {
			// A value with a line break cannot be one mask: the runner
			// reads one line per command. Its lines are masked instead.
			if strings.TrimSpace(c) == "" || strings.ContainsAny(c, "\r\n") || a.masked[c] {
				continue
			}
			a.masked[c] = true
			a.gh.AddMask(c)
		}
	}
}

// maskableLine says whether a line of a multi-line secret is worth a mask
// of its own: three characters or more, with a letter or a digit.
func maskableLine(line string) bool {
	t := strings.TrimSpace(line)
	return len(t) >= 3 && strings.IndexFunc(t, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) >= 0
}

// lines splits s at every line break: \n, \r\n, and a lone \r, which a
// log viewer shows as one too.
func lines(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == '\r' || r == '\n' })
}

// maskDecoded masks the forms a decoded secret may be printed in: its
// canonical base64 (which differs from the input when that was wrapped or
// URL-safe), and the text itself when the secret is text (a PEM key, a
// JSON key file), each line of it.
func (a *Action) maskDecoded(b []byte) {
	a.Mask(base64.StdEncoding.EncodeToString(b), base64.RawURLEncoding.EncodeToString(b))
	if utf8.Valid(b) {
		a.Mask(string(b))
	}
}

// Redact replaces every masked value in s with "***", longest first, for
// text printed outside the runner's own masking (local runs, files).
func (a *Action) Redact(s string) string {
	keys := make([]string, 0, len(a.masked))
	for k := range a.masked {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return len(keys[i]) > len(keys[j]) })
	for _, k := range keys {
		s = strings.ReplaceAll(s, k, "***")
	}
	return s
}

// SetOutput sets a step output. Outside a runner (GITHUB_OUTPUT unset) it
// prints "output name=value" instead of panicking as the toolkit would.
//
// The value is written in the multi-line form name<<DELIMITER with a
// random delimiter, as actions/toolkit does: a value holding line breaks
// (a file name from Drive, a bundle ID from a studio's Info.plist) stays
// one output and cannot set others. A name that is not letters, digits,
// - and _, or a value holding the delimiter, is refused; a file that
// cannot be written is an error, not a panic.
func (a *Action) SetOutput(name, value string) error {
	if !validOutputName(name) {
		return fmt.Errorf("actions: setting output %q: a name is letters, digits, - and _", name)
	}
	if a.getenv("GITHUB_OUTPUT") == "" {
		a.Infof("output %s=%s", name, a.Redact(quoteUnsafe(value)))
		return nil
	}
	delim, err := a.delimiter()
	if err != nil {
		return fmt.Errorf("actions: setting output %s: %w", name, err)
	}
	if strings.Contains(value, delim) {
		return fmt.Errorf("actions: setting output %s: the value holds the delimiter", name)
	}
	return appendFile(a.getenv("GITHUB_OUTPUT"), name+"<<"+delim+"\n"+value+"\n"+delim+"\n")
}

// delimiter returns a fresh random heredoc delimiter.
func (a *Action) delimiter() (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(a.rand, b[:]); err != nil {
		return "", fmt.Errorf("making a delimiter: %w", err)
	}
	return "ghadelimiter_" + hex.EncodeToString(b[:]), nil
}

func validOutputName(name string) bool {
	if name == "" || len(name) > 100 {
		return false
	}
	for _, c := range []byte(name) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// appendFile appends text to a runner's file command file.
func appendFile(name, text string) error {
	f, err := os.OpenFile(name, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("actions: writing %s: %w", name, err)
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return fmt.Errorf("actions: writing %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("actions: writing %s: %w", name, err)
	}
	return nil
}

// AddSummary appends Markdown to the step summary. Outside a runner
// (GITHUB_STEP_SUMMARY unset) it prints the Markdown to the log. Masked
// values are replaced with "***"; a file that cannot be written is an
// error, not a panic. Values from outside belong in the Markdown only
// through [MarkdownText] (as [Report.Markdown] puts them).
func (a *Action) AddSummary(markdown string) error {
	markdown = a.Redact(markdown)
	if a.getenv("GITHUB_STEP_SUMMARY") == "" {
		a.Infof("%s", markdown)
		return nil
	}
	return appendFile(a.getenv("GITHUB_STEP_SUMMARY"), markdown+"\n")
}

// Infof prints a line to the log. A line of it that the runner would read
// as a workflow command ("::set-output", "::add-mask::", "##[group]")
// gets a "[text] " prefix, so that text from outside (a file name, an
// app's name) cannot issue one.
func (a *Action) Infof(format string, args ...any) {
	fmt.Fprintln(a.w, defang(a.Redact(fmt.Sprintf(format, args...))))
}

// defang prefixes each line of s that a runner would take for a workflow
// command.
func defang(s string) string {
	ls := strings.SplitAfter(s, "\n")
	for i, l := range ls {
		t := strings.TrimLeft(l, " \t\r\v\f")
		if strings.HasPrefix(t, "::") || strings.HasPrefix(t, "##[") {
			ls[i] = "[text] " + l
		}
	}
	return strings.Join(ls, "")
}

// quoteUnsafe returns s, Go-quoted when it holds a control character.
func quoteUnsafe(s string) string {
	if strings.IndexFunc(s, unicode.IsControl) >= 0 || !utf8.ValidString(s) {
		return strconv.QuoteToGraphic(s)
	}
	return s
}

// Group starts a collapsed section of the log; end it with [Action.EndGroup].
func (a *Action) Group(title string) { a.gh.Group(a.Redact(title)) }

// EndGroup ends the section [Action.Group] started.
func (a *Action) EndGroup() { a.gh.EndGroup() }

// Notice writes a notice annotation.
func (a *Action) Notice(title, msg string) {
	a.gh.WithFieldsMap(map[string]string{"title": a.Redact(title)}).Noticef("%s", a.Redact(msg))
}

// Warning writes a warning annotation.
func (a *Action) Warning(title, msg string) {
	a.gh.WithFieldsMap(map[string]string{"title": a.Redact(title)}).Warningf("%s", a.Redact(msg))
}

// Error writes an error annotation.
func (a *Action) Error(title, msg string) {
	a.gh.WithFieldsMap(map[string]string{"title": a.Redact(title)}).Errorf("%s", a.Redact(msg))
}

// Fail writes the error annotation for err, and the same words to the
// step summary: titled with the input to fix for an [*InputError] (in
// the planner's words, see [PlannerNamesInput]), with the step's name
// otherwise. The caller then exits non-zero.
func (a *Action) Fail(step string, err error) {
	title, msg := step+" failed", err.Error()
	var ie *InputError
	if errors.As(err, &ie) {
		title, msg = a.InputTitle(ie), a.InputMessage(ie)
	}
	a.Error(title, msg)
	// The summary is what a planner opens first (outside a runner the log
	// has it already); a file that cannot be written changes nothing to
	// the failure.
	if a.getenv("GITHUB_STEP_SUMMARY") == "" {
		return
	}
	a.AddSummary("### " + MarkdownText(a.Redact(title)) + "\n\n" + MarkdownText(a.Redact(oneLine(msg))) + "\n")
}

// TempDir is the runner's temp folder (RUNNER_TEMP), emptied after each
// job; os.TempDir() outside a runner.
func (a *Action) TempDir() string {
	if d := a.getenv("RUNNER_TEMP"); d != "" {
		return d
	}
	return os.TempDir()
}
