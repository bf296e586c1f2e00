package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/storesign/storesign/drive"
	"github.com/storesign/storesign/signing/apk"
)

// TestAPKVerifyMessagesOneLine checks that apk verify prints each error
// and warning on one line, with the control and layout characters of a
// hostile entry name escaped, as the final "storesign:" line shows them.
func TestAPKVerifyMessagesOneLine(t *testing.T) {
	var out, errs bytes.Buffer
	res := &apk.VerifyResult{
		Errors:   []string{"No JAR manifest entry for assets/x\u202eevil: the entry is not signed"},
		Warnings: []string{"entry assets/\x1b[2J\nERROR: forged is not compressed"},
	}
	apkvWriteText(&env{stdout: &out, stderr: &errs}, res, true, false, false)
	got := errs.String()
	want := "ERROR: No JAR manifest entry for assets/x\\u202eevil: the entry is not signed\n" +
		"WARNING: entry assets/\\x1b[2J; ERROR: forged is not compressed\n"
	if got != want {
		t.Errorf("stderr:\n%q\nwant:\n%q", got, want)
	}
	for _, line := range strings.Split(strings.TrimSuffix(got, "\n"), "\n") {
		if !drive.SafeText(line) {
			t.Errorf("line %q holds a control or layout character", line)
		}
	}
}
