package macho_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"testing"

	"github.com/storesign/storesign/signing/macho"
	"github.com/storesign/storesign/signing/signingtest"
)

// BenchmarkSign signs a 200 MiB arm64 binary (a Go program padded with
// incompressible data in __LINKEDIT) with SHA-1 and SHA-256
// CodeDirectories, to io.Discard: the MB/s is the hashing throughput on
// every core, allocations should not grow with the size.
func BenchmarkSign(b *testing.B) {
	for _, bc := range []struct {
		name  string
		minOS string
	}{
		{"sha256", "15.0"},
		{"sha1+sha256", "10.0"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			in, err := signingtest.PadMachO(signingtest.IOSMachO(b, "arm64", bc.minOS), 200<<20)
			if err != nil {
				b.Fatal(err)
			}
			opts := macho.SignOptions{Identity: testApple().Identity, Identifier: testIdentifier, Entitlements: testEntitlements, Now: fixedNow}
			r := bytes.NewReader(in)
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := macho.Sign(context.Background(), r, int64(len(in)), io.Discard, opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerify verifies the same 200 MiB binary once signed.
func BenchmarkVerify(b *testing.B) {
	in, err := signingtest.PadMachO(signingtest.IOSMachO(b, "arm64", "15.0"), 200<<20)
	if err != nil {
		b.Fatal(err)
	}
	var out bytes.Buffer
	if _, err := macho.Sign(context.Background(), bytes.NewReader(in), int64(len(in)), &out, macho.SignOptions{Identity: testApple().Identity, Identifier: testIdentifier, Now: fixedNow}); err != nil {
		b.Fatal(err)
	}
	in = nil
	signed := out.Bytes()
	r := bytes.NewReader(signed)
	b.SetBytes(int64(len(signed)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := macho.Verify(context.Background(), r, int64(len(signed)), macho.VerifyOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPageHashFloor hashes the same 200 MiB in 4 KiB pages with
// SHA-256 on one core, with no copying: Sign's floor per core.
func BenchmarkPageHashFloor(b *testing.B) {
	in, err := signingtest.PadMachO(signingtest.IOSMachO(b, "arm64", "15.0"), 200<<20)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(in)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h := sha256.New()
		var sum [32]byte
		for p := 0; p < len(in); p += 4096 {
			h.Reset()
			h.Write(in[p:min(len(in), p+4096)])
			h.Sum(sum[:0])
		}
	}
}
