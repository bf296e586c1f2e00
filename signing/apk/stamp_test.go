package apk_test

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/storesign/storesign/internal/testenv"
	"github.com/storesign/storesign/signing"
	"github.com/storesign/storesign/signing/apk"
	"github.com/storesign/storesign/signing/signingtest"
)

// TestSignStampMatchesApksigner adds source stamps with apksigner 35 and
// with storesign and compares the outputs byte for byte (without the
// stamp time, which apksigner takes from the clock), then has apksigner
// verify a stamp with a time.
func TestSignStampMatchesApksigner(t *testing.T) {
	t.Parallel()
	tool := testenv.Tool(t, "apksigner35")
	key := func(name string) (string, string, *signing.Identity) {
		k, c := testenv.Corpus(t, "android", name+".pk8"), testenv.Corpus(t, "android", name+".x509.pem")
		return k, c, loadKeyCert(t, k, c)
	}
	signKey, signCert, signer := key("rsa-2048")
	nextKey, nextCert, next := key("rsa-2048_2")
	stampKey, stampCert, stamp := key("rsa-2048_3")
	lineagePath := testenv.Corpus(t, "android", "rsa-2048-lineage-2-signers")
	lin, err := apk.ReadLineage(readCorpus(t, "android", "rsa-2048-lineage-2-signers"))
	if err != nil {
		t.Fatal(err)
	}
	type stampCase struct {
		name     string
		minSDK   int
		schemes  [3]bool
		lineage  bool // stamp with rsa-2048_2 and the rsa-2048 lineage as stamp lineage
		rotation bool // sign with the rsa-2048 lineage too
		to4096   bool // rotate to rsa-4096 from Android 9 on instead (v2 SHA-256, v3 SHA-512)
		run      *toolRun
		got      []byte
	}
	cases := []*stampCase{
		{name: "v2v3", minSDK: 24, schemes: [3]bool{false, true, true}},
		{name: "v1v2v3", minSDK: 21, schemes: [3]bool{true, true, true}},
		{name: "v1", minSDK: 21, schemes: [3]bool{true, false, false}},
		{name: "v3", minSDK: 28, schemes: [3]bool{false, false, true}},
		{name: "stamp-lineage", minSDK: 24, schemes: [3]bool{false, true, true}, lineage: true},
		{name: "rotation", minSDK: 21, schemes: [3]bool{true, true, true}, rotation: true},
		{name: "rotation-4096", minSDK: 21, schemes: [3]bool{true, true, true}, to4096: true},
	}
	var runs []*toolRun
	for _, c := range cases {
		in := signingtest.APK(signingtest.APKOptions{MinSDK: c.minSDK, Assets: 3})
		inPath := writeTemp(t, "in.apk", in)
		out := filepath.Join(t.TempDir(), "apksigner.apk")
		args := []string{"sign", "--in", inPath, "--out", out, "--key", signKey, "--cert", signCert,
			"--v1-signing-enabled", fmt.Sprint(c.schemes[0]), "--v2-signing-enabled", fmt.Sprint(c.schemes[1]),
			"--v3-signing-enabled", fmt.Sprint(c.schemes[2]), "--v4-signing-enabled", "false", "--stamp-timestamp-enabled", "false"}
		opts := apk.Options{
			V1SigningEnabled: &c.schemes[0], V2SigningEnabled: &c.schemes[1], V3SigningEnabled: &c.schemes[2],
			SignerName: "rsa-2048", StampSigner: stamp, StampTimestampDisabled: true,
		}
		if c.rotation {
			args = append(args, "--lineage", lineagePath, "--next-signer", "--key", nextKey, "--cert", nextCert)
			opts.Lineage, opts.NextIdentities = lin, []*signing.Identity{next}
		}
		if c.to4096 {
			k4, c4, id4 := key("rsa-4096")
			lin4, err := apk.ReadLineage(readCorpus(t, "android", "rsa-2048-to-4096-lineage-2-signers"))
			if err != nil {
				t.Fatal(err)
			}
			args = append(args, "--lineage", testenv.Corpus(t, "android", "rsa-2048-to-4096-lineage-2-signers"), "--rotation-min-sdk-version", "28", "--next-signer", "--key", k4, "--cert", c4)
			opts.Lineage, opts.NextIdentities, opts.RotationMinSDKVersion = lin4, []*signing.Identity{id4}, 28
		}
		if c.lineage {
			args = append(args, "--stamp-signer", "--key", nextKey, "--cert", nextCert, "--stamp-lineage", lineagePath)
			opts.StampSigner, opts.StampLineage = next, lin
		} else {
			args = append(args, "--stamp-signer", "--key", stampKey, "--cert", stampCert)
		}
		c.got, _ = signBytes(t, in, signer, opts)
		c.run = &toolRun{tool: tool, args: args, output: out}
		runs = append(runs, c.run)
	}
	// A stamp with its time, checked by apksigner.
	in := signingtest.APK(signingtest.APKOptions{MinSDK: 24})
	timed, _ := signBytes(t, in, signer, apk.Options{StampSigner: stamp, Now: func() time.Time { return time.Unix(1764806400, 0) }})
	timedRun := verifyRun(tool, writeTemp(t, "timed.apk", timed), "--verify-source-stamp")
	runs = append(runs, timedRun)
	runTools(runs)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if want := c.run.result(t); !bytes.Equal(c.got, want) {
				t.Errorf("output differs from apksigner 35's: %s", describeDiff(c.got, want))
			}
		})
	}
	if out := timedRun.verified(t); !strings.Contains(out, "Verified for SourceStamp: true") {
		t.Errorf("apksigner does not verify the timed stamp:\n%s", out)
	}
}

// TestSignStampBadOptions refuses stamps apksigner cannot make.
func TestSignStampBadOptions(t *testing.T) {
	ids := testIdentities()
	rsaID, ecID := ids["rsa2048"], ids["ecp256"]
	in := signingtest.APK(signingtest.APKOptions{MinSDK: 24})
	lin, err := apk.ReadLineage(readCorpus(t, "android", "rsa-2048-lineage-2-signers"))
	if err != nil {
		t.Fatal(err)
	}
	var stamped bytes.Buffer
	if _, err := apk.Sign(t.Context(), bytes.NewReader(in), int64(len(in)), &stamped, apk.Options{Identity: rsaID, StampSigner: rsaID}); err != nil {
		t.Fatal(err)
	}
	other := signingtest.SelfSigned("other stamp", signingtest.RSAKey("other stamp", 2048))
	cases := []struct {
		name string
		in   []byte
		opts apk.Options
		want error
		msg  string
	}{
		{"ec-stamp", in, apk.Options{Identity: rsaID, StampSigner: ecID}, signing.ErrUnsupportedKey, ""},
		{"lineage-without-signer", in, apk.Options{Identity: rsaID, StampLineage: lin}, nil, "needs a stamp signer"},
		{"signer-not-in-lineage", in, apk.Options{Identity: rsaID, StampSigner: rsaID, StampLineage: lin}, nil, "not in the stamp lineage"},
		{"other-stamp", stamped.Bytes(), apk.Options{Identity: rsaID, StampSigner: other}, apk.ErrStampMismatch, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := apk.Sign(t.Context(), bytes.NewReader(c.in), int64(len(c.in)), &bytes.Buffer{}, c.opts)
			if err == nil || c.want != nil && !errors.Is(err, c.want) || c.msg != "" && !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("error %v, want %v %q", err, c.want, c.msg)
			}
		})
	}
	// The same stamp signer again, or another one on purpose: signed.
	for _, opts := range []apk.Options{{Identity: rsaID, StampSigner: rsaID}, {Identity: rsaID, StampSigner: other, StampOverwrite: true}} {
		if _, err := apk.Sign(t.Context(), bytes.NewReader(stamped.Bytes()), int64(stamped.Len()), &bytes.Buffer{}, opts); err != nil {
			t.Errorf("re-stamping: %v", err)
		}
	}
}

// TestSignFileStamp signs with a stamp through SignFile, whose default
// check is storesign's verifier.
func TestSignFileStamp(t *testing.T) {
	id := testIdentities()["rsa2048"]
	in := writeTemp(t, "in.apk", signingtest.APK(signingtest.APKOptions{MinSDK: 21}))
	out := filepath.Join(t.TempDir(), "out.apk")
	if _, err := apk.SignFile(t.Context(), in, out, apk.Options{Identity: id, StampSigner: id}); err != nil {
		t.Fatal(err)
	}
}
