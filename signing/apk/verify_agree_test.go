package apk

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/storesign/storesign/internal/testenv"
	"github.com/storesign/storesign/internal/zipx"
	"github.com/storesign/storesign/signing/signingtest"
)

// agreeJava drives apksigner 35's own classes in one JVM (apksigner
// starts a JVM per call, half a second each): "sign ARGS" and "rotate
// ARGS" run ApkSignerTool's sign and rotate, "verify [--min-sdk-version
// N] [--max-sdk-version N] APK" runs ApkVerifier as `apksigner verify`
// does (with --v4-signature-file FILE too). Fields are tab-separated;
// each command answers one line: "ok", "verifies N v4=BOOL" (N signers),
// "rejected FIRST-ERROR" or "error EXCEPTION".
const agreeJava = `
import java.io.*;
import java.lang.reflect.*;
import java.util.*;
import com.android.apksig.ApkVerifier;

public class Agree {
    public static void main(String[] args) throws Exception {
        Class<?> tool = Class.forName("com.android.apksigner.ApkSignerTool");
        Method sign = tool.getDeclaredMethod("sign", String[].class);
        Method rotate = tool.getDeclaredMethod("rotate", String[].class);
        sign.setAccessible(true);
        rotate.setAccessible(true);
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true);
        System.setOut(new PrintStream(OutputStream.nullOutputStream()));
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        for (String line; (line = in.readLine()) != null; ) {
            String[] f = line.split("\t");
            String[] rest = Arrays.copyOfRange(f, 1, f.length);
            try {
                switch (f[0]) {
                case "sign": sign.invoke(null, (Object) rest); out.println("ok"); break;
                case "rotate": rotate.invoke(null, (Object) rest); out.println("ok"); break;
                default:
                    ApkVerifier.Builder b = new ApkVerifier.Builder(new File(rest[rest.length - 1]));
                    for (int i = 0; i + 1 < rest.length; i += 2) {
                        if (rest[i].equals("--min-sdk-version")) b.setMinCheckedPlatformVersion(Integer.parseInt(rest[i + 1]));
                        if (rest[i].equals("--max-sdk-version")) b.setMaxCheckedPlatformVersion(Integer.parseInt(rest[i + 1]));
                        if (rest[i].equals("--v4-signature-file")) b.setV4SignatureFile(new File(rest[i + 1]));
                    }
                    ApkVerifier.Result r = b.build().verify();
                    if (r.isVerified()) {
                        out.println("verifies " + r.getSignerCertificates().size() + " v4=" + r.isVerifiedUsingV4Scheme());
                    } else {
                        String first = r.getErrors().isEmpty() ? "" : r.getErrors().get(0).toString();
                        out.println("rejected " + first.replace('\n', ' '));
                    }
                }
            } catch (Throwable t) {
                Throwable c = t instanceof InvocationTargetException ? t.getCause() : t;
                out.println("error " + String.valueOf(c).replace('\n', ' '));
            }
        }
    }
}
`

// agreeOracle is one running Agree JVM.
type agreeOracle struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Scanner
}

func startAgreeOracle(t *testing.T, tool string) *agreeOracle {
	t.Helper()
	// The wrapper script puts apksigner's jars on the class path; take
	// the same jars.
	var jars []string
	for _, pat := range []string{"apksigner35/usr/share/java/*.jar", "apksigner35/usr/lib/android-sdk/build-tools/*/lib/*.jar"} {
		m, _ := filepath.Glob(filepath.Join(filepath.Dir(filepath.Dir(tool)), pat))
		jars = append(jars, m...)
	}
	java := testenv.Tool(t, "java")
	if len(jars) == 0 {
		if testenv.RequireOracles() {
			t.Fatalf("apksigner35's jars not found beside %s", tool)
		}
		t.Skipf("apksigner35's jars not found beside %s", tool)
	}
	src := filepath.Join(t.TempDir(), "Agree.java")
	if err := os.WriteFile(src, []byte(agreeJava), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(java, "-cp", strings.Join(jars, string(os.PathListSeparator)), src)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	o := &agreeOracle{cmd: cmd, in: in, out: bufio.NewScanner(stdout)}
	o.out.Buffer(nil, 1<<20)
	t.Cleanup(func() {
		in.Close()
		cmd.Wait()
		if t.Failed() && stderr.Len() > 0 {
			t.Logf("Agree.java stderr:\n%s", stderr.Bytes())
		}
	})
	return o
}

// do runs one command and returns its answer.
func (o *agreeOracle) do(t *testing.T, args ...string) string {
	t.Helper()
	if _, err := fmt.Fprintln(o.in, strings.Join(args, "\t")); err != nil {
		t.Fatalf("apksigner oracle: %v", err)
	}
	if !o.out.Scan() {
		t.Fatalf("apksigner oracle stopped: %v", o.out.Err())
	}
	return o.out.Text()
}

// agreeKnown lists where Verify knowingly disagrees with apksigner 35:
// by the damage done to the APK (the part of its name after "~"), the
// reason. Each is an APK storesign refuses and apksigner accepts (never
// the other way round), as the package documentation says.
var agreeKnown = map[string]string{
	// A CRC-32 in the central directory that differs from the local
	// header's: apksig reads entries by the central directory and checks
	// no CRC, so an APK verified by JAR signing only (v1, or the v2/v3
	// schemes out of the SDK range) passes; internal/zipx refuses the
	// archive as damaged or crafted before any signature is looked at.
	"cd-crc": "zipx refuses a central directory CRC-32 that disagrees with the local header",
}

// agreeVerdict is one verifier's answer on one APK and SDK range.
type agreeVerdict struct {
	ok, v4  bool
	signers int
	detail  string
}

// TestVerifyAgreesWithApksigner signs APKs of each kind the corpus
// sample of apksig's verifier tests holds, with apksigner 35 itself at
// test time (keys and lineages of the corpus: RSA 1024 to 4096, or to
// 16384 with STORESIGN_AGREE_ALL=1; EC P-256/384/521; DSA; v1, v2, v3
// alone and together; min SDK 17 to 33; targetSdk 30 without v2, and
// with EC keys;
// targetSandboxVersion 2; ten signers; verity signatures; a file size
// aligned by the zip comment; android:debuggable true,
// false and a resource reference, across the schemes; key rotation in v3
// and v3.1 with each corpus lineage, dev-release targeting; source
// stamps), damages
// copies of some (a flipped byte in an entry, the central directory,
// each signing block; truncation), and compares the verdicts and signer
// counts of Verify with apksigner's under several SDK ranges.
// STORESIGN_AGREE_VERBOSE=1 logs every verdict.
func TestVerifyAgreesWithApksigner(t *testing.T) {
	if testing.Short() {
		t.Skip("oracle agreement run: not in -short")
	}
	tool := testenv.Tool(t, "apksigner35")
	corpus := testenv.Corpus(t, "android")
	o := startAgreeOracle(t, tool)
	dir := t.TempDir()
	all := os.Getenv("STORESIGN_AGREE_ALL") == "1"
	start := time.Now()

	inputs := map[string]signingtest.APKOptions{
		"min21": {MinSDK: 21, TargetSDK: 28},
		"min18": {MinSDK: 18, TargetSDK: 28},
		"min24": {MinSDK: 24, TargetSDK: 29},
		"min28": {MinSDK: 28, TargetSDK: 33},
		"min32": {MinSDK: 32, TargetSDK: 33},
		"min33": {MinSDK: 33, TargetSDK: 34},
		"tgt30": {MinSDK: 21, TargetSDK: 30},
		"min17": {MinSDK: 17, TargetSDK: 28},
		"nosdk": {MinSDK: -1, TargetSDK: 28},
		// android:debuggable, which apksigner's verify ignores (only its
		// sign --debuggable-apk-permitted false reads it), in the forms
		// aapt2 writes: a boolean, and a reference to a resource.
		"dbg-true":  {MinSDK: 21, TargetSDK: 28, Debuggable: signingtest.BoolValue(true)},
		"dbg-false": {MinSDK: 21, TargetSDK: 28, Debuggable: signingtest.BoolValue(false)},
		"dbg-ref":   {MinSDK: 21, TargetSDK: 28, Debuggable: signingtest.ReferenceValue(0x7f010000)},
		// targetSandboxVersion 2 needs a v2 or v3 signature from Android 8.
		"sandbox2": {MinSDK: 21, TargetSDK: 28, TargetSandboxVersion: 2},
	}
	for name, opts := range inputs {
		if err := os.WriteFile(filepath.Join(dir, name+".apk"), signingtest.APK(opts), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	key := func(name string) []string {
		cert := filepath.Join(corpus, name+".x509.pem")
		return []string{"--key", filepath.Join(corpus, name+".pk8"), "--cert", cert}
	}
	type signCase struct {
		name, in string
		args     []string
	}
	var cases []signCase
	add := func(name, in string, args ...string) { cases = append(cases, signCase{name, in, args}) }

	// Certificate encodings and key algorithms, default schemes.
	keys := []string{"rsa-1024", "rsa-2048", "rsa-3072", "rsa-4096", "ec-p256", "ec-p384", "ec-p521", "dsa-1024", "dsa-2048", "dsa-3072", "rsa-2048-2-1"}
	if all {
		keys = append(keys, "rsa-8192", "rsa-16384")
	}
	for _, k := range keys {
		in := "min21"
		if strings.HasPrefix(k, "ec-") || strings.HasPrefix(k, "dsa-") {
			in = "min24" // apksigner signs v1 with EC from API 18 on, DSA with SHA-256 from 21; keep it simple
		}
		add(k, in, key(k)...)
	}
	// Scheme choices and SDK ranges.
	rsa := key("rsa-2048")
	add("v1-only", "min21", append(rsa, "--v2-signing-enabled", "false", "--v3-signing-enabled", "false")...)
	add("v1-only-min18", "min18", append(rsa, "--v2-signing-enabled", "false", "--v3-signing-enabled", "false")...)
	add("v2-only", "min24", append(rsa, "--v1-signing-enabled", "false", "--v3-signing-enabled", "false")...)
	add("v3-only", "min28", append(rsa, "--v1-signing-enabled", "false", "--v2-signing-enabled", "false")...)
	add("v1-off-min21", "min21", append(rsa, "--v1-signing-enabled", "false")...)
	add("v1v2-min18", "min18", append(rsa, "--v3-signing-enabled", "false")...)
	add("min33-default", "min33", rsa...)
	add("tgt30-v1-only", "tgt30", append(rsa, "--v2-signing-enabled", "false", "--v3-signing-enabled", "false")...)
	add("tgt30-default", "tgt30", rsa...)
	add("v1-sha1-min17", "min17", rsa...)
	add("no-uses-sdk", "nosdk", rsa...)
	// Several signers (v1 and v2 take up to 10; v3 one without a lineage).
	two := append(append(append([]string{}, rsa...), "--next-signer"), key("ec-p256")...)
	add("two-signers-v1v2", "min21", append([]string{"--v3-signing-enabled", "false"}, two...)...)
	add("two-signers-v2-only", "min24", append([]string{"--v1-signing-enabled", "false", "--v3-signing-enabled", "false"}, two...)...)
	// Ten signers for v1 and v2, the most apksigner signs with (and its
	// verifier takes).
	ten := func() []string {
		keys := []string{"rsa-1024", "rsa-1024_2", "rsa-2048", "rsa-2048_2", "rsa-2048_3", "rsa-3072", "rsa-4096", "ec-p256", "ec-p256_2", "ec-p384"}
		var args []string
		for i, k := range keys {
			if i > 0 {
				args = append(args, "--next-signer")
			}
			args = append(append(args, key(k)...), "--v1-signer-name", fmt.Sprintf("s%d", i+1))
		}
		return append([]string{"--v3-signing-enabled", "false"}, args...)
	}
	add("ten-signers-v1v2", "min21", ten()...)
	add("ten-signers-v2-only", "min24", append([]string{"--v1-signing-enabled", "false"}, ten()...)...)
	// Debuggable manifests across the schemes, with rotation and a stamp.
	for _, in := range []string{"dbg-true", "dbg-false", "dbg-ref"} {
		add(in, in, rsa...)
		add(in+"-v1-only", in, append(rsa, "--v2-signing-enabled", "false", "--v3-signing-enabled", "false")...)
		add(in+"-v2-only", in, append(rsa, "--v1-signing-enabled", "false", "--v3-signing-enabled", "false")...)
		add(in+"-v3-only", in, append(rsa, "--v1-signing-enabled", "false", "--v2-signing-enabled", "false")...)
	}
	add("dbg-false-refusing", "dbg-false", append(rsa, "--debuggable-apk-permitted", "false")...)
	// targetSandboxVersion 2 with and without v2/v3.
	add("sandbox2", "sandbox2", rsa...)
	add("sandbox2-v1-only", "sandbox2", append(rsa, "--v2-signing-enabled", "false", "--v3-signing-enabled", "false")...)
	add("sandbox2-v3-only", "sandbox2", append(rsa, "--v1-signing-enabled", "false", "--v2-signing-enabled", "false")...)
	add("align-file-size", "min21", append(rsa, "--align-file-size")...)
	// Verity signatures (a second signature per v2/v3 signer).
	add("verity", "min21", append(rsa, "--verity-enabled")...)
	add("verity-ec", "min24", append(key("ec-p256"), "--verity-enabled")...)
	add("verity-v2-only", "min24", append(rsa, "--verity-enabled", "--v1-signing-enabled", "false", "--v3-signing-enabled", "false")...)
	add("verity-v3-only", "min28", append(rsa, "--verity-enabled", "--v1-signing-enabled", "false", "--v2-signing-enabled", "false")...)
	add("golden-unaligned", filepath.Join(corpus, "golden-unaligned-in.apk"), rsa...)
	add("original", filepath.Join(corpus, "original.apk"), append(key("ec-p256"), "--min-sdk-version", "24")...)
	// Key rotation: the corpus lineages, v3.1 (apksigner 35's default
	// rotation from API 33), v3 (--rotation-min-sdk-version 28),
	// dev-release targeting, a lineage made by rotate.
	rot := func(lineage, old, new string) []string {
		return append(append(append(key(old), "--next-signer"), key(new)...), "--lineage", filepath.Join(corpus, lineage))
	}
	add("rotation-v31", "min21", rot("rsa-2048-lineage-2-signers", "rsa-2048", "rsa-2048_2")...)
	add("rotation-v3", "min21", append(rot("rsa-2048-lineage-2-signers", "rsa-2048", "rsa-2048_2"), "--rotation-min-sdk-version", "28")...)
	add("rotation-v31-dev", "min21", append(rot("rsa-2048-lineage-2-signers", "rsa-2048", "rsa-2048_2"), "--rotation-targets-dev-release")...)
	add("rotation-3-signers", "min24", rot("rsa-2048-lineage-3-signers", "rsa-2048", "rsa-2048_3")...)
	add("rotation-ec", "min24", append(rot("ec-p256-lineage-2-signers", "ec-p256", "ec-p256_2"), "--rotation-min-sdk-version", "28")...)
	add("rotation-min33", "min33", rot("rsa-2048-lineage-2-signers", "rsa-2048", "rsa-2048_2")...)
	add("rotation-min32", "min32", rot("rsa-2048-lineage-2-signers", "rsa-2048", "rsa-2048_2")...)
	// EC keys and targetSdk 30 (the corpus's v2-ec-p256-targetSdk-30,
	// v3-ec-p256-targetSdk-30 and v31-ec-p256-...-targetSdk-30).
	ec := key("ec-p256")
	add("ec-tgt30-v2-only", "tgt30", append(ec, "--v1-signing-enabled", "false", "--v3-signing-enabled", "false")...)
	add("ec-tgt30-v3-only", "tgt30", append(ec, "--v1-signing-enabled", "false", "--v2-signing-enabled", "false")...)
	add("rotation-ec-v31-tgt30", "tgt30", rot("ec-p256-lineage-2-signers", "ec-p256", "ec-p256_2")...)
	add("min32-default", "min32", rsa...)
	made := filepath.Join(dir, "made.lineage")
	if got := o.do(t, append(append(append([]string{"rotate", "--out", made, "--old-signer"}, key("rsa-1024")...), "--new-signer"), key("rsa-1024_2")...)...); got != "ok" {
		t.Fatalf("apksigner rotate: %s", got)
	}
	add("rotation-made", "min21", append(append(append(key("rsa-1024"), "--next-signer"), key("rsa-1024_2")...), "--lineage", made, "--rotation-min-sdk-version", "28")...)
	// Source stamps (apksigner 35 signs stamps with RSA keys only).
	add("stamp", "min21", append(rsa, append([]string{"--stamp-signer"}, key("rsa-2048_2")...)...)...)
	add("stamp-rotation", "min21", append(rot("rsa-2048-lineage-2-signers", "rsa-2048", "rsa-2048_2"), append([]string{"--stamp-signer"}, key("rsa-2048_3")...)...)...)
	add("dbg-true-rotation", "dbg-true", rot("rsa-2048-lineage-2-signers", "rsa-2048", "rsa-2048_2")...)
	add("dbg-ref-rotation-v3", "dbg-ref", append(rot("rsa-2048-lineage-2-signers", "rsa-2048", "rsa-2048_2"), "--rotation-min-sdk-version", "28")...)
	add("verity-rotation", "min21", append(rot("rsa-2048-lineage-2-signers", "rsa-2048", "rsa-2048_2"), "--verity-enabled")...)
	add("verity-stamp", "min21", append(rsa, "--verity-enabled", "--stamp-signer", key("rsa-2048_2")[0], key("rsa-2048_2")[1], key("rsa-2048_2")[2], key("rsa-2048_2")[3])...)
	add("dbg-ref-stamp", "dbg-ref", append(rsa, append([]string{"--stamp-signer"}, key("rsa-2048_2")...)...)...)
	// The corpus's other lineages: a later pair of keys, a bigger key,
	// signers without capabilities.
	add("rotation-2-3", "min21", rot("rsa-2048-lineage-2-signers-2-3", "rsa-2048_2", "rsa-2048_3")...)
	add("rotation-to-4096", "min21", append(rot("rsa-2048-to-4096-lineage-2-signers", "rsa-2048", "rsa-4096"), "--rotation-min-sdk-version", "28")...)
	add("rotation-no-caps", "min21", rot("rsa-2048-lineage-3-signers-1-no-caps", "rsa-2048", "rsa-2048_3")...)
	add("rotation-no-caps-first", "min21", rot("rsa-2048-lineage-no-capabilities-first-signer", "rsa-2048", "rsa-2048_2")...)

	// v4 signatures (.idsig beside the APK), checked with
	// --v4-signature-file: their own, another APK's, a damaged one.
	v4 := map[string]bool{}
	for _, k := range []string{"rsa-2048", "ec-p256", "rsa-4096"} {
		add("v4-"+k, "min24", key(k)...)
		v4["v4-"+k] = true
	}
	add("v4-rotation", "min24", append(rot("rsa-2048-lineage-2-signers", "rsa-2048", "rsa-2048_2"), "--rotation-min-sdk-version", "28")...)
	v4["v4-rotation"] = true

	var apks []string
	for _, c := range cases {
		in := c.in
		if !filepath.IsAbs(in) {
			in = filepath.Join(dir, in+".apk")
		}
		out := filepath.Join(dir, c.name+".apk")
		args := append([]string{"sign", "--v4-signing-enabled", strconv.FormatBool(v4[c.name]), "--out", out}, c.args...)
		if got := o.do(t, append(args, in)...); got != "ok" {
			t.Errorf("apksigner sign %s: %s", c.name, got)
			continue
		}
		apks = append(apks, out)
	}
	// Damaged copies of some: a flipped byte in an entry's data, in the
	// central directory, in each pair of the APK Signing Block; cut short.
	for _, name := range []string{"rsa-2048", "v1-only", "rotation-v31", "stamp", "v3-only", "dbg-ref", "verity-v2-only"} {
		data, err := os.ReadFile(filepath.Join(dir, name+".apk"))
		if err != nil {
			continue
		}
		for what, b := range agreeDamage(t, data) {
			p := filepath.Join(dir, name+"~"+what+".apk")
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
			apks = append(apks, p)
		}
	}
	// SDK ranges each APK is verified for: its own, and a few others.
	ranges := [][]string{nil, {"--min-sdk-version", "24"}, {"--max-sdk-version", "23"}, {"--min-sdk-version", "33"}}
	if all {
		ranges = append(ranges, []string{"--min-sdk-version", "18", "--max-sdk-version", "27"}, []string{"--min-sdk-version", "28", "--max-sdk-version", "32"})
	}

	type job struct {
		apk string
		rng []string
	}
	var jobs []job
	for _, a := range apks {
		for _, r := range ranges {
			jobs = append(jobs, job{a, r})
		}
	}
	sig := func(name string) string { return filepath.Join(dir, name+".apk.idsig") }
	if b, err := os.ReadFile(sig("v4-rsa-2048")); err == nil {
		b[len(b)/3] ^= 1
		if err := os.WriteFile(filepath.Join(dir, "damaged.idsig"), b, 0o644); err != nil {
			t.Fatal(err)
		}
		b[len(b)/3] ^= 1
		if err := os.WriteFile(filepath.Join(dir, "cut.idsig"), b[:len(b)/2], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, v := range []struct{ apk, sig string }{
		{"v4-rsa-2048", sig("v4-rsa-2048")}, {"v4-ec-p256", sig("v4-ec-p256")}, {"v4-rsa-4096", sig("v4-rsa-4096")},
		{"v4-rotation", sig("v4-rotation")}, {"v4-rsa-2048", sig("v4-ec-p256")}, {"v4-rsa-2048", filepath.Join(dir, "damaged.idsig")},
		{"v4-rsa-2048", filepath.Join(dir, "cut.idsig")},
	} {
		jobs = append(jobs, job{filepath.Join(dir, v.apk+".apk"), []string{"--v4-signature-file", v.sig}})
	}
	theirs := make([]agreeVerdict, len(jobs))
	for i, j := range jobs {
		got := o.do(t, append(append([]string{"verify"}, j.rng...), j.apk)...)
		v := agreeVerdict{detail: got}
		if rest, ok := strings.CutPrefix(got, "verifies "); ok {
			n, v4, _ := strings.Cut(rest, " ")
			v.ok, v.v4 = true, v4 == "v4=true"
			v.signers, _ = strconv.Atoi(n)
		}
		theirs[i] = v
	}
	ours := make([]agreeVerdict, len(jobs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for i, j := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			ours[i] = agreeVerify(j.apk, j.rng)
		}()
	}
	wg.Wait()

	disagree, verified := 0, 0
	verbose := os.Getenv("STORESIGN_AGREE_VERBOSE") == "1"
	for i, j := range jobs {
		name := strings.TrimSuffix(filepath.Base(j.apk), ".apk") + " " + strings.Join(j.rng, " ")
		name = strings.TrimSpace(name)
		o, th := ours[i], theirs[i]
		same := o.ok == th.ok && (!o.ok || o.signers == th.signers && o.v4 == th.v4)
		_, damage, _ := strings.Cut(strings.TrimSuffix(filepath.Base(j.apk), ".apk"), "~")
		reason, known := agreeKnown[damage]
		known = known && !o.ok && th.ok
		if th.ok {
			verified++
		}
		if verbose {
			t.Logf("%s: apksigner 35: %s; Verify: %s", name, th.detail, o.detail)
		}
		switch {
		case !same && known:
			t.Logf("%s: known disagreement (%s): Verify %v/%d (%s), apksigner %s", name, reason, o.ok, o.signers, o.detail, th.detail)
		case !same:
			disagree++
			t.Errorf("%s: Verify says verified=%v signers=%d v4=%v (%s); apksigner 35: %s", name, o.ok, o.signers, o.v4, o.detail, th.detail)
		}
	}
	t.Logf("%d APKs (%d signed by apksigner 35), %d verdicts compared (apksigner verifies %d, rejects %d), %d disagreements, %s",
		len(apks), len(cases), len(jobs), verified, len(jobs)-verified, disagree, time.Since(start).Round(time.Millisecond))
}

// agreeVerify is Verify's verdict on the APK at path for an apksigner
// SDK range.
func agreeVerify(path string, rng []string) agreeVerdict {
	var opts VerifyOptions
	for i := 0; i+1 < len(rng); i += 2 {
		n, _ := strconv.Atoi(rng[i+1])
		switch rng[i] {
		case "--min-sdk-version":
			opts.MinSDK = n
		case "--max-sdk-version":
			opts.MaxSDK = n
		case "--v4-signature-file":
			sig, err := os.ReadFile(rng[i+1])
			if err != nil {
				return agreeVerdict{detail: err.Error()}
			}
			opts.V4Signature, opts.V4SignatureSize = bytes.NewReader(sig), int64(len(sig))
		}
	}
	res, err := VerifyFile(context.Background(), path, opts)
	switch {
	case err == nil:
		return agreeVerdict{ok: true, v4: res.V4, signers: len(res.Signers), detail: fmt.Sprintf("verified, v4 errors %q", res.V4Errors)}
	case errors.Is(err, ErrNotVerified):
		return agreeVerdict{detail: res.Errors[0]}
	}
	return agreeVerdict{detail: err.Error()}
}

// agreeDamage returns damaged copies of a signed APK by what was done.
func agreeDamage(t *testing.T, data []byte) map[string][]byte {
	t.Helper()
	a, err := zipx.Read(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	flip := func(what string, off int64) {
		if off < 0 || off >= int64(len(data)) {
			return
		}
		b := bytes.Clone(data)
		b[off] ^= 0x01
		out[what] = b
	}
	for _, e := range a.Entries {
		if e.Name == "classes.dex" || e.Name == "AndroidManifest.xml" {
			l, err := e.Local(bytes.NewReader(data), a.CDOffset)
			if err == nil && l.DataSize > 0 {
				flip("entry-"+e.Name, l.DataOffset+l.DataSize/2)
			}
		}
	}
	flip("cd-crc", a.CDOffset+16)  // the CRC-32 of the first record
	flip("cd-attr", a.CDOffset+38) // its external attributes
	// Each ID-value pair of the APK Signing Block: a byte in its middle.
	if c := a.CDOffset; c >= 24 && string(data[c-16:c]) == "APK Sig Block 42" {
		size := int64(binary.LittleEndian.Uint64(data[c-24:]))
		start := c - size - 8
		for off := start + 8; off+12 <= c-24; {
			n := int64(binary.LittleEndian.Uint64(data[off:]))
			id := binary.LittleEndian.Uint32(data[off+8:])
			if n < 4 || off+8+n > c-24 {
				break
			}
			if id != 0x42726577 { // not the padding, which nothing signs
				flip(fmt.Sprintf("block-%#x", id), off+12+(n-4)/2)
			}
			off += 8 + n
		}
	}
	out["truncated-eocd"] = data[:len(data)-10]
	out["truncated-half"] = data[:len(data)/2]
	return out
}
