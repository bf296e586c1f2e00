package apk

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/storesign/storesign/internal/testenv"
	"github.com/storesign/storesign/internal/zipx"
	"github.com/storesign/storesign/signing/signingtest"
)

// vApksignerSchemes parses the "Verified using vN scheme" lines of
// `apksigner verify -v`.
func vApksignerSchemes(out string) map[string]bool {
	m := map[string]bool{}
	for _, line := range strings.Split(out, "\n") {
		rest, ok := strings.CutPrefix(line, "Verified using ")
		if !ok {
			continue
		}
		scheme, _, _ := strings.Cut(rest, " ")
		m[scheme] = strings.HasSuffix(line, ": true")
	}
	return m
}

// TestVerifyOracleApksigner35 signs synthetic APKs with apksigner 35 and
// checks that Verify accepts them with the same schemes, and that
// tampered copies fail both in Verify and in apksigner.
func TestVerifyOracleApksigner35(t *testing.T) {
	apksigner := testenv.Tool(t, "apksigner35")
	key := testenv.Corpus(t, "android", "rsa-2048.pk8")
	cert := testenv.Corpus(t, "android", "rsa-2048.x509.pem")
	key2 := testenv.Corpus(t, "android", "rsa-2048_2.pk8")
	cert2 := testenv.Corpus(t, "android", "rsa-2048_2.x509.pem")
	lineage := testenv.Corpus(t, "android", "rsa-2048-lineage-2-signers")
	dir := t.TempDir()

	signer := []string{"--key", key, "--cert", cert}
	rotated := []string{"--key", key, "--cert", cert, "--next-signer", "--key", key2, "--cert", cert2, "--lineage", lineage}
	cases := []struct {
		name              string
		minSDK, targetSDK int
		args              []string
		tamper            bool // also check tampered copies
	}{
		{"v1v2v3-minsdk21", 21, 0, signer, false},
		// VERITY_* signatures (Merkle tree digests) beside the chunked ones.
		{"v1v2v3-verity-minsdk21", 21, 0, append([]string{"--verity-enabled", "true"}, signer...), true},
		{"v2v3-minsdk24", 24, 0, signer, false},
		{"v3-only-minsdk28", 28, 0, append([]string{"--v1-signing-enabled", "false", "--v2-signing-enabled", "false"}, signer...), true},
		{"v1-only-minsdk18", 18, 29, append([]string{"--v2-signing-enabled", "false", "--v3-signing-enabled", "false"}, signer...), true},
		// apksigner 35 rejects JAR-only APKs that target Android 11+.
		{"v1-only-target34", 18, 34, append([]string{"--v2-signing-enabled", "false", "--v3-signing-enabled", "false"}, signer...), false},
		// A certificate whose RSA modulus is encoded as a negative INTEGER:
		// crypto/x509 refuses it, Android and apksigner accept it.
		{"negative-modulus-cert", 21, 0, []string{"--key", key, "--cert", testenv.Corpus(t, "android", "rsa-2048_negmod.x509.der")}, false},
		{"rotated-v31", 24, 0, rotated, true},
		{"rotated-v3-minsdk28", 28, 0, append([]string{"--rotation-min-sdk-version", "28"}, rotated...), false},
	}
	run := func(args ...string) (string, error) {
		cmd := exec.Command(apksigner, args...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := filepath.Join(dir, tc.name+"-in.apk")
			out := filepath.Join(dir, tc.name+".apk")
			if err := os.WriteFile(in, signingtest.APK(signingtest.APKOptions{MinSDK: tc.minSDK, TargetSDK: tc.targetSDK}), 0o644); err != nil {
				t.Fatal(err)
			}
			args := append([]string{"sign", "--in", in, "--out", out, "--v4-signing-enabled", "false"}, tc.args...)
			if o, err := run(args...); err != nil {
				t.Fatalf("apksigner35 sign: %v\n%s", err, o)
			}
			o, err := run("verify", "-v", out)
			res, verr := VerifyFile(context.Background(), out, VerifyOptions{})
			if verr != nil && !errors.Is(verr, ErrNotVerified) {
				t.Fatal(verr)
			}
			if err != nil {
				if res.Verified {
					t.Fatalf("Verify accepts what apksigner 35 rejects: %s", o)
				}
				return
			}
			want := vApksignerSchemes(o)
			if !res.Verified {
				t.Fatalf("Verify rejects what apksigner 35 signed: %q", res.Errors)
			}
			got := map[string]bool{"v1": res.V1, "v2": res.V2, "v3": res.V3, "v3.1": res.V31}
			for s, g := range got {
				if want[s] != g {
					t.Errorf("scheme %s: Verify says %v, apksigner 35 says %v", s, g, want[s])
				}
			}
			if strings.HasPrefix(tc.name, "rotated") {
				if len(res.Lineage) != 2 {
					t.Errorf("lineage has %d certificates, want 2", len(res.Lineage))
				}
			}

			if !tc.tamper {
				return
			}
			data, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			for _, tamper := range vTamperings(t, data, tc.minSDK < 24) {
				t.Run(tamper.name, func(t *testing.T) {
					bad := filepath.Join(dir, tc.name+"-"+tamper.name+".apk")
					if err := os.WriteFile(bad, tamper.data, 0o644); err != nil {
						t.Fatal(err)
					}
					res, err := Verify(context.Background(), bytes.NewReader(tamper.data), int64(len(tamper.data)), VerifyOptions{})
					ours := err == nil && res.Verified
					o, oerr := run("verify", bad)
					theirs := oerr == nil
					if ours != theirs {
						t.Errorf("Verify says verified=%v (err %v), apksigner 35 says %v: %s", ours, err, theirs, o)
					}
					if ours && tamper.mustFail {
						t.Errorf("Verify accepts a tampered APK")
					}
				})
			}
		})
	}
}

type vTampered struct {
	name     string
	data     []byte
	mustFail bool
}

// vTamperings returns copies of a signed APK with one byte changed: in
// a stored entry's data, in the central directory, in the APK Signing
// Block (when there is one) and in the JAR signature file (when there is
// one), and copies with one APK Signature Scheme block removed. When
// v1Checked (minSdk below 24), the JAR signature's X-Android-APK-Signed
// must catch the stripping.
func vTamperings(t *testing.T, apk []byte, v1Checked bool) []vTampered {
	t.Helper()
	a, err := zipx.Read(bytes.NewReader(apk), int64(len(apk)))
	if err != nil {
		t.Fatal(err)
	}
	flip := func(off int64) []byte {
		c := bytes.Clone(apk)
		c[off] ^= 0x01
		return c
	}
	var out []vTampered
	for _, e := range a.Entries {
		if e.Name == "resources.arsc" || e.Name == "META-INF/CERT.SF" {
			l, err := e.Local(bytes.NewReader(apk), a.CDOffset)
			if err != nil {
				t.Fatal(err)
			}
			if e.Method == zipx.Store {
				out = append(out, vTampered{"entry-" + strings.ReplaceAll(e.Name, "/", "_"), flip(l.DataOffset + l.DataSize/2), true})
			}
		}
	}
	// The central directory: the external attributes of the first record.
	// JAR signing does not cover it: a v1-only APK still verifies.
	out = append(out, vTampered{"central-directory", flip(a.CDOffset + 38), false})
	if binary.LittleEndian.Uint64(apk[a.CDOffset-24:]) > 0 && string(apk[a.CDOffset-16:a.CDOffset]) == "APK Sig Block 42" {
		size := int64(binary.LittleEndian.Uint64(apk[a.CDOffset-24:]))
		start := a.CDOffset - size - 8
		// A byte inside the first pair's value, well past the headers:
		// its signed data or signature.
		// Schemes Android would skip for the APK's minSdk are not checked.
		out = append(out, vTampered{"signing-block", flip(start + 8 + 12 + 200), false})
		// Stripping a scheme's block leaves the other schemes' digests
		// valid; stripping protection must catch it.
		for _, id := range []uint32{vBlockIDV2, vBlockIDV3, vBlockIDV31} {
			if stripped := vStrip(apk, a, start, id); stripped != nil {
				out = append(out, vTampered{fmt.Sprintf("strip-%#x", id), stripped, v1Checked && vHasV1(a)})
			}
		}
	}
	return out
}

func vHasV1(a *zipx.Archive) bool {
	for _, e := range a.Entries {
		if e.Name == "META-INF/MANIFEST.MF" {
			return true
		}
	}
	return false
}

// vStrip returns the APK without the signing block pair id (nil when
// there is none), the central directory offset fixed up.
func vStrip(apk []byte, a *zipx.Archive, start int64, id uint32) []byte {
	pairs := apk[start+8 : a.CDOffset-24]
	var kept []byte
	found := false
	for p := pairs; len(p) >= 12; {
		l := binary.LittleEndian.Uint64(p)
		if l < 4 || l > uint64(len(p)-8) {
			return nil
		}
		if binary.LittleEndian.Uint32(p[8:]) == id {
			found = true
		} else {
			kept = append(kept, p[:8+l]...)
		}
		p = p[8+l:]
	}
	if !found {
		return nil
	}
	size := uint64(len(kept) + 24)
	var out []byte
	out = append(out, apk[:start]...)
	out = binary.LittleEndian.AppendUint64(out, size)
	out = append(out, kept...)
	out = binary.LittleEndian.AppendUint64(out, size)
	out = append(out, "APK Sig Block 42"...)
	cd := int64(len(out))
	out = append(out, apk[a.CDOffset:]...)
	eocd := cd + (a.EOCDOffset - a.CDOffset)
	binary.LittleEndian.PutUint32(out[eocd+16:], uint32(cd))
	return out
}

// TestVerifyOracleJarsigner checks verdicts on APKs JAR-signed by
// jarsigner (SHA-256 digests, PKCS#7 with signed attributes) against
// apksigner 35: accepted from minSdk 19, refused below (Android before
// 4.4 mishandles signed attributes).
func TestVerifyOracleJarsigner(t *testing.T) {
	jarsigner := testenv.Tool(t, "jarsigner")
	apksigner := testenv.Tool(t, "apksigner35")
	dir := t.TempDir()
	id := signingtest.SelfSigned("jarsigner", signingtest.RSAKey("jarsigner", 2048))
	ks := filepath.Join(dir, "ks.p12")
	if err := os.WriteFile(ks, signingtest.PKCS12(id, "test-only"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		minSDK int
		want   bool
	}{{19, true}, {18, false}} {
		t.Run(fmt.Sprintf("minsdk%d", tc.minSDK), func(t *testing.T) {
			p := filepath.Join(dir, fmt.Sprintf("app%d.apk", tc.minSDK))
			if err := os.WriteFile(p, signingtest.APK(signingtest.APKOptions{MinSDK: tc.minSDK, TargetSDK: 29}), 0o644); err != nil {
				t.Fatal(err)
			}
			// signingtest.PKCS12 stores the key under the alias "1".
			cmd := exec.Command(jarsigner, "-keystore", ks, "-storetype", "PKCS12", "-storepass:env", "VERIFY_TEST_PW", "-digestalg", "SHA-256", p, "1")
			cmd.Env = append(os.Environ(), "VERIFY_TEST_PW=test-only")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("jarsigner: %v\n%s", err, out)
			}
			out, err := exec.Command(apksigner, "verify", p).CombinedOutput()
			theirs := err == nil
			res, verr := VerifyFile(context.Background(), p, VerifyOptions{})
			ours := verr == nil && res.Verified
			if ours != theirs || ours != tc.want {
				var errs []string
				if res != nil {
					errs = res.Errors
				}
				t.Errorf("Verify %v (err %v, %q), apksigner 35 %v (%s), want %v", ours, verr, errs, theirs, out, tc.want)
			}
		})
	}
}
