package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/storesign/storesign/internal/jsondoc"
)

// version is the release version a release build sets with
// -ldflags "-X main.version=1.2.3" (.goreleaser.yaml). It is the one
// package variable of the command: the linker can only set a variable.
// Empty, the module version of the build info is shown instead.
var version string

// buildVersion is what "storesign version" prints: which storesign this is.
// Its fields are those of jsondoc.BuildInfo, which it converts to for
// --json.
type buildVersion struct {
	Version   string // v1.2.3, a pseudo-version, or (devel)
	Revision  string // the VCS commit it was built from
	Time      string // the commit's time, RFC 3339
	Modified  *bool  // built from a tree with uncommitted changes; nil: unknown
	GoVersion string
	OS        string
	Arch      string
}

// readVersion puts together the version of this binary from the version
// the linker set (injected), else the module version, and the VCS
// settings of the build info. bi may be nil (a binary built without
// module support).
func readVersion(bi *debug.BuildInfo, injected string) buildVersion {
	v := buildVersion{Version: "(devel)", GoVersion: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH}
	if bi != nil {
		if bi.GoVersion != "" {
			v.GoVersion = bi.GoVersion
		}
		if bi.Main.Version != "" {
			v.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				v.Revision = s.Value
			case "vcs.time":
				v.Time = s.Value
			case "vcs.modified":
				m := s.Value == "true"
				v.Modified = &m
			}
		}
	}
	if injected = strings.TrimSpace(injected); injected != "" {
		if injected[0] >= '0' && injected[0] <= '9' {
			injected = "v" + injected // GoReleaser's .Version drops the tag's v
		}
		v.Version = injected
	}
	return v
}

func (v buildVersion) writeText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "storesign %s\n", v.Version)
	if v.Revision != "" {
		rev := v.Revision
		if v.Modified != nil && *v.Modified {
			rev += " (modified)"
		}
		fmt.Fprintf(&b, "revision: %s\n", rev)
	}
	if v.Time != "" {
		fmt.Fprintf(&b, "time:     %s\n", v.Time)
	}
	fmt.Fprintf(&b, "go:       %s %s/%s\n", v.GoVersion, v.OS, v.Arch)
	_, err := io.WriteString(w, b.String())
	return err
}

// newVersionCmd is "storesign version [--json]"; "storesign --version
// [--json]" prints the same.
func newVersionCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "version [--json]",
		Short: "Print the version, VCS revision and Go version",
		Long: `Print which storesign this is: the release version (or the module version
of a build from source), the VCS revision and time it was built from, and the
Go version and platform. --json prints the same as one object.`,
		Example: `  storesign version
  storesign version --json`,
		Args:              cobra.ArbitraryArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
	}
	fs := cmd.Flags()
	asJSON := fs.Bool("json", false, jsonFlagUsage)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return printVersion(e, fs.Args(), *asJSON)
	}
	return cmd
}

// printVersion is "storesign version", and "storesign --version": the
// text, or with asJSON the JSON document. It takes no arguments.
func printVersion(e *env, args []string, asJSON bool) error {
	if len(args) > 0 {
		return unexpectedArg("version", args, "", "")
	}
	bi, _ := debug.ReadBuildInfo()
	v := readVersion(bi, version)
	if asJSON {
		return jsondoc.Write(e.stdout, jsondoc.Version(jsondoc.BuildInfo(v)))
	}
	return v.writeText(e.stdout)
}
