package main

import (
	"crypto/elliptic"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/storesign/storesign/internal/testenv"
	"github.com/storesign/storesign/signing/signingtest"
)

// rotateScriptCmds are the fixture commands of the apk_rotate*,
// apk_lineage* and apk_stamp* scripts:
//
//	apk-key KEY CERT NAME [ec]   a throwaway RSA (or EC P-256) key named NAME
//	apk-tool TOOL ARGS...        run the reference TOOL (apksigner35) with
//	                             ARGS; its output is the command's
//
// and the condition [apksigner35], true when the tool is installed (or
// STORESIGN_REQUIRE_ORACLES=1 requires it, so that apk-tool fails).
func rotateScriptCmds() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	return map[string]func(ts *testscript.TestScript, neg bool, args []string){
		"apk-key": func(ts *testscript.TestScript, neg bool, args []string) {
			if len(args) < 3 {
				ts.Fatalf("usage: apk-key KEY CERT NAME [ec]")
			}
			key := signingtest.RSAKey(args[2], 2048)
			id := signingtest.SelfSigned(args[2], key)
			if len(args) > 3 && args[3] == "ec" {
				id = signingtest.SelfSigned(args[2], signingtest.ECKey(args[2], elliptic.P256()))
			}
			ts.Check(os.WriteFile(ts.MkAbs(args[0]), signingtest.KeyPKCS8(id), 0o600))
			ts.Check(os.WriteFile(ts.MkAbs(args[1]), signingtest.CertPEM(id.Certificate), 0o644))
		},
		"apk-tool": func(ts *testscript.TestScript, neg bool, args []string) {
			if len(args) < 1 {
				ts.Fatalf("usage: apk-tool TOOL ARGS...")
			}
			tool, ok := testenv.LookTool(args[0])
			if !ok {
				if testenv.RequireOracles() {
					ts.Fatalf("%s is not installed and STORESIGN_REQUIRE_ORACLES=1", args[0])
				}
				ts.Fatalf("%s is not installed: guard the script with [!%s] skip", args[0], args[0])
			}
			c := exec.Command(tool, args[1:]...)
			c.Dir = ts.MkAbs(".")
			c.Stdout, c.Stderr = ts.Stdout(), ts.Stderr()
			if err := c.Run(); (err != nil) != neg {
				ts.Fatalf("%s %v: %v", args[0], args[1:], err)
			}
		},
	}
}

// toolCondition adds the condition [TOOL] for the reference tools to
// next's conditions.
func toolCondition(next func(string) (bool, error)) func(string) (bool, error) {
	return func(cond string) (bool, error) {
		if cond == "apksigner35" {
			_, ok := testenv.LookTool(cond)
			return ok || testenv.RequireOracles(), nil
		}
		return next(cond)
	}
}

// TestSplitSigners takes apksigner's multi-signer command lines apart.
func TestSplitSigners(t *testing.T) {
	markers := map[string]bool{"next-signer": true, "stamp-signer": true}
	bools := map[string]bool{"rotation-targets-dev-release": true, "Werr": true, "v": true}
	cases := []struct {
		in      string
		own     string
		signers []string
	}{
		{"--ks a --next-signer --ks b --ks-pass pass:x --out o in", "--ks a --out o in", []string{"next-signer:--ks b --ks-pass pass:x"}},
		{"-Werr --stamp-signer --key s --cert c --key k --cert c2", "-Werr", []string{"stamp-signer:--key s --cert c --key k --cert c2"}},
		{"--v1-signing-enabled --next-signer --key n", "--v1-signing-enabled", []string{"next-signer:--key n"}},
		{"--rotation-targets-dev-release --lineage l", "--rotation-targets-dev-release --lineage l", nil},
		{"--rotation-targets-dev-release false -v", "--rotation-targets-dev-release=false -v", nil},
		{"-v true -Werr in.apk", "-v=true -Werr in.apk", nil},
		{"--next-signer --key=n --set-rollback --out o", "--out o", []string{"next-signer:--key=n --set-rollback"}},
		{"--next-signer --key n --set-rollback false --out o", "--out o", []string{"next-signer:--key n --set-rollback=false"}},
	}
	for _, c := range cases {
		own, signers := splitSigners(strings.Fields(c.in), markers, bools)
		var got []string
		for _, s := range signers {
			got = append(got, s.marker+":"+strings.Join(s.args, " "))
		}
		if strings.Join(own, " ") != c.own || strings.Join(got, "|") != strings.Join(c.signers, "|") {
			t.Errorf("%q: own %q, signers %q; want %q, %q", c.in, own, got, c.own, c.signers)
		}
	}
}
