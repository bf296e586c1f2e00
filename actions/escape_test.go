package actions

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// readOutputs parses a GITHUB_OUTPUT file as the runner does: name=value
// lines and name<<DELIMITER blocks.
func readOutputs(t *testing.T, s string) map[string]string {
	t.Helper()
	m := map[string]string{}
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		if name, delim, ok := strings.Cut(lines[i], "<<"); ok {
			var val []string
			for i++; i < len(lines) && lines[i] != delim; i++ {
				val = append(val, lines[i])
			}
			if i == len(lines) {
				t.Fatalf("unterminated %s<<%s", name, delim)
			}
			m[name] = strings.Join(val, "\n")
			continue
		}
		name, val, _ := strings.Cut(lines[i], "=")
		m[name] = val
	}
	return m
}

// TestSetOutputHostile sets outputs whose values try to end the heredoc
// and set another output: each stays one output with its exact value.
func TestSetOutputHostile(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"GITHUB_OUTPUT": filepath.Join(dir, "output")}
	a, _ := newTest(t, env)
	values := map[string]string{
		"path":     "/tmp/ok.apk\npath=/etc/passwd",
		"name":     "x\n_GitHubActionsFileCommandDelimeter_\npath=/etc/passwd",
		"heredoc":  "y\nghadelimiter_00\nsigned-path<<EOF\n/etc/shadow\nEOF",
		"cr":       "a\rpath=/etc/passwd",
		"plain":    "abc",
		"trailing": "ends with a break\n",
	}
	for k, v := range values {
		if err := a.SetOutput(k, v); err != nil {
			t.Fatalf("SetOutput(%s): %v", k, err)
		}
	}
	b, err := os.ReadFile(env["GITHUB_OUTPUT"])
	if err != nil {
		t.Fatal(err)
	}
	got := readOutputs(t, string(b))
	if len(got) != len(values) {
		t.Errorf("outputs %q, want exactly %d", got, len(values))
	}
	for k, v := range values {
		if got[k] != v {
			t.Errorf("output %s = %q, want %q", k, got[k], v)
		}
	}
	for _, bad := range []string{"", "a=b", "a\nb", "a<<b", "a b"} {
		if err := a.SetOutput(bad, "v"); err == nil {
			t.Errorf("SetOutput(%q) accepted", bad)
		}
	}
}

// TestFileCommandsFail checks that an unwritable GITHUB_OUTPUT or
// GITHUB_STEP_SUMMARY is an error, not a panic.
func TestFileCommandsFail(t *testing.T) {
	dir := t.TempDir()
	a, _ := newTest(t, map[string]string{"GITHUB_OUTPUT": dir, "GITHUB_STEP_SUMMARY": dir})
	if err := a.SetOutput("x", "y"); err == nil {
		t.Error("SetOutput into a folder: no error")
	}
	if err := a.AddSummary("x"); err == nil {
		t.Error("AddSummary into a folder: no error")
	}
}

// TestInfofDefang checks that text from outside cannot issue a workflow
// command through the log.
func TestInfofDefang(t *testing.T) {
	a, log := newTest(t, nil)
	a.Infof("Downloading %s.", "x\n::add-mask::visible\n  ::error::forged\n##[group]forged")
	a.SetOutput("name", "a\n::warning::forged")
	for _, l := range strings.Split(log.String(), "\n") {
		t2 := strings.TrimLeft(l, " \t")
		if strings.HasPrefix(t2, "::") || strings.HasPrefix(t2, "##[") {
			t.Errorf("log line %q is a workflow command", l)
		}
	}
}

// TestMarkdownHostile renders a report whose fields come from a hostile
// studio or Drive: every value stays in its cell, with no HTML, link,
// line break or extra column.
func TestMarkdownHostile(t *testing.T) {
	r := &Report{
		App:       "Evil | <img src=x onerror=alert(1)> [click](https://evil.example) **bold**\n| Injected | row |",
		Platform:  "iOS",
		BundleID:  "com.evil`|`\nx",
		Version:   "1.0 www.evil.example",
		Build:     "7\u202e",
		Input:     "ok.apk\npath=/etc/passwd",
		Output:    strings.Repeat("long", 200),
		DriveLink: "javascript:alert(1)",
		SHA256:    strings.Repeat("ab", 32),
	}
	md := r.Markdown()
	lines := strings.Split(strings.TrimSuffix(md, "\n"), "\n")
	for _, l := range lines[4:] { // the rows
		if n := strings.Count(strings.ReplaceAll(l, `\|`, ""), "|"); n != 3 {
			t.Errorf("row %q has %d column separators, want 3", l, n)
		}
		if strings.ContainsAny(l, "\r<>\u202e") {
			t.Errorf("row %q holds a raw control character or HTML", l)
		}
		if len(l) > 2*maxCell+40 {
			t.Errorf("row of %d bytes", len(l))
		}
	}
	if regexp.MustCompile(`[^\\]\]\(`).MatchString(md) {
		t.Errorf("summary holds a Markdown link:\n%s", md)
	}
	for _, bad := range []string{"https://", "www.evil", "javascript", "Google Drive"} {
		if strings.Contains(md, bad) {
			t.Errorf("summary holds %q:\n%s", bad, md)
		}
	}
	if !strings.Contains(md, "&lt;img") || !strings.Contains(md, `\*\*bold\*\*`) {
		t.Errorf("summary does not escape HTML and emphasis:\n%s", md)
	}
	// A real Drive link is kept.
	r = &Report{Output: "app.apk", DriveLink: "https://drive.google.com/file/d/1abc/view?usp=drivesdk"}
	if md := r.Markdown(); !strings.Contains(md, "[app.apk](https://drive.google.com/file/d/1abc/view?usp=drivesdk)") {
		t.Errorf("Drive link lost:\n%s", md)
	}
}

func FuzzMarkdownText(f *testing.F) {
	for _, s := range []string{"Example", "a|b", "<script>", "[x](y)", "https://x", "a\nb", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m := MarkdownText(s)
		if strings.ContainsAny(m, "\r\n<>") || strings.Count(strings.ReplaceAll(m, `\|`, ""), "|") > 0 || strings.Contains(m, "://") {
			t.Fatalf("MarkdownText(%q) = %q", s, m)
		}
	})
}
