package aab

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/storesign/storesign/internal/zipx"
	"github.com/storesign/storesign/internal/zipx/ziptest"
	"github.com/storesign/storesign/signing/signingtest"
)

func bundleEntries(t testing.TB, opts signingtest.APKOptions) []ziptest.Entry {
	es, err := ziptest.EntriesOf(signingtest.Bundle(opts))
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// zipKind checks that err is zipx's error for a ziptest kind.
func zipKind(err error, kind string) error {
	if got := zipx.Kind(err); got != kind {
		return fmt.Errorf("error %v (%T) is of kind %q, want a %s error", err, err, got, kind)
	}
	return nil
}

// TestHostileBundles signs and verifies each hostile archive: both
// refuse it with zipx's typed error, write nothing, and stay within
// bounded time and memory.
func TestHostileBundles(t *testing.T) {
	id := testIdentities()["rsa-2048"]
	base := bundleEntries(t, signingtest.APKOptions{})
	good := ziptest.Build(base, ziptest.Options{}).Bytes
	if _, err := Sign(context.Background(), bytes.NewReader(good), int64(len(good)), io.Discard, testOptions(id)); err != nil {
		t.Fatalf("the base bundle: %v", err)
	}
	cases := ziptest.Hostile(base)
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			var out bytes.Buffer
			var signErr, verifyErr error
			ziptest.Bounded(t, 5*time.Second, 16<<20, func() {
				_, signErr = Sign(context.Background(), bytes.NewReader(tc.Bytes), int64(len(tc.Bytes)), &out, testOptions(id))
				_, verifyErr = Verify(context.Background(), bytes.NewReader(tc.Bytes), int64(len(tc.Bytes)), VerifyOptions{})
			})
			if e := zipKind(signErr, tc.Want); e != nil {
				t.Errorf("Sign: %v", e)
			}
			if out.Len() != 0 {
				t.Errorf("Sign wrote %d bytes", out.Len())
			}
			if e := zipKind(verifyErr, tc.Want); e != nil {
				t.Errorf("Verify: %v", e)
			}
		})
	}
	t.Logf("%d hostile bundles refused by Sign and Verify", len(cases))
}

// TestSignZip64 signs bundles that need zip64: a zip64 input, and 70,000
// entries (a zip64 count) in and out; the output verifies and
// archive/zip reads it.
func TestSignZip64(t *testing.T) {
	id := testIdentities()["rsa-2048"]
	base := bundleEntries(t, signingtest.APKOptions{})
	in := ziptest.Build(base, ziptest.Options{Zip64: true}).Bytes
	out, _ := sign(t, in, id, testOptions(id))
	if _, err := verify(out); err != nil {
		t.Fatalf("zip64 input: %v", err)
	}

	es := base
	for i := range 70000 {
		es = append(es, ziptest.Entry{Name: fmt.Sprintf("base/assets/many/f%05d", i), Data: []byte{byte(i), byte(i >> 8)}})
	}
	in = ziptest.Build(es, ziptest.Options{Zip64: true}).Bytes
	out, _ = sign(t, in, id, testOptions(id))
	a, err := zipx.Read(bytes.NewReader(out), int64(len(out)))
	if err != nil {
		t.Fatal(err)
	}
	if !a.Zip64 || len(a.Entries) != len(es)+3 {
		t.Errorf("output: zip64 %v, %d entries, want %d", a.Zip64, len(a.Entries), len(es)+3)
	}
	if _, err := verify(out); err != nil {
		t.Fatalf("70,000 entries: %v", err)
	}
	zr, err := zip.NewReader(bytes.NewReader(out), int64(len(out)))
	if err != nil || len(zr.File) != len(es)+3 {
		t.Fatalf("archive/zip: %v", err)
	}
}

// TestSignOver4GiB signs a bundle holding a 4.1 GiB entry (zeros made up
// on the fly; the output kept sparse in memory): sizes and offsets past
// 4 GiB in zip64 fields, and the output verifies.
func TestSignOver4GiB(t *testing.T) {
	if testing.Short() {
		t.Skip("hashes 8 GiB: skipped in -short")
	}
	id := testIdentities()["rsa-2048"]
	base := bundleEntries(t, signingtest.APKOptions{})
	in, err := ziptest.BuildSparse(base, ziptest.Zeros{Name: "base/assets/big.bin", Size: 4<<30 + 100<<20})
	if err != nil {
		t.Fatal(err)
	}
	out := &ziptest.SparseBuffer{}
	if _, err := Sign(context.Background(), in, in.Size(), out, testOptions(id)); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(out, out.Size())
	if err != nil {
		t.Fatal(err)
	}
	big := zr.File[len(zr.File)-1]
	if big.Name != "base/assets/big.bin" || big.UncompressedSize64 != 4<<30+100<<20 {
		t.Fatalf("last entry %s of %d bytes", big.Name, big.UncompressedSize64)
	}
	if _, err := Verify(context.Background(), out, out.Size(), VerifyOptions{}); err != nil {
		t.Fatal(err)
	}
}
