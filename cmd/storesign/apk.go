package main

import "github.com/spf13/cobra"

// newAPKCmd is `storesign apk sign|verify|rotate|lineage`, apksigner's
// commands with its flags. The sign side lives in apk_sign.go, the
// verify side in apk_verify.go, rotate and lineage in apk_rotate.go.
func newAPKCmd(e *env) *cobra.Command {
	return newGroup("apk <command>", "Sign and verify Android APKs, with apksigner's flags",
		`Sign, verify and rotate the keys of Android APKs. The commands take
apksigner's flags, with the same names and values: an apksigner command
line works with only the program name changed.`,
		`  storesign apk sign --ks release.jks --ks-pass env:KS_PASS --out signed.apk app.apk
  storesign apk verify --print-certs signed.apk`,
		newAPKSignCmd(e), newAPKVerifyCmd(e), newAPKRotateCmd(e), newAPKLineageCmd(e))
}
