package macho_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/storesign/storesign/signing/macho"
	"github.com/storesign/storesign/signing/signingtest"
)

// CodeResourcesLater and Layout let a caller stream an executable before
// its CodeResources is known: the bytes must be those of signing with
// CodeResources given up front, and Layout must announce their size.
func TestSignCodeResourcesLater(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   func(t *testing.T) []byte
	}{
		{"thin", func(t *testing.T) []byte { return signingtest.IOSMachO(t, "arm64", "15.0") }},
		{"fat-sha1", func(t *testing.T) []byte { return signingtest.FatIOSMachO(t, "9.0") }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in(t)
			opts := macho.SignOptions{Entitlements: testEntitlements, InfoPlist: testInfoPlist, CodeResources: testCodeResources}
			want, _ := signBytes(t, in, opts)

			calls, layout := 0, int64(-1)
			var out bytes.Buffer
			opts.Identity, opts.Identifier, opts.Now = testApple().Identity, testIdentifier, fixedNow
			opts.CodeResources = nil
			opts.CodeResourcesLater = func(context.Context) ([]byte, error) {
				calls++
				if out.Len() == 0 {
					t.Error("CodeResourcesLater called before the pages were written")
				}
				return testCodeResources, nil
			}
			opts.Layout = func(n int64) {
				if out.Len() != 0 {
					t.Error("Layout called after the first write")
				}
				layout = n
			}
			if _, err := macho.Sign(context.Background(), bytes.NewReader(in), int64(len(in)), &out, opts); err != nil {
				t.Fatal(err)
			}
			got := out.Bytes()
			if !bytes.Equal(got, want) {
				t.Fatal("signing with CodeResourcesLater wrote other bytes")
			}
			if calls != 1 {
				t.Errorf("CodeResourcesLater called %d times, want 1", calls)
			}
			if layout != int64(len(want)) {
				t.Errorf("Layout said %d bytes, %d written", layout, len(want))
			}
		})
	}
}

func TestSignCodeResourcesLaterError(t *testing.T) {
	in := signingtest.IOSMachO(t, "arm64", "15.0")
	stop := errors.New("the nested code failed")
	opts := macho.SignOptions{
		Identity:   testApple().Identity,
		Identifier: testIdentifier,
		Now:        fixedNow,
		CodeResourcesLater: func(context.Context) ([]byte, error) {
			return nil, stop
		},
	}
	var out bytes.Buffer
	if _, err := macho.Sign(context.Background(), bytes.NewReader(in), int64(len(in)), &out, opts); !errors.Is(err, stop) {
		t.Fatalf("Sign = %v, want %v", err, stop)
	}
}
