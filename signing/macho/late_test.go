package macho_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/storesign/storesign/signing/macho"
	"github.com/storesign/storesign/signing/signingtest"
)

// TestEntitlementsLater signs a signed binary with its entitlements
// decided once its code is read: with the header written over the first
// bytes, the output is the one Sign writes with those entitlements known
// from the start.
func TestEntitlementsLater(t *testing.T) {
	signed, _ := signBytes(t, signingtest.IOSMachO(t, "arm64", "15.0"), macho.SignOptions{Entitlements: testEntitlements, InfoPlist: testInfoPlist})
	other := bytes.Replace(testEntitlements, []byte("<true/>"), []byte("<false/>"), 1)
	want, _ := signBytes(t, signed, macho.SignOptions{Entitlements: other, InfoPlist: testInfoPlist, CodeResources: testCodeResources})

	var got bytes.Buffer
	var seen, header []byte
	var announced int64
	opts := macho.SignOptions{
		Identity: testApple().Identity, Identifier: testIdentifier, Now: fixedNow,
		InfoPlist: testInfoPlist, CodeResources: testCodeResources,
		EntitlementsLater: func(s []byte) ([]byte, error) { seen = s; return other, nil },
		HeaderLater:       func(h []byte) error { header = h; return nil },
		Layout:            func(n int64) { announced = n },
	}
	if _, err := macho.Sign(context.Background(), bytes.NewReader(signed), int64(len(signed)), &got, opts); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(seen, testEntitlements) {
		t.Errorf("EntitlementsLater got %q, want the input's %q", seen, testEntitlements)
	}
	out := got.Bytes()
	if !bytes.Equal(out[:len(header)], signed[:len(header)]) {
		t.Error("the header was not written as found")
	}
	copy(out, header)
	if !bytes.Equal(out, want) || announced != int64(len(want)) {
		t.Errorf("late output (%d bytes, %d announced) differs from the one signed with the entitlements known (%d bytes)", len(out), announced, len(want))
	}

	// Not for an unsigned or fat binary.
	for _, in := range [][]byte{signingtest.IOSMachO(t, "arm64", "15.0"), signingtest.FatIOSMachO(t, "12.0")} {
		_, err := macho.Sign(context.Background(), bytes.NewReader(in), int64(len(in)), &bytes.Buffer{}, opts)
		if !errors.Is(err, macho.ErrNotLate) {
			t.Errorf("late signing of an unsigned or fat binary: %v", err)
		}
	}
}

// TestReusePageHashes signs signed binaries taking the hashes of the
// pages that do not change from their own signature: the output is the
// one Sign writes hashing every page, also with the entitlements decided
// late and with SHA-1 and SHA-256 CodeDirectories. Page hashes that were
// wrong in the input stay wrong (the caller checks, and signs again); an
// input without page hashes to reuse fails with ErrNoPageHashes.
func TestReusePageHashes(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   signingtest.IOSBinaryOptions
		late bool
	}{
		{name: "thin", in: signingtest.IOSBinaryOptions{CodeSize: 5<<20 + 12345}},
		{name: "late", in: signingtest.IOSBinaryOptions{CodeSize: 3 << 20}, late: true},
		{name: "sha1", in: signingtest.IOSBinaryOptions{CodeSize: 3 << 20, MinOS: "10.0"}},
		{name: "fat", in: signingtest.IOSBinaryOptions{CodeSize: 3 << 20, Archs: []string{"arm64", "arm64e"}}},
		{name: "small", in: signingtest.IOSBinaryOptions{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			unsigned := signingtest.IOSBinary(tt.in)
			signed, _ := signBytes(t, unsigned, macho.SignOptions{Entitlements: testEntitlements, InfoPlist: testInfoPlist})
			want, _ := signBytes(t, signed, macho.SignOptions{Entitlements: testEntitlements, InfoPlist: testInfoPlist, CodeResources: testCodeResources})
			sign := func(in []byte) ([]byte, error) {
				var out bytes.Buffer
				var header []byte
				opts := macho.SignOptions{
					Identity: testApple().Identity, Identifier: testIdentifier, Now: fixedNow,
					Entitlements: testEntitlements, InfoPlist: testInfoPlist, CodeResources: testCodeResources,
					ReusePageHashesUnchecked: true,
				}
				if tt.late {
					opts.Entitlements = nil
					opts.EntitlementsLater = func(s []byte) ([]byte, error) { return testEntitlements, nil }
					opts.HeaderLater = func(h []byte) error { header = h; return nil }
				}
				if _, err := macho.Sign(context.Background(), bytes.NewReader(in), int64(len(in)), &out, opts); err != nil {
					return nil, err
				}
				b := out.Bytes()
				copy(b, header)
				return b, nil
			}
			got, err := sign(signed)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("reusing the page hashes: %d bytes that differ from the %d hashed", len(got), len(want))
			}

			// A page changed after signing, in the middle of the code:
			// its stale hash is reused, and the output does not verify.
			if len(signed) > 3<<20 {
				tampered := bytes.Clone(signed)
				tampered[2<<20+100] ^= 0xff
				got, err := sign(tampered)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := macho.Verify(context.Background(), bytes.NewReader(got), int64(len(got)), macho.VerifyOptions{}); !errors.Is(err, macho.ErrBadSignature) {
					t.Errorf("a stale page hash reused: Verify = %v", err)
				}
			}

			if !tt.late {
				if _, err := sign(unsigned); !errors.Is(err, macho.ErrNoPageHashes) {
					t.Errorf("an unsigned binary: %v", err)
				}
			}
		})
	}
}
