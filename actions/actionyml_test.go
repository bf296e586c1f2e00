package actions

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// repoRoot is the module root, one folder up from this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// actionFiles returns every action.yml of the repository.
func actionFiles(t *testing.T) []string {
	t.Helper()
	root := repoRoot(t)
	files := []string{filepath.Join(root, "action.yml")}
	more, err := filepath.Glob(filepath.Join(root, "actions", "*", "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, more...)
	if len(files) < 5 {
		t.Fatalf("found %d action.yml files, want the root one and four under actions/", len(files))
	}
	return files
}

// workflowFiles returns the project's and the examples' workflows.
func workflowFiles(t *testing.T) []string {
	t.Helper()
	root := repoRoot(t)
	var files []string
	for _, pat := range []string{".github/workflows/*.yml", "examples/workflows/*.yml"} {
		m, err := filepath.Glob(filepath.Join(root, pat))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	return files
}

// runBlock is the text of one run: key of a YAML file.
type runBlock struct {
	line int
	text string
}

var runKeyRE = regexp.MustCompile(`^(\s*)(?:-\s+)?run:\s*(.*)$`)

// runBlocks finds the run: scripts of a workflow or action file: the
// inline value, or the indented block after "run: |" or "run: >".
func runBlocks(data string) []runBlock {
	lines := strings.Split(data, "\n")
	var out []runBlock
	for i := 0; i < len(lines); i++ {
		m := runKeyRE.FindStringSubmatch(lines[i])
		if m == nil {
			continue
		}
		b := runBlock{line: i + 1, text: m[2]}
		keyIndent := len(m[1])
		if strings.HasPrefix(strings.TrimSpace(lines[i])[0:1], "-") {
			keyIndent += 2
		}
		for j := i + 1; j < len(lines); j++ {
			l := lines[j]
			if strings.TrimSpace(l) == "" {
				b.text += "\n"
				continue
			}
			if len(l)-len(strings.TrimLeft(l, " ")) <= keyIndent {
				break
			}
			b.text += "\n" + l
			i = j
		}
		out = append(out, b)
	}
	return out
}

func TestRunBlocks(t *testing.T) {
	got := runBlocks(`steps:
  - name: a
    run: echo "$X"
  - run: |
      echo one
      echo ${{ inputs.x }}

    shell: bash
  - uses: x
    with:
      run: no
`)
	if len(got) != 3 || !strings.Contains(got[1].text, "${{") || strings.Contains(got[0].text, "${{") || strings.TrimSpace(got[2].text) != "no" {
		t.Errorf("runBlocks = %+v", got)
	}
}

// TestNoExpressionsInRun fails when a run: script of an action (or of a
// workflow) contains ${{ }}: inputs reach scripts only through env:, so
// that a value cannot inject shell code.
func TestNoExpressionsInRun(t *testing.T) {
	for _, f := range append(actionFiles(t), workflowFiles(t)...) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range runBlocks(string(data)) {
			if strings.Contains(b.text, "${{") {
				t.Errorf("%s:%d: a run: script contains ${{ }}: pass the value through env: and use \"$VAR\"", f, b.line)
			}
		}
	}
}

// yamlInputs returns the names under the top-level inputs: key.
func yamlInputs(data string) []string {
	var names []string
	in := false
	sc := bufio.NewScanner(strings.NewReader(data))
	for sc.Scan() {
		l := sc.Text()
		switch {
		case l == "inputs:":
			in = true
		case in && len(l) > 0 && l[0] != ' ' && l[0] != '#':
			in = false
		case in && strings.HasPrefix(l, "  ") && !strings.HasPrefix(l, "   ") && strings.HasSuffix(l, ":"):
			names = append(names, strings.TrimSuffix(strings.TrimSpace(l), ":"))
		}
	}
	return names
}

func TestActionInputs(t *testing.T) {
	root := repoRoot(t)
	want := map[string][]string{
		"action.yml": {"drive-file", "drive-folder", "name", "output-folder", "output-subfolder", "output-name", "platform",
			"p12-base64", "p12-password", "profiles-base64", "profiles-path", "profiles-drive-folder",
			"keystore-base64", "keystore-password", "key-alias", "key-password",
			"bundle-id", "short-version", "bundle-version", "display-name", "compression-level", "drop-ungranted-entitlements", "credentials-json", "planner-names",
			"play-track", "play-status", "play-user-fraction", "play-release-name", "play-release-notes-dir", "play-changes-not-sent-for-review", "play-expect-cert-sha256", "play-credentials",
			"asc-key-id", "asc-issuer-id", "asc-key-base64", "asc-wait"},
		"actions/resign-ipa/action.yml":     {"path", "p12-base64", "p12-password", "profiles-base64", "profiles-path", "profiles-drive-folder", "bundle-id", "short-version", "bundle-version", "display-name", "compression-level", "drop-ungranted-entitlements", "output-path", "planner-names"},
		"actions/resign-apk/action.yml":     {"path", "keystore-base64", "keystore-password", "key-alias", "key-password", "output-path", "planner-names"},
		"actions/drive-download/action.yml": {"drive-file", "drive-folder", "name", "credentials-json", "planner-names"},
		"actions/drive-upload/action.yml":   {"path", "output-folder", "name", "credentials-json", "planner-names"},
		"actions/play-upload/action.yml": {"file", "package-name", "track", "status", "user-fraction", "release-name", "release-notes-dir",
			"mapping", "changes-not-sent-for-review", "expect-cert-sha256", "credentials", "planner-names"},
		"actions/appstore-upload/action.yml": {"file", "asc-key-id", "asc-issuer-id", "asc-key-base64", "wait", "planner-names"},
	}
	for f, names := range want {
		data, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		got := yamlInputs(string(data))
		if !slices.Equal(got, names) {
			t.Errorf("%s inputs:\n got %q\nwant %q", f, got, names)
		}
		s := string(data)
		for _, in := range got {
			// Every input is used, and only through env: INPUT_X.
			if !strings.Contains(s, EnvName(in)+": ${{ inputs."+in+" }}") {
				t.Errorf("%s: input %s never reaches a step as %s", f, in, EnvName(in))
			}
		}
		for _, m := range regexp.MustCompile(`inputs\.([a-z0-9-]+)`).FindAllStringSubmatch(s, -1) {
			if !slices.Contains(got, m[1]) {
				t.Errorf("%s: uses undeclared input %s", f, m[1])
			}
		}
		// Secrets are masked by the first step; those decoded into files
		// (the secrets step) are cleaned up by the last. The store
		// uploads keep theirs in memory.
		steps := strings.Split(s, "\n    - name: ")
		if len(steps) < 3 || !strings.Contains(steps[1], "mask.sh") {
			t.Errorf("%s: the first step does not mask the secrets", f)
		}
		last := steps[len(steps)-1]
		cleanup := strings.Contains(last, "if: always()") && strings.Contains(last, "cleanup.sh")
		if decodes := strings.Contains(s, "action secrets"); decodes != cleanup {
			t.Errorf("%s: decodes secrets into files: %v, ends with an if: always() cleanup: %v", f, decodes, cleanup)
		}
		if !strings.Contains(s, "go-version-file: ${{ github.action_path }}") {
			t.Errorf("%s: setup-go does not read the action's own go.mod", f)
		}
	}
	for _, o := range []string{"signed-path", "drive-file-id", "drive-link", "sha256", "drive-folder", "upload"} {
		data, _ := os.ReadFile(filepath.Join(root, "action.yml"))
		if !strings.Contains(string(data), "\n  "+o+":\n") {
			t.Errorf("action.yml: no output %s", o)
		}
	}
}

func bash(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	return p
}

func TestMaskScript(t *testing.T) {
	sh := bash(t)
	cmd := exec.Command(sh, filepath.Join(repoRoot(t), "actions", "scripts", "mask.sh"))
	cmd.Env = append(os.Environ(),
		"INPUT_P12_PASSWORD=100%\rsure",
		"INPUT_PROFILES_BASE64=QUJD\n  REVG  \n\n",
		"INPUT_KEY_ALIAS=not-a-secret",
		"INPUT_CREDENTIALS_JSON=",
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("mask.sh: %v\n%s", err, out)
	}
	want := "::add-mask::100%25%0Dsure\n::add-mask::QUJD\n::add-mask::  REVG  \n::add-mask::REVG\nMasked 2 secret inputs.\n"
	if string(out) != want {
		t.Errorf("mask.sh printed\n%q\nwant\n%q", out, want)
	}
}

func TestCleanupScript(t *testing.T) {
	sh := bash(t)
	dir := t.TempDir()
	secrets := filepath.Join(dir, SecretsDirPrefix+"123")
	other := filepath.Join(dir, "precious")
	for _, d := range []string{secrets, other} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
		if _, err := WriteSecret(d, "identity.p12", []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	script := filepath.Join(repoRoot(t), "actions", "scripts", "cleanup.sh")
	for _, c := range []struct {
		dir  string
		gone bool
	}{{"", false}, {other, false}, {secrets, true}, {secrets, true}} {
		cmd := exec.Command(sh, script)
		cmd.Env = append(os.Environ(), "SECRETS_DIR="+c.dir)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("cleanup.sh %q: %v\n%s", c.dir, err, out)
		}
		if c.dir == "" {
			continue
		}
		if _, err := os.Stat(c.dir); (err == nil) == c.gone {
			t.Errorf("cleanup.sh %s: removed = %v, want %v", c.dir, err != nil, c.gone)
		}
	}
}

func TestStoresignBinCheck(t *testing.T) {
	sh := bash(t)
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go on PATH")
	}
	tmp := t.TempDir()
	out := filepath.Join(tmp, "output")
	cmd := exec.Command(sh, filepath.Join(repoRoot(t), "actions", "scripts", "storesign-bin.sh"), "check")
	cmd.Env = append(os.Environ(), "STORESIGN_SRC="+repoRoot(t), "RUNNER_TEMP="+tmp, "GITHUB_OUTPUT="+out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("storesign-bin.sh check: %v\n%s", err, b)
	}
	got, _ := os.ReadFile(out)
	want := "path=" + filepath.Join(tmp, "storesign-bin", "storesign") + "\nneed-build=true\nneed-go=false\n"
	if !strings.HasPrefix(string(got), want) || !strings.Contains(string(got), "\ncache-key=storesign-go-") {
		t.Errorf("outputs:\n%s\nwant:\n%s(then gocache, gomodcache, cache-key)", got, want)
	}
}

// TestActionsListed checks that the action tables of README.md and
// docs/actions.md list every action under actions/, that docs/actions.md
// links each one's README, and that its list of steps names every
// "storesign action STEP" an action.yml runs.
func TestActionsListed(t *testing.T) {
	root := repoRoot(t)
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	docs, err := os.ReadFile(filepath.Join(root, "docs", "actions.md"))
	if err != nil {
		t.Fatal(err)
	}
	steps := regexp.MustCompile("`storesign action ([a-z|-]+)`").FindSubmatch(docs)
	if steps == nil {
		t.Fatal("docs/actions.md does not list the steps as `storesign action a|b|...`")
	}
	listed := strings.Split(string(steps[1]), "|")
	run := regexp.MustCompile(`"\$STORESIGN" action ([a-z-]+)`)
	for _, f := range actionFiles(t) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range run.FindAllStringSubmatch(string(data), -1) {
			if !slices.Contains(listed, m[1]) {
				t.Errorf("%s runs storesign action %s, which docs/actions.md's list of steps leaves out", f, m[1])
			}
		}
		dir := filepath.Base(filepath.Dir(f))
		if filepath.Dir(f) == root {
			continue
		}
		row := "| `storesign/storesign/actions/" + dir + "@v1` |"
		if !strings.Contains(string(readme), row) {
			t.Errorf("README.md's table of actions lacks %s", dir)
		}
		if !strings.Contains(string(docs), row) {
			t.Errorf("docs/actions.md's table of actions lacks %s", dir)
		}
		if !strings.Contains(string(docs), "](../actions/"+dir+"/README.md)") {
			t.Errorf("docs/actions.md does not link the README of %s", dir)
		}
	}
}

// TestActionsInExamples checks that an example workflow uses every action
// under actions/: its README's example is taken from there, else made up
// with ${{ secrets.X }} for each required input, even a file path.
func TestActionsInExamples(t *testing.T) {
	root := repoRoot(t)
	var all strings.Builder
	for _, f := range workflowFiles(t) {
		if !strings.HasPrefix(f, filepath.Join(root, "examples")) {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all.Write(data)
	}
	for _, f := range actionFiles(t) {
		if filepath.Dir(f) == root {
			continue
		}
		dir := filepath.Base(filepath.Dir(f))
		if !strings.Contains(all.String(), "uses: storesign/storesign/actions/"+dir+"@") {
			t.Errorf("no workflow of examples/workflows uses actions/%s", dir)
		}
	}
}
