package main

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/storesign/storesign/internal/testenv"
	"github.com/storesign/storesign/internal/zipx"
	"github.com/storesign/storesign/signing/signingtest"
)

// apkVerifyScriptCmds returns the fixture commands of the apk verify
// scripts:
//
//	apkv-gen OUT [MINSDK [TARGETSDK]]   write an unsigned synthetic APK
//	apkv-sign IN OUT [APKSIGNER ARGS]  sign with apksigner 35 and the corpus rsa-2048 key
//	apkv-flip FILE entry:NAME|cd|block  flip one byte of an entry's data, the
//	                                    central directory or the APK Signing Block
//	apkv-truncate FILE N                keep the first N bytes of FILE
//	apkv-zip OUT NAME...                write a zip of small entries (names may repeat)
//
// Scripts that use apkv-sign must start with "[!apksigner35] skip".
func apkVerifyScriptCmds() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	return map[string]func(ts *testscript.TestScript, neg bool, args []string){
		"apkv-gen":  apkvGen,
		"apkv-sign": apkvSign,
		"apkv-flip": apkvFlip,
		"apkv-truncate": func(ts *testscript.TestScript, neg bool, args []string) {
			if neg || len(args) != 2 {
				ts.Fatalf("usage: apkv-truncate FILE N")
			}
			n, err := strconv.Atoi(args[1])
			ts.Check(err)
			ts.Check(os.Truncate(ts.MkAbs(args[0]), int64(n)))
		},
		"apkv-zip": func(ts *testscript.TestScript, neg bool, args []string) {
			if neg || len(args) < 1 {
				ts.Fatalf("usage: apkv-zip OUT NAME...")
			}
			var b bytes.Buffer
			zw := zip.NewWriter(&b)
			for _, name := range args[1:] {
				w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
				ts.Check(err)
				w.Write([]byte("data of " + name))
			}
			ts.Check(zw.Close())
			ts.Check(os.WriteFile(ts.MkAbs(args[0]), b.Bytes(), 0o644))
		},
	}
}

// apkVerifyCondition answers the script condition [apksigner35]. A
// missing oracle is an error under STORESIGN_REQUIRE_ORACLES=1.
func apkVerifyCondition(cond string) (bool, error) {
	if cond != "apksigner35" {
		return false, fmt.Errorf("unknown condition %q", cond)
	}
	_, ok := testenv.LookTool("apksigner35")
	if !ok && testenv.RequireOracles() {
		return false, fmt.Errorf("apksigner35 is required (STORESIGN_REQUIRE_ORACLES=1): run scripts/install-oracles.sh")
	}
	return ok, nil
}

// TestAPKVerifyScripts runs testdata/script/apk_verify/*.txtar, the CLI
// scripts that need the commands and conditions above.
func TestAPKVerifyScripts(t *testing.T) {
	corpus, err := filepath.Abs(testenv.Corpus(t))
	if err != nil {
		t.Fatal(err)
	}
	p := scriptParams(t)
	p.Dir = "testdata/script/apk_verify"
	cmds := map[string]func(ts *testscript.TestScript, neg bool, args []string){}
	for k, v := range p.Cmds {
		cmds[k] = v
	}
	for k, v := range apkVerifyScriptCmds() {
		cmds[k] = v
	}
	p.Cmds = cmds
	prev := p.Condition
	p.Condition = func(cond string) (bool, error) {
		if cond == "apksigner35" {
			return apkVerifyCondition(cond)
		}
		if prev != nil {
			return prev(cond)
		}
		return false, fmt.Errorf("unknown condition %q", cond)
	}
	setup := p.Setup
	p.Setup = func(env *testscript.Env) error {
		if setup != nil {
			if err := setup(env); err != nil {
				return err
			}
		}
		env.Setenv("STORESIGN_CORPUS", corpus)
		return nil
	}
	testscript.Run(t, p)
}

func apkvGen(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 || len(args) > 3 {
		ts.Fatalf("usage: apkv-gen OUT [MINSDK [TARGETSDK]]")
	}
	var opts signingtest.APKOptions
	for i, p := range []*int{&opts.MinSDK, &opts.TargetSDK} {
		if len(args) > i+1 {
			n, err := strconv.Atoi(args[i+1])
			ts.Check(err)
			*p = n
		}
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), signingtest.APK(opts), 0o644))
}

func apkvSign(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: apkv-sign IN OUT [APKSIGNER ARGS]")
	}
	corpus := ts.Getenv("STORESIGN_CORPUS")
	tool, ok := testenv.LookTool("apksigner35")
	if !ok {
		ts.Fatalf("apksigner35 not found: guard the script with [!apksigner35] skip")
	}
	a := []string{"sign", "--in", ts.MkAbs(args[0]), "--out", ts.MkAbs(args[1]),
		"--key", filepath.Join(corpus, "android", "rsa-2048.pk8"), "--cert", filepath.Join(corpus, "android", "rsa-2048.x509.pem"),
		"--v4-signing-enabled", "false"}
	a = append(a, args[2:]...)
	out, err := exec.Command(tool, a...).CombinedOutput()
	if (err != nil) != neg {
		ts.Fatalf("apksigner35 sign: %v\n%s", err, out)
	}
}

func apkvFlip(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: apkv-flip FILE entry:NAME|cd|block")
	}
	path := ts.MkAbs(args[0])
	data, err := os.ReadFile(path)
	ts.Check(err)
	a, err := zipx.Read(bytes.NewReader(data), int64(len(data)))
	ts.Check(err)
	var off int64 = -1
	switch where := args[1]; {
	case strings.HasPrefix(where, "entry:"):
		for _, e := range a.Entries {
			if e.Name == where[len("entry:"):] {
				l, err := e.Local(bytes.NewReader(data), a.CDOffset)
				ts.Check(err)
				off = l.DataOffset + l.DataSize/2
			}
		}
	case where == "cd":
		off = a.CDOffset + 38 // external attributes of the first record
	case where == "block":
		if a.CDOffset >= 24 && string(data[a.CDOffset-16:a.CDOffset]) == "APK Sig Block 42" {
			size := int64(binary.LittleEndian.Uint64(data[a.CDOffset-24:]))
			off = a.CDOffset - size - 8 + 8 + 12 + 200
		}
	}
	if off < 0 || off >= int64(len(data)) {
		ts.Fatalf("apkv-flip: nothing to flip at %s in %s", args[1], args[0])
	}
	data[off] ^= 0x01
	ts.Check(os.WriteFile(path, data, 0o644))
}
