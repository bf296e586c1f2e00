package actiondoc

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the actions' READMEs")

func TestParse(t *testing.T) {
	data, err := os.ReadFile("testdata/action.yml")
	if err != nil {
		t.Fatal(err)
	}
	a, err := FromYAML("storesign/storesign/actions/sample", data)
	if err != nil {
		t.Fatal(err)
	}
	if a.Name != "sample action" || a.Description != "A folded description on two lines.\nAnd a second paragraph." {
		t.Errorf("name %q, description %q", a.Name, a.Description)
	}
	want := []Input{
		{Name: "plain", Description: "A plain value, with a colon: here.", Required: true},
		{Name: "quoted", Description: `Double "quoted"`, Default: "{app}/{version} ({build})"},
		{Name: "single", Description: "It's single"},
		{Name: "literal", Description: "line one\n  indented\nline three", Default: "256"},
	}
	if len(a.Inputs) != len(want) {
		t.Fatalf("inputs %+v", a.Inputs)
	}
	for i, w := range want {
		if a.Inputs[i] != w {
			t.Errorf("input %d = %+v, want %+v", i, a.Inputs[i], w)
		}
	}
	if len(a.Outputs) != 1 || a.Outputs[0] != (Output{"out", "The output."}) {
		t.Errorf("outputs %+v", a.Outputs)
	}
	for _, bad := range []string{"name: x\n  bad: indent\n other: y\n", "name: x\njust text\n", "name: 'open\n"} {
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("Parse(%q) succeeded", bad)
		}
	}
}

func TestFindExample(t *testing.T) {
	wf := "jobs:\n  a:\n    steps:\n      - name: Other\n        run: echo\n\n      - name: Plan\n        id: plan\n        uses: storesign/storesign/actions/plan@v1\n        with:\n          drive-folder: x\n\n      - uses: storesign/storesign@v1\n"
	if got, want := FindExample(wf, "storesign/storesign/actions/plan"), "- name: Plan\n  id: plan\n  uses: storesign/storesign/actions/plan@v1\n  with:\n    drive-folder: x\n"; got != want {
		t.Errorf("plan example:\n%s\nwant:\n%s", got, want)
	}
	if got := FindExample(wf, "storesign/storesign"); got != "- uses: storesign/storesign@v1\n" {
		t.Errorf("root example %q", got)
	}
	if got := FindExample(wf, "storesign/storesign/actions/none"); got != "" {
		t.Errorf("example of an unused action %q", got)
	}
}

func FuzzParse(f *testing.F) {
	for _, p := range append(actionYMLs(f), "testdata/action.yml") {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if n, err := Parse(data); err == nil {
			FromYAML("x", data)
			_ = n.Child("inputs").Get("x")
		}
	})
}

// actionYMLs returns the repository's action.yml files: the root one and
// every actions/*/action.yml, whoever added it.
func actionYMLs(tb testing.TB) []string {
	root := filepath.Join("..", "..")
	files, err := filepath.Glob(filepath.Join(root, "actions", "*", "action.yml"))
	if err != nil {
		tb.Fatal(err)
	}
	sort.Strings(files)
	return append([]string{filepath.Join(root, "action.yml")}, files...)
}

// TestREADMEs checks that the README of every action (actions/*/README.md,
// and docs/release-action.md for the root action) is what its action.yml
// and the example workflows make; -update rewrites them.
func TestREADMEs(t *testing.T) {
	root := filepath.Join("..", "..")
	examples, _ := filepath.Glob(filepath.Join(root, "examples", "workflows", "*.yml"))
	// The planner's one-build release is the example of the root action,
	// whatever sorts first; the rest in name order.
	sort.Slice(examples, func(i, j int) bool {
		pi, pj := filepath.Base(examples[i]) == "release-from-drive.yml", filepath.Base(examples[j]) == "release-from-drive.yml"
		if pi != pj {
			return pi
		}
		return examples[i] < examples[j]
	})
	ymls := actionYMLs(t)
	if len(ymls) < 6 {
		t.Fatalf("found %d action.yml files, want the root one and five or more under actions/", len(ymls))
	}
	for _, y := range ymls {
		dir := filepath.Dir(y)
		ref, readme, up := "storesign/storesign", filepath.Join(root, "docs", "release-action.md"), ".."
		if dir != root {
			ref += "/actions/" + filepath.Base(dir)
			readme, up = filepath.Join(dir, "README.md"), "../.."
		}
		data, err := os.ReadFile(y)
		if err != nil {
			t.Fatal(err)
		}
		a, err := FromYAML(ref, data)
		if err != nil {
			t.Errorf("%s: %v", y, err)
			continue
		}
		var ex *Example
		for _, w := range examples {
			wd, err := os.ReadFile(w)
			if err != nil {
				t.Fatal(err)
			}
			if step := FindExample(string(wd), ref); step != "" {
				rel, _ := filepath.Rel(root, w)
				ex = &Example{File: filepath.ToSlash(rel), Step: step}
				break
			}
		}
		want := a.Markdown(ex, up)
		rel, _ := filepath.Rel(root, readme)
		if *update {
			if err := os.WriteFile(readme, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(readme)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s is stale or missing (%v): run `go generate ./internal/actiondoc` to regenerate it from %s", rel, err, strings.TrimPrefix(y, root+"/"))
		}
	}
}
