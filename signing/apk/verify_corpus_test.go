package apk

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/storesign/storesign/internal/testenv"
)

// vKnownDisagreements lists corpus APKs on which our verdict differs from
// apksigner 35's, with the reason. Keep it empty when possible.
var vKnownDisagreements = map[string]string{
	"weird-compression-method.apk": "compression method 21: apksigner inflates any method but stored; storesign refuses methods other than stored and deflate, as app stores do (issue 10)",
}

// TestVerifyCorpus checks that Verify agrees with apksigner 35 (as
// recorded in expected.tsv) on every APK of the corpus.
func TestVerifyCorpus(t *testing.T) {
	dir := testenv.Corpus(t, "android", "verify")
	f, err := os.Open(filepath.Join(dir, "expected.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	agree, total := 0, 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, verdict, ok := strings.Cut(strings.TrimSpace(sc.Text()), "\t")
		if !ok || name == "" {
			continue
		}
		total++
		want := verdict == "verifies"
		t.Run(name, func(t *testing.T) {
			res, err := VerifyFile(context.Background(), filepath.Join(dir, name), VerifyOptions{})
			got := err == nil && res.Verified
			if got == want {
				agree++
				if reason, ok := vKnownDisagreements[name]; ok {
					t.Errorf("listed as a known disagreement (%s) but agrees now: remove it", reason)
				}
				return
			}
			if reason, ok := vKnownDisagreements[name]; ok {
				t.Skipf("known disagreement: %s", reason)
			}
			if err != nil {
				t.Errorf("apksigner 35: %s; Verify: error %v", verdict, err)
				return
			}
			t.Errorf("apksigner 35: %s; Verify: verified=%v errors=%q warnings=%q", verdict, res.Verified, res.Errors, res.Warnings)
		})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d/%d corpus APKs agree with apksigner 35", agree, total)
}

// TestVerifyCorpusSDKRange checks verdicts under explicit SDK ranges
// (apksigner's --min-sdk-version / --max-sdk-version) on corpus APKs; the
// expected verdicts are apksigner 35.0.2's (see TestVerifyCorpusSweep).
func TestVerifyCorpusSDKRange(t *testing.T) {
	dir := testenv.Corpus(t, "android", "verify")
	tests := []struct {
		name           string
		minSDK, maxSDK int
		want           bool
	}{
		{"v2-only-with-ecdsa-sha256-p256.apk", 24, 0, true},
		{"v2-only-two-signers.apk", 24, 0, true},
		{"v2-only-10-signers.apk", 28, 0, true},
		{"v2-only-targetSandboxVersion-2.apk", 33, 0, true},
		{"v3-only-with-rsa-pkcs1-sha512-4096.apk", 28, 0, true},
		{"v3-only-unknown-additional-attr.apk", 33, 0, true},
		{"original-minSdk32.apk", 0, 23, false},
		{"v2-ec-p256-targetSdk-30.apk", 0, 23, false},
		{"v31-ec-p256-2-tgt-33-1-tgt-28-targetSdk-30.apk", 0, 23, false},
		{"incorrect-v2-block-size.apk", 0, 23, true},
		{"v1-only-with-signed-attrs-wrong-content-type.apk", 0, 23, true},
		{"v1v2v3-with-rsa-2048-lineage-3-signers-invalid-lineage-attr.apk", 18, 22, true},
		{"v1-only-10-signers.apk", 18, 22, false},
		{"v1-only-with-dsa-sha256-1.2.840.10040.4.1-1024.apk", 18, 22, false},
		{"v1-only-with-rsa-pkcs1-md5-1.2.840.113549.1.1.4-2048.apk", 18, 22, false},
		{"v1-only-with-signed-attrs-wrong-order.apk", 18, 22, false},
		{"v1-only-with-ecdsa-sha224-1.2.840.10045.2.1-p256.apk", 18, 22, false},
		{"v1-only-pkcs7-cert-bag-first-cert-not-used.apk", 18, 22, true},
		{"v1-only-with-cr-in-entry-name.apk", 18, 22, false},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s/min%d-max%d", tc.name, tc.minSDK, tc.maxSDK), func(t *testing.T) {
			res, err := VerifyFile(context.Background(), filepath.Join(dir, tc.name), VerifyOptions{MinSDK: tc.minSDK, MaxSDK: tc.maxSDK})
			got := err == nil && res.Verified
			if got != tc.want {
				var errs []string
				if res != nil {
					errs = res.Errors
				}
				t.Errorf("verified=%v (err %v, errors %q), apksigner 35 says %v", got, err, errs, tc.want)
			}
		})
	}
}

// TestVerifyCorpusSweep runs apksigner 35 itself on every corpus APK
// under several SDK ranges and compares verdicts. It launches hundreds of
// JVMs (minutes), so it runs only with STORESIGN_APK_VERIFY_SWEEP=1.
//
// Last run: 634/634 verdicts agree. 20 more runs are skipped: the v2-only
// RSA-PSS APKs under --min-sdk-version 24/28/33 (and the like), on which
// apksigner 35 on OpenJDK 17 crashes with NoSuchAlgorithmException
// ("SHA256withRSA/PSS Signature not available") instead of judging them;
// Verify accepts them, as Android does.
func TestVerifyCorpusSweep(t *testing.T) {
	if os.Getenv("STORESIGN_APK_VERIFY_SWEEP") != "1" {
		t.Skip("set STORESIGN_APK_VERIFY_SWEEP=1 to run apksigner 35 on the whole corpus")
	}
	apksigner := testenv.Tool(t, "apksigner35")
	dir := testenv.Corpus(t, "android", "verify")
	names, err := filepath.Glob(filepath.Join(dir, "*.apk"))
	if err != nil {
		t.Fatal(err)
	}
	ranges := []struct{ min, max int }{{0, 0}, {24, 0}, {0, 23}, {28, 0}, {18, 22}, {33, 0}}
	agree, total := 0, 0
	for _, r := range ranges {
		for _, p := range names {
			args := []string{"verify"}
			if r.min > 0 {
				args = append(args, "--min-sdk-version", fmt.Sprint(r.min))
			}
			if r.max > 0 {
				args = append(args, "--max-sdk-version", fmt.Sprint(r.max))
			}
			out, err := exec.Command(apksigner, append(args, p)...).CombinedOutput()
			if strings.Contains(string(out), "NoSuchAlgorithmException") {
				continue
			}
			if err != nil && !strings.Contains(string(out), "DOES NOT VERIFY") && !strings.Contains(string(out), "com.android.apksig") {
				t.Fatalf("apksigner 35 did not run properly on %s: %v\n%s", filepath.Base(p), err, out)
			}
			total++
			want := err == nil
			res, verr := VerifyFile(context.Background(), p, VerifyOptions{MinSDK: r.min, MaxSDK: r.max})
			got := verr == nil && res.Verified
			if got == want {
				agree++
				continue
			}
			o := string(out)
			if len(o) > 300 {
				o = o[:300]
			}
			t.Errorf("%s min=%d max=%d: apksigner 35 verified=%v (%s), Verify %v (err %v)", filepath.Base(p), r.min, r.max, want, o, got, verr)
		}
	}
	t.Logf("%d/%d verdicts agree with apksigner 35", agree, total)
}
