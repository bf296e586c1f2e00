package main

import "context"

// runAPK dispatches `storesign apk sign|verify`. The sign side lives in
// apk_sign.go, the verify side in apk_verify.go.
func runAPK(ctx context.Context, e *env, args []string) error {
	return subcommand(ctx, e, "apk", args, map[string]func(context.Context, *env, []string) error{
		"sign":    apkSignCmd,
		"verify":  apkVerifyCmd,
		"rotate":  apkRotateCmd,
		"lineage": apkLineageCmd,
	})
}
