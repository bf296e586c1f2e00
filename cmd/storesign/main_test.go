package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/storesign/storesign/drive"
	"github.com/storesign/storesign/internal/atomicfile"
)

// helperEnv makes the test binary run hangMain instead of the tests: the
// signal tests start it as a child process.
const helperEnv = "STORESIGN_TEST_HANG"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		os.Exit(hangMain())
	}
	testscript.Main(m, map[string]func(){
		"storesign": func() {
			code := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr)
			recordExit(code)
			os.Exit(code)
		},
	})
}

// hangMain is main with a command that starts an output (a temp file
// beside OUT), prints "ready" and then blocks in open(2) of the FIFO
// named by the first argument, never looking at its context: the worst
// case of a command stuck in a system call.
func hangMain() int {
	return runUntilSignal(os.Args[1:], os.Stdout, os.Stderr, notifySignals(), stopGrace, atomicfile.RemoveTemps,
		func(ctx context.Context, args []string, stdout, stderr io.Writer) int {
			out, err := atomicfile.Create(args[1])
			if err != nil {
				fmt.Fprintln(stderr, err)
				return 1
			}
			defer out.Abort()
			fmt.Fprintln(out, "half an output")
			fmt.Fprintln(stdout, "ready")
			f, err := os.OpenFile(args[0], os.O_RDONLY, 0) // blocks: no writer
			if err == nil {
				f.Close()
			}
			return 0
		})
}

// TestScripts runs the CLI scripts in testdata/script: each is a txtar
// archive of commands and expected output, as in filippo.io/age.
func TestScripts(t *testing.T) {
	testscript.Run(t, scriptParams(t))
}

func TestOneLine(t *testing.T) {
	for in, want := range map[string]string{
		"a\nb":                   "a; b",
		"a\r\nb  c\t d":          "a; b c d",
		"name \x1b[31mred":       `name \x1b[31mred`,
		"gpj\u202e.apk is bad":   `gpj\u202e.apk is bad`,
		"plain: text: fix it":    "plain: text: fix it",
		"ünïcode stays":          "ünïcode stays",
		"bad utf-8 \xff here":    "bad utf-8 \ufffd here",
		"line\u2028separator ok": "line separator ok",
	} {
		if got := oneLine(in); got != want {
			t.Errorf("oneLine(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzErrorLine checks that whatever an error holds, it prints as one
// line of printable text, and that a key=value line stays one line.
func FuzzErrorLine(f *testing.F) {
	for _, s := range []string{"a\nb", "x\x1b[2J", "gpj\u202e.apk", "\xff\xfe", "ok: fine: do this", `"quoted"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var b strings.Builder
		report(&b, errors.New(s))
		out := b.String()
		if strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "\n") || !drive.SafeText(strings.TrimSuffix(out, "\n")) {
			t.Fatalf("report(%q) printed %q", s, out)
		}
		b.Reset()
		printValues(&b, "k", s)
		if strings.Count(b.String(), "\n") != 1 || !drive.SafeText(strings.TrimSuffix(b.String(), "\n")) {
			t.Fatalf("printValues(%q) printed %q", s, b.String())
		}
	})
}
