package aab

import (
	"archive/zip"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/storesign/storesign/internal/zipx/ziptest"
	"github.com/storesign/storesign/signing/signingtest"
)

// TestSignFileSameBytes: SignFile, whose entries the kernel copies from
// file to file, writes the bytes Sign writes to a stream, for bundles
// whose local headers are copied as they are (one range) and bundles
// whose headers are rewritten (data descriptors, zip64).
func TestSignFileSameBytes(t *testing.T) {
	id := testIdentities()["rsa-2048"]
	base := bundleEntries(t, signingtest.APKOptions{Assets: 40})
	var withDD bytes.Buffer
	zw := zip.NewWriter(&withDD) // archive/zip writes data descriptors
	for _, e := range base {
		w, err := zw.Create(e.Name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(e.Data)
	}
	zw.Close()
	big := append([]ziptest.Entry(nil), base...)
	big = append(big, ziptest.Entry{Name: "base/assets/big.bin", Data: bytes.Repeat([]byte("storesign "), 300000), Deflate: true})
	for name, in := range map[string][]byte{
		"plain":            signingtest.Bundle(signingtest.APKOptions{Assets: 40}),
		"data descriptors": withDD.Bytes(),
		"zip64":            ziptest.Build(base, ziptest.Options{Zip64: true}).Bytes,
		"large entry":      ziptest.Build(big, ziptest.Options{}).Bytes,
	} {
		t.Run(name, func(t *testing.T) {
			want, _ := sign(t, in, id, testOptions(id))
			dir := t.TempDir()
			inPath, outPath := filepath.Join(dir, "in.aab"), filepath.Join(dir, "out.aab")
			if err := os.WriteFile(inPath, in, 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := SignFile(context.Background(), inPath, outPath, testOptions(id)); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(outPath)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("SignFile wrote %d bytes, Sign %d other bytes", len(got), len(want))
			}
		})
	}
}

// TestFileOutput writes made bytes (small, and larger than the buffer)
// and copied ranges (consecutive, and not) in every order, and compares
// the file with what a stream gets.
func TestFileOutput(t *testing.T) {
	dir := t.TempDir()
	src := make([]byte, 40<<20)
	for i := range src {
		src[i] = byte(i * 7 / 5)
	}
	srcPath := filepath.Join(dir, "src")
	if err := os.WriteFile(srcPath, src, 0o644); err != nil {
		t.Fatal(err)
	}
	sf, err := os.Open(srcPath)
	if err != nil {
		t.Fatal(err)
	}
	defer sf.Close()
	df, err := os.Create(filepath.Join(dir, "dst"))
	if err != nil {
		t.Fatal(err)
	}
	defer df.Close()
	var wb int64
	out := newFileOutput(sf, df, func(off, n int64) { wb += n })
	var want bytes.Buffer
	stream := newStreamOutput(bytes.NewReader(src), &want)
	made := bytes.Repeat([]byte("made "), 100000) // larger than the buffer
	steps := []func(o output) error{
		func(o output) error { _, err := o.Write([]byte("head")); return err },
		func(o output) error { return o.CopyFrom(10, 1000) },
		func(o output) error { return o.CopyFrom(1010, 2<<20) }, // consecutive: one range
		func(o output) error { _, err := o.Write(made); return err },
		func(o output) error { return o.CopyFrom(5, 5) },
		func(o output) error { return o.CopyFrom(0, 3<<20) },
		func(o output) error { return o.CopyFrom(0, 40<<20) },
		func(o output) error { return o.CopyFrom(1, 3<<20) },
		func(o output) error { _, err := o.Write([]byte("tail")); return err },
		func(o output) error { return o.Flush() },
	}
	for i, step := range steps {
		if err := step(out); err != nil {
			t.Fatalf("file step %d: %v", i, err)
		}
		if err := step(stream); err != nil {
			t.Fatalf("stream step %d: %v", i, err)
		}
	}
	got, err := os.ReadFile(df.Name())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("file holds %d bytes, the stream %d other bytes", len(got), want.Len())
	}
	if wb == 0 || wb > int64(len(got)) {
		t.Errorf("writeback asked for %d of %d bytes", wb, len(got))
	}
}
