package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"

	"github.com/rogpeppe/go-internal/testscript"
)

// exitFile is where the storesign of the scripts (see TestMain) records
// its exit code, in $WORK, for the fails command.
const exitFile = ".storesign-exit"

// recordExit writes code to $WORK/.storesign-exit when run by a script.
func recordExit(code int) {
	if w := os.Getenv("WORK"); w != "" {
		os.WriteFile(filepath.Join(w, exitFile), []byte(strconv.Itoa(code)), 0o644)
	}
}

// goQuoted unquotes s when it starts with a double quote, so that scripts
// can write names with line breaks and other control characters.
func goQuoted(ts *testscript.TestScript, s string) string {
	if !strings.HasPrefix(s, `"`) {
		return s
	}
	u, err := strconv.Unquote(s)
	if err != nil {
		ts.Fatalf("bad Go-quoted string %s: %v", s, err)
	}
	return u
}

// hostileScriptCmds are the fixture commands of the hostile_*.txtar
// scripts:
//
//	fails CODE [REGEXP]     the last storesign exited with CODE and printed
//	                        one line on stderr, "storesign: ...: ...", that
//	                        matches REGEXP (when given); with CODE 2, then
//	                        "Run 'storesign ... --help' for usage."
//	mkfifo NAME             a named pipe nobody writes to
//	setenv-go VAR VALUE     VAR=VALUE with VALUE Go-quoted ("a\nb")
//	tinyfs DIR KIB          mount a KIB KiB tmpfs on DIR (guard with
//	                        [canmount])
//	readonly DIR            make DIR unwritable, even for root (chattr +i)
//	nolines FILE REGEXP     no line of FILE (or stdout) matches REGEXP
func hostileScriptCmds() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	return map[string]func(ts *testscript.TestScript, neg bool, args []string){
		"fails": func(ts *testscript.TestScript, neg bool, args []string) {
			if len(args) < 1 || neg {
				ts.Fatalf("usage: fails CODE [REGEXP]")
			}
			b, err := os.ReadFile(filepath.Join(ts.Getenv("WORK"), exitFile))
			ts.Check(err)
			if string(b) != args[0] {
				ts.Fatalf("exit code %s, want %s", b, args[0])
			}
			stderr := ts.ReadFile("stderr")
			lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
			if n := len(lines); args[0] == "2" && n == 2 && regexp.MustCompile(`^Run 'storesign( [a-z0-9-]+)* --help' for usage\.$`).MatchString(lines[1]) {
				lines = lines[:1] // a usage error names the help to read
			}
			if len(lines) != 1 || !strings.HasSuffix(stderr, "\n") {
				ts.Fatalf("stderr has %d lines, want one:\n%s", len(lines), stderr)
			}
			line := lines[0]
			if !strings.HasPrefix(line, "storesign: ") || strings.Count(line, ": ") < 2 {
				ts.Fatalf("stderr %q is not storesign: <file>: <what is wrong>: <what to do>", line)
			}
			if len(args) > 1 {
				ts.Check(matchLine(line, args[1]))
			}
		},
		"mkfifo": func(ts *testscript.TestScript, neg bool, args []string) {
			ts.Check(syscall.Mkfifo(ts.MkAbs(args[0]), 0o600))
		},
		"setenv-go": func(ts *testscript.TestScript, neg bool, args []string) {
			if len(args) != 2 {
				ts.Fatalf("usage: setenv-go VAR VALUE")
			}
			ts.Setenv(args[0], goQuoted(ts, args[1]))
		},
		"tinyfs": func(ts *testscript.TestScript, neg bool, args []string) {
			dir := ts.MkAbs(args[0])
			ts.Check(os.MkdirAll(dir, 0o755))
			if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+args[1]+"k", "tmpfs", dir).CombinedOutput(); err != nil {
				ts.Fatalf("cannot mount a tmpfs (guard with [canmount]): %v %s", err, out)
			}
			ts.Defer(func() { exec.Command("umount", "-l", dir).Run() })
		},
		"readonly": func(ts *testscript.TestScript, neg bool, args []string) {
			dir := ts.MkAbs(args[0])
			ts.Check(os.Chmod(dir, 0o555))
			ts.Defer(func() { os.Chmod(dir, 0o755) })
			if writable(dir) {
				if exec.Command("chattr", "+i", dir).Run() == nil {
					ts.Defer(func() { exec.Command("chattr", "-i", dir).Run() })
				}
			}
			if writable(dir) {
				ts.Fatalf("cannot make a folder read-only here")
			}
		},
		"nolines": func(ts *testscript.TestScript, neg bool, args []string) {
			text := ts.ReadFile(args[0])
			for _, l := range strings.Split(text, "\n") {
				if matchLine(l, args[1]) == nil {
					ts.Fatalf("%s has the line %q", args[0], l)
				}
			}
		},
	}
}

func writable(dir string) bool {
	f, err := os.CreateTemp(dir, "probe")
	if err != nil {
		return false
	}
	f.Close()
	os.Remove(f.Name())
	return true
}

func matchLine(line, expr string) error {
	re, err := regexp.Compile(expr)
	if err != nil {
		return err
	}
	if !re.MatchString(line) {
		return fmt.Errorf("%q does not match %q", line, expr)
	}
	return nil
}

// hostileCondition answers the conditions of the hostile scripts:
// [canmount] (a tmpfs can be mounted: root on Linux) and [root].
func hostileCondition(cond string) (bool, error) {
	switch cond {
	case "root":
		return os.Geteuid() == 0, nil
	case "canmount":
		dir, err := os.MkdirTemp("", "storesign-mount")
		if err != nil {
			return false, err
		}
		defer os.Remove(dir)
		if exec.Command("mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", dir).Run() != nil {
			return false, nil
		}
		exec.Command("umount", dir).Run()
		return true, nil
	}
	return false, fmt.Errorf("unknown condition %q", cond)
}
