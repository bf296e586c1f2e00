package main

import (
	"context"
	"errors"

	"github.com/spf13/cobra"

	"github.com/storesign/storesign/actions"
)

// newActionCmd is "storesign action
// secrets|download|resign|upload|play-upload|appstore-upload|plan",
// the steps the composite actions run: each is one call of the actions
// package, which reads the INPUT_* variables, writes the outputs, the
// annotations and the step summary.
func newActionCmd(e *env) *cobra.Command {
	step := func(name, short string, f func(context.Context, *actions.Action) error) *cobra.Command {
		return &cobra.Command{
			Use:   name,
			Short: short,
			Long: short + `.

Run by the storesign GitHub Actions (action.yml): it reads its inputs from
the INPUT_* environment variables and writes the step's outputs, annotations
and summary as GitHub Actions expects them.`,
			Example:           "  # a step of action.yml, with the action's inputs as INPUT_* variables:\n  storesign action " + name,
			Args:              cobra.ArbitraryArgs,
			ValidArgsFunction: cobra.NoFileCompletions,
			RunE: func(cmd *cobra.Command, args []string) error {
				if len(args) > 0 {
					return unexpectedArg("action "+name, args, "", "")
				}
				err := f(cmd.Context(), actions.New(actions.Options{Stdout: e.stdout}))
				if errors.Is(err, actions.ErrUnknownAction) {
					return usagef("action %s: %v", name, err)
				}
				return err
			},
		}
	}
	c := newGroup("action <command>", "Entry points of the GitHub Actions (used by action.yml)",
		`The steps of the storesign GitHub Actions, each one library call of the
actions package: they read the action's inputs from INPUT_* variables and
write its outputs, annotations and step summary.`,
		"  # a step of action.yml, with the action's inputs as INPUT_* variables:\n  storesign action resign",
		step("secrets", "Write the secrets of a signing run into a private folder and check their passwords", actions.Secrets),
		step("download", "Download the build to re-sign from Google Drive", actions.Download),
		step("resign", "Re-sign and verify the build", actions.Resign),
		step("upload", "Upload the re-signed build to Google Drive", actions.Upload),
		step("play-upload", "Upload the signed build to a Google Play track", actions.PlayUpload),
		step("appstore-upload", "Upload the signed IPA to App Store Connect (TestFlight)", actions.AppStoreUpload),
		step("plan", "List the deliveries of a folder not released yet, for a matrix of release jobs", actions.Plan),
	)
	return c
}
