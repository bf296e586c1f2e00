package apk_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/storesign/storesign/internal/testenv"
	"github.com/storesign/storesign/internal/zipx"
	"github.com/storesign/storesign/signing"
	"github.com/storesign/storesign/signing/apk"
)

// goldenSchemes are the scheme combinations the byte-for-byte test
// covers.
var goldenSchemes = []struct{ v1, v2, v3 bool }{
	{true, false, false},
	{false, true, false},
	{false, false, true},
	{true, true, false},
	{false, true, true},
	{true, true, true},
}

// TestSignMatchesApksigner signs apksig's golden inputs with apksigner 35
// and with storesign and requires the same bytes.
func TestSignMatchesApksigner(t *testing.T) {
	tool := testenv.Tool(t, "apksigner35")
	keyPath := testenv.Corpus(t, "android", "rsa-2048.pk8")
	certPath := testenv.Corpus(t, "android", "rsa-2048.x509.pem")
	id := loadKeyCert(t, keyPath, certPath)
	for _, in := range []string{"golden-unaligned-in.apk", "golden-aligned-in.apk", "golden-legacy-aligned-in.apk"} {
		inPath := testenv.Corpus(t, "android", in)
		input, err := os.ReadFile(inPath)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range goldenSchemes {
			name := fmt.Sprintf("%s/v1=%t,v2=%t,v3=%t", strings.TrimSuffix(in, "-in.apk"), s.v1, s.v2, s.v3)
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				out := filepath.Join(t.TempDir(), "apksigner.apk")
				args := []string{"sign", "--in", inPath, "--out", out, "--key", keyPath, "--cert", certPath,
					"--alignment-preserved", "true", "--v4-signing-enabled", "false",
					"--v1-signing-enabled", fmt.Sprint(s.v1), "--v2-signing-enabled", fmt.Sprint(s.v2), "--v3-signing-enabled", fmt.Sprint(s.v3)}
				opts := apk.Options{
					V1SigningEnabled:   &s.v1,
					V2SigningEnabled:   &s.v2,
					V3SigningEnabled:   &s.v3,
					AlignmentPreserved: true,
					SignerName:         "rsa-2048",
				}
				if strings.Contains(in, "legacy") {
					args = append(args, "--lib-page-alignment", "4096")
					opts.LibPageAlignment = 4096
				}
				if b, err := exec.Command(tool, args...).CombinedOutput(); err != nil {
					t.Fatalf("apksigner35 sign: %v\n%s", err, b)
				}
				want, err := os.ReadFile(out)
				if err != nil {
					t.Fatal(err)
				}
				var got bytes.Buffer
				if _, err := apk.Sign(context.Background(), &got, bytes.NewReader(input), int64(len(input)), id, opts); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got.Bytes(), want) {
					t.Errorf("output differs from apksigner 35's: %s", describeDiff(got.Bytes(), want))
				}
			})
		}
	}
}

func loadKeyCert(t testing.TB, keyPath, certPath string) *signing.Identity {
	t.Helper()
	key, err := os.ReadFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := os.ReadFile(certPath)
	if err != nil {
		t.Fatal(err)
	}
	id, err := signing.LoadKeyAndCertificate(key, cert)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// describeDiff says where two APKs first differ: in which entry, the
// APK Signing Block, the central directory or the end record.
func describeDiff(got, want []byte) string {
	n := min(len(got), len(want))
	off := 0
	for off < n && got[off] == want[off] {
		off++
	}
	where := func(b []byte) string {
		a, err := zipx.Read(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return "unparsable: " + err.Error()
		}
		switch {
		case int64(off) >= a.EOCDOffset:
			return "end of central directory"
		case int64(off) >= a.CDOffset:
			return fmt.Sprintf("central directory (+%d)", int64(off)-a.CDOffset)
		}
		best := ""
		var bestOff int64 = -1
		for _, e := range a.Entries {
			if e.HeaderOffset <= int64(off) && e.HeaderOffset > bestOff {
				best, bestOff = e.Name, e.HeaderOffset
			}
		}
		if bestOff < 0 {
			return "before the first entry"
		}
		return fmt.Sprintf("entry %q (+%d from its local header; the signing block or padding if past its data)", best, int64(off)-bestOff)
	}
	if off == n && len(got) == len(want) {
		return "no difference"
	}
	ctx := func(b []byte) string {
		return fmt.Sprintf("%x", b[off:min(len(b), off+16)])
	}
	return fmt.Sprintf("sizes %d (got) and %d (want); first difference at offset %d, in %s; got %s, want %s",
		len(got), len(want), off, where(want), ctx(got), ctx(want))
}
