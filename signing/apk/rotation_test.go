package apk_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/storesign/storesign/internal/testenv"
	"github.com/storesign/storesign/signing"
	"github.com/storesign/storesign/signing/apk"
	"github.com/storesign/storesign/signing/signingtest"
)

// rotationCase signs with a lineage both with apksigner 35 and with
// storesign.
type rotationCase struct {
	name    string
	lineage string   // corpus lineage file
	keys    []string // corpus key names, in the order given
	minSDK  int      // APK minSdkVersion of the synthetic input
	schemes [3]bool  // v1, v2, v3
	rotMin  int      // 0: apksigner's default
	dev     bool     // --rotation-targets-dev-release
	random  bool     // ECDSA: compare what apksigner verify prints
	v4      bool     // also the .idsig
	verity  bool     // --verity-enabled
	idsig   bytes.Buffer
	run     *toolRun
	got     []byte
	check   *toolRun // apksigner verify --print-certs of ours (random)
	theirs  *toolRun // and of apksigner's output
}

// TestSignRotationMatchesApksigner signs with the corpus lineages
// (rsa-2048 -> rsa-2048_2, and the EC one), with v3.0 and v3.1, with and
// without rotation targeting, with apksigner 35 and with storesign, and
// compares the outputs: bytes for RSA keys; for ECDSA keys (random
// signatures), apksigner's own account of both outputs.
func TestSignRotationMatchesApksigner(t *testing.T) {
	t.Parallel()
	tool := testenv.Tool(t, "apksigner35")
	rsa2 := []string{"rsa-2048", "rsa-2048_2"}
	ec2 := []string{"ec-p256", "ec-p256_2"}
	v23 := [3]bool{false, true, true}
	v123 := [3]bool{true, true, true}
	v3 := [3]bool{false, false, true}
	cases := []*rotationCase{
		{name: "rsa/default", lineage: "rsa-2048-lineage-2-signers", keys: rsa2, minSDK: 24, schemes: v23},
		{name: "rsa/v1v2v3", lineage: "rsa-2048-lineage-2-signers", keys: rsa2, minSDK: 21, schemes: v123},
		{name: "rsa/reversed", lineage: "rsa-2048-lineage-2-signers", keys: []string{"rsa-2048_2", "rsa-2048"}, minSDK: 24, schemes: v23},
		{name: "rsa/rot28", lineage: "rsa-2048-lineage-2-signers", keys: rsa2, minSDK: 24, schemes: v23, rotMin: 28},
		{name: "rsa/rot33", lineage: "rsa-2048-lineage-2-signers", keys: rsa2, minSDK: 24, schemes: v23, rotMin: 33},
		{name: "rsa/rot33-dev", lineage: "rsa-2048-lineage-2-signers", keys: rsa2, minSDK: 24, schemes: v23, rotMin: 33, dev: true},
		{name: "rsa/rot34", lineage: "rsa-2048-lineage-2-signers", keys: rsa2, minSDK: 24, schemes: v23, rotMin: 34},
		{name: "rsa/rot30", lineage: "rsa-2048-lineage-2-signers", keys: rsa2, minSDK: 24, schemes: v23, rotMin: 30},
		{name: "rsa/minsdk33", lineage: "rsa-2048-lineage-2-signers", keys: rsa2, minSDK: 33, schemes: v23},
		{name: "rsa/v3-only-new", lineage: "rsa-2048-lineage-2-signers", keys: []string{"rsa-2048_2"}, minSDK: 24, schemes: v3, rotMin: 28},
		{name: "rsa/3-signers", lineage: "rsa-2048-lineage-3-signers", keys: []string{"rsa-2048", "rsa-2048_2", "rsa-2048_3"}, minSDK: 24, schemes: v23},
		{name: "rsa/3-signers-mid", lineage: "rsa-2048-lineage-3-signers", keys: []string{"rsa-2048", "rsa-2048_2"}, minSDK: 24, schemes: v23, rotMin: 28},
		{name: "rsa/v4", lineage: "rsa-2048-lineage-2-signers", keys: rsa2, minSDK: 24, schemes: v23, v4: true},
		{name: "rsa/v4-rot28", lineage: "rsa-2048-lineage-2-signers", keys: rsa2, minSDK: 24, schemes: v23, rotMin: 28, v4: true},
		{name: "rsa-to-4096/v4", lineage: "rsa-2048-to-4096-lineage-2-signers", keys: []string{"rsa-2048", "rsa-4096"}, minSDK: 24, schemes: v23, v4: true},
		{name: "rsa-to-4096/default", lineage: "rsa-2048-to-4096-lineage-2-signers", keys: []string{"rsa-2048", "rsa-4096"}, minSDK: 24, schemes: v23},
		{name: "rsa-to-4096/rot28", lineage: "rsa-2048-to-4096-lineage-2-signers", keys: []string{"rsa-2048", "rsa-4096"}, minSDK: 24, schemes: v23, rotMin: 28},
		{name: "rsa-to-4096/v1v2v3", lineage: "rsa-2048-to-4096-lineage-2-signers", keys: []string{"rsa-2048", "rsa-4096"}, minSDK: 21, schemes: v123},
		{name: "ec/default", lineage: "ec-p256-lineage-2-signers", keys: ec2, minSDK: 24, schemes: v23, random: true},
		{name: "ec/rot28", lineage: "ec-p256-lineage-2-signers", keys: ec2, minSDK: 24, schemes: v23, rotMin: 28, random: true},
		{name: "ec/rot33-dev", lineage: "ec-p256-lineage-2-signers", keys: ec2, minSDK: 24, schemes: v23, rotMin: 33, dev: true, random: true},
		{name: "rsa/verity", lineage: "rsa-2048-lineage-2-signers", keys: rsa2, minSDK: 21, schemes: v123, verity: true},
		{name: "rsa/verity-rot28-v4", lineage: "rsa-2048-lineage-2-signers", keys: rsa2, minSDK: 24, schemes: v23, rotMin: 28, v4: true, verity: true},
		{name: "rsa-to-4096/verity-v4", lineage: "rsa-2048-to-4096-lineage-2-signers", keys: []string{"rsa-2048", "rsa-4096"}, minSDK: 24, schemes: v23, v4: true, verity: true},
		{name: "ec/verity", lineage: "ec-p256-lineage-2-signers", keys: ec2, minSDK: 24, schemes: v23, random: true, verity: true},
	}
	var runs []*toolRun
	for _, c := range cases {
		in := signingtest.APK(signingtest.APKOptions{MinSDK: c.minSDK, Assets: 3})
		inPath := writeTemp(t, "in.apk", in)
		lineagePath := testenv.Corpus(t, "android", c.lineage)
		out := filepath.Join(t.TempDir(), "apksigner.apk")
		args := []string{"sign", "--in", inPath, "--out", out, "--lineage", lineagePath,
			"--v1-signing-enabled", fmt.Sprint(c.schemes[0]), "--v2-signing-enabled", fmt.Sprint(c.schemes[1]),
			"--v3-signing-enabled", fmt.Sprint(c.schemes[2]), "--v4-signing-enabled", fmt.Sprint(c.v4)}
		if c.rotMin != 0 {
			args = append(args, "--rotation-min-sdk-version", fmt.Sprint(c.rotMin))
		}
		if c.dev {
			args = append(args, "--rotation-targets-dev-release")
		}
		if c.verity {
			args = append(args, "--verity-enabled")
		}
		var ids []*signing.Identity
		for i, k := range c.keys {
			if i > 0 {
				args = append(args, "--next-signer")
			}
			keyPath := testenv.Corpus(t, "android", k+".pk8")
			certPath := testenv.Corpus(t, "android", k+".x509.pem")
			args = append(args, "--key", keyPath, "--cert", certPath)
			ids = append(ids, loadKeyCert(t, keyPath, certPath))
		}
		lin, err := apk.ReadLineage(readCorpus(t, "android", c.lineage))
		if err != nil {
			t.Fatal(err)
		}
		opts := apk.Options{
			Lineage:                   lin,
			NextIdentities:            ids[1:],
			RotationMinSDKVersion:     c.rotMin,
			RotationTargetsDevRelease: c.dev,
			V1SigningEnabled:          &c.schemes[0],
			V2SigningEnabled:          &c.schemes[1],
			V3SigningEnabled:          &c.schemes[2],
			SignerName:                c.keys[0],
			V4SigningEnabled:          c.v4,
			VerityEnabled:             c.verity,
		}
		if c.v4 {
			opts.V4Signature = &c.idsig
		}
		// The v1 signer is the oldest: name it after its key file.
		if c.schemes[0] {
			for _, k := range c.keys {
				if k == "rsa-2048" || k == "ec-p256" {
					opts.SignerName = k
				}
			}
		}
		c.got, _ = signBytes(t, in, ids[0], opts)
		c.run = &toolRun{tool: tool, args: args, output: out}
		runs = append(runs, c.run)
		if c.random {
			c.check = verifyRun(tool, writeTemp(t, "ours.apk", c.got), "--print-certs")
			runs = append(runs, c.check)
		}
	}
	runTools(runs)
	var verifies []*toolRun
	for _, c := range cases {
		want := c.run.result(t)
		if c.random {
			c.theirs = verifyRun(tool, writeTemp(t, "theirs.apk", want), "--print-certs")
			verifies = append(verifies, c.theirs)
		}
	}
	runTools(verifies)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := c.run.result(t)
			if c.random {
				theirs := c.theirs.verified(t)
				ours := c.check.verified(t)
				wantV31 := (c.rotMin == 0 || c.rotMin >= 33) && c.minSDK < 33
				if got := strings.Contains(ours, "v3.1 scheme (APK Signature Scheme v3.1): true"); got != wantV31 {
					t.Errorf("verified with v3.1: %t, want %t:\n%s", got, wantV31, ours)
				}
				if ours != theirs {
					t.Errorf("apksigner verify says of ours:\n%s\nand of its own:\n%s", ours, theirs)
				}
				return
			}
			if c.v4 {
				wantSig, err := os.ReadFile(c.run.output + ".idsig")
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(c.idsig.Bytes(), wantSig) {
					t.Errorf(".idsig differs from apksigner 35's (%d and %d bytes)", c.idsig.Len(), len(wantSig))
				}
			}
			if !bytes.Equal(c.got, want) {
				t.Errorf("output differs from apksigner 35's: %s", describeDiff(c.got, want))
				dir := os.Getenv("STORESIGN_KEEP")
				if dir != "" {
					os.WriteFile(filepath.Join(dir, strings.ReplaceAll(c.name, "/", "_")+".ours.apk"), c.got, 0o644)
					os.WriteFile(filepath.Join(dir, strings.ReplaceAll(c.name, "/", "_")+".theirs.apk"), want, 0o644)
				}
			}
		})
	}
}

// TestSignRotationFile signs with SignFile, whose default check is
// storesign's own verifier, and reads the result.
func TestSignRotationFile(t *testing.T) {
	old := loadKeyCert(t, testenv.Corpus(t, "android", "rsa-2048.pk8"), testenv.Corpus(t, "android", "rsa-2048.x509.pem"))
	nw := loadKeyCert(t, testenv.Corpus(t, "android", "rsa-2048_2.pk8"), testenv.Corpus(t, "android", "rsa-2048_2.x509.pem"))
	lin, err := apk.ReadLineage(readCorpus(t, "android", "rsa-2048-lineage-2-signers"))
	if err != nil {
		t.Fatal(err)
	}
	in := writeTemp(t, "in.apk", signingtest.APK(signingtest.APKOptions{MinSDK: 21}))
	for _, rotMin := range []int{0, 28} {
		out := filepath.Join(t.TempDir(), "out.apk")
		res, err := apk.SignFile(t.Context(), in, out, apk.Options{Identity: nw, NextIdentities: []*signing.Identity{old}, Lineage: lin, RotationMinSDKVersion: rotMin})
		if err != nil {
			t.Fatalf("rotation min %d: %v", rotMin, err)
		}
		if !res.Signer.Equal(old.Certificate) || !res.RotatedSigner.Equal(nw.Certificate) {
			t.Errorf("rotation min %d: signer %s, rotated signer %v", rotMin, res.Signer.Subject, res.RotatedSigner)
		}
		if want := rotMin == 0; res.V31 != want {
			t.Errorf("rotation min %d: V31 %t", rotMin, res.V31)
		}
		if got := strings.Join(res.Schemes(), ","); rotMin == 0 && got != "v1,v2,v3,v3.1" {
			t.Errorf("schemes %s", got)
		}
	}
}

// TestSignRotationBadOptions refuses what apksigner refuses.
func TestSignRotationBadOptions(t *testing.T) {
	key := func(name string) *signing.Identity {
		return loadKeyCert(t, testenv.Corpus(t, "android", name+".pk8"), testenv.Corpus(t, "android", name+".x509.pem"))
	}
	old, nw, other := key("rsa-2048"), key("rsa-2048_2"), key("ec-p256")
	lin, err := apk.ReadLineage(readCorpus(t, "android", "rsa-2048-lineage-2-signers"))
	if err != nil {
		t.Fatal(err)
	}
	in := signingtest.APK(signingtest.APKOptions{MinSDK: 24})
	off := false
	cases := []struct {
		name string
		opts apk.Options
		want string
	}{
		{"not-in-lineage", apk.Options{Identity: old, NextIdentities: []*signing.Identity{other}, Lineage: lin}, "not in the signing certificate lineage"},
		{"rotation-min-27", apk.Options{Identity: old, NextIdentities: []*signing.Identity{nw}, Lineage: lin, RotationMinSDKVersion: 27}, "Android 9"},
		{"dev-release-28", apk.Options{Identity: old, NextIdentities: []*signing.Identity{nw}, Lineage: lin, RotationMinSDKVersion: 28, RotationTargetsDevRelease: true}, "development release"},
		{"v2-without-original", apk.Options{Identity: nw, Lineage: lin, RotationMinSDKVersion: 28}, "oldest signer"},
		{"rotated-alone", apk.Options{Identity: nw, Lineage: lin, V2SigningEnabled: &off}, "original signer"},
		{"rotation-without-lineage", apk.Options{Identity: old, RotationMinSDKVersion: 28}, "lineage"},
		{"v4-without-v3", apk.Options{Identity: old, NextIdentities: []*signing.Identity{nw}, Lineage: lin, V3SigningEnabled: &off, V4SigningEnabled: true, V4Signature: &bytes.Buffer{}}, "v4"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := apk.Sign(t.Context(), bytes.NewReader(in), int64(len(in)), &bytes.Buffer{}, c.opts)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one saying %q", err, c.want)
			}
		})
	}
}
