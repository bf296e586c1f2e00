package actiondoc

import (
	"fmt"
	"strings"
)

// Input is an input of an action.
type Input struct {
	Name, Description, Default string
	Required                   bool
}

// Output is an output of an action.
type Output struct {
	Name, Description string
}

// Action is what a README says of an action.yml.
type Action struct {
	// Ref is how a workflow uses the action, without the version:
	// "storesign/storesign" or "storesign/storesign/actions/plan".
	Ref         string
	Name        string
	Description string
	Inputs      []Input
	Outputs     []Output
}

// FromYAML reads an action.yml, used as ref.
func FromYAML(ref string, data []byte) (*Action, error) {
	root, err := Parse(data)
	if err != nil {
		return nil, err
	}
	a := &Action{Ref: ref, Name: root.Get("name"), Description: root.Get("description")}
	for _, in := range root.Child("inputs").childrenOrNil() {
		a.Inputs = append(a.Inputs, Input{Name: in.Key, Description: in.Get("description"), Default: in.Get("default"), Required: in.Get("required") == "true"})
	}
	for _, o := range root.Child("outputs").childrenOrNil() {
		a.Outputs = append(a.Outputs, Output{Name: o.Key, Description: o.Get("description")})
	}
	if a.Name == "" {
		return nil, fmt.Errorf("%w: no name", ErrSyntax)
	}
	return a, nil
}

func (n *Node) childrenOrNil() []*Node {
	if n == nil {
		return nil
	}
	return n.Children
}

// Example is a workflow step that uses an action, and where it is from.
type Example struct {
	File string // the workflow's path, from the repository root
	Step string // the step's YAML, indentation removed
}

// FindExample returns the first step of the workflow data that uses ref
// at some version ("ref@"), or "".
func FindExample(data, ref string) string {
	ls := strings.Split(strings.ReplaceAll(data, "\r\n", "\n"), "\n")
	indent := func(l string) int { return len(l) - len(strings.TrimLeft(l, " ")) }
	for i, l := range ls {
		t := strings.TrimPrefix(strings.TrimSpace(l), "- ")
		if !strings.HasPrefix(t, "uses: "+ref+"@") {
			continue
		}
		// The step starts at the "- " line at or above the uses: line.
		start := i
		for start >= 0 && !strings.HasPrefix(strings.TrimSpace(ls[start]), "- ") {
			start--
		}
		if start < 0 {
			continue
		}
		dash := indent(ls[start])
		end := start + 1
		for end < len(ls) && strings.TrimSpace(ls[end]) != "" && indent(ls[end]) > dash {
			end++
		}
		var b strings.Builder
		for _, s := range ls[start:end] {
			b.WriteString(strings.TrimRight(s[min(dash, len(s)):], " ") + "\n")
		}
		return b.String()
	}
	return ""
}

// Generated starts every README this package writes.
const Generated = "<!-- Generated from action.yml by internal/actiondoc: do not edit; run `go generate ./internal/actiondoc` after changing action.yml. -->"

// Markdown renders the README. ex is a usage example (may be nil: one is
// made from the required inputs); up is the path from the README's
// folder to the repository root ("../..").
func (a *Action) Markdown(ex *Example, up string) []byte {
	docs := up + "/docs/actions.md"
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n# %s\n\n", Generated, a.Name)
	if a.Description != "" {
		b.WriteString(strings.TrimSpace(a.Description) + "\n\n")
	}
	fmt.Fprintf(&b, "```yaml\nuses: %s@v1\n```\n\n", a.Ref)
	b.WriteString("## Example\n\n")
	if ex != nil && ex.Step != "" {
		fmt.Fprintf(&b, "From [`%s`](%s):\n\n```yaml\n%s```\n\n", ex.File, up+"/"+ex.File, ex.Step)
	} else {
		fmt.Fprintf(&b, "```yaml\n- uses: %s@v1\n", a.Ref)
		var req []Input
		for _, in := range a.Inputs {
			if in.Required {
				req = append(req, in)
			}
		}
		if len(req) > 0 {
			b.WriteString("  with:\n")
			for _, in := range req {
				fmt.Fprintf(&b, "    %s: ${{ secrets.%s }}\n", in.Name, strings.ToUpper(strings.ReplaceAll(in.Name, "-", "_")))
			}
		}
		b.WriteString("```\n\n")
	}
	b.WriteString("## Inputs\n\n")
	if len(a.Inputs) == 0 {
		b.WriteString("None.\n\n")
	} else {
		b.WriteString("| Input | Required | Default | Description |\n|---|---|---|---|\n")
		for _, in := range a.Inputs {
			req := "no"
			if in.Required {
				req = "**yes**"
			}
			def := ""
			if in.Default != "" {
				def = "`" + strings.ReplaceAll(in.Default, "|", `\|`) + "`"
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", in.Name, req, def, cell(in.Description))
		}
		b.WriteString("\n")
	}
	b.WriteString("## Outputs\n\n")
	if len(a.Outputs) == 0 {
		b.WriteString("None.\n\n")
	} else {
		b.WriteString("| Output | Description |\n|---|---|\n")
		for _, o := range a.Outputs {
			fmt.Fprintf(&b, "| `%s` | %s |\n", o.Name, cell(o.Description))
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "Setup (Google Drive, Workload Identity Federation, the secrets) and the other actions: [docs/actions.md](%s).\n", docs)
	return []byte(b.String())
}

// cell makes a description one Markdown table cell.
func cell(s string) string {
	return strings.NewReplacer("\n", " ", "|", `\|`).Replace(strings.TrimSpace(s))
}
