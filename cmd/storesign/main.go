// Command storesign re-signs mobile apps for store release: APKs and app
// bundles for Google Play, IPAs for the App Store, and moves builds to and
// from Google Drive. Each command maps its flags to a library call; run
// "storesign help" for the list.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// env is what a command may use of the process: its output streams.
type env struct {
	stdout io.Writer
	stderr io.Writer
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

func commands() []command {
	return []command{
		{"demo", "re-sign built-in samples with a throwaway identity, verify them and print the reports", runDemo},
		{"apk", "sign and verify Android APKs (apksigner's flags): apk sign|verify", runAPK},
		{"aab", "sign and verify Android App Bundles for Play upload: aab sign|verify", runAAB},
		{"ipa", "re-sign, verify and inspect iOS apps: ipa resign|verify|inspect", runIPA},
		{"drive", "move builds to and from Google Drive: drive get|put|ls", runDrive},
		{"action", "entry points of the GitHub Actions (used by action.yml)", runAction},
	}
}

// usageError is a mistake in the command line: it exits 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	e := &env{stdout: stdout, stderr: stderr}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		printUsage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name == args[0] {
			err := c.run(ctx, e, args[1:])
			return report(stderr, err)
		}
	}
	fmt.Fprintf(stderr, "storesign: unknown command %q: run 'storesign help'\n", args[0])
	return 2
}

func report(stderr io.Writer, err error) int {
	if err == nil {
		return 0
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "storesign: %s\n", oneLine(err.Error()))
		return 2
	}
	fmt.Fprintf(stderr, "storesign: %s\n", oneLine(err.Error()))
	return 1
}

// oneLine keeps an error on the one line a planner reads in a CI log.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", "; ")), " ")
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: storesign <command> [flags]")
	fmt.Fprintln(w)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-7s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'storesign <command> -h' for a command's flags.")
}

// subcommand dispatches "storesign <group> <sub> ...".
func subcommand(ctx context.Context, e *env, group string, args []string, subs map[string]func(context.Context, *env, []string) error) error {
	var names []string
	for n := range subs {
		names = append(names, n)
	}
	sortStrings(names)
	if len(args) == 0 {
		return usagef("%s: missing subcommand (%s)", group, strings.Join(names, ", "))
	}
	f, ok := subs[args[0]]
	if !ok {
		return usagef("%s: unknown subcommand %q (%s)", group, args[0], strings.Join(names, ", "))
	}
	return f(ctx, e, args[1:])
}
