package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// newRootCmd returns the command tree of storesign, writing to e's
// streams. Each command maps its flags to options and makes one library
// call; the groups only list their subcommands.
func newRootCmd(e *env) *cobra.Command {
	var showVersion, versionJSON bool
	root := &cobra.Command{
		Use:   "storesign <command> <subcommand> [flags]",
		Short: "Re-sign mobile apps for store release, on Linux, in pure Go",
		Long: `storesign re-signs mobile apps for store release: APKs and app bundles for
Google Play (with apksigner's flags), IPAs for the App Store; it moves builds
to and from Google Drive and uploads them to the stores. Every output is
verified before it is written, and the input is never modified.

` + exitCodesHelp,
		Example: `  storesign apk sign --ks release.jks --ks-pass env:KS_PASS --out signed.apk app.apk
  storesign ipa resign --in app.ipa --out signed.ipa --p12 dist.p12 --p12-pass env:P12_PASS --profile App.mobileprovision
  storesign drive get --folder FOLDER_ID --name '*.ipa' --newest
  storesign demo`,
		Args: cobra.ArbitraryArgs,
		// --version is storesign's, not cobra's (no Version field): cobra's
		// prints a template and cannot take --json.
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case showVersion:
				return printVersion(e, args, versionJSON)
			case versionJSON:
				return usagef("--json goes with --version: storesign --version --json (or storesign version --json)")
			}
			return groupRun(cmd, args)
		},
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.Flags().BoolVar(&showVersion, "version", false, "print the version, VCS revision and Go version (as 'storesign version')")
	root.Flags().BoolVar(&versionJSON, "json", false, "with --version: print it as one JSON document (as 'storesign version --json')")
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{msg: flagErrorMessage(err)} })
	root.SetUsageTemplate(usageTemplate)
	root.AddGroup(&cobra.Group{ID: "sign", Title: "Sign and verify:"}, &cobra.Group{ID: "move", Title: "Move builds:"})
	for _, c := range []*cobra.Command{newAPKCmd(e), newAABCmd(e), newIPACmd(e), newDemoCmd(e)} {
		c.GroupID = "sign"
		root.AddCommand(c)
	}
	for _, c := range []*cobra.Command{newDriveCmd(e), newPlayCmd(e), newAppStoreCmd(e), newActionCmd(e)} {
		c.GroupID = "move"
		root.AddCommand(c)
	}
	root.AddCommand(newVersionCmd(e))
	root.SetHelpCommand(newHelpCmd(root))
	// cobra's "completion": an unknown shell is a usage error, as an
	// unknown command is.
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() == "completion" {
			c.Args, c.RunE = cobra.ArbitraryArgs, groupRun
			setCompletionHelp(c)
		}
	}
	return root
}

// setCompletionHelp words the help of cobra's completion command and of
// its subcommands as the others': the scripts they print stay cobra's.
func setCompletionHelp(c *cobra.Command) {
	c.Short = "Print the shell completion script for bash, zsh, fish or PowerShell"
	c.Long = `Print the script that completes storesign's commands, flags, file names (by
extension) and flag values in bash, zsh, fish or PowerShell. Load it in the
shell you are in, or save it where the shell looks for completions, then start
a new shell.`
	c.Example = `  source <(storesign completion bash)
  storesign completion bash > /etc/bash_completion.d/storesign
  storesign completion zsh > "${fpath[1]}/_storesign"
  storesign completion fish > ~/.config/fish/completions/storesign.fish
  storesign completion powershell | Out-String | Invoke-Expression`
	help := map[string]struct{ short, long, example string }{
		"bash": {"Print the bash completion script",
			`Print the bash completion script of storesign. It needs the bash-completion
package (from the system's package manager). Load it in the shell you are in
with source, or save it in bash-completion's folder for every new shell.`,
			`  source <(storesign completion bash)
  storesign completion bash > /etc/bash_completion.d/storesign
  storesign completion bash > "$(brew --prefix)/etc/bash_completion.d/storesign"`},
		"zsh": {"Print the zsh completion script",
			`Print the zsh completion script of storesign. Load it in the shell you are in
with source, or save it as _storesign in a folder of $fpath for every new
shell. Completion must be on in zsh: add "autoload -U compinit; compinit" to
~/.zshrc if it is not.`,
			`  source <(storesign completion zsh)
  storesign completion zsh > "${fpath[1]}/_storesign"
  storesign completion zsh > "$(brew --prefix)/share/zsh/site-functions/_storesign"`},
		"fish": {"Print the fish completion script",
			`Print the fish completion script of storesign. Load it in the shell you are in,
or save it in ~/.config/fish/completions for every new shell.`,
			`  storesign completion fish | source
  storesign completion fish > ~/.config/fish/completions/storesign.fish`},
		"powershell": {"Print the PowerShell completion script",
			`Print the PowerShell completion script of storesign. Load it in the session
you are in as the example does; add that line to your profile ($PROFILE) for
every new session.`,
			`  storesign completion powershell | Out-String | Invoke-Expression`},
	}
	for _, sub := range c.Commands() {
		h, ok := help[sub.Name()]
		if !ok {
			continue
		}
		sub.Short, sub.Long, sub.Example = h.short, h.long, h.example
		if f := sub.Flags().Lookup("no-descriptions"); f != nil {
			f.Usage = "complete without the descriptions of commands and flags"
		}
	}
}

// flagErrorMessage is pflag's error message without the value given to
// a flag: pflag prints the whole word of a flag it did not know, so a
// mistyped "-ks-passs=pass:SECRET" or "---ks-pass=pass:SECRET" would
// print the password, and quotes the value a typed flag could not
// parse. A one-dash word of several letters is a long name as apksigner
// writes them ("-ks-pass"), mistyped; one that is no flag name
// ("-kpass:SECRET") is named by its first letter only.
func flagErrorMessage(err error) string {
	var ne *pflag.NotExistError
	if errors.As(err, &ne) && ne.GetSpecifiedShortnames() != "" {
		word, _, _ := strings.Cut(ne.GetSpecifiedShortnames(), "=")
		if len(word) > 1 && isFlagName(word) {
			return "unknown flag: -" + word
		}
		c := ne.GetSpecifiedName()[:1]
		return fmt.Sprintf("unknown shorthand flag: '%s' in -%s", c, c)
	}
	var se *pflag.InvalidSyntaxError
	if errors.As(err, &se) {
		word, _, _ := strings.Cut(se.GetSpecifiedFlag(), "=")
		return "bad flag syntax: " + word
	}
	var ie *pflag.InvalidValueError
	if errors.As(err, &ie) {
		return badFlagValue(ie.GetFlag().Name, ie.GetFlag().Value.Type(), ie.Unwrap())
	}
	return err.Error()
}

// isFlagName reports whether word could be the name of a flag: ASCII
// letters, digits, "-" and "_".
func isFlagName(word string) bool {
	for _, c := range []byte(word) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return word != ""
}

// badFlagValue is the message of a value the flag name (of pflag type
// typ) could not parse: the flag and the kind of value it takes, never
// the value given nor the parser's message, which quotes it: a password
// given one word too early ("--min-sdk-version pass:PASSWORD") would be
// printed.
func badFlagValue(name, typ string, cause error) string {
	what := "not a valid value"
	switch typ {
	case "bool":
		what = "not true or false"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		what = "not an integer"
		if errors.Is(cause, strconv.ErrRange) {
			what = "integer out of range"
		}
	case "float32", "float64":
		what = "not a number"
	case "duration":
		what = "not a duration (such as 90s, 30m or 1h30m)"
	}
	return "--" + name + ": " + what
}

// usageTemplate is cobra's usage text without the runnable line of a
// group (a group only lists its commands) and with the flags' help
// right after the synopsis, as gh lays it out.
const usageTemplate = `Usage:{{if and .Runnable (not .HasAvailableSubCommands)}}
  {{.UseLine}}{{end}}{{if .HasAvailableSubCommands}}
  {{.CommandPath}} <command> [flags]{{end}}{{if gt (len .Aliases) 0}}

Aliases:
  {{.NameAndAliases}}{{end}}{{if .HasAvailableSubCommands}}{{$cmds := .Commands}}{{if eq (len .Groups) 0}}

Commands:{{range $cmds}}{{if (or .IsAvailableCommand (eq .Name "help"))}}
  {{rpad .Name .NamePadding }} {{.Short}}{{end}}{{end}}{{else}}{{range $group := .Groups}}

{{.Title}}{{range $cmds}}{{if (and (eq .GroupID $group.ID) (or .IsAvailableCommand (eq .Name "help")))}}
  {{rpad .Name .NamePadding }} {{.Short}}{{end}}{{end}}{{end}}{{if not .AllChildCommandsHaveGroup}}

Other commands:{{range $cmds}}{{if (and (eq .GroupID "") (or .IsAvailableCommand (eq .Name "help")))}}
  {{rpad .Name .NamePadding }} {{.Short}}{{end}}{{end}}{{end}}{{end}}{{end}}{{if .HasAvailableLocalFlags}}

Flags:
{{.LocalFlags.FlagUsages | trimTrailingWhitespaces}}{{end}}{{if .HasAvailableInheritedFlags}}

Global flags:
{{.InheritedFlags.FlagUsages | trimTrailingWhitespaces}}{{end}}{{if .HasExample}}

Examples:
{{.Example}}{{end}}{{if .HasAvailableSubCommands}}

Run '{{.CommandPath}} <command> --help' for a command's flags.{{end}}
`

// newHelpCmd is "storesign help [command]": the help of the command
// named, and a usage error naming the closest command for one that does
// not exist (cobra's own prints the parent's help and succeeds).
func newHelpCmd(root *cobra.Command) *cobra.Command {
	return &cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		Long:  "Help about any command: its synopsis, flags and examples, as its --help prints them.",
		Example: `  storesign help apk sign
  storesign help ipa`,
		ValidArgsFunction: func(c *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
			cmd, _, err := root.Find(args)
			if err != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var names []cobra.Completion
			for _, sub := range cmd.Commands() {
				if sub.IsAvailableCommand() && strings.HasPrefix(sub.Name(), toComplete) {
					names = append(names, cobra.CompletionWithDesc(sub.Name(), sub.Short))
				}
			}
			return names, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(c *cobra.Command, args []string) error {
			cmd := root
			for _, name := range args {
				var next *cobra.Command
				for _, sub := range cmd.Commands() {
					if (sub.IsAvailableCommand() || sub == c) && (sub.Name() == name || sub.HasAlias(name)) {
						next = sub
					}
				}
				if next == nil {
					err := unknownCommand(cmd, name)
					var ue *usageError
					if errors.As(err, &ue) {
						ue.cmd = cmd.CommandPath() // the help to read is the parent's
					}
					return err
				}
				cmd = next
			}
			cmd.InitDefaultHelpFlag() // listed as --help lists it
			return cmd.Help()
		},
	}
}

// newGroup returns a command that groups subcommands: alone it prints
// its help; with an unknown subcommand it is a usage error suggesting
// the closest one.
func newGroup(use, short, long, example string, subs ...*cobra.Command) *cobra.Command {
	c := &cobra.Command{Use: use, Short: short, Long: long, Example: example, Args: cobra.ArbitraryArgs, RunE: groupRun}
	c.AddCommand(subs...)
	return c
}

func groupRun(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return cmd.Help()
	}
	return unknownCommand(cmd, args[0])
}

// unknownCommand is the usage error of a subcommand cmd does not have,
// with cobra's suggestions, else the list of its commands.
func unknownCommand(cmd *cobra.Command, name string) error {
	msg := fmt.Sprintf("unknown command %s for %q", shownArg(name), cmd.CommandPath())
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2 // cobra's default, which only its own errors set
	}
	if s := cmd.SuggestionsFor(name); len(s) > 0 {
		return usagef("%s: did you mean %q?", msg, s[0])
	}
	var names []string
	for _, c := range cmd.Commands() {
		if c.IsAvailableCommand() {
			names = append(names, c.Name())
		}
	}
	return usagef("%s: the commands are %s", msg, strings.Join(names, ", "))
}

// execute runs the command line args (already without the program name)
// through a fresh command tree and returns the command that ran (for the
// usage hint) and its error.
func execute(ctx context.Context, e *env, args []string) (*cobra.Command, error) {
	root := newRootCmd(e)
	if target, _, err := root.Find(args); err == nil && target != nil {
		target.InitDefaultHelpFlag() // for "-help", as apksigner takes it
		args = normalizeArgs(args, target.Flags())
	}
	root.SetArgs(args)
	return root.ExecuteContextC(ctx)
}

// Shell completion of flag values: files by extension, and enums.

// completeExt completes file names with one of the extensions (no dot).
func completeExt(exts ...string) cobra.CompletionFunc {
	return func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return exts, cobra.ShellCompDirectiveFilterFileExt
	}
}

// completeWords completes one of the fixed words.
func completeWords(words ...string) cobra.CompletionFunc {
	return cobra.FixedCompletions(words, cobra.ShellCompDirectiveNoFileComp)
}

// completeFlags registers completion functions for cmd's flags by name,
// for the flags it has.
func completeFlags(cmd *cobra.Command, funcs map[string]cobra.CompletionFunc) {
	for name, f := range funcs {
		if cmd.Flags().Lookup(name) != nil {
			cmd.RegisterFlagCompletionFunc(name, f)
		}
	}
}

// completeBools completes true and false for the flags of cmd that take
// an optional boolean, apksigner's style.
func completeBools(cmd *cobra.Command) {
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if _, ok := f.Value.(*boolValue); ok {
			cmd.RegisterFlagCompletionFunc(f.Name, completeWords("true", "false"))
		}
	})
}

// completeManually is the completion of a command that parses its own
// flags (DisableFlagParsing), which cobra leaves to it: the value of the
// flag before toComplete, else positional files with exts.
func completeManually(exts ...string) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if strings.HasPrefix(toComplete, "-") {
			return nil, cobra.ShellCompDirectiveNoFileComp // cobra lists the flags
		}
		if n := len(args); n > 0 && strings.HasPrefix(args[n-1], "-") && !strings.Contains(args[n-1], "=") {
			name := strings.TrimLeft(args[n-1], "-")
			f := cmd.Flags().Lookup(name)
			if f == nil && len(name) == 1 {
				f = cmd.Flags().ShorthandLookup(name)
			}
			if f != nil {
				if fn, ok := cmd.GetFlagCompletionFunc(f.Name); ok {
					return fn(cmd, args, toComplete)
				}
				if f.NoOptDefVal == "" && f.Value.Type() != "" {
					return nil, cobra.ShellCompDirectiveDefault
				}
			}
		}
		return exts, cobra.ShellCompDirectiveFilterFileExt
	}
}

// jsonFlagUsage is the help of every command's --json flag.
const jsonFlagUsage = "print the result as one JSON document on stdout (schema storesign/v1, see docs/json.md)"
