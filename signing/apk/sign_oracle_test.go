package apk_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/storesign/storesign/internal/testenv"
	"github.com/storesign/storesign/internal/zipx"
	"github.com/storesign/storesign/signing"
	"github.com/storesign/storesign/signing/apk"
	"github.com/storesign/storesign/signing/signingtest"
)

// goldenSchemes are the scheme combinations the byte-for-byte test
// covers.
var goldenSchemes = []struct{ v1, v2, v3 bool }{
	{true, false, false},
	{false, true, false},
	{false, false, true},
	{true, true, false},
	{false, true, true},
	{true, true, true},
}

// TestSignMatchesApksigner signs apksig's golden inputs with apksigner 35
// and with storesign and requires the same bytes.
func TestSignMatchesApksigner(t *testing.T) {
	t.Parallel()
	tool := testenv.Tool(t, "apksigner35")
	keyPath := testenv.Corpus(t, "android", "rsa-2048.pk8")
	certPath := testenv.Corpus(t, "android", "rsa-2048.x509.pem")
	id := loadKeyCert(t, keyPath, certPath)
	type golden struct {
		name, in string
		opts     apk.Options
		run      *toolRun
	}
	var cases []*golden
	for _, in := range []string{"golden-unaligned-in.apk", "golden-aligned-in.apk", "golden-legacy-aligned-in.apk"} {
		inPath := testenv.Corpus(t, "android", in)
		for _, s := range goldenSchemes {
			out := filepath.Join(t.TempDir(), "apksigner.apk")
			args := []string{"sign", "--in", inPath, "--out", out, "--key", keyPath, "--cert", certPath,
				"--alignment-preserved", "true", "--v4-signing-enabled", "false",
				"--v1-signing-enabled", fmt.Sprint(s.v1), "--v2-signing-enabled", fmt.Sprint(s.v2), "--v3-signing-enabled", fmt.Sprint(s.v3)}
			opts := apk.Options{
				V1SigningEnabled:   &s.v1,
				V2SigningEnabled:   &s.v2,
				V3SigningEnabled:   &s.v3,
				AlignmentPreserved: true,
				SignerName:         "rsa-2048",
			}
			if strings.Contains(in, "legacy") {
				args = append(args, "--lib-page-alignment", "4096")
				opts.LibPageAlignment = 4096
			}
			cases = append(cases, &golden{
				name: fmt.Sprintf("%s/v1=%t,v2=%t,v3=%t", strings.TrimSuffix(in, "-in.apk"), s.v1, s.v2, s.v3),
				in:   inPath, opts: opts, run: &toolRun{tool: tool, args: args, output: out},
			})
		}
	}
	runs := make([]*toolRun, len(cases))
	for i, c := range cases {
		runs[i] = c.run
	}
	runTools(runs)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := c.run.result(t)
			input, err := os.ReadFile(c.in)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := signBytes(t, input, id, c.opts)
			if !bytes.Equal(got, want) {
				t.Errorf("output differs from apksigner 35's: %s", describeDiff(got, want))
			}
		})
	}
}

// toolRun is one run of a reference tool.
type toolRun struct {
	tool   string
	args   []string
	output string // file the run writes, read by result
	out    []byte // combined stdout and stderr
	err    error
}

// runTools runs the tools concurrently: the JVM's start-up dominates and
// overlaps well, more than go test's parallelism (GOMAXPROCS) allows.
func runTools(runs []*toolRun) {
	sem := make(chan struct{}, 6)
	var wg sync.WaitGroup
	for _, r := range runs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			r.out, r.err = exec.Command(r.tool, r.args...).CombinedOutput()
		}()
	}
	wg.Wait()
}

// result fails the test if the run failed, else returns the file it
// wrote (nil when it writes none).
func (r *toolRun) result(t testing.TB) []byte {
	t.Helper()
	if r.err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(r.tool), r.args[0], r.err, r.out)
	}
	if r.output == "" {
		return nil
	}
	b, err := os.ReadFile(r.output)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func loadKeyCert(t testing.TB, keyPath, certPath string) *signing.Identity {
	t.Helper()
	key, err := os.ReadFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := os.ReadFile(certPath)
	if err != nil {
		t.Fatal(err)
	}
	id, err := signing.LoadKeyAndCertificate(key, cert)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// describeDiff says where two APKs first differ: in which entry, the
// APK Signing Block, the central directory or the end record.
func describeDiff(got, want []byte) string {
	n := min(len(got), len(want))
	off := 0
	for off < n && got[off] == want[off] {
		off++
	}
	where := func(b []byte) string {
		a, err := zipx.Read(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return "unparsable: " + err.Error()
		}
		switch {
		case int64(off) >= a.EOCDOffset:
			return "end of central directory"
		case int64(off) >= a.CDOffset:
			return fmt.Sprintf("central directory (+%d)", int64(off)-a.CDOffset)
		}
		best := ""
		var bestOff int64 = -1
		for _, e := range a.Entries {
			if e.HeaderOffset <= int64(off) && e.HeaderOffset > bestOff {
				best, bestOff = e.Name, e.HeaderOffset
			}
		}
		if bestOff < 0 {
			return "before the first entry"
		}
		return fmt.Sprintf("entry %q (+%d from its local header; the signing block or padding if past its data)", best, int64(off)-bestOff)
	}
	if off == n && len(got) == len(want) {
		return "no difference"
	}
	ctx := func(b []byte) string {
		return fmt.Sprintf("%x", b[off:min(len(b), off+16)])
	}
	return fmt.Sprintf("sizes %d (got) and %d (want); first difference at offset %d, in %s; got %s, want %s",
		len(got), len(want), off, where(want), ctx(got), ctx(want))
}

// TestSignV4MatchesApksigner signs with v4 and compares both the APK and
// the .idsig file with apksigner 35's, then has apksigner verify the pair.
func TestSignV4MatchesApksigner(t *testing.T) {
	t.Parallel()
	tool := testenv.Tool(t, "apksigner35")
	id := testIdentities()["rsa2048"]
	dir := t.TempDir()
	keyPath, certPath := writeKeyCert(t, dir, "v4", id)
	type v4case struct {
		name     string
		in       []byte
		inPath   string
		out      string
		run      *toolRun
		verifyUs *toolRun
	}
	var cases []*v4case
	var runs []*toolRun
	for _, assets := range []int{0, 700} { // one, and two tree levels
		c := &v4case{name: fmt.Sprintf("assets%d", assets)}
		c.in = signingtest.APK(signingtest.APKOptions{MinSDK: 24, Assets: assets})
		c.inPath = writeTemp(t, "in.apk", c.in)
		c.out = filepath.Join(t.TempDir(), "out.apk")
		c.run = &toolRun{tool: tool, output: c.out, args: []string{"sign", "--in", c.inPath, "--out", c.out, "--key", keyPath, "--cert", certPath,
			"--v1-signing-enabled", "false", "--v4-signing-enabled", "true"}}
		cases = append(cases, c)
		runs = append(runs, c.run)
	}
	runTools(runs)
	runs = nil
	for _, c := range cases {
		want := c.run.result(t)
		wantSig, err := os.ReadFile(c.out + ".idsig")
		if err != nil {
			t.Fatal(err)
		}
		var sig bytes.Buffer
		got, res := signBytes(t, c.in, id, apk.Options{V4SigningEnabled: true, V4Signature: &sig, SignerName: "v4"})
		if !res.V4 {
			t.Errorf("%s: Result.V4 false", c.name)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: APK differs from apksigner 35's: %s", c.name, describeDiff(got, want))
		}
		if !bytes.Equal(sig.Bytes(), wantSig) {
			t.Errorf("%s: .idsig differs from apksigner 35's (%d and %d bytes)", c.name, sig.Len(), len(wantSig))
		}
		ours := writeTemp(t, "ours.apk", got)
		if err := os.WriteFile(ours+".idsig", sig.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		c.verifyUs = verifyRun(tool, ours, "--v4-signature-file", ours+".idsig")
		runs = append(runs, c.verifyUs)
	}
	runTools(runs)
	for _, c := range cases {
		if out := c.verifyUs.verified(t); !strings.Contains(out, "Verified using v4 scheme (APK Signature Scheme v4): true") {
			t.Errorf("%s: apksigner35 did not verify v4:\n%s", c.name, out)
		}
	}
}

// TestSignCorpusKeysMatchApksigner covers the other digests: RSA keys of
// 1024 to 4096 bits (SHA-512 above 3072), and minSdkVersion 15 (SHA-1 JAR
// digests), byte for byte against apksigner 35; ECDSA P-384 and P-521
// (random signatures) are checked by apksigner verify.
func TestSignCorpusKeysMatchApksigner(t *testing.T) {
	t.Parallel()
	tool := testenv.Tool(t, "apksigner35")
	inPath := testenv.Corpus(t, "android", "golden-unaligned-in.apk")
	input, err := os.ReadFile(inPath)
	if err != nil {
		t.Fatal(err)
	}
	type keyCase struct {
		name, key string
		minSDK    int
		compare   bool
		run       *toolRun
		got       []byte
	}
	var cases []*keyCase
	var runs []*toolRun
	on := true
	for _, k := range []struct {
		key     string
		compare bool
	}{{"rsa-1024", true}, {"rsa-3072", true}, {"rsa-4096", true}, {"ec-p384", false}, {"ec-p521", false}} {
		keyPath := testenv.Corpus(t, "android", k.key+".pk8")
		certPath := testenv.Corpus(t, "android", k.key+".x509.pem")
		id := loadKeyCert(t, keyPath, certPath)
		for _, minSDK := range []int{15, 24} {
			if !k.compare && minSDK < 18 {
				continue // ECDSA JAR signatures need Android 4.3
			}
			c := &keyCase{name: fmt.Sprintf("%s/minSdk%d", k.key, minSDK), key: k.key, minSDK: minSDK, compare: k.compare}
			c.got, _ = signBytes(t, input, id, apk.Options{V1SigningEnabled: &on, MinSDKVersion: minSDK, SignerName: k.key, AlignmentPreserved: true})
			if k.compare {
				out := filepath.Join(t.TempDir(), "apksigner.apk")
				c.run = &toolRun{tool: tool, output: out, args: []string{"sign", "--in", inPath, "--out", out, "--key", keyPath, "--cert", certPath,
					"--min-sdk-version", fmt.Sprint(minSDK), "--alignment-preserved", "true", "--v4-signing-enabled", "false"}}
			} else {
				c.run = verifyRun(tool, writeTemp(t, "ours.apk", c.got), "--min-sdk-version", fmt.Sprint(minSDK))
			}
			cases = append(cases, c)
			runs = append(runs, c.run)
		}
	}
	runTools(runs)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !c.compare {
				c.run.verified(t)
				return
			}
			if want := c.run.result(t); !bytes.Equal(c.got, want) {
				t.Errorf("output differs from apksigner 35's: %s", describeDiff(c.got, want))
			}
		})
	}
}
