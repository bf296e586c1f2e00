package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/storesign/storesign/signing/ipa"
)

const ipaCheckUsage = `ipa check [--json] [--min-sdk VERSION] [--skip ITMS-NNNNN]... FILE.ipa

Runs the pre-flight checks of an App Store upload: what Apple's validation
most often refuses, each finding with the ITMS code it prevents. Exits 1
when any finding is an error.`

func ipaCheckCmd(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "ipa check", ipaCheckUsage)
	asJSON := fs.Bool("json", false, "print the report as JSON")
	minSDK := fs.String("min-sdk", "", "the oldest iOS SDK accepted without a warning (default "+ipa.DefaultMinSDK+")")
	var skip stringList
	fs.Var(&skip, "skip", "leave out the findings of this ITMS code (repeatable)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("ipa check: give one IPA: run 'storesign ipa check -h'")
	}
	rep, err := ipa.CheckFile(ctx, fs.Arg(0), ipa.CheckOptions{MinSDK: *minSDK, Skip: skip})
	if err != nil {
		return err
	}
	if *asJSON {
		if rep.Findings == nil {
			rep.Findings = []ipa.Finding{}
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(e.stdout, "%s %s (%s)\n", rep.BundleID, rep.Version, rep.Build)
		for _, f := range rep.Findings {
			fmt.Fprintln(e.stdout, oneLine(f.String()))
		}
		if len(rep.Findings) == 0 {
			fmt.Fprintln(e.stdout, "no findings")
		}
	}
	if n := len(rep.Errors()); n > 0 {
		first := rep.Errors()[0]
		return fmt.Errorf("the IPA would be refused by App Store Connect: %d error(s), first %s: %s", n, first.Code, first.Message)
	}
	return nil
}
