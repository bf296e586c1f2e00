package apk_test

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/storesign/storesign/internal/testenv"
	"github.com/storesign/storesign/signing"
	"github.com/storesign/storesign/signing/apk"
	"github.com/storesign/storesign/signing/signingtest"
)

// TestSignSeveralSignersMatchesApksigner signs with two signers and no
// lineage (v1 and v2 from both, v3 off) with apksigner 35 and with
// storesign: bytes for RSA keys, apksigner's account for ECDSA.
func TestSignSeveralSignersMatchesApksigner(t *testing.T) {
	t.Parallel()
	tool := testenv.Tool(t, "apksigner35")
	type multiCase struct {
		name   string
		keys   []string
		minSDK int
		v1     bool
		random bool
		run    *toolRun
		check  *toolRun
		theirs *toolRun
		got    []byte
	}
	cases := []*multiCase{
		{name: "rsa/v1v2", keys: []string{"rsa-2048", "rsa-2048_2"}, minSDK: 21, v1: true},
		{name: "rsa/v2", keys: []string{"rsa-2048", "rsa-2048_2"}, minSDK: 24},
		{name: "rsa/sha1", keys: []string{"rsa-2048", "rsa-2048_2"}, minSDK: 15, v1: true},
		{name: "rsa-4096", keys: []string{"rsa-2048", "rsa-4096"}, minSDK: 21, v1: true},
		{name: "three", keys: []string{"rsa-2048", "rsa-2048_2", "rsa-2048_3"}, minSDK: 21, v1: true},
		{name: "ec", keys: []string{"rsa-2048", "ec-p256"}, minSDK: 21, v1: true, random: true},
	}
	var runs []*toolRun
	for _, c := range cases {
		in := signingtest.APK(signingtest.APKOptions{MinSDK: c.minSDK, Assets: 3})
		inPath := writeTemp(t, "in.apk", in)
		out := filepath.Join(t.TempDir(), "apksigner.apk")
		args := []string{"sign", "--in", inPath, "--out", out, "--v1-signing-enabled", fmt.Sprint(c.v1), "--v3-signing-enabled", "false", "--v4-signing-enabled", "false"}
		var ids []*signing.Identity
		var names []string
		for i, k := range c.keys {
			if i > 0 {
				args = append(args, "--next-signer")
			}
			kp, cp := testenv.Corpus(t, "android", k+".pk8"), testenv.Corpus(t, "android", k+".x509.pem")
			name := fmt.Sprintf("signer%d", i+1)
			args = append(args, "--key", kp, "--cert", cp, "--v1-signer-name", name)
			ids = append(ids, loadKeyCert(t, kp, cp))
			names = append(names, name)
		}
		off := false
		c.got, _ = signBytes(t, in, ids[0], apk.Options{
			NextIdentities: ids[1:], SignerName: names[0], NextSignerNames: names[1:],
			V1SigningEnabled: &c.v1, V3SigningEnabled: &off, MinSDKVersion: c.minSDK,
		})
		c.run = &toolRun{tool: tool, args: args, output: out}
		runs = append(runs, c.run)
		if c.random {
			c.check = verifyRun(tool, writeTemp(t, "ours.apk", c.got), "--print-certs")
			runs = append(runs, c.check)
		}
	}
	runTools(runs)
	runs = nil
	for _, c := range cases {
		if c.random {
			c.theirs = verifyRun(tool, writeTemp(t, "theirs.apk", c.run.result(t)), "--print-certs")
			runs = append(runs, c.theirs)
		}
	}
	runTools(runs)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := c.run.result(t)
			if c.random {
				ours, theirs := c.check.verified(t), c.theirs.verified(t)
				if ours != theirs || !strings.Contains(ours, "Number of signers: 2") {
					t.Errorf("apksigner verify says of ours:\n%s\nand of its own:\n%s", ours, theirs)
				}
				return
			}
			if !bytes.Equal(c.got, want) {
				t.Errorf("output differs from apksigner 35's: %s", describeDiff(c.got, want))
			}
		})
	}
}

// TestSignSeveralSignersBad refuses what apksigner refuses, as it does:
// several signers without a lineage while v3 is on (apksigner's default
// too), v1 signers of the same name, v4.
func TestSignSeveralSignersBad(t *testing.T) {
	ids := testIdentities()
	in := signingtest.APK(signingtest.APKOptions{MinSDK: 21})
	on, off := true, false
	two := func(o apk.Options) apk.Options {
		o.Identity, o.NextIdentities = ids["rsa2048"], []*signing.Identity{ids["ecp256"]}
		return o
	}
	cases := []struct {
		name    string
		opts    apk.Options
		want    string
		wantErr error
	}{
		{"v3-default", two(apk.Options{NextSignerNames: []string{"b"}}), "lineage", apk.ErrSignersWithoutLineage},
		{"v3", two(apk.Options{V3SigningEnabled: &on, NextSignerNames: []string{"b"}}), "lineage", apk.ErrSignersWithoutLineage},
		{"v3-only", two(apk.Options{V1SigningEnabled: &off, V2SigningEnabled: &off}), "lineage", apk.ErrSignersWithoutLineage},
		{"v3-before-names", two(apk.Options{}), "lineage", apk.ErrSignersWithoutLineage},
		{"same-name", two(apk.Options{V3SigningEnabled: &off}), "same name", nil},
		{"v4", two(apk.Options{V3SigningEnabled: &off, NextSignerNames: []string{"b"}, V4SigningEnabled: true, V4Signature: &bytes.Buffer{}}), "v4", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := apk.Sign(t.Context(), bytes.NewReader(in), int64(len(in)), &bytes.Buffer{}, c.opts)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one saying %q", err, c.want)
			}
			if c.wantErr != nil && !errors.Is(err, c.wantErr) {
				t.Fatalf("error %v, want %v", err, c.wantErr)
			}
		})
	}
}

// TestSignFileSeveralSigners checks two signers' output with storesign's
// own verifier (SignFile's default check).
func TestSignFileSeveralSigners(t *testing.T) {
	ids := testIdentities()
	in := writeTemp(t, "in.apk", signingtest.APK(signingtest.APKOptions{MinSDK: 21}))
	out := filepath.Join(t.TempDir(), "out.apk")
	off := false
	res, err := apk.SignFile(t.Context(), in, out, apk.Options{Identity: ids["rsa2048"], NextIdentities: []*signing.Identity{ids["ecp256"]}, NextSignerNames: []string{"second"}, V3SigningEnabled: &off})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(res.Schemes(), ","); got != "v1,v2" {
		t.Errorf("schemes %s, want v1,v2", got)
	}
}
