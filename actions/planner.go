package actions

import (
	"errors"
	"strings"
)

// PlannerNamesInput is the input that tells the steps how the planner
// sees each input: the workflow form field, the secret or the variable
// that feeds it. One "input=words" per line; blank lines and lines
// starting with # are skipped:
//
//	p12-password=secret IOS_P12_PASSWORD
//	drive-file=field build
//	output-folder=variable DRIVE_SIGNED_FOLDER
//
// Annotations and the step summary then say "Fix the secret
// IOS_P12_PASSWORD" where they would say "Fix the p12-password input". An
// input the list leaves out keeps its own name. The example workflows
// under examples/workflows pass the list that matches their `with:`
// block; a test checks that the two agree.
const PlannerNamesInput = "planner-names"

// PlannerNames parses the value of the planner-names input: input name to
// the planner's words. Malformed lines are skipped.
func PlannerNames(v string) map[string]string {
	m := map[string]string{}
	for _, line := range lines(v) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		in, words, ok := strings.Cut(line, "=")
		in, words = strings.TrimSpace(in), strings.Join(strings.Fields(words), " ")
		if !ok || in == "" || words == "" || strings.ContainsAny(in, " \t") {
			continue
		}
		m[in] = words
	}
	return m
}

// plannerNames is the parsed planner-names input, read once.
func (a *Action) plannerNames() map[string]string {
	if a.words == nil {
		a.words = PlannerNames(a.getenv(EnvName(PlannerNamesInput)))
	}
	return a.words
}

// Name is how the planner sees an input: the words planner-names gives
// it ("secret IOS_P12_PASSWORD"), or "input NAME". Names joined with
// " and " or " or " are each translated.
func (a *Action) Name(input string) string {
	return a.joined(input, func(in string) string {
		if w, ok := a.plannerNames()[in]; ok {
			return w
		}
		return "input " + in
	})
}

// joined applies f to each name of "a and b" or "a or b".
func (a *Action) joined(input string, f func(string) string) string {
	for _, sep := range []string{" and ", " or "} {
		if l, r, ok := strings.Cut(input, sep); ok {
			return a.joined(l, f) + sep + a.joined(r, f)
		}
	}
	return f(input)
}

// InputTitle is the title of the annotation of ie: "Fix the secret
// IOS_P12_PASSWORD", or [InputError.Title] when planner-names does not
// name the input.
func (a *Action) InputTitle(ie *InputError) string {
	if !a.mapped(ie.Input) {
		return ie.Title()
	}
	return "Fix the " + a.joined(ie.Input, func(in string) string {
		if w, ok := a.plannerNames()[in]; ok {
			return w
		}
		return in + " input"
	})
}

// InputMessage is ie's message in the planner's words: the input it is
// about, and the other inputs it mentions, named as planner-names says,
// the input's own name kept in parentheses. Without planner-names it is
// ie.Error().
func (a *Action) InputMessage(ie *InputError) string {
	if len(a.plannerNames()) == 0 {
		return ie.Error()
	}
	head := a.Name(ie.Input)
	if a.mapped(ie.Input) {
		head += " (input " + ie.Input + ")"
	}
	return head + " " + a.replaceNames(ie.Msg)
}

// mapped says whether planner-names names one of input's names.
func (a *Action) mapped(input string) bool {
	found := false
	a.joined(input, func(in string) string {
		_, ok := a.plannerNames()[in]
		found = found || ok
		return in
	})
	return found
}

// replaceNames replaces each whole-word mention of a mapped input whose
// name holds a dash (p12-base64, drive-folder) with the planner's words.
// One-word inputs (name, path, platform) are left alone: they read as
// plain words too.
func (a *Action) replaceNames(msg string) string {
	for in, w := range a.plannerNames() {
		if !strings.Contains(in, "-") {
			continue
		}
		var b strings.Builder
		rest := msg
		for {
			i := strings.Index(rest, in)
			if i < 0 {
				b.WriteString(rest)
				break
			}
			end := i + len(in)
			if (i == 0 || !nameByte(rest[i-1])) && (end == len(rest) || !nameByte(rest[end])) {
				b.WriteString(rest[:i] + w)
			} else {
				b.WriteString(rest[:end])
			}
			rest = rest[end:]
		}
		msg = b.String()
	}
	return msg
}

func nameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}

// planner is err's message in the planner's words.
func (a *Action) planner(err error) string {
	var ie *InputError
	if errors.As(err, &ie) && ie == err {
		return a.InputMessage(ie)
	}
	return err.Error()
}
