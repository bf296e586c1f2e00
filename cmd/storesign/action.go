package main

import (
	"context"
	"errors"

	"github.com/storesign/storesign/actions"
)

// runAction is "storesign action secrets|download|resign|upload|plan",
// the steps the composite actions run: each is one call of the actions
// package, which reads the INPUT_* variables, writes the outputs, the
// annotations and the step summary.
func runAction(ctx context.Context, e *env, args []string) error {
	step := func(name string, f func(context.Context, *actions.Action) error) func(context.Context, *env, []string) error {
		return func(ctx context.Context, e *env, args []string) error {
			fs := newFlagSet(e, "action "+name, "storesign action "+name+"\n\nRun by the storesign GitHub Actions; reads its inputs from INPUT_* variables.")
			if err := parseFlags(fs, args); err != nil {
				return err
			}
			if fs.NArg() > 0 {
				return usagef("action %s: unexpected argument %q", name, fs.Arg(0))
			}
			err := f(ctx, actions.New(actions.Options{Stdout: e.stdout}))
			if errors.Is(err, actions.ErrUnknownAction) {
				return usagef("action %s: %v", name, err)
			}
			return err
		}
	}
	return subcommand(ctx, e, "action", args, map[string]func(context.Context, *env, []string) error{
		"secrets":  step("secrets", actions.Secrets),
		"download": step("download", actions.Download),
		"resign":   step("resign", actions.Resign),
		"upload":   step("upload", actions.Upload),
		"plan":     step("plan", actions.Plan),
	})
}
