package aab

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/storesign/storesign/signing/signingtest"
)

var update = flag.Bool("update", false, "rewrite testdata/golden.txt")

// TestGolden pins the bytes Sign writes for fixed inputs (RSA signatures
// are deterministic). When signingtest's bundle or keys change, the
// inputs' hashes no longer match and the test asks for -update.
func TestGolden(t *testing.T) {
	ids := testIdentities()
	var lines []string
	for _, tc := range []struct {
		name string
		opts signingtest.APKOptions
		id   string
	}{
		{"bundle-rsa-2048", signingtest.APKOptions{Assets: 3}, "rsa-2048"},
		{"bundle-rsa-chain", signingtest.APKOptions{NativeABIs: []string{"arm64-v8a", "x86_64"}}, "rsa-chain"},
		{"bundle-rsa-4096", signingtest.APKOptions{}, "rsa-4096"},
	} {
		in := signingtest.Bundle(tc.opts)
		out, _ := sign(t, in, ids[tc.id], testOptions(nil))
		lines = append(lines, fmt.Sprintf("%s in=%s cert=%s out=%s", tc.name, short(in), ids[tc.id].Fingerprint()[:16], short(out)))
	}
	got := strings.Join(lines, "\n") + "\n"
	path := filepath.Join("testdata", "golden.txt")
	if *update {
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run TestGolden -update)", err)
	}
	wl, gl := strings.Split(string(want), "\n"), strings.Split(got, "\n")
	for i := range gl {
		if i >= len(wl) || gl[i] == wl[i] {
			continue
		}
		g, w := strings.Fields(gl[i]), strings.Fields(wl[i])
		if len(w) == 4 && (g[1] != w[1] || g[2] != w[2]) {
			t.Skipf("%s: signingtest inputs changed; run go test -run TestGolden -update", g[0])
		}
		t.Errorf("output changed:\n got %s\nwant %s", gl[i], wl[i])
	}
}

func short(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:12])
}
