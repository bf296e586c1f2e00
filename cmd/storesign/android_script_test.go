package main

import (
	"archive/zip"
	"bytes"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/storesign/storesign/internal/testenv"
	"github.com/storesign/storesign/internal/zipx"
	"github.com/storesign/storesign/signing/signingtest"
)

// androidScriptCmds are the fixture commands of the apk_sign*.txtar
// scripts:
//
//	apk-gen OUT [MINSDK [ABI...]]             an unsigned, unaligned APK
//	apk-debuggable OUT                        an unsigned APK with android:debuggable true
//	apk-nomanifest OUT                        a zip without AndroidManifest.xml
//	apk-dup OUT                               an APK with two entries of one name
//	apk-hole IN OUT                           IN with 4 KiB cut from its middle
//	apk-aligned APK                           checks 4-byte and 16 KiB .so alignment
//	apk-oracle TOOL APK [ARGS...]             TOOL verify --verbose ARGS APK must pass
//	                                          (passes when TOOL is not installed)
func androidScriptCmds() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	return map[string]func(ts *testscript.TestScript, neg bool, args []string){
		"apk-gen": func(ts *testscript.TestScript, neg bool, args []string) {
			if len(args) < 1 {
				ts.Fatalf("usage: apk-gen OUT [MINSDK [ABI...]]")
			}
			opts := signingtest.APKOptions{NativeABIs: []string{"arm64-v8a", "armeabi-v7a"}, Assets: 3}
			if len(args) > 1 {
				n, err := strconv.Atoi(args[1])
				ts.Check(err)
				opts.MinSDK = n
			}
			if len(args) > 2 {
				opts.NativeABIs = args[2:]
			}
			ts.Check(os.WriteFile(ts.MkAbs(args[0]), signingtest.APK(opts), 0o644))
		},
		"apk-debuggable": func(ts *testscript.TestScript, neg bool, args []string) {
			if len(args) != 1 {
				ts.Fatalf("usage: apk-debuggable OUT")
			}
			opts := signingtest.APKOptions{MinSDK: 24, Debuggable: signingtest.BoolValue(true)}
			ts.Check(os.WriteFile(ts.MkAbs(args[0]), signingtest.APK(opts), 0o644))
		},
		"apk-nomanifest": func(ts *testscript.TestScript, neg bool, args []string) {
			ts.Check(os.WriteFile(ts.MkAbs(args[0]), apkScriptZip(ts, "classes.dex", "resources.arsc"), 0o644))
		},
		"apk-dup": func(ts *testscript.TestScript, neg bool, args []string) {
			ts.Check(os.WriteFile(ts.MkAbs(args[0]), apkScriptZip(ts, "AndroidManifest.xml", "classes.dex", "classes.dex"), 0o644))
		},
		"apk-hole": func(ts *testscript.TestScript, neg bool, args []string) {
			b, err := os.ReadFile(ts.MkAbs(args[0]))
			ts.Check(err)
			mid := len(b) / 2
			ts.Check(os.WriteFile(ts.MkAbs(args[1]), append(b[:mid:mid], b[mid+4096:]...), 0o644))
		},
		"apk-aligned": func(ts *testscript.TestScript, neg bool, args []string) {
			b, err := os.ReadFile(ts.MkAbs(args[0]))
			ts.Check(err)
			r := bytes.NewReader(b)
			a, err := zipx.Read(r, int64(len(b)))
			ts.Check(err)
			libs := 0
			for _, e := range a.Entries {
				if e.Method != zipx.Store {
					continue
				}
				l, err := e.Local(r, a.CDOffset)
				ts.Check(err)
				want := int64(4)
				if strings.HasSuffix(e.Name, ".so") {
					want = 16384
					libs++
				}
				if l.DataOffset%want != 0 {
					ts.Fatalf("%s: stored entry %s starts at %d, not a multiple of %d", args[0], e.Name, l.DataOffset, want)
				}
			}
			if libs == 0 {
				ts.Fatalf("%s: no stored native library", args[0])
			}
		},
		"apk-oracle": func(ts *testscript.TestScript, neg bool, args []string) {
			if len(args) < 2 {
				ts.Fatalf("usage: apk-oracle TOOL APK [ARGS...]")
			}
			tool, ok := testenv.LookTool(args[0])
			if !ok {
				if testenv.RequireOracles() {
					ts.Fatalf("%s is not installed and STORESIGN_REQUIRE_ORACLES=1", args[0])
				}
				ts.Logf("%s is not installed: not checked", args[0])
				return
			}
			cmd := append([]string{"verify", "--verbose"}, args[2:]...)
			c := exec.Command(tool, append(cmd, ts.MkAbs(args[1]))...)
			c.Dir = ts.MkAbs(".")
			out, err := c.CombinedOutput()
			ts.Logf("%s", out)
			if (err == nil && strings.HasPrefix(string(out), "Verifies")) == neg {
				ts.Fatalf("%s verify %s: %v", args[0], args[1], err)
			}
		},
	}
}

// apkScriptZip returns a zip of small entries with the given names (a
// name may repeat).
func apkScriptZip(ts *testscript.TestScript, names ...string) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range names {
		w, err := zw.Create(n)
		ts.Check(err)
		_, err = io.WriteString(w, "content of "+n)
		ts.Check(err)
	}
	ts.Check(zw.Close())
	return buf.Bytes()
}
