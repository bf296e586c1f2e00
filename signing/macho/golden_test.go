package macho_test

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/storesign/storesign/signing/macho"
	"github.com/storesign/storesign/signing/signingtest"
)

var update = flag.Bool("update", false, "rewrite the golden hashes in testdata/golden")

// TestGolden pins the bytes Sign writes for toolchain-independent inputs
// (signingtest.MinimalMachO, the test PKI, a fixed clock): any change to
// the output format shows here. Regenerate with -update after checking
// the change with the independent tests.
func TestGolden(t *testing.T) {
	tests := []struct {
		name  string
		minOS string
		opts  macho.SignOptions
	}{
		{"minimal-ios15-app", "15.0", macho.SignOptions{Entitlements: testEntitlements, InfoPlist: testInfoPlist, CodeResources: testCodeResources}},
		{"minimal-ios10-app", "10.0", macho.SignOptions{Entitlements: testEntitlements, InfoPlist: testInfoPlist, CodeResources: testCodeResources}},
		{"minimal-ios15-dylib", "15.0", macho.SignOptions{Identifier: "libexample"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _ := signBytes(t, signingtest.MinimalMachO(tt.minOS), tt.opts)
			verifyBytes(t, out, macho.VerifyOptions{InfoPlist: tt.opts.InfoPlist, CodeResources: tt.opts.CodeResources})
			sum := sha256.Sum256(out)
			got := hex.EncodeToString(sum[:])
			path := filepath.Join("testdata", "golden", tt.name+".sha256")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(got+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if got != strings.TrimSpace(string(want)) {
				t.Errorf("SHA-256 of the output is %s, golden %s", got, want)
			}
		})
	}
}
