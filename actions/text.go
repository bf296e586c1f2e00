package actions

import (
	"strconv"
	"strings"

	"github.com/storesign/storesign/drive"
)

// shown is a remote name (a Drive file name) as a log line shows it: as
// is when it is plain text, else quoted with its control characters
// escaped, so that it cannot start lines of its own.
func shown(name string) string {
	if len(name) <= 255 && drive.SafeText(name) {
		return name
	}
	return drive.DisplayName(name)
}

// oneLine keeps an error on the one line a planner reads in a CI log:
// line breaks fold into "; ", runs of space into one, and other control
// and layout characters are shown escaped, as \x1b or \u202e.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "; ")), " ")
	if drive.SafeText(s) {
		return s
	}
	var b strings.Builder
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		if drive.SafeText(string(r)) {
			b.WriteRune(r)
			continue
		}
		q := strconv.QuoteRuneToASCII(r)
		b.WriteString(q[1 : len(q)-1])
	}
	return b.String()
}
