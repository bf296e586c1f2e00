package main

import (
	"crypto/elliptic"
	"os"
	"path/filepath"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/storesign/storesign/signing"
	"github.com/storesign/storesign/signing/signingtest"
)

// scriptCmds returns the fixture commands scripts may call: the shared
// ones below, and each area's from its own *_script_test.go file.
func scriptCmds() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	cmds := map[string]func(ts *testscript.TestScript, neg bool, args []string){}
	for _, reg := range []map[string]func(ts *testscript.TestScript, neg bool, args []string){
		sharedScriptCmds(), androidScriptCmds(), iosScriptCmds(), driveScriptCmds(), actionScriptCmds(), aabScriptCmds(), pkcs8ScriptCmds(), hostileScriptCmds(), appStoreScriptCmds(), playScriptCmds(), rotateScriptCmds(), jsonScriptCmds(),
	} {
		for k, v := range reg {
			if _, dup := cmds[k]; dup {
				panic("fixture command " + k + " defined twice")
			}
			cmds[k] = v
		}
	}
	return cmds
}

// sharedScriptCmds are the fixture commands of more than one area:
//
//	cut IN OUT                                the first half of IN
//	keystore JKS|PKCS12 OUT ALIAS STOREPW [KEYPW] [ec]
//	                                          a keystore with the script identity
//	keycert KEY CERT [ec|mismatch]            PKCS#8 key and PEM certificate
//	notemp DIR                                fails if DIR holds temp files
func sharedScriptCmds() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	return map[string]func(ts *testscript.TestScript, neg bool, args []string){
		"cut": func(ts *testscript.TestScript, neg bool, args []string) {
			if len(args) != 2 {
				ts.Fatalf("usage: cut IN OUT")
			}
			b, err := os.ReadFile(ts.MkAbs(args[0]))
			ts.Check(err)
			ts.Check(os.WriteFile(ts.MkAbs(args[1]), b[:len(b)/2], 0o644))
		},
		"keystore": func(ts *testscript.TestScript, neg bool, args []string) {
			if len(args) < 4 {
				ts.Fatalf("usage: keystore JKS|PKCS12 OUT ALIAS STOREPW [KEYPW] [ec]")
			}
			keyPass := args[3]
			if len(args) > 4 && args[4] != "ec" {
				keyPass = args[4]
			}
			id := scriptIdentity(args[len(args)-1] == "ec")
			var data []byte
			switch args[0] {
			case "JKS":
				data = signingtest.JKS(id, args[2], args[3], keyPass)
			case "PKCS12":
				data = signingtest.PKCS12(id, args[3])
			default:
				ts.Fatalf("keystore: unknown type %s", args[0])
			}
			ts.Check(os.WriteFile(ts.MkAbs(args[1]), data, 0o600))
		},
		"keycert": func(ts *testscript.TestScript, neg bool, args []string) {
			if len(args) < 2 {
				ts.Fatalf("usage: keycert KEY CERT [ec|mismatch]")
			}
			mode := ""
			if len(args) > 2 {
				mode = args[2]
			}
			id := scriptIdentity(mode == "ec")
			certOf := id
			if mode == "mismatch" {
				certOf = scriptIdentity(true)
			}
			ts.Check(os.WriteFile(ts.MkAbs(args[0]), signingtest.KeyPKCS8(id), 0o600))
			ts.Check(os.WriteFile(ts.MkAbs(args[1]), signingtest.CertPEM(certOf.Certificate), 0o644))
		},
		"notemp": func(ts *testscript.TestScript, neg bool, args []string) {
			ents, err := os.ReadDir(ts.MkAbs(args[0]))
			ts.Check(err)
			for _, e := range ents {
				if !e.IsDir() && strings.HasSuffix(e.Name(), ".tmp") {
					ts.Fatalf("temp file left behind: %s", filepath.Join(args[0], e.Name()))
				}
			}
		},
	}
}

// scriptIdentity is the throwaway Android key of the scripts (RSA, or
// EC P-256).
func scriptIdentity(ec bool) *signing.Identity {
	if ec {
		return signingtest.SelfSigned("storesign script ec", signingtest.ECKey("storesign script ec", elliptic.P256()))
	}
	return signingtest.SelfSigned("storesign script", nil)
}
