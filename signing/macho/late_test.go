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
