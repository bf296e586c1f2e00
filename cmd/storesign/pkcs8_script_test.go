package main

import (
	"bytes"
	"encoding/pem"
	"os"
	"os/exec"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/storesign/storesign/internal/testenv"
	"github.com/storesign/storesign/signing/signingtest"
)

// pkcs8ScriptCmds are the fixture commands for encrypted --key files:
//
//	enckey KEY PASSWORD [ec] [pem]   the script identity's key as encrypted
//	                                 PKCS#8 (PBES2, PBKDF2-SHA256, AES-256),
//	                                 DER unless pem; its certificate comes
//	                                 from keycert
//	apksigner-same APK ARGS...       apksigner35 sign ARGS (with --out of its
//	                                 own) writes the same bytes as APK; env:
//	                                 password specs read the script's
//	                                 variables (passes when apksigner35 is
//	                                 not installed, unless oracles are
//	                                 required)
func pkcs8ScriptCmds() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	return map[string]func(ts *testscript.TestScript, neg bool, args []string){
		"enckey": func(ts *testscript.TestScript, neg bool, args []string) {
			if len(args) < 2 {
				ts.Fatalf("usage: enckey KEY PASSWORD [ec] [pem]")
			}
			var ec, asPEM bool
			for _, a := range args[2:] {
				switch a {
				case "ec":
					ec = true
				case "pem":
					asPEM = true
				default:
					ts.Fatalf("enckey: unknown option %s", a)
				}
			}
			data := signingtest.EncryptedKeyPKCS8(scriptIdentity(ec), args[1])
			if asPEM {
				data = pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: data})
			}
			ts.Check(os.WriteFile(ts.MkAbs(args[0]), data, 0o600))
		},
		"apksigner-same": func(ts *testscript.TestScript, neg bool, args []string) {
			if len(args) < 2 {
				ts.Fatalf("usage: apksigner-same APK ARGS...")
			}
			tool, ok := testenv.LookTool("apksigner35")
			if !ok {
				if testenv.RequireOracles() {
					ts.Fatalf("apksigner35 is not installed and STORESIGN_REQUIRE_ORACLES=1")
				}
				ts.Logf("apksigner35 is not installed: not checked")
				return
			}
			out := ts.MkAbs(".apksigner-same.apk")
			defer os.Remove(out)
			env := os.Environ()
			for _, a := range args[1:] {
				if name, ok := strings.CutPrefix(a, "env:"); ok {
					env = append(env, name+"="+ts.Getenv(name))
				}
			}
			c := exec.Command(tool, append([]string{"sign", "--out", out}, args[1:]...)...)
			c.Dir = ts.MkAbs(".")
			c.Env = env
			if b, err := c.CombinedOutput(); err != nil {
				ts.Fatalf("apksigner35 sign: %v\n%s", err, b)
			}
			want, err := os.ReadFile(out)
			ts.Check(err)
			got, err := os.ReadFile(ts.MkAbs(args[0]))
			ts.Check(err)
			if bytes.Equal(got, want) == neg {
				ts.Fatalf("%s and apksigner35's output: same = %v", args[0], !neg)
			}
		},
	}
}
