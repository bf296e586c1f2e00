// Command storesign re-signs mobile apps for store release: APKs and app
// bundles for Google Play, IPAs for the App Store, and moves builds to and
// from Google Drive. Each command maps its flags to a library call; run
// "storesign --help" for the list. The commands are spf13/cobra's, with
// apksigner's flag names and value syntax.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode"

	"github.com/storesign/storesign/drive"
	"github.com/storesign/storesign/internal/atomicfile"
)

func main() {
	os.Exit(runUntilSignal(os.Args[1:], os.Stdout, os.Stderr, notifySignals(), stopGrace, atomicfile.RemoveTemps, run))
}

// notifySignals returns the channel SIGINT and SIGTERM arrive on.
func notifySignals() <-chan os.Signal {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	return sigs
}

// stopGrace is how long a command has, after the first SIGINT or SIGTERM
// cancelled its context, to return by itself before the process removes
// its temp files and exits anyway: a goroutine blocked in a system call
// (opening a FIFO, a long key derivation) never looks at its context.
const stopGrace = 500 * time.Millisecond

// Exit codes, as printed by "storesign --help".
const (
	exitOK       = 0
	exitFailed   = 1 // an error the user can fix: the message says how
	exitUsage    = 2 // a mistake in the command line
	exitNotValid = 3 // verify: the file was read, its signature does not verify
)

// signalStop is the cause of a context cancelled by a signal.
type signalStop struct{ sig os.Signal }

func (s *signalStop) Error() string { return "stopped by " + signalName(s.sig) }

func signalName(sig os.Signal) string {
	if sig == syscall.SIGTERM {
		return "SIGTERM"
	}
	if sig == os.Interrupt {
		return "SIGINT"
	}
	return sig.String()
}

// exitCode is the shell's code for a process ended by sig: 128 + signal
// number (130 for SIGINT, 143 for SIGTERM).
func exitCode(sig os.Signal) int {
	if s, ok := sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 128 + int(syscall.SIGTERM)
}

// stopLine is the one line printed when a signal stops a command.
func stopLine(sig os.Signal) string {
	return "storesign: stopped by " + signalName(sig) + ": unfinished outputs removed: run the command again to finish it"
}

// runUntilSignal runs the command on a goroutine of its own. The first
// signal on sigs cancels its context; when the command has not returned
// grace later (or at a second signal), removeTemps (atomicfile.RemoveTemps)
// removes the temp files of its unfinished outputs and the process's exit
// code is returned at once, the command's goroutine left blocked behind.
func runUntilSignal(args []string, stdout, stderr io.Writer, sigs <-chan os.Signal, grace time.Duration,
	removeTemps func() int, run func(ctx context.Context, args []string, stdout, stderr io.Writer) int) int {
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	errw := &gateWriter{w: stderr}
	done := make(chan int, 1)
	go func() { done <- run(ctx, args, stdout, errw) }()
	var sig os.Signal
	select {
	case code := <-done:
		return code
	case sig = <-sigs:
	}
	cancel(&signalStop{sig})
	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case code := <-done:
		// The command saw the cancellation, aborted its outputs and
		// printed the stop line itself.
		removeTemps()
		if code == exitOK {
			return exitOK
		}
		return exitCode(sig)
	case <-timer.C:
	case <-sigs:
	}
	removeTemps()
	errw.last(stopLine(sig))
	return exitCode(sig)
}

// gateWriter is the command's stderr, which the last line printed by
// runUntilSignal closes: a command goroutine still running then prints
// nothing more after it.
type gateWriter struct {
	mu     sync.Mutex
	w      io.Writer
	closed bool
}

func (g *gateWriter) Write(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return len(p), nil
	}
	return g.w.Write(p)
}

func (g *gateWriter) last(line string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	fmt.Fprintln(g.w, line)
	g.closed = true
}

// env is what a command may use of the process: its output streams.
type env struct {
	stdout io.Writer
	stderr io.Writer
}

// usageError is a mistake in the command line: it exits 2, and its
// message is followed by a line naming the help of the command.
type usageError struct {
	msg string
	cmd string // "storesign apk sign": the command whose --help to read
}

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	e := &env{stdout: stdout, stderr: stderr}
	cmd, err := execute(ctx, e, args)
	if stop := (*signalStop)(nil); err != nil && errors.As(context.Cause(ctx), &stop) {
		fmt.Fprintln(stderr, stopLine(stop.sig))
		return exitCode(stop.sig)
	}
	var ue *usageError
	if errors.As(err, &ue) && ue.cmd == "" && cmd != nil {
		ue.cmd = cmd.CommandPath()
	}
	return report(stderr, err)
}

func report(stderr io.Writer, err error) int {
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(stderr, "storesign: %s\n", redactPasswords(dedupName(oneLine(withOSAdvice(err)))))
	var ue *usageError
	if errors.As(err, &ue) {
		if ue.cmd != "" {
			fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", ue.cmd)
		}
		return exitUsage
	}
	var nv *notVerifiedError
	if errors.As(err, &nv) {
		return exitNotValid
	}
	return exitFailed
}

// redactPasswords hides the password of every pass:PASSWORD in an error
// line: a password given where a path or another value was expected
// ("--p12 pass:SECRET" for "--p12-pass pass:SECRET") would otherwise be
// printed with the path, and reach the terminal and CI logs. What
// follows a word's "pass:" is hidden, up to the closing quote when the
// word is quoted ("pass:a b"), else up to a space (punctuation that ends
// it, as the colon of "pass:SECRET: no such file", stays); the help's
// own placeholders (pass:PASSWORD, pass:X, pass:|env:...) stay.
func redactPasswords(s string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "pass:")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		// Only a word that starts with pass: ("compass:v2/app.apk" is a
		// path, "pass:|env:|file:|stdin" a synopsis).
		word := i == 0 || strings.ContainsRune(" \t\"'=(,[", rune(s[i-1]))
		quoted := i > 0 && s[i-1] == '"'
		i += len("pass:")
		b.WriteString(s[:i])
		s = s[i:]
		if !word || strings.HasPrefix(s, "|") {
			continue
		}
		var value string
		if quoted {
			value = s[:closingQuote(s)]
		} else {
			n := strings.IndexFunc(s, unicode.IsSpace)
			if n < 0 {
				n = len(s)
			}
			value = strings.TrimRight(s[:n], `:;,.)"']`)
		}
		switch value {
		case "", "PASSWORD", "X", "…":
			b.WriteString(value)
		default:
			b.WriteString("…")
		}
		s = s[len(value):]
	}
}

// closingQuote returns the index in s of the first double quote that a
// backslash does not escape, or len(s).
func closingQuote(s string) int {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return len(s)
}

// notVerifiedError is the finding of a verify command that the file it
// read does not verify (exit 3), as opposed to a file it could not read
// (exit 1).
type notVerifiedError struct{ err error }

func (e *notVerifiedError) Error() string { return e.err.Error() }
func (e *notVerifiedError) Unwrap() error { return e.err }

// notVerified marks err as a failed verification.
func notVerified(err error) error { return &notVerifiedError{err} }

// rephrased is an error shown with another message, still wrapping the
// original for errors.Is and errors.As (a full disk's errno).
type rephrased struct {
	msg string
	err error
}

func (e *rephrased) Error() string { return e.msg }
func (e *rephrased) Unwrap() error { return e.err }

func rephrase(msg string, err error) error { return &rephrased{msg, err} }

// osAdvices say what to do about a failure of the system: a full disk, a
// read-only folder. The marker is how a message that already says it is
// recognised.
type osAdvice struct {
	errno  syscall.Errno
	marker string
	advice string
}

func osAdvices() []osAdvice {
	return []osAdvice{
		{syscall.ENOSPC, "disk space", "free disk space, or write to a folder on a bigger disk"},
		{syscall.EDQUOT, "quota", "the disk quota is used up: free space, or write to another folder"},
		{syscall.EROFS, "read-only", "the file system is read-only: write to another folder"},
		{syscall.EACCES, "permission", "check the permissions of the file and its folder, or choose another path"},
		{syscall.EPERM, "permission", "check the permissions of the file and its folder (and chattr -i), or choose another path"},
		{syscall.EISDIR, "folder", "a folder is in the way: remove it or choose another path"},
		{syscall.ENOTDIR, "not a folder", "a part of the path is a file, not a folder: check the path"},
		{syscall.EMFILE, "open files", "too many open files: raise the limit (ulimit -n)"},
		{syscall.EIO, "disk", "the disk reported an I/O error: check it, or write elsewhere"},
	}
}

// withOSAdvice is err's message, with what to do appended when it comes
// from a failure of the system and does not say it already.
func withOSAdvice(err error) string {
	msg := withAdvice(err)
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return msg
	}
	for _, a := range osAdvices() {
		if a.errno == errno {
			if strings.Contains(strings.ToLower(msg), a.marker) && strings.Count(msg, ": ") >= 2 {
				return msg
			}
			return msg + ": " + a.advice
		}
	}
	return msg
}

// dedupName drops a leading "NAME: " when the rest starts with NAME again
// ("a.ipa: a.ipa is a folder, ..."), as when a caller adds the file name
// to an error that names it already.
func dedupName(msg string) string {
	i := strings.Index(msg, ": ")
	if i <= 0 {
		return msg
	}
	head, rest := msg[:i], msg[i+2:]
	if strings.HasPrefix(rest, head+" ") || strings.HasPrefix(rest, head+":") {
		return rest
	}
	return msg
}

// oneLine keeps an error on the one line a planner reads in a CI log:
// line breaks fold into "; ", runs of space into one, and other control
// and layout characters (an escape sequence in a file name) are shown
// escaped, as \x1b or \u202e.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "; ")), " ")
	if !drive.SafeText(s) {
		var b strings.Builder
		for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
			if drive.SafeText(string(r)) {
				b.WriteRune(r)
				continue
			}
			q := strconv.QuoteRuneToASCII(r)
			b.WriteString(q[1 : len(q)-1])
		}
		s = b.String()
	}
	return s
}

// exitCodesHelp is the exit code section of "storesign --help" (and of
// README.md).
const exitCodesHelp = `Exit codes:
  0    done
  1    failed: one line on stderr, "storesign: <file>: <what is wrong>: <what to do>"
  2    bad usage (unknown command or flag, missing argument)
  3    verification failed (apk|aab|ipa verify): the file was read, its signature is not valid
  130  stopped by SIGINT, 143 stopped by SIGTERM (unfinished outputs removed)
`
