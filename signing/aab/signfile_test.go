package aab

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/storesign/storesign/signing/signingtest"
)

func TestSignFile(t *testing.T) {
	id := testIdentities()["rsa-2048"]
	dir := t.TempDir()
	in := filepath.Join(dir, "app.aab")
	bundle := signingtest.Bundle(signingtest.APKOptions{})
	os.WriteFile(in, bundle, 0o644)
	notBundle := filepath.Join(dir, "app.apk")
	os.WriteFile(notBundle, signingtest.APK(signingtest.APKOptions{}), 0o644)
	canceled, cancel := context.WithCancel(context.Background())
	cancel()

	out := filepath.Join(dir, "signed.aab")
	res, err := SignFile(context.Background(), in, out, testOptions(id))
	if err != nil {
		t.Fatal(err)
	}
	if v, err := VerifyFile(context.Background(), out, VerifyOptions{}); err != nil || v.Entries != res.Entries {
		t.Fatalf("VerifyFile: %v", err)
	}
	if fi, _ := os.Stat(out); fi.Size() != res.Size || fi.Mode().Perm() != 0o644 {
		t.Errorf("output size %d mode %v, Result.Size %d", fi.Size(), fi.Mode(), res.Size)
	}

	for _, tc := range []struct {
		name    string
		ctx     context.Context
		in, out string
		want    string
	}{
		{"not a bundle", context.Background(), notBundle, filepath.Join(dir, "x.aab"), "app.apk: aab: not an Android App Bundle: it has no BundleConfig.pb"},
		{"canceled", canceled, in, filepath.Join(dir, "x.aab"), "context canceled"},
		{"out is in", context.Background(), in, in, "is the input file"},
		{"no folder", context.Background(), in, filepath.Join(dir, "nodir", "x.aab"), "does not exist"},
		{"missing input", context.Background(), filepath.Join(dir, "missing.aab"), filepath.Join(dir, "x.aab"), "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := SignFile(tc.ctx, tc.in, tc.out, testOptions(id))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if tc.out != in {
				if _, err := os.Stat(tc.out); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("output exists after failure")
				}
			}
			if got, _ := os.ReadFile(in); !bytes.Equal(got, bundle) {
				t.Fatal("input modified")
			}
			left, _ := filepath.Glob(filepath.Join(dir, ".*.tmp"))
			if len(left) > 0 {
				t.Errorf("temp files left: %v", left)
			}
		})
	}
}

// bigBundle returns a bundle of about size bytes: dex-like deflated
// entries, stored native libraries and many small resources.
func bigBundle(tb testing.TB, size int) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(name string, method uint16, data []byte) {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: method, Modified: signingtest.Epoch})
		if err != nil {
			tb.Fatal(err)
		}
		w.Write(data)
	}
	add("BundleConfig.pb", zip.Deflate, []byte("config"))
	add("base/manifest/AndroidManifest.xml", zip.Deflate, []byte("manifest"))
	chunk := make([]byte, 1<<20)
	r := signingtest.Reader("big bundle")
	for i := 0; buf.Len() < size; i++ {
		r.Read(chunk)
		switch i % 4 {
		case 0:
			add(fmt.Sprintf("base/lib/arm64-v8a/lib%d.so", i), zip.Store, chunk)
		case 1:
			text := bytes.Repeat([]byte(fmt.Sprintf("class %d { method(); }\n", i)), 40000)
			add(fmt.Sprintf("base/dex/classes%d.dex", i), zip.Deflate, append(text, chunk[:64<<10]...))
		default:
			for j := range 64 {
				add(fmt.Sprintf("base/res/drawable-%d/icon%d.png", i, j), zip.Store, chunk[j*16<<10:(j+1)*16<<10])
			}
		}
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func BenchmarkSign(b *testing.B) {
	in := bigBundle(b, 64<<20)
	id := testIdentities()["rsa-2048"]
	b.SetBytes(int64(len(in)))
	b.ResetTimer()
	for range b.N {
		var out countWriter
		if _, err := Sign(context.Background(), bytes.NewReader(in), int64(len(in)), &out, Options{Identity: id}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	in := bigBundle(b, 64<<20)
	signed, _ := sign(b, in, testIdentities()["rsa-2048"], Options{})
	b.SetBytes(int64(len(signed)))
	b.ResetTimer()
	for range b.N {
		if _, err := verify(signed); err != nil {
			b.Fatal(err)
		}
	}
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }
