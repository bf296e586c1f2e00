package actions

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestPlannerNames(t *testing.T) {
	got := PlannerNames("p12-password=secret IOS_P12_PASSWORD\r\n\n# comment\n  drive-file =  field   build \nbad line\n=x\nname with space=y\nkey-alias=")
	want := map[string]string{"p12-password": "secret IOS_P12_PASSWORD", "drive-file": "field build"}
	if len(got) != len(want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
}

func TestPlannerWords(t *testing.T) {
	names := "p12-password=secret IOS_P12_PASSWORD\np12-base64=secret IOS_P12_BASE64\ndrive-file=field build\nname=field file-name"
	for _, tc := range []struct {
		names        string
		ie           InputError
		title, msg   string
		inputMessage string
	}{
		{"", InputError{Input: "p12-password", Msg: "does not open p12-base64"},
			"Fix the p12-password input", "input p12-password does not open p12-base64", ""},
		{names, InputError{Input: "p12-password", Msg: "does not open p12-base64: give the password"},
			"Fix the secret IOS_P12_PASSWORD", "secret IOS_P12_PASSWORD (input p12-password) does not open secret IOS_P12_BASE64: give the password", ""},
		// Unmapped input, mapped mentions.
		{names, InputError{Input: "profiles-base64", Msg: "does not match p12-base64; xp12-base64 p12-base64s"},
			"Fix the profiles-base64 input", "input profiles-base64 does not match secret IOS_P12_BASE64; xp12-base64 p12-base64s", ""},
		// Several inputs, one mapped; one-word inputs are not replaced in the text.
		{names, InputError{Input: "drive-file and drive-folder", Msg: "are both set: set name or drive-file"},
			"Fix the field build and drive-folder input", "field build and input drive-folder (input drive-file and drive-folder) are both set: set name or field build", ""},
		{names, InputError{Input: "name", Msg: "matches no file"},
			"Fix the field file-name", "field file-name (input name) matches no file", ""},
	} {
		a := New(Options{Stdout: new(strings.Builder), Getenv: func(k string) string {
			if k == EnvName(PlannerNamesInput) {
				return tc.names
			}
			return ""
		}})
		if got := a.InputTitle(&tc.ie); got != tc.title {
			t.Errorf("InputTitle(%q) = %q, want %q", tc.ie.Input, got, tc.title)
		}
		if got := a.InputMessage(&tc.ie); got != tc.msg {
			t.Errorf("InputMessage(%q) = %q, want %q", tc.ie.Input, got, tc.msg)
		}
	}
}

// refRE finds what feeds an input in a workflow: a secret, a variable or a
// workflow_dispatch field, not one compared (inputs.build == ”).
var refRE = regexp.MustCompile(`\b(secrets|vars|inputs)\.([A-Za-z0-9_-]+)(\s*==)?`)

// plannerNamesOf derives the planner-names of each storesign step of a
// workflow from its with: block, and returns them with the block the step
// has, by step line.
func plannerNamesOf(t *testing.T, data string) (want, got map[int]map[string]string) {
	t.Helper()
	want, got = map[int]map[string]string{}, map[int]map[string]string{}
	var ls []string
	sc := bufio.NewScanner(strings.NewReader(data))
	for sc.Scan() {
		ls = append(ls, sc.Text())
	}
	indent := func(l string) int { return len(l) - len(strings.TrimLeft(l, " ")) }
	for i, l := range ls {
		u := strings.TrimPrefix(strings.TrimSpace(l), "- ")
		if !strings.HasPrefix(u, "uses: storesign/storesign") && !strings.HasPrefix(u, "uses: ./") {
			continue
		}
		j := i + 1
		for j < len(ls) && strings.TrimSpace(ls[j]) != "with:" && !strings.HasPrefix(strings.TrimSpace(ls[j]), "- ") {
			j++
		}
		if j == len(ls) || strings.TrimSpace(ls[j]) != "with:" {
			continue
		}
		ind := indent(ls[j])
		w, g := map[string]string{}, map[string]string{}
		for j++; j < len(ls) && strings.TrimSpace(ls[j]) != "" && indent(ls[j]) > ind; j++ {
			key, v, _ := strings.Cut(strings.TrimSpace(ls[j]), ":")
			if key == PlannerNamesInput {
				var block []string
				for k := indent(ls[j]); j+1 < len(ls) && indent(ls[j+1]) > k; {
					j++
					block = append(block, ls[j])
				}
				g = PlannerNames(strings.Join(block, "\n"))
				continue
			}
			for _, m := range refRE.FindAllStringSubmatch(v, -1) {
				if m[3] != "" {
					continue
				}
				w[key] = map[string]string{"secrets": "secret ", "vars": "variable ", "inputs": "field "}[m[1]] + m[2]
				break
			}
		}
		want[i+1], got[i+1] = w, g
	}
	return want, got
}

// TestExamplePlannerNames checks that the planner-names of every storesign
// step of the example workflows name what feeds each input: the secret,
// the variable or the workflow field, so that the names in annotations
// cannot drift from the workflow's.
func TestExamplePlannerNames(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(repoRoot(t), "examples", "workflows", "*.yml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no example workflows: %v", err)
	}
	steps := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		want, got := plannerNamesOf(t, string(data))
		for line, w := range want {
			steps++
			g := got[line]
			for k, v := range w {
				if g[k] != v {
					t.Errorf("%s:%d: planner-names has %s=%q, want %s=%s", filepath.Base(f), line, k, g[k], k, v)
				}
			}
			for k := range g {
				if _, ok := w[k]; !ok {
					t.Errorf("%s:%d: planner-names names %s, which no secret, variable or field feeds", filepath.Base(f), line, k)
				}
			}
		}
	}
	if steps < 5 {
		t.Errorf("found %d storesign steps in the examples, want 5 or more", steps)
	}
}

// FuzzPlannerNames: any planner-names value parses, and the words of any
// input error are one line with the input's words in them.
func FuzzPlannerNames(f *testing.F) {
	f.Add("p12-password=secret IOS_P12_PASSWORD\ndrive-file=field build", "p12-password", "does not open p12-base64")
	f.Add("a-b=x\n#c\n=\nb = y  z", "a-b and b", "a-b a-b a-bc")
	f.Fuzz(func(t *testing.T, names, input, msg string) {
		words := PlannerNames(names)
		for k, v := range words {
			if k == "" || v == "" || strings.ContainsAny(k, " \t\r\n") || strings.ContainsAny(v, "\r\n") {
				t.Fatalf("entry %q=%q", k, v)
			}
		}
		a := New(Options{Stdout: new(strings.Builder), Getenv: func(k string) string {
			if k == EnvName(PlannerNamesInput) {
				return names
			}
			return ""
		}})
		ie := &InputError{Input: input, Msg: msg}
		if w, ok := words[input]; ok && !strings.Contains(a.InputTitle(ie), w) {
			t.Errorf("title %q lacks %q", a.InputTitle(ie), w)
		}
		a.InputMessage(ie)
	})
}

// FuzzLayout: any template either fails Check or places a build under
// names Drive accepts, none of them empty, "." or "..".
func FuzzLayout(f *testing.F) {
	f.Add(DefaultSubfolder, DefaultName, "Studio", "1.4", "142")
	f.Add("{platform}/{input}", "{bundle-id}.{ext}", "../x", "", "\n")
	f.Fuzz(func(t *testing.T, sub, name, app, version, build string) {
		l := Layout{Subfolder: sub, Name: name}
		if l.Check() != nil {
			return
		}
		s, n, err := l.Place(&Report{App: app, Platform: KindIPA.String(), Version: version, Build: build, Input: "x.ipa"}, "x.ipa")
		if err != nil {
			return
		}
		for _, seg := range append(strings.Split(s, "/"), n) {
			if s == "" && seg == "" {
				continue
			}
			if seg == "" || seg == "." || seg == ".." || strings.ContainsAny(seg, "/\x00\n") {
				t.Fatalf("Place = %q, %q", s, n)
			}
		}
	})
}
