package apk_test

import (
	"bytes"
	"context"
	"crypto/elliptic"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/storesign/storesign/internal/testenv"
	"github.com/storesign/storesign/internal/zipx"
	"github.com/storesign/storesign/signing"
	"github.com/storesign/storesign/signing/apk"
	"github.com/storesign/storesign/signing/signingtest"
)

// testIdentities are the keys the tests sign with: RSA and ECDSA, with
// SHA-256 and (P-384) SHA-512 digests.
func testIdentities() map[string]*signing.Identity {
	return map[string]*signing.Identity{
		"rsa2048": signingtest.SelfSigned("apk rsa", signingtest.RSAKey("apk rsa", 2048)),
		"ecp256":  signingtest.SelfSigned("apk ec", signingtest.ECKey("apk ec", elliptic.P256())),
		"ecp384":  signingtest.SelfSigned("apk ec384", signingtest.ECKey("apk ec384", elliptic.P384())),
	}
}

func signBytes(t testing.TB, in []byte, id *signing.Identity, opts apk.Options) ([]byte, *apk.Result) {
	t.Helper()
	var out bytes.Buffer
	opts.Identity = id
	res, err := apk.Sign(context.Background(), bytes.NewReader(in), int64(len(in)), &out, opts)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	if res.Size != int64(out.Len()) {
		t.Fatalf("Result.Size = %d, wrote %d bytes", res.Size, out.Len())
	}
	return out.Bytes(), res
}

func writeTemp(t testing.TB, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// verifyRun returns a run of `<tool> verify --verbose path`.
func verifyRun(tool, path string, extra ...string) *toolRun {
	args := append([]string{"verify", "--verbose"}, extra...)
	return &toolRun{tool: tool, args: append(args, path)}
}

// verified fails the test unless the verify run succeeded, and returns
// its output.
func (r *toolRun) verified(t testing.TB) string {
	t.Helper()
	r.result(t)
	if !strings.HasPrefix(string(r.out), "Verifies") {
		t.Fatalf("%s verify: %s", filepath.Base(r.tool), r.out)
	}
	return string(r.out)
}

// checkAlignment requires every stored entry's data to start at a
// multiple of 4, and stored .so entries at a multiple of soAlign.
func checkAlignment(t testing.TB, b []byte, soAlign int64) {
	t.Helper()
	r := bytes.NewReader(b)
	a, err := zipx.Read(r, int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	libs := 0
	for _, e := range a.Entries {
		if e.Method != zipx.Store {
			continue
		}
		l, err := e.Local(r, a.CDOffset)
		if err != nil {
			t.Fatal(err)
		}
		want := int64(4)
		if strings.HasSuffix(e.Name, ".so") {
			want = soAlign
			libs++
		}
		if l.DataOffset%want != 0 {
			t.Errorf("stored entry %s: data at offset %d, not a multiple of %d", e.Name, l.DataOffset, want)
		}
	}
	if libs == 0 {
		t.Errorf("no stored .so entry to check")
	}
}

// TestSignVerifiesWithApksigner signs synthetic APKs with RSA and ECDSA
// keys for several minSdkVersions and checks that apksigner 31 (Debian)
// and 35 accept them, with the schemes expected, and that native
// libraries are 16 KiB aligned.
func TestSignVerifiesWithApksigner(t *testing.T) {
	t.Parallel()
	tools := []string{testenv.Tool(t, "apksigner"), testenv.Tool(t, "apksigner35")}
	ids := testIdentities()
	type verifyCase struct {
		name   string
		minSDK int
		res    *apk.Result
		runs   []*toolRun
	}
	var cases []*verifyCase
	var runs []*toolRun
	for _, k := range []struct {
		key     string
		minSDKs []int
	}{{"rsa2048", []int{21, 24, 30}}, {"ecp256", []int{21, 28}}, {"ecp384", []int{24}}} {
		for _, minSDK := range k.minSDKs {
			in := signingtest.APK(signingtest.APKOptions{MinSDK: minSDK, NativeABIs: []string{"arm64-v8a", "x86_64"}, Assets: 3})
			out, res := signBytes(t, in, ids[k.key], apk.Options{})
			checkAlignment(t, out, 16384)
			path := writeTemp(t, "signed.apk", out)
			c := &verifyCase{name: fmt.Sprintf("%s/minSdk%d", k.key, minSDK), minSDK: minSDK, res: res}
			for _, tool := range tools {
				c.runs = append(c.runs, verifyRun(tool, path))
			}
			runs = append(runs, c.runs...)
			cases = append(cases, c)
		}
	}
	runTools(runs)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantV1 := c.minSDK < 24
			wantV2 := c.minSDK < 28 // apksigner skips v2 where v3 is checked
			if c.res.V1 != wantV1 || !c.res.V2 || !c.res.V3 || c.res.V4 {
				t.Errorf("schemes %v, want v1=%t v2 v3", c.res.Schemes(), wantV1)
			}
			for _, r := range c.runs {
				got := r.verified(t)
				if !strings.HasSuffix(r.tool, "35") {
					continue
				}
				for _, want := range []string{
					fmt.Sprintf("Verified using v1 scheme (JAR signing): %t", wantV1),
					fmt.Sprintf("Verified using v2 scheme (APK Signature Scheme v2): %t", wantV2),
					"Verified using v3 scheme (APK Signature Scheme v3): true",
				} {
					if !strings.Contains(got, want) {
						t.Errorf("apksigner35 verify: missing %q in\n%s", want, got)
					}
				}
			}
		})
	}
}

// TestSignSyntheticMatchesApksigner compares storesign's output with
// apksigner 35's for synthetic APKs with the default alignment (stored
// entries to 4 bytes, native libraries to 16 KiB, and 4 KiB).
func TestSignSyntheticMatchesApksigner(t *testing.T) {
	t.Parallel()
	tool := testenv.Tool(t, "apksigner35")
	id := testIdentities()["rsa2048"]
	dir := t.TempDir()
	keyPath, certPath := writeKeyCert(t, dir, "upload", id)
	type synth struct {
		minSDK, libAlign int
		in               []byte
		run              *toolRun
	}
	var cases []*synth
	var runs []*toolRun
	for _, tc := range []struct{ minSDK, libAlign int }{{21, 0}, {30, 0}, {21, 4096}} {
		c := &synth{minSDK: tc.minSDK, libAlign: tc.libAlign}
		c.in = signingtest.APK(signingtest.APKOptions{MinSDK: tc.minSDK, NativeABIs: []string{"armeabi-v7a", "arm64-v8a"}, Assets: 5})
		inPath := writeTemp(t, "in.apk", c.in)
		outPath := filepath.Join(t.TempDir(), "out.apk")
		args := []string{"sign", "--in", inPath, "--out", outPath, "--key", keyPath, "--cert", certPath, "--v4-signing-enabled", "false"}
		if tc.libAlign != 0 {
			args = append(args, "--lib-page-alignment", fmt.Sprint(tc.libAlign))
		}
		c.run = &toolRun{tool: tool, args: args, output: outPath}
		cases = append(cases, c)
		runs = append(runs, c.run)
	}
	runTools(runs)
	for _, c := range cases {
		t.Run(fmt.Sprintf("minSdk%d/lib%d", c.minSDK, c.libAlign), func(t *testing.T) {
			want := c.run.result(t)
			// apksigner 35 writes JAR signatures whatever the minSdkVersion.
			v1 := true
			got, _ := signBytes(t, c.in, id, apk.Options{V1SigningEnabled: &v1, SignerName: "upload", LibPageAlignment: c.libAlign})
			if !bytes.Equal(got, want) {
				t.Errorf("output differs from apksigner 35's: %s", describeDiff(got, want))
			}
		})
	}
}

// TestSignResign signs an APK twice with different keys: the second
// signing replaces the first (old JAR files and signing block dropped)
// and matches apksigner's re-signing.
func TestSignResign(t *testing.T) {
	ids := testIdentities()
	in := signingtest.APK(signingtest.APKOptions{MinSDK: 21})
	first, _ := signBytes(t, in, ids["ecp256"], apk.Options{SignerName: "first"})
	second, res := signBytes(t, first, ids["rsa2048"], apk.Options{SignerName: "second"})
	a, err := zipx.Read(bytes.NewReader(second), int64(len(second)))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range a.Entries {
		if strings.HasPrefix(e.Name, "META-INF/FIRST") {
			t.Errorf("old signature file %s kept", e.Name)
		}
	}
	if res.Entries != len(a.Entries) {
		t.Errorf("Result.Entries = %d, archive has %d", res.Entries, len(a.Entries))
	}
	// Signing the same input again gives the same bytes (RSA).
	again, _ := signBytes(t, first, ids["rsa2048"], apk.Options{SignerName: "second"})
	if !bytes.Equal(again, second) {
		t.Error("signing twice gave different bytes")
	}
	if tool, ok := testenv.LookTool("apksigner35"); ok {
		r := verifyRun(tool, writeTemp(t, "second.apk", second))
		runTools([]*toolRun{r})
		r.verified(t)
	}
}

// TestSignFile checks the file wrapper: output written, input untouched,
// Check called before the rename. Between files, Sign copies in the
// kernel and hashes a memory map of the input: the bytes (APK and .idsig,
// several 1 MiB chunks) must be those of the buffered path.
func TestSignFile(t *testing.T) {
	id := testIdentities()["rsa2048"]
	dir := t.TempDir()
	in := signingtest.APK(signingtest.APKOptions{Assets: 3000, NativeABIs: []string{"arm64-v8a", "x86", "x86_64"}})
	inPath := filepath.Join(dir, "in.apk")
	if err := os.WriteFile(inPath, in, 0o644); err != nil {
		t.Fatal(err)
	}
	outPath := filepath.Join(dir, "out.apk")
	checked := false
	res, err := apk.SignFile(context.Background(), inPath, outPath, apk.Options{Identity: id, V4SigningEnabled: true, Check: func(ctx context.Context, r io.ReaderAt, size int64) error {
		checked = true
		if _, err := os.Stat(outPath); err == nil {
			t.Error("output renamed into place before Check")
		}
		var magic [4]byte
		_, err := r.ReadAt(magic[:], 0)
		return err
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !checked {
		t.Error("Check not called")
	}
	st, err := os.Stat(outPath)
	if err != nil || st.Size() != res.Size {
		t.Fatalf("output: %v, size %d, result %d", err, st.Size(), res.Size)
	}
	var wantSig bytes.Buffer
	want, _ := signBytes(t, in, id, apk.Options{V4SigningEnabled: true, V4Signature: &wantSig})
	got, _ := os.ReadFile(outPath)
	if !bytes.Equal(got, want) {
		t.Errorf("SignFile and Sign differ: %s", describeDiff(got, want))
	}
	if gotSig, _ := os.ReadFile(outPath + ".idsig"); !bytes.Equal(gotSig, wantSig.Bytes()) {
		t.Error("SignFile and Sign wrote different .idsig files")
	}
	// A failing check leaves no output.
	out2 := filepath.Join(dir, "out2.apk")
	_, err = apk.SignFile(context.Background(), inPath, out2, apk.Options{Identity: id, Check: func(context.Context, io.ReaderAt, int64) error {
		return errors.New("refused")
	}})
	if err == nil || !strings.Contains(err.Error(), "refused") {
		t.Errorf("err = %v, want the check's", err)
	}
	assertNoOutput(t, dir, "in.apk", "out.apk", "out.apk.idsig")
	if b, _ := os.ReadFile(inPath); !bytes.Equal(b, in) {
		t.Error("input modified")
	}
}

// assertNoOutput requires dir to hold exactly the files named.
func assertNoOutput(t testing.TB, dir string, keep ...string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if strings.Join(names, ",") != strings.Join(keep, ",") {
		t.Errorf("folder holds %v, want %v", names, keep)
	}
}

// SignFile verifies its output with Verify unless told otherwise.
func TestSignFileVerifiesByDefault(t *testing.T) {
	id := testIdentities()["rsa2048"]
	dir := t.TempDir()
	inPath := filepath.Join(dir, "in.apk")
	if err := os.WriteFile(inPath, signingtest.APK(signingtest.APKOptions{}), 0o644); err != nil {
		t.Fatal(err)
	}
	outPath := filepath.Join(dir, "out.apk")
	if _, err := apk.SignFile(context.Background(), inPath, outPath, apk.Options{Identity: id}); err != nil {
		t.Fatal(err)
	}
	v, err := apk.VerifyFile(context.Background(), outPath, apk.VerifyOptions{})
	if err != nil || v.Err() != nil {
		t.Fatalf("verify: %v, %v", err, v.Err())
	}
	// SkipVerify publishes without calling the check.
	skipped := filepath.Join(dir, "skipped.apk")
	_, err = apk.SignFile(context.Background(), inPath, skipped, apk.Options{Identity: id, SkipVerify: true, Check: func(context.Context, io.ReaderAt, int64) error {
		return errors.New("check called despite SkipVerify")
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(skipped); err != nil {
		t.Fatal(err)
	}
}

// writeKeyCert writes id as NAME.pk8 and NAME.x509.pem in dir, the files
// apksigner's --key and --cert take, and returns their paths.
func writeKeyCert(t testing.TB, dir, name string, id *signing.Identity) (keyPath, certPath string) {
	t.Helper()
	keyPath = filepath.Join(dir, name+".pk8")
	certPath = filepath.Join(dir, name+".x509.pem")
	if err := os.WriteFile(keyPath, signingtest.KeyPKCS8(id), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certPath, signingtest.CertPEM(id.Certificate), 0o644); err != nil {
		t.Fatal(err)
	}
	return keyPath, certPath
}

// SignFile signs without the schemes turned off on purpose, as apksigner
// does, and checks the output for the Android versions it serves: an APK
// for API level 21 without v1 verifies from 24, without v1 and v2 from 28.
func TestSignFileSchemesOff(t *testing.T) {
	id := testIdentities()["rsa2048"]
	dir := t.TempDir()
	inPath := filepath.Join(dir, "in.apk")
	if err := os.WriteFile(inPath, signingtest.APK(signingtest.APKOptions{MinSDK: 21}), 0o644); err != nil {
		t.Fatal(err)
	}
	off := false
	for _, tt := range []struct {
		name string
		opts apk.Options
		from int
	}{
		{"v1 off", apk.Options{Identity: id, V1SigningEnabled: &off}, 24},
		{"v1 and v2 off", apk.Options{Identity: id, V1SigningEnabled: &off, V2SigningEnabled: &off}, 28},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(dir, tt.name+".apk")
			if _, err := apk.SignFile(context.Background(), inPath, out, tt.opts); err != nil {
				t.Fatal(err)
			}
			if _, err := apk.VerifyFile(context.Background(), out, apk.VerifyOptions{MinSDK: tt.from}); err != nil {
				t.Errorf("from API level %d: %v", tt.from, err)
			}
			if _, err := apk.VerifyFile(context.Background(), out, apk.VerifyOptions{MinSDK: 21}); err == nil {
				t.Error("verifies from API level 21")
			}
		})
	}
}
