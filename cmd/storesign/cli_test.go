package main

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// TestNormalizeArgs rewrites apksigner's flag forms into pflag's.
func TestNormalizeArgs(t *testing.T) {
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	var v1 boolValue
	optBoolVar(fs, &v1, "v1-signing-enabled", "")
	fs.String("ks", "", "")
	fs.BoolP("verbose", "v", false, "")
	fs.Bool("Werr", false, "")
	markerVar(fs, "next-signer", "")
	for _, c := range []struct{ in, want string }{
		{"-ks a.jks in.apk", "--ks a.jks in.apk"},
		{"--ks -v1-signing-enabled in.apk", "--ks -v1-signing-enabled in.apk"}, // a value is kept as it is
		{"-v1-signing-enabled false in.apk", "--v1-signing-enabled=false in.apk"},
		{"--v1-signing-enabled true --ks a", "--v1-signing-enabled=true --ks a"},
		{"--v1-signing-enabled --ks a", "--v1-signing-enabled --ks a"},
		{"--v1-signing-enabled in.apk", "--v1-signing-enabled in.apk"},
		{"-v1-signing-enabled=false", "--v1-signing-enabled=false"},
		{"-Werr -v true in.apk", "--Werr -v=true in.apk"},
		{"-v in.apk", "-v in.apk"},
		{"--next-signer -ks b.jks", "--next-signer --ks b.jks"},
		{"-unknown x -- -ks", "-unknown x -- -ks"},
	} {
		if got := strings.Join(normalizeArgs(strings.Fields(c.in), fs), " "); got != c.want {
			t.Errorf("normalizeArgs(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestHelpEverywhere checks that every command (completion and its
// shells included, whose help is worded here, not cobra's) has a short
// and a long description and an example, and that its help prints on
// stdout.
func TestHelpEverywhere(t *testing.T) {
	var out, errs bytes.Buffer
	root := newRootCmd(&env{stdout: &out, stderr: &errs})
	seen := 0
	var walk func(path []string)
	walk = func(path []string) {
		seen++
		cmd, _, err := root.Find(path)
		if err != nil {
			t.Fatalf("%v: %v", path, err)
		}
		if cmd != root && (cmd.Short == "" || cmd.Long == "" || cmd.Example == "") {
			t.Errorf("%s: Short, Long or Example missing", cmd.CommandPath())
		}
		// An example continues on the next line with one backslash, as a
		// shell takes it: in a raw string literal `\\` is two.
		for _, line := range strings.Split(cmd.Example, "\n") {
			if strings.HasSuffix(line, `\\`) {
				t.Errorf("%s: example line %q ends with two backslashes: a shell would not continue it", cmd.CommandPath(), line)
			}
		}
		out.Reset()
		errs.Reset()
		if code := run(context.Background(), append(append([]string{}, path...), "--help"), &out, &errs); code != 0 || errs.Len() > 0 || !strings.Contains(out.String(), "Usage:") {
			t.Errorf("%s --help: exit %d, stderr %q", cmd.CommandPath(), code, errs.String())
		}
		for _, c := range cmd.Commands() {
			if c.IsAvailableCommand() && c.Name() != "help" {
				walk(append(append([]string{}, path...), c.Name()))
			}
		}
	}
	walk(nil)
	if seen < 32 {
		t.Errorf("%d commands seen, want every one (32 or more)", seen)
	}
}

// TestJSONEverywhere checks that every sign, verify, inspect, check,
// drive and store command, and version, takes --json with the one help
// text that names the schema, and that a script checks its document.
func TestJSONEverywhere(t *testing.T) {
	root := newRootCmd(&env{stdout: io.Discard, stderr: io.Discard})
	groups := map[string]bool{"apk": true, "aab": true, "ipa": true, "drive": true, "play": true, "appstore": true}
	var want []string
	for _, g := range root.Commands() {
		if g.Name() == "version" {
			want = append(want, g.CommandPath())
		}
		if !groups[g.Name()] {
			continue
		}
		for _, c := range g.Commands() {
			if c.IsAvailableCommand() && c.Name() != "help" {
				want = append(want, c.CommandPath())
			}
		}
	}
	if len(want) < 16 {
		t.Fatalf("only %d commands found: %v", len(want), want)
	}
	checked := scriptJSONChecks(t)
	for _, path := range want {
		if name := strings.TrimPrefix(path, "storesign "); !checked[name] {
			t.Errorf("no script checks the document of %s --json (jsondoc '%s' ...)", path, name)
		}
		cmd, _, err := root.Find(strings.Fields(path)[1:])
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		f := cmd.Flags().Lookup("json")
		switch {
		case f == nil:
			t.Errorf("%s has no --json", path)
		case !strings.Contains(f.Usage, jsonFlagUsage):
			t.Errorf("%s --json: help %q does not name the schema", path, f.Usage)
		case !strings.Contains(cmd.Use, "--json") && !strings.Contains(cmd.Use, "[flags]"):
			t.Errorf("%s: the synopsis %q lists neither --json nor [flags]", path, cmd.Use)
		}
	}
}

// scriptJSONChecks returns the commands whose documents the scripts
// check with jsondoc.
func scriptJSONChecks(t *testing.T) map[string]bool {
	t.Helper()
	re := regexp.MustCompile(`(?m)^(?:\[[^\]]*\] )?jsondoc (?:'([^']+)'|(\S+))`)
	checked := map[string]bool{}
	err := filepath.WalkDir(filepath.Join("testdata", "script"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".txtar") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			checked[m[1]+m[2]] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return checked
}

// TestActionStepsExist checks that every "storesign action STEP" the
// composite actions run is a command: the act runs catch a missing one
// only where act is installed.
func TestActionStepsExist(t *testing.T) {
	root := newRootCmd(&env{stdout: io.Discard, stderr: io.Discard})
	files, err := filepath.Glob(filepath.Join("..", "..", "actions", "*", "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, filepath.Join("..", "..", "action.yml"))
	re := regexp.MustCompile(`"\$STORESIGN" action ([a-z-]+)`)
	steps := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			steps++
			cmd, _, err := root.Find([]string{"action", m[1]})
			if err != nil || cmd.Name() != m[1] {
				t.Errorf("%s runs storesign action %s, which is not a command", f, m[1])
			}
		}
	}
	if steps < 6 {
		t.Fatalf("only %d action steps found in %v", steps, files)
	}
}

// TestFlagValueNotPrinted gives every typed flag of every command a
// value it cannot parse, as a password given one word early would be:
// the usage error names the flag, never the value.
func TestFlagValueNotPrinted(t *testing.T) {
	const secret = "pass:S3CRET-value"
	root := newRootCmd(&env{stdout: io.Discard, stderr: io.Discard})
	tried := map[string]int{}
	var walk func(cmd *cobra.Command, path []string)
	walk = func(cmd *cobra.Command, path []string) {
		cmd.InitDefaultHelpFlag()
		cmd.Flags().VisitAll(func(f *pflag.Flag) {
			typ := f.Value.Type()
			if typ == "" || typ == "string" || typ == "stringSlice" || typ == "stringArray" {
				return // any word is a string: nothing to refuse
			}
			tried[typ]++
			for _, args := range [][]string{{"--" + f.Name + "=" + secret}, {"--" + f.Name, secret}} {
				if f.NoOptDefVal != "" && len(args) == 2 {
					continue // a bare boolean: the next word is an argument
				}
				var out, errs bytes.Buffer
				line := append(append([]string{}, path...), args...)
				code := run(context.Background(), line, &out, &errs)
				if code != exitUsage {
					t.Errorf("storesign %s: exit %d, want %d", strings.Join(line, " "), code, exitUsage)
				}
				if strings.Contains(out.String()+errs.String(), "S3CRET") {
					t.Errorf("storesign %s printed the value:\nstdout: %s\nstderr: %s", strings.Join(line, " "), out.String(), errs.String())
				}
				if want := "storesign: --" + f.Name + ": "; !strings.HasPrefix(errs.String(), want) {
					t.Errorf("storesign %s: stderr %q, want it to start with %q", strings.Join(line, " "), errs.String(), want)
				}
			}
		})
		for _, c := range cmd.Commands() {
			if c.IsAvailableCommand() || c.Name() == "help" {
				walk(c, append(append([]string{}, path...), c.Name()))
			}
		}
	}
	walk(root, nil)
	for _, typ := range []string{"bool", "int", "duration"} {
		if tried[typ] == 0 {
			t.Errorf("no %s flag tried: %v", typ, tried)
		}
	}
}

// TestStrayPasswordArgument gives each command that refuses a stray
// word a pass:PASSWORD without its flag: the usage error says
// "pass:…" and never prints the password; other stray words are quoted.
func TestStrayPasswordArgument(t *testing.T) {
	for _, args := range [][]string{
		{"ipa", "resign", "in.ipa", "--p12", "d.p12", "pass:SECRET"},
		{"ipa", "resign", "--in", "in.ipa", "--p12", "d.p12", "pass:SECRET"},
		{"apk", "rotate", "--out", "l.bin", "--old-signer", "--ks", "a.jks", "pass:SECRET"},
		{"apk", "lineage", "--in", "l.bin", "pass:SECRET"},
		{"drive", "get", "pass:SECRET"},
		{"drive", "ls", "pass:SECRET"},
		{"drive", "ls", "folder", "pass:SECRET"},
		{"demo", "pass:SECRET"},
		{"version", "pass:SECRET"},
		{"action", "resign", "pass:SECRET"},
		{"action", "download", "x", "pass:SECRET"},
		{"ipa", "pass:SECRET"},
		{"pass:SECRET"},
	} {
		var out, errs bytes.Buffer
		code := run(context.Background(), args, &out, &errs)
		if code != exitUsage || strings.Contains(out.String()+errs.String(), "SECRET") || !strings.Contains(errs.String(), `"pass:…"`) {
			t.Errorf("storesign %s: exit %d, want %d and \"pass:…\", never the password:\n%s%s", strings.Join(args, " "), code, exitUsage, out.String(), errs.String())
		}
	}
	var out, errs bytes.Buffer
	if code := run(context.Background(), []string{"version", "extra"}, &out, &errs); code != exitUsage || !strings.Contains(errs.String(), `unexpected argument "extra"`) {
		t.Errorf("storesign version extra: exit %d:\n%s", code, errs.String())
	}
}

// A password given where a path was expected is never printed with the
// path: every error line passes redactPasswords.
func TestPasswordInPathNotPrinted(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.ipa")
	if err := os.WriteFile(in, []byte("not an IPA"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"ipa", "resign", "--in", in, "--out", filepath.Join(dir, "out.ipa"), "--p12", "pass:SECRET", "--profile", "x.mobileprovision"},
		{"apk", "sign", "--ks", "pass:SECRET", "--out", filepath.Join(dir, "o.apk"), "x.apk"},
		{"ipa", "verify", "pass:SECRET"},
		{"apk", "verify", `pass:SE"CRET`},
	} {
		var out, errs bytes.Buffer
		code := run(context.Background(), args, &out, &errs)
		if code == exitOK || strings.Contains(out.String()+errs.String(), "SECRET") || strings.Contains(out.String()+errs.String(), "CRET") || !strings.Contains(errs.String(), "pass:…") {
			t.Errorf("storesign %s: exit %d, want an error naming pass:…, never the password:\n%s%s", strings.Join(args, " "), code, out.String(), errs.String())
		}
	}
}

func TestRedactPasswords(t *testing.T) {
	for in, want := range map[string]string{
		"pass:SECRET: no such file: check --p12":         "pass:…: no such file: check --p12",
		`unexpected argument "pass:…" (a password?)`:     `unexpected argument "pass:…" (a password?)`,
		`keystore "pass:a b": x`:                         `keystore "pass:…": x`,
		`"pass:a\"b c": x`:                               `"pass:…": x`,
		`"pass:unclosed`:                                 `"pass:…`,
		"--ks-pass is required (pass:PASSWORD, env:VAR)": "--ks-pass is required (pass:PASSWORD, env:VAR)",
		"the .p12 password: pass:X, env:VAR":             "the .p12 password: pass:X, env:VAR",
		"two: pass:one pass:two.":                        "two: pass:… pass:….",
		"pass:":                                          "pass:",
		"builds/compass:v2/app.apk: no such file":        "builds/compass:v2/app.apk: no such file",
		"/tmp/pass:x/app.apk: no such file":              "/tmp/pass:x/app.apk: no such file",
		"(--ks KEYSTORE [--ks-pass pass:|env:|file:|stdin] [--ks-key-alias ALIAS])": "(--ks KEYSTORE [--ks-pass pass:|env:|file:|stdin] [--ks-key-alias ALIAS])",
		"--ks-pass=pass:SECRET is not a flag":                                       "--ks-pass=pass:… is not a flag",
		"[pass:SECRET]":                                                             "[pass:…]",
		"no password here":                                                          "no password here",
		`pass:ab\"cd": no such file`:                                                `pass:…": no such file`,
	} {
		if got := redactPasswords(in); got != want {
			t.Errorf("redactPasswords(%q) = %q, want %q", in, got, want)
		}
	}
}

// Without credentials, drive commands say which flag passes them.
func TestDriveCredentialsAdvice(t *testing.T) {
	t.Setenv("STORESIGN_DRIVE_ENDPOINT", "")
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", filepath.Join(t.TempDir(), "missing.json"))
	var out, errs bytes.Buffer
	if code := run(context.Background(), []string{"drive", "ls", "1folder"}, &out, &errs); code != exitFailed || !strings.Contains(errs.String(), "or pass a service account key with --credentials FILE") {
		t.Errorf("storesign drive ls without credentials: exit %d:\n%s", code, errs.String())
	}
}
