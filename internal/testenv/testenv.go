// Package testenv finds what tests need from outside the repository: the
// shared corpus and the reference tools (oracles). A missing oracle skips
// the test, unless STORESIGN_REQUIRE_ORACLES=1, when it fails it.
package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// RequireOracles reports whether missing reference tools fail tests.
func RequireOracles() bool { return os.Getenv("STORESIGN_REQUIRE_ORACLES") == "1" }

// Corpus returns the directory of the shared test corpus, joined with
// elem. It skips the test when STORESIGN_CORPUS is unset and the corpus is
// not found beside the repository.
func Corpus(t testing.TB, elem ...string) string {
	t.Helper()
	dir := os.Getenv("STORESIGN_CORPUS")
	if dir == "" {
		if root, err := repoRoot(); err == nil {
			cand := filepath.Join(root, "..", "shared", "corpus")
			if _, err := os.Stat(cand); err == nil {
				dir = cand
			}
		}
	}
	if dir == "" {
		missing(t, "the shared corpus (set STORESIGN_CORPUS)")
	}
	if !filepath.IsAbs(dir) {
		// go test runs in the package directory; a relative corpus is
		// relative to the repository root.
		if root, err := repoRoot(); err == nil {
			dir = filepath.Join(root, dir)
		}
	}
	p := filepath.Join(append([]string{dir}, elem...)...)
	if _, err := os.Stat(p); err != nil {
		missing(t, "corpus path "+p)
	}
	return p
}

// Tool returns the path of a reference tool. It looks on PATH and in
// $STORESIGN_ORACLES/bin (default ~/.cache/storesign-oracles/bin), where
// scripts/install-oracles.sh puts the tools it unpacks.
func Tool(t testing.TB, name string) string {
	t.Helper()
	if p, ok := LookTool(name); ok {
		return p
	}
	missing(t, name+" (run scripts/install-oracles.sh)")
	return ""
}

// LookTool is Tool without the test: it reports whether the tool exists.
func LookTool(name string) (string, bool) {
	dir := OraclesDir()
	if p := filepath.Join(dir, "bin", name); isExec(p) {
		return p, true
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, true
	}
	return "", false
}

// OraclesDir is where install-oracles.sh puts the tools it unpacks.
func OraclesDir() string {
	if d := os.Getenv("STORESIGN_ORACLES"); d != "" {
		return d
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "storesign-oracles")
}

func isExec(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

func missing(t testing.TB, what string) {
	t.Helper()
	if RequireOracles() {
		t.Fatalf("missing %s, and STORESIGN_REQUIRE_ORACLES=1", what)
	}
	t.Skipf("skipping: missing %s", what)
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
}
