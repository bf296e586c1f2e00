package apk

import (
	"bytes"
	"context"
	"crypto/elliptic"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/storesign/storesign/internal/testenv"
	"github.com/storesign/storesign/signing"
	"github.com/storesign/storesign/signing/signingtest"
)

// refuseCase is one signing that apksigner 35 refuses or signs, with the
// same choice in Options and in apksigner's flags.
type refuseCase struct {
	name string
	in   signingtest.APKOptions
	opts Options  // besides Identity, NextIdentities and signer names
	args []string // apksigner's flags for opts
	more int      // signers after the first (--next-signer), without a lineage
	// refused is the verdict; cannotTell that the refusal is for a
	// debuggable flag that cannot be read (apksig's "Failed to
	// determine whether the APK is debuggable").
	refused, cannotTell bool
	err                 error // the sentinel Sign's error matches
}

// refuseCases are the debuggable manifests (every value type apksig
// reads, permitted and refused) and the several signers without a
// lineage, by scheme.
func refuseCases() []refuseCase {
	on, off := true, false
	refuse := []string{"--debuggable-apk-permitted", "false"}
	dbg := func(v *signingtest.AttrValue) signingtest.APKOptions {
		return signingtest.APKOptions{MinSDK: 21, Debuggable: v}
	}
	cases := []refuseCase{
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
		c := refuseCase{name: "debuggable-" + v.name, in: dbg(v.value), opts: Options{RefuseDebuggable: true}, args: refuse,
			refused: v.debuggable || v.cannot, cannotTell: v.cannot}
		if c.refused {
			c.err = ErrDebuggable
		}
		cases = append(cases, c)
		if c.refused {
			// Permitted (the default), it signs as any other APK.
			cases = append(cases, refuseCase{name: "permitted-" + v.name, in: dbg(v.value)})
		}
	}
	cases = append(cases,
		// Refused by the APK Signing Block when there is no v1.
		refuseCase{name: "debuggable-true-v2v3", in: signingtest.APKOptions{MinSDK: 24, Debuggable: signingtest.BoolValue(true)},
			opts: Options{RefuseDebuggable: true, V1SigningEnabled: &off}, args: append([]string{"--v1-signing-enabled", "false"}, refuse...),
			refused: true, err: ErrDebuggable},
		// Several signers without a lineage: v3 (on by default) takes one.
		refuseCase{name: "two-signers-default", in: dbg(nil), more: 1, refused: true, err: ErrSignersWithoutLineage},
		refuseCase{name: "two-signers-v3", in: dbg(nil), more: 1, opts: Options{V3SigningEnabled: &on},
			args: []string{"--v3-signing-enabled", "true"}, refused: true, err: ErrSignersWithoutLineage},
		refuseCase{name: "two-signers-v3-only", in: dbg(nil), more: 1, opts: Options{V1SigningEnabled: &off, V2SigningEnabled: &off},
			args: []string{"--v1-signing-enabled", "false", "--v2-signing-enabled", "false"}, refused: true, err: ErrSignersWithoutLineage},
		refuseCase{name: "two-signers-v3-off", in: dbg(nil), more: 1, opts: Options{V3SigningEnabled: &off},
			args: []string{"--v3-signing-enabled", "false"}},
		// v1 and v2 take ten signers at most.
		refuseCase{name: "eleven-signers-v1v2", in: dbg(nil), more: 10, opts: Options{V3SigningEnabled: &off},
			args: []string{"--v3-signing-enabled", "false"}, refused: true},
		refuseCase{name: "eleven-signers-v2-only", in: signingtest.APKOptions{MinSDK: 24}, more: 10, opts: Options{V1SigningEnabled: &off, V3SigningEnabled: &off},
			args: []string{"--v1-signing-enabled", "false", "--v3-signing-enabled", "false"}, refused: true},
		// (apksigner writes v1 whatever minSdkVersion says unless told
		// not to; Options' zero value follows minSdkVersion.)
		refuseCase{name: "two-signers-v2-only", in: signingtest.APKOptions{MinSDK: 24}, more: 1, opts: Options{V1SigningEnabled: &off, V3SigningEnabled: &off},
			args: []string{"--v1-signing-enabled", "false", "--v3-signing-enabled", "false"}},
	)
	return cases
}

// refuseSigners are the signers of refuseCases: two RSA keys, then EC
// keys, eleven in all.
func refuseSigners() []*signing.Identity {
	ids := []*signing.Identity{signingtest.SelfSigned("refuse first", nil), signingtest.SelfSigned("refuse second", nil)}
	for i := 3; i <= 11; i++ {
		name := fmt.Sprintf("refuse s%d", i)
		ids = append(ids, signingtest.SelfSigned(name, signingtest.ECKey(name, elliptic.P256())))
	}
	return ids
}

// refuseSignerName is the v1 name of the i-th signer (from 0).
func refuseSignerName(i int) string {
	switch i {
	case 0:
		return "first"
	case 1:
		return "second"
	}
	return fmt.Sprintf("s%d", i+1)
}

// sign signs the case's input with Sign.
func (c *refuseCase) sign(ids []*signing.Identity) ([]byte, error) {
	in := signingtest.APK(c.in)
	opts := c.opts
	opts.Identity, opts.SignerName = ids[0], refuseSignerName(0)
	for i := 1; i <= c.more; i++ {
		opts.NextIdentities = append(opts.NextIdentities, ids[i])
		opts.NextSignerNames = append(opts.NextSignerNames, refuseSignerName(i))
	}
	var out bytes.Buffer
	_, err := Sign(context.Background(), bytes.NewReader(in), int64(len(in)), &out, opts)
	return out.Bytes(), err
}

// TestSignRefusals checks the verdicts and errors of refuseCases.
func TestSignRefusals(t *testing.T) {
	ids := refuseSigners()
	for _, c := range refuseCases() {
		t.Run(c.name, func(t *testing.T) {
			_, err := c.sign(ids)
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

// TestSignRefusalsAgreeWithApksigner signs refuseCases with apksigner 35
// too: the same verdicts (and for debuggable APKs the same reason), and
// the same bytes when both sign.
func TestSignRefusalsAgreeWithApksigner(t *testing.T) {
	tool := testenv.Tool(t, "apksigner35")
	o := startAgreeOracle(t, tool)
	dir := t.TempDir()
	ids := refuseSigners()
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
		signerArgs = append(signerArgs, signer(refuseSignerName(i), id))
	}
	for _, c := range refuseCases() {
		t.Run(c.name, func(t *testing.T) {
			in, out := filepath.Join(dir, c.name+".apk"), filepath.Join(dir, c.name+"-signed.apk")
			if err := os.WriteFile(in, signingtest.APK(c.in), 0o644); err != nil {
				t.Fatal(err)
			}
			args := append([]string{"sign", "--v4-signing-enabled", "false", "--out", out}, c.args...)
			args = append(args, signerArgs[0]...)
			for i := 1; i <= c.more; i++ {
				args = append(append(args, "--next-signer"), signerArgs[i]...)
			}
			theirs := o.do(t, append(args, in)...)
			ours, err := c.sign(ids)
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
			}
		})
	}
}
