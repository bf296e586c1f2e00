package apk

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/storesign/storesign/internal/testenv"
)

// vKnownDisagreements lists corpus APKs on which our verdict differs from
// apksigner 35's, with the reason. Keep it empty when possible.
var vKnownDisagreements = map[string]string{}

// TestVerifyCorpus checks that Verify agrees with apksigner 35 (as
// recorded in expected.tsv) on every APK of the corpus.
func TestVerifyCorpus(t *testing.T) {
	dir := testenv.Corpus(t, "android", "verify")
	f, err := os.Open(filepath.Join(dir, "expected.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	agree, total := 0, 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, verdict, ok := strings.Cut(strings.TrimSpace(sc.Text()), "\t")
		if !ok || name == "" {
			continue
		}
		total++
		want := verdict == "verifies"
		t.Run(name, func(t *testing.T) {
			res, err := VerifyFile(context.Background(), filepath.Join(dir, name), VerifyOptions{})
			got := err == nil && res.Verified
			if got == want {
				agree++
				if reason, ok := vKnownDisagreements[name]; ok {
					t.Errorf("listed as a known disagreement (%s) but agrees now: remove it", reason)
				}
				return
			}
			if reason, ok := vKnownDisagreements[name]; ok {
				t.Skipf("known disagreement: %s", reason)
			}
			if err != nil {
				t.Errorf("apksigner 35: %s; Verify: error %v", verdict, err)
				return
			}
			t.Errorf("apksigner 35: %s; Verify: verified=%v errors=%q warnings=%q", verdict, res.Verified, res.Errors, res.Warnings)
		})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d/%d corpus APKs agree with apksigner 35", agree, total)
}
