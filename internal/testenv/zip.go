package testenv

import (
	"archive/zip"
	"bytes"
	"io"
	"strings"
	"testing"
)

// ZipFile returns the content of a zip entry, failing the test when it
// cannot be read.
func ZipFile(t testing.TB, f *zip.File) []byte {
	t.Helper()
	rc, err := f.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("reading %s: %v", f.Name, err)
	}
	return b
}

// ZipFiles returns the content of every file (not folder) of the zip
// archive b, by name.
func ZipFiles(t testing.TB, b []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	m := map[string][]byte{}
	for _, f := range zr.File {
		if !strings.HasSuffix(f.Name, "/") {
			m[f.Name] = ZipFile(t, f)
		}
	}
	return m
}
