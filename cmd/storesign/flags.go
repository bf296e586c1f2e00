package main

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// newFlagSet returns a flag set that reports errors as usage errors and
// prints its help to e.stdout on -h.
func newFlagSet(e *env, name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fmt.Fprintf(e.stdout, "usage: storesign %s\n\nflags:\n", usage)
		fs.SetOutput(e.stdout)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
		fmt.Fprintln(e.stdout, "\nexit codes: 0 done, 1 failed (one line on stderr says what to do), 2 bad usage,\n3 verification failed (verify commands), 130/143 stopped by SIGINT/SIGTERM")
	}
	return fs
}

// parseFlags parses args, allowing flags after positional arguments, and
// turns flag errors into usage errors.
func parseFlags(fs *flag.FlagSet, args []string) error {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if err == flag.ErrHelp {
				return err // flag has printed the help
			}
			return usagef("%s: %v: run 'storesign %s -h' for the flags", fs.Name(), err, fs.Name())
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
	return fs.Parse(append([]string{"--"}, positional...))
}

// boolValue is a flag that takes an explicit value, as apksigner's do:
// "--v1-signing-enabled true". A bare "--flag" means true only when
// followed by another flag or nothing.
type boolValue struct {
	set bool
	val bool
}

func (b *boolValue) String() string {
	if b == nil || !b.set {
		return ""
	}
	return strconv.FormatBool(b.val)
}

func (b *boolValue) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return fmt.Errorf("want true or false, got %q", s)
	}
	b.set, b.val = true, v
	return nil
}

// Ptr returns nil when the flag was not given, else its value.
func (b *boolValue) Ptr() *bool {
	if !b.set {
		return nil
	}
	v := b.val
	return &v
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error {
	*s = append(*s, v)
	return nil
}

func sortStrings(s []string) { slices.Sort(s) }
