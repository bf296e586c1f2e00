package apk

import (
	"bytes"
	"context"
	"crypto/elliptic"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/storesign/storesign/internal/testenv"
	"github.com/storesign/storesign/signing"
	"github.com/storesign/storesign/signing/signingtest"
)

// signAgreeCase is one signing that apksigner 35 refuses or signs, with the
// same choice in Options and in apksigner's flags.
type signAgreeCase struct {
	name  string
	in    signingtest.APKOptions
	opts  Options  // besides Identity, NextIdentities and signer names
	args  []string // apksigner's flags for opts
	more  int      // signers after the first (--next-signer), without a lineage
	stamp bool     // a source stamp by the second signer, without its time
	// refused is the verdict; cannotTell that the refusal is for a
	// debuggable flag that cannot be read (apksig's "Failed to
	// determine whether the APK is debuggable").
	refused, cannotTell bool
	err                 error // the sentinel Sign's error matches
}

// signAgreeCases are the debuggable manifests (every value type apksig
// reads, permitted and refused), the several signers without a lineage,
// by scheme, and file size alignment.
func signAgreeCases() []signAgreeCase {
	on, off := true, false
	refuse := []string{"--debuggable-apk-permitted", "false"}
	dbg := func(v *signingtest.AttrValue) signingtest.APKOptions {
		return signingtest.APKOptions{MinSDK: 21, Debuggable: v}
	}
	cases := []signAgreeCase{
		{name: "debuggable-absent", in: dbg(nil), opts: Options{RefuseDebuggable: true}, args: refuse},
	}
	for _, v := range []struct {
		name               string
		value              *signingtest.AttrValue
		debuggable, cannot bool
	}{
		{"true", signingtest.BoolValue(true), true, false},
		{"false", signingtest.BoolValue(false), false, false},
		{"reference", signingtest.ReferenceValue(0x7f010000), false, true},
		{"string-1", &signingtest.AttrValue{Type: 0x03, String: "1"}, true, false},
		{"string-True", &signingtest.AttrValue{Type: 0x03, String: "True"}, false, false},
		{"int-1", &signingtest.AttrValue{Type: 0x10, Data: 1}, true, false},
		{"int-2", &signingtest.AttrValue{Type: 0x10, Data: 2}, false, false},
		{"hex-1", &signingtest.AttrValue{Type: 0x11, Data: 1}, false, false},
		{"float", &signingtest.AttrValue{Type: 0x04, Data: 0x3f800000}, false, true},
	} {
		c := signAgreeCase{name: "debuggable-" + v.name, in: dbg(v.value), opts: Options{RefuseDebuggable: true}, args: refuse,
			refused: v.debuggable || v.cannot, cannotTell: v.cannot}
		if c.refused {
			c.err = ErrDebuggable
		}
		cases = append(cases, c)
		if c.refused {
			// Permitted (the default), it signs as any other APK.
			cases = append(cases, signAgreeCase{name: "permitted-" + v.name, in: dbg(v.value)})
		}
	}
	cases = append(cases,
		// Refused by the APK Signing Block when there is no v1.
		signAgreeCase{name: "debuggable-true-v2v3", in: signingtest.APKOptions{MinSDK: 24, Debuggable: signingtest.BoolValue(true)},
			opts: Options{RefuseDebuggable: true, V1SigningEnabled: &off}, args: append([]string{"--v1-signing-enabled", "false"}, refuse...),
			refused: true, err: ErrDebuggable},
		// Refused by the JAR signature when there is nothing else.
		signAgreeCase{name: "debuggable-true-v1-only", in: dbg(signingtest.BoolValue(true)),
			opts:    Options{RefuseDebuggable: true, V2SigningEnabled: &off, V3SigningEnabled: &off},
			args:    append([]string{"--v2-signing-enabled", "false", "--v3-signing-enabled", "false"}, refuse...),
			refused: true, err: ErrDebuggable},
		signAgreeCase{name: "debuggable-reference-v1-only", in: dbg(signingtest.ReferenceValue(0x7f010000)),
			opts:    Options{RefuseDebuggable: true, V2SigningEnabled: &off, V3SigningEnabled: &off},
			args:    append([]string{"--v2-signing-enabled", "false", "--v3-signing-enabled", "false"}, refuse...),
			refused: true, cannotTell: true, err: ErrDebuggable},
		// Several signers without a lineage: v3 (on by default) takes one.
		signAgreeCase{name: "two-signers-default", in: dbg(nil), more: 1, refused: true, err: ErrSignersWithoutLineage},
		signAgreeCase{name: "two-signers-v3", in: dbg(nil), more: 1, opts: Options{V3SigningEnabled: &on},
			args: []string{"--v3-signing-enabled", "true"}, refused: true, err: ErrSignersWithoutLineage},
		signAgreeCase{name: "two-signers-v3-only", in: dbg(nil), more: 1, opts: Options{V1SigningEnabled: &off, V2SigningEnabled: &off},
			args: []string{"--v1-signing-enabled", "false", "--v2-signing-enabled", "false"}, refused: true, err: ErrSignersWithoutLineage},
		signAgreeCase{name: "two-signers-v3-off", in: dbg(nil), more: 1, opts: Options{V3SigningEnabled: &off},
			args: []string{"--v3-signing-enabled", "false"}},
		// v1 and v2 take ten signers at most.
		signAgreeCase{name: "eleven-signers-v1v2", in: dbg(nil), more: 10, opts: Options{V3SigningEnabled: &off},
			args: []string{"--v3-signing-enabled", "false"}, refused: true},
		signAgreeCase{name: "eleven-signers-v2-only", in: signingtest.APKOptions{MinSDK: 24}, more: 10, opts: Options{V1SigningEnabled: &off, V3SigningEnabled: &off},
			args: []string{"--v1-signing-enabled", "false", "--v3-signing-enabled", "false"}, refused: true},
		// (apksigner writes v1 whatever minSdkVersion says unless told
		// not to; Options' zero value follows minSdkVersion.)
		signAgreeCase{name: "two-signers-v2-only", in: signingtest.APKOptions{MinSDK: 24}, more: 1, opts: Options{V1SigningEnabled: &off, V3SigningEnabled: &off},
			args: []string{"--v1-signing-enabled", "false", "--v3-signing-enabled", "false"}},
	)
	// --align-file-size: a zip comment pads the APK to 4096 bytes, kept
	// after the input's own comment; nothing without a signing block.
	align := []string{"--align-file-size"}
	for _, c := range []signAgreeCase{
		{name: "align-file-size", in: dbg(nil)},
		{name: "align-file-size-comment", in: signingtest.APKOptions{MinSDK: 21, Comment: "built by storesign's tests"}},
		// A comment of the most bytes a zip comment holds leaves no room
		// for the padding: both refuse.
		{name: "align-file-size-longest-comment", in: signingtest.APKOptions{MinSDK: 21, Comment: strings.Repeat("c", 0xffff)}, refused: true},
		{name: "align-file-size-v2-only", in: signingtest.APKOptions{MinSDK: 24, Assets: 7}, opts: Options{V1SigningEnabled: &off, V3SigningEnabled: &off},
			args: []string{"--v1-signing-enabled", "false", "--v3-signing-enabled", "false"}},
		{name: "align-file-size-v1-only", in: signingtest.APKOptions{MinSDK: 21, TargetSDK: 28}, opts: Options{V2SigningEnabled: &off, V3SigningEnabled: &off},
			args: []string{"--v2-signing-enabled", "false", "--v3-signing-enabled", "false"}},
		{name: "align-file-size-two-signers", in: dbg(nil), more: 1, opts: Options{V3SigningEnabled: &off},
			args: []string{"--v3-signing-enabled", "false"}},
	} {
		c.opts.AlignFileSize = true
		c.args = append(c.args, align...)
		cases = append(cases, c)
	}
	// --verity-enabled: a second signature per v2 and v3 signer over the
	// verity content digest.
	for _, c := range []signAgreeCase{
		{name: "verity", in: dbg(nil)},
		{name: "verity-v2-only", in: signingtest.APKOptions{MinSDK: 24, Assets: 900}, opts: Options{V1SigningEnabled: &off, V3SigningEnabled: &off},
			args: []string{"--v1-signing-enabled", "false", "--v3-signing-enabled", "false"}},
		{name: "verity-v3-only", in: signingtest.APKOptions{MinSDK: 28}, opts: Options{V1SigningEnabled: &off, V2SigningEnabled: &off},
			args: []string{"--v1-signing-enabled", "false", "--v2-signing-enabled", "false"}},
		{name: "verity-two-signers", in: dbg(nil), more: 1, opts: Options{V3SigningEnabled: &off},
			args: []string{"--v3-signing-enabled", "false"}},
		{name: "verity-align-file-size", in: dbg(nil), opts: Options{AlignFileSize: true}, args: []string{"--align-file-size"}},
		{name: "verity-stamp", in: dbg(nil), stamp: true},
		{name: "verity-stamp-v3-only", in: signingtest.APKOptions{MinSDK: 28}, stamp: true, opts: Options{V1SigningEnabled: &off, V2SigningEnabled: &off},
			args: []string{"--v1-signing-enabled", "false", "--v2-signing-enabled", "false"}},
		{name: "verity-v4", in: signingtest.APKOptions{MinSDK: 21, Assets: 900}, opts: Options{V4SigningEnabled: true}},
		{name: "verity-v4-v2-only", in: signingtest.APKOptions{MinSDK: 24}, opts: Options{V4SigningEnabled: true, V1SigningEnabled: &off, V3SigningEnabled: &off},
			args: []string{"--v1-signing-enabled", "false", "--v3-signing-enabled", "false"}},
	} {
		c.opts.VerityEnabled = true
		c.args = append(c.args, "--verity-enabled")
		cases = append(cases, c)
	}
	return cases
}

// signAgreeSigners are the signers of signAgreeCases: two RSA keys, then EC
// keys, eleven in all.
func signAgreeSigners() []*signing.Identity {
	ids := []*signing.Identity{signingtest.SelfSigned("refuse first", nil), signingtest.SelfSigned("refuse second", nil)}
	for i := 3; i <= 11; i++ {
		name := fmt.Sprintf("refuse s%d", i)
		ids = append(ids, signingtest.SelfSigned(name, signingtest.ECKey(name, elliptic.P256())))
	}
	return ids
}

// signAgreeSignerName is the v1 name of the i-th signer (from 0).
func signAgreeSignerName(i int) string {
	switch i {
	case 0:
		return "first"
	case 1:
		return "second"
	}
	return fmt.Sprintf("s%d", i+1)
}

// sign signs the case's input with Sign, and returns the APK and its
// v4 signature (nil without V4SigningEnabled).
func (c *signAgreeCase) sign(ids []*signing.Identity) (apk, idsig []byte, err error) {
	in := signingtest.APK(c.in)
	opts := c.opts
	opts.Identity, opts.SignerName = ids[0], signAgreeSignerName(0)
	for i := 1; i <= c.more; i++ {
		opts.NextIdentities = append(opts.NextIdentities, ids[i])
		opts.NextSignerNames = append(opts.NextSignerNames, signAgreeSignerName(i))
	}
	if c.stamp {
		opts.StampSigner, opts.StampTimestampDisabled = ids[1], true
	}
	var out, v4 bytes.Buffer
	if opts.V4SigningEnabled {
		opts.V4Signature = &v4
	}
	_, err = Sign(context.Background(), bytes.NewReader(in), int64(len(in)), &out, opts)
	if opts.V4SigningEnabled {
		idsig = v4.Bytes()
	}
	return out.Bytes(), idsig, err
}

// TestSignAgreeCases checks the verdicts and errors of signAgreeCases,
// and that what is signed verifies (its size a multiple of 4096 with
// AlignFileSize and a signing block).
func TestSignAgreeCases(t *testing.T) {
	ids := signAgreeSigners()
	for _, c := range signAgreeCases() {
		t.Run(c.name, func(t *testing.T) {
			out, _, err := c.sign(ids)
			if err == nil {
				res, err := Verify(t.Context(), bytes.NewReader(out), int64(len(out)), VerifyOptions{})
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if c.opts.AlignFileSize && (res.V2 || res.V3) != (len(out)%4096 == 0) {
					t.Errorf("%d bytes (v2 %v, v3 %v)", len(out), res.V2, res.V3)
				}
			}
			switch {
			case c.refused && err == nil:
				t.Fatal("signed, want refused")
			case !c.refused && err != nil:
				t.Fatalf("refused: %v", err)
			case c.err != nil && !errors.Is(err, c.err):
				t.Fatalf("error %v, want %v", err, c.err)
			case c.cannotTell != (err != nil && strings.Contains(err.Error(), "cannot tell")):
				t.Fatalf("error %v: cannot tell = %v, want %v", err, !c.cannotTell, c.cannotTell)
			}
		})
	}
}

// TestSignAgreesWithApksigner signs signAgreeCases with apksigner 35
// too: the same verdicts (and for debuggable APKs the same reason), and
// the same bytes when both sign.
func TestSignAgreesWithApksigner(t *testing.T) {
	tool := testenv.Tool(t, "apksigner35")
	o := startAgreeOracle(t, tool)
	dir := t.TempDir()
	ids := signAgreeSigners()
	signer := func(name string, id *signing.Identity) []string {
		key, cert := filepath.Join(dir, name+".pk8"), filepath.Join(dir, name+".pem")
		if err := os.WriteFile(key, signingtest.KeyPKCS8(id), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(cert, signingtest.CertPEM(id.Certificate), 0o644); err != nil {
			t.Fatal(err)
		}
		return []string{"--key", key, "--cert", cert, "--v1-signer-name", name}
	}
	var signerArgs [][]string
	for i, id := range ids {
		signerArgs = append(signerArgs, signer(signAgreeSignerName(i), id))
	}
	for _, c := range signAgreeCases() {
		t.Run(c.name, func(t *testing.T) {
			in, out := filepath.Join(dir, c.name+".apk"), filepath.Join(dir, c.name+"-signed.apk")
			if err := os.WriteFile(in, signingtest.APK(c.in), 0o644); err != nil {
				t.Fatal(err)
			}
			args := append([]string{"sign", "--v4-signing-enabled", strconv.FormatBool(c.opts.V4SigningEnabled), "--out", out}, c.args...)
			args = append(args, signerArgs[0]...)
			for i := 1; i <= c.more; i++ {
				args = append(append(args, "--next-signer"), signerArgs[i]...)
			}
			if c.stamp {
				args = append(append(args, "--stamp-timestamp-enabled", "false", "--stamp-signer"), signerArgs[1][:4]...)
			}
			theirs := o.do(t, append(args, in)...)
			ours, oursV4, err := c.sign(ids)
			switch {
			case (theirs != "ok") != (err != nil):
				t.Fatalf("apksigner 35: %s; Sign: %v", theirs, err)
			case err != nil:
				if cannot := strings.Contains(theirs, "Failed to determine whether the APK is debuggable"); cannot != strings.Contains(err.Error(), "cannot tell") {
					t.Errorf("apksigner 35: %s; Sign: %v", theirs, err)
				}
				t.Logf("both refuse: %v; apksigner: %s", err, strings.TrimPrefix(theirs, "error "))
			default:
				want, err := os.ReadFile(out)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(ours, want) {
					t.Errorf("output differs from apksigner 35's (%d and %d bytes)", len(ours), len(want))
				}
				if c.opts.V4SigningEnabled {
					wantV4, err := os.ReadFile(out + ".idsig")
					if err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(oursV4, wantV4) {
						t.Errorf(".idsig differs from apksigner 35's (%d and %d bytes)", len(oursV4), len(wantV4))
					}
				}
			}
		})
	}
}
