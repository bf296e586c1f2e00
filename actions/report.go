package actions

import (
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Report is what a signing run found and did: the step summary's content.
// Its JSON form is kept between steps (re-sign, then upload) so the last
// step can write the whole table with the Drive link.
type Report struct {
	App        string    `json:"app,omitempty"`      // the app's display name
	Platform   string    `json:"platform,omitempty"` // "iOS", "Android (APK)", "Android (App Bundle)"
	BundleID   string    `json:"bundleId,omitempty"` // bundle ID (iOS) or package name (Android)
	Version    string    `json:"version,omitempty"`  // CFBundleShortVersionString, versionName
	Build      string    `json:"build,omitempty"`    // CFBundleVersion, versionCode
	Signer     string    `json:"signer,omitempty"`   // the signing certificate's subject
	CertSHA256 string    `json:"certSha256,omitempty"`
	Profiles   []Profile `json:"profiles,omitempty"` // iOS: the profile embedded in each bundle
	Schemes    []string  `json:"schemes,omitempty"`  // Android: "v1", "v2", "v3"; "JAR" for bundles
	Verified   string    `json:"verified,omitempty"` // the verification result, in words
	Input      string    `json:"input,omitempty"`    // the file that was signed
	Output     string    `json:"output,omitempty"`   // the signed file's name
	Size       int64     `json:"size,omitempty"`
	SHA256     string    `json:"sha256,omitempty"`
	DriveLink  string    `json:"driveLink,omitempty"`
	// DriveFolder is the folder path the build was put in, under the
	// output folder ("Studio/1.4 (142)").
	DriveFolder string `json:"driveFolder,omitempty"`
	// Upload says what the upload did: [UploadNew], [UploadReplaced] or
	// [UploadUnchanged].
	Upload string `json:"upload,omitempty"`
	// Entitlements lists the iOS entitlements re-signing changed, dropped
	// or added; EntitlementsKept counts those kept as the app had them.
	Entitlements     []EntitlementChange `json:"entitlements,omitempty"`
	EntitlementsKept int                 `json:"entitlementsKept,omitempty"`
}

// What an upload did, as [Report.Upload] says it.
const (
	UploadNew       = "new"       // a new file
	UploadReplaced  = "replaced"  // a new revision of the earlier upload of the same name
	UploadUnchanged = "unchanged" // an identical file was there: nothing uploaded
)

// EntitlementChange is an iOS entitlement that re-signing changed,
// dropped or added, as the summary lists it.
type EntitlementChange struct {
	Bundle string `json:"bundle"` // the bundle's ID (or path)
	Key    string `json:"key"`
	Action string `json:"action"` // "changed", "dropped" or "added"
	// Old and New are the values before and after, on one line.
	Old    string `json:"old,omitempty"`
	New    string `json:"new,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// Profile is a provisioning profile as the summary shows it.
type Profile struct {
	Name     string    `json:"name"`
	BundleID string    `json:"bundleId,omitempty"`
	Expires  time.Time `json:"expires"`
}

// Markdown renders the report as the step summary: a heading and a
// two-column table, rows left out when empty.
func (r *Report) Markdown() string {
	var b strings.Builder
	title := "Signed build"
	if r.App != "" {
		title = "Signed " + r.App
	}
	fmt.Fprintf(&b, "### %s\n\n| | |\n|---|---|\n", cell(title))
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "| %s | %s |\n", k, v)
		}
	}
	code := func(v string) string {
		if v == "" {
			return ""
		}
		return "`" + codeText(v) + "`"
	}
	row("App", cell(r.App))
	row("Platform", cell(r.Platform))
	id := "Bundle ID"
	if strings.HasPrefix(r.Platform, "Android") {
		id = "Package"
	}
	row(id, code(r.BundleID))
	vb := r.Version
	if r.Build != "" {
		if vb != "" {
			vb += " "
		}
		vb += "(" + r.Build + ")"
	}
	row("Version (build)", cell(vb))
	row("Signed by", cell(r.Signer))
	row("Certificate SHA-256", code(r.CertSHA256))
	for _, p := range r.Profiles {
		v := cell(p.Name)
		if !p.Expires.IsZero() {
			v += fmt.Sprintf(", expires %s", p.Expires.UTC().Format("2006-01-02"))
		}
		if p.BundleID != "" && p.BundleID != r.BundleID {
			v += " (" + code(p.BundleID) + ")"
		}
		row("Profile", v)
	}
	row("Signature schemes", cell(strings.Join(r.Schemes, ", ")))
	row("Verification", cell(r.Verified))
	row("Input", cell(r.Input))
	row("Output", cell(r.Output))
	if r.Size > 0 {
		row("Size", fmt.Sprintf("%s (%d bytes)", humanSize(r.Size), r.Size))
	}
	row("SHA-256", code(r.SHA256))
	if link := safeLink(r.DriveLink); link != "" {
		row("Google Drive", fmt.Sprintf("[%s](%s)", cell(linkText(r)), link))
	}
	row("Drive folder", cell(r.DriveFolder))
	switch r.Upload {
	case UploadReplaced:
		row("Upload", "replaced the earlier upload of this build as a new revision (Drive keeps the earlier one: File > Manage versions)")
	case UploadUnchanged:
		row("Upload", "an identical file was already there: kept it")
	}
	r.entitlementsMarkdown(&b)
	return b.String()
}

// entitlementsMarkdown writes the table of entitlement changes, one row
// per change; the keys a bundle got from its profile for the same reason
// (an unsigned build) share a row.
func (r *Report) entitlementsMarkdown(b *strings.Builder) {
	if len(r.Entitlements) == 0 && r.EntitlementsKept == 0 {
		return
	}
	b.WriteString("\n#### Entitlements\n\n")
	if len(r.Entitlements) > 0 {
		b.WriteString("| Bundle | Entitlement | Change | Why |\n|---|---|---|---|\n")
	}
	ents := r.Entitlements
	for i := 0; i < len(ents); {
		c := ents[i]
		j := i + 1
		for c.Action == "added" && j < len(ents) && ents[j].Action == "added" && ents[j].Bundle == c.Bundle && ents[j].Reason == c.Reason {
			j++
		}
		var keys []string
		for _, e := range ents[i:j] {
			keys = append(keys, mdCode(e.Key))
		}
		var change string
		switch {
		case j > i+1:
			change = "added"
		case c.Action == "changed":
			change = "changed " + mdCode(c.Old) + " → " + mdCode(c.New)
		case c.Action == "dropped":
			change = "**dropped** " + mdCode(c.Old)
		case c.Action == "added":
			change = "added " + mdCode(c.New)
		default:
			change = cell(c.Action)
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s |\n", mdCode(c.Bundle), strings.Join(keys, " "), change, cell(c.Reason))
		i = j
	}
	if r.EntitlementsKept > 0 {
		if len(r.Entitlements) > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(b, "%d other entitlement(s) kept as the app was signed with them.\n", r.EntitlementsKept)
	}
}

// mdCode writes v as code in a table cell: a code span shows HTML and
// brackets as they are, so only line breaks, column separators and
// backticks need care.
func mdCode(v string) string {
	if v == "" {
		return ""
	}
	return "`" + strings.NewReplacer("\r", " ", "\n", " ", "|", `\|`, "`", "'").Replace(v) + "`"
}

func linkText(r *Report) string {
	if r.Output != "" {
		return r.Output
	}
	return "open"
}

// cell makes a value safe inside a Markdown table cell.
func cell(s string) string { return MarkdownText(s) }

// maxCell is the most bytes of a value a summary cell shows.
const maxCell = 200

// MarkdownText makes text from outside (an app's name from its
// Info.plist, a file name from Drive) plain text in GitHub Markdown, fit
// for a table cell: control characters and line breaks become spaces,
// the Markdown punctuation that works inside a line (\ ` * _ [ ] | ~) is
// backslash-escaped, &, < and > become entities (no HTML), "://" and
// "www." get a zero-width space so that no link appears, and the text is
// cut to 200 bytes.
func MarkdownText(s string) string {
	s = noLinks(clip(s))
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case strings.ContainsRune("\\`*_[]|~", r):
			b.WriteByte('\\')
			b.WriteRune(r)
		case unsafeRune(r):
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// noLinks breaks what GitHub would turn into a link by itself.
func noLinks(s string) string {
	return strings.NewReplacer("://", ":\u200b//", "www.", "www\u200b.", "WWW.", "WWW\u200b.").Replace(s)
}

// codeText makes text from outside safe inside a Markdown code span in a
// table cell: no backticks, line breaks or column separators.
func codeText(s string) string {
	s = clip(s)
	return strings.Map(func(r rune) rune {
		switch {
		case r == '`':
			return '\''
		case unsafeRune(r):
			return ' '
		}
		return r
	}, strings.ReplaceAll(s, "|", "\\|"))
}

// clip cuts s to maxCell bytes at a rune boundary, replacing invalid
// UTF-8.
func clip(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= maxCell {
		return s
	}
	n := maxCell
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// unsafeRune reports the characters that break a line or a layout:
// controls, line and paragraph separators, bidirectional overrides.
func unsafeRune(r rune) bool {
	return unicode.IsControl(r) || r == '\u2028' || r == '\u2029' ||
		r >= '\u202a' && r <= '\u202e' || r >= '\u2066' && r <= '\u2069' || r == '\u200e' || r == '\u200f' || r == '\u061c'
}

// safeLink returns link when it is an https URL that can be put in a
// Markdown link as is, else "".
func safeLink(link string) string {
	u, err := url.Parse(link)
	if err != nil || u.Scheme != "https" || u.Host == "" || strings.IndexFunc(link, unsafeRune) >= 0 {
		return ""
	}
	return strings.NewReplacer("(", "%28", ")", "%29", " ", "%20", "|", "%7C", "<", "%3C", ">", "%3E", "`", "%60", "\"", "%22", "'", "%27").Replace(link)
}

func humanSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
