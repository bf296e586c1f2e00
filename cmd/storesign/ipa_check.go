package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/storesign/storesign/internal/jsondoc"
	"github.com/storesign/storesign/signing/ipa"
)

const ipaCheckLong = `Runs the pre-flight checks of an App Store upload: what Apple's validation
most often refuses, each finding with the ITMS code it prevents. Exits 1
when any finding is an error.`

// newIPACheckCmd is `storesign ipa check`.
func newIPACheckCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "check [--json] [--min-sdk VERSION] [--skip ITMS-NNNNN]... FILE.ipa",
		Short: "Run the pre-flight checks of an App Store upload",
		Long:  ipaCheckLong,
		Example: `  storesign ipa check signed.ipa
  storesign ipa check --skip ITMS-90683 --json signed.ipa`,
		Args:              cobra.ArbitraryArgs,
		ValidArgsFunction: completeExt("ipa"),
	}
	fs := cmd.Flags()
	asJSON := fs.Bool("json", false, jsonFlagUsage)
	minSDK := fs.String("min-sdk", "", "the oldest iOS SDK accepted without a warning (default "+ipa.DefaultMinSDK+")")
	var skip stringList
	fs.Var(&skip, "skip", "leave out the findings of this ITMS code (repeatable)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		if fs.NArg() != 1 {
			return usagef("ipa check: give one IPA")
		}
		rep, err := ipa.CheckFile(ctx, fs.Arg(0), ipa.CheckOptions{MinSDK: *minSDK, Skip: skip})
		if err != nil {
			return ipaInputError(fs.Arg(0), err) // as ipa verify names it
		}
		if *asJSON {
			if err := jsondoc.Write(e.stdout, jsondoc.IPACheck(fs.Arg(0), rep)); err != nil {
				return err
			}
		} else {
			fmt.Fprintf(e.stdout, "%s %s (%s)\n", lineValue(rep.BundleID), lineValue(rep.Version), lineValue(rep.Build))
			for _, f := range rep.Findings {
				fmt.Fprintln(e.stdout, oneLine(f.String()))
			}
			if len(rep.Findings) == 0 {
				fmt.Fprintln(e.stdout, "no findings")
			}
		}
		if errs := rep.Errors(); len(errs) > 0 {
			return ipaCheckRefusal(fs.Arg(0), errs)
		}
		return nil
	}
	return cmd
}

// ipaCheckRefusal is the error of an IPA whose checks found errors: the
// file, how many errors, the first one and what to do about it.
func ipaCheckRefusal(file string, errs []ipa.Finding) error {
	first := errs[0]
	fix := first.Fix
	if fix == "" {
		fix = "fix it, then check the IPA again"
	}
	return fmt.Errorf("%s: App Store Connect would refuse it: %d error(s), first %s: %s: %s: %s", file, len(errs), first.Code, first.Bundle, first.Message, fix)
}
