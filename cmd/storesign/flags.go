package main

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// stringVarer is what keyFlags.register needs of a flag set: both
// pflag's (a command's own flags) and the standard library's (the
// options of one signer after --next-signer) have it.
type stringVarer interface {
	StringVar(p *string, name, value, usage string)
}

// normalizeArgs rewrites an apksigner command line into one pflag
// parses, using the flags fs defines: a long name written with one dash
// ("-ks", "-v1-signing-enabled", "-Werr") gets two, and a flag that
// takes an optional true or false ("--v1-signing-enabled false", bare
// meaning true) is joined to that value ("--v1-signing-enabled=false").
// The value of a flag that takes one is never rewritten, nor anything
// after "--".
func normalizeArgs(args []string, fs *pflag.FlagSet) []string {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(out, args[i:]...)
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			out = append(out, a)
			continue
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		var f *pflag.Flag
		switch {
		case strings.HasPrefix(a, "--"):
			f = fs.Lookup(name)
		case len(name) == 1:
			f = fs.ShorthandLookup(name)
		default:
			if f = fs.Lookup(name); f != nil {
				a = "-" + a
			}
		}
		if f == nil || hasValue {
			out = append(out, a)
			continue
		}
		next := ""
		if i+1 < len(args) {
			next = args[i+1]
		}
		switch {
		case f.NoOptDefVal != "" && (next == "true" || next == "false"):
			out = append(out, a+"="+next)
			i++
		case f.NoOptDefVal == "" && f.Value.Type() != "" && i+1 < len(args):
			out = append(out, a, next) // a value, kept as it is
			i++
		default:
			out = append(out, a)
		}
	}
	return out
}

// optionalBools returns the names (long and shorthand) of fs's flags
// that take an optional true or false, for splitSigners.
func optionalBools(fs *pflag.FlagSet) map[string]bool {
	m := map[string]bool{}
	fs.VisitAll(func(f *pflag.Flag) {
		if f.NoOptDefVal != "" {
			m[f.Name] = true
			if f.Shorthand != "" {
				m[f.Shorthand] = true
			}
		}
	})
	return m
}

// parseOwnFlags parses args into cmd's flags, for the commands that
// take their signers' options apart themselves (DisableFlagParsing). It
// reports whether --help was asked for, and has printed the help then.
func parseOwnFlags(cmd *cobra.Command, args []string) (help bool, err error) {
	fs := cmd.Flags()
	if err := fs.Parse(normalizeArgs(args, fs)); err != nil {
		return false, cmd.FlagErrorFunc()(cmd, err)
	}
	if h, _ := fs.GetBool("help"); h {
		return true, cmd.Help()
	}
	return false, nil
}

// boolValue is a flag that takes an explicit value, as apksigner's do:
// "--v1-signing-enabled true". A bare "--flag" means true, as it does
// for apksigner when the next word is not true or false.
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
		return errors.New("want true or false") // not the value: it may be a password
	}
	b.set, b.val = true, v
	return nil
}

// Type is the value's kind in pflag's help.
func (b *boolValue) Type() string { return "bool" }

// IsBoolFlag makes a bare flag mean true, for pflag's help
// ("--flag[=true|false]") and for the standard library's parser (the
// options of a signer).
func (b *boolValue) IsBoolFlag() bool { return true }

// Ptr returns nil when the flag was not given, else its value.
func (b *boolValue) Ptr() *bool {
	if !b.set {
		return nil
	}
	v := b.val
	return &v
}

// optBoolVar defines an apksigner boolean option: --name true|false, or
// bare --name for true.
func optBoolVar(fs *pflag.FlagSet, b *boolValue, name, usage string) {
	fs.Var(b, name, usage)
	fs.Lookup(name).NoOptDefVal = "true"
}

// markerFlag is a flag that takes no value and is never parsed: one of
// the --next-signer, --old-signer... markers that splitSigners takes out
// of the command line, listed in the help.
type markerFlag struct{}

func (markerFlag) String() string   { return "" }
func (markerFlag) Set(string) error { return nil }
func (markerFlag) Type() string     { return "" }

// markerVar lists a signer marker in the help.
func markerVar(fs *pflag.FlagSet, name, usage string) {
	fs.Var(markerFlag{}, name, usage)
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error {
	*s = append(*s, v)
	return nil
}

// Type is the value's kind in pflag's help.
func (s *stringList) Type() string { return "string" }

func sortStrings(s []string) { slices.Sort(s) }

// shownArg returns a stray word of a command line as an error message
// shows it: quoted, except a pass:PASSWORD, the one form that carries a
// secret, which shows as "pass:…" and never the password.
func shownArg(word string) string {
	if strings.HasPrefix(word, "pass:") {
		return `"pass:…"`
	}
	return fmt.Sprintf("%q", word)
}

// unexpectedArg is the usage error of cmd ("ipa resign") given the
// positional arguments args it does not take; hint, if not "", follows
// the argument (" (use --in and --out)"). A pass:PASSWORD among them is
// named first, without its password, as a password given without its
// flag, passFlag ("--p12-pass", or "" for a command without one).
func unexpectedArg(cmd string, args []string, hint, passFlag string) error {
	for _, a := range args {
		if strings.HasPrefix(a, "pass:") {
			if passFlag == "" {
				return usagef("%s: unexpected argument %s (a password? this command takes none)", cmd, shownArg(a))
			}
			return usagef("%s: unexpected argument %s (a password? give it to its flag, such as %s)", cmd, shownArg(a), passFlag)
		}
	}
	return usagef("%s: unexpected argument %s%s", cmd, shownArg(args[0]), hint)
}
