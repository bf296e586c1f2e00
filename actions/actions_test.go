package actions

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// newTest returns an Action over a fake environment and its log.
func newTest(t *testing.T, env map[string]string) (*Action, *bytes.Buffer) {
	t.Helper()
	var log bytes.Buffer
	a := New(Options{Stdout: &log, Getenv: func(k string) string { return env[k] }})
	return a, &log
}

func TestEnvName(t *testing.T) {
	for in, want := range map[string]string{
		"p12-password":    "INPUT_P12_PASSWORD",
		"profiles-base64": "INPUT_PROFILES_BASE64",
		"name":            "INPUT_NAME",
		"Drive File":      "INPUT_DRIVE_FILE",
	} {
		if got := EnvName(in); got != want {
			t.Errorf("EnvName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSecretInputMasksFirst(t *testing.T) {
	secret := "line one secret\n  indented-two  \r\nthird\n"
	a, log := newTest(t, map[string]string{"INPUT_CREDENTIALS_JSON": secret, "INPUT_P12_PASSWORD": "hunter2 with spaces\n"})
	if got := a.SecretInput("p12-password"); got != "hunter2 with spaces" {
		t.Errorf("SecretInput = %q", got)
	}
	a.SecretInput("credentials-json")
	a.SecretInput("credentials-json") // masked once only
	want := []string{
		"::add-mask::hunter2 with spaces",
		"::add-mask::line one secret",
		"::add-mask::  indented-two  ",
		"::add-mask::indented-two",
		"::add-mask::third",
	}
	got := strings.Split(strings.TrimSpace(log.String()), "\n")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("log:\n%s\nwant:\n%s", log, strings.Join(want, "\n"))
	}
	if r := a.Redact("pw=hunter2 with spaces; third"); strings.Contains(r, "hunter2") || strings.Contains(r, "third") {
		t.Errorf("Redact left a secret: %q", r)
	}
}

func TestBase64Input(t *testing.T) {
	data := bytes.Repeat([]byte{0xfb, 0xff, 0x00, 0x3e, 'k', 'e', 'y'}, 40)
	std := base64.StdEncoding.EncodeToString(data)
	var wrapped strings.Builder
	for i := 0; i < len(std); i += 76 {
		wrapped.WriteString(std[min(i, len(std)):min(i+76, len(std))] + "\n")
	}
	for name, in := range map[string]string{
		"std":        std,
		"newline":    std + "\n",
		"wrapped":    wrapped.String(),
		"url":        base64.URLEncoding.EncodeToString(data),
		"raw url":    base64.RawURLEncoding.EncodeToString(data),
		"raw std":    base64.RawStdEncoding.EncodeToString(data),
		"crlf":       strings.ReplaceAll(wrapped.String(), "\n", "\r\n"),
		"leading sp": "  " + std,
	} {
		t.Run(name, func(t *testing.T) {
			a, log := newTest(t, map[string]string{"INPUT_KEYSTORE_BASE64": in})
			got, err := a.Base64Input("keystore-base64")
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, data) {
				t.Fatal("decoded bytes differ")
			}
			for _, form := range []string{std, base64.RawURLEncoding.EncodeToString(data)} {
				if !strings.Contains(log.String(), "::add-mask::"+form+"\n") {
					t.Errorf("canonical form %.10s... not masked", form)
				}
			}
		})
	}
}

func TestBase64InputErrors(t *testing.T) {
	for name, in := range map[string]string{
		"password in the wrong secret": "my password!",
		"pem":                          "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----",
		"mixed alphabets":              "ab+c-d==",
		"truncated":                    "QUJDRA=x",
	} {
		t.Run(name, func(t *testing.T) {
			a, log := newTest(t, map[string]string{"INPUT_P12_BASE64": in})
			_, err := a.Base64Input("p12-base64")
			var ie *InputError
			if !errors.As(err, &ie) || ie.Input != "p12-base64" {
				t.Fatalf("err = %v, want an InputError for p12-base64", err)
			}
			a.Fail("Re-sign", err)
			out := log.String()
			if !strings.Contains(out, "::error title=Fix the p12-base64 input::input p12-base64 is not base64") {
				t.Errorf("annotation missing:\n%s", out)
			}
			// The value is masked, and never part of the message.
			first := strings.SplitN(strings.TrimSpace(out), "\n", 2)[0]
			if !strings.HasPrefix(first, "::add-mask::") {
				t.Errorf("first line is not a mask: %q", first)
			}
			if strings.Contains(err.Error(), in) {
				t.Errorf("error quotes the secret: %v", err)
			}
		})
	}
	a, _ := newTest(t, nil)
	if b, err := a.Base64Input("p12-base64"); b != nil || err != nil {
		t.Errorf("empty input: %v, %v; want nil, nil", b, err)
	}
}

func TestBase64ListInput(t *testing.T) {
	p1 := bytes.Repeat([]byte("profile one "), 30)
	p2 := bytes.Repeat([]byte("second profile!"), 20)
	p3 := []byte("a third, short one")
	wrap := func(b []byte, w int) string {
		s := base64.StdEncoding.EncodeToString(b)
		var out strings.Builder
		for i := 0; i < len(s); i += w {
			out.WriteString(s[i:min(i+w, len(s))] + "\n")
		}
		return out.String()
	}
	one := func(b []byte) string { return base64.StdEncoding.EncodeToString(b) + "\n" }
	for name, in := range map[string]string{
		"one per line":         one(p1) + one(p2) + one(p3),
		"wrapped 76, blank":    wrap(p1, 76) + "\n" + wrap(p2, 76) + "\n" + wrap(p3, 76),
		"wrapped 64, touching": wrap(p1, 64) + wrap(p2, 64) + one(p3),
		"mixed":                one(p1) + "\n\n" + wrap(p2, 76) + "\r\n" + one(p3),
	} {
		t.Run(name, func(t *testing.T) {
			a, _ := newTest(t, map[string]string{"INPUT_PROFILES_BASE64": in})
			got, err := a.Base64ListInput("profiles-base64")
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 3 || !bytes.Equal(got[0], p1) || !bytes.Equal(got[1], p2) || !bytes.Equal(got[2], p3) {
				t.Fatalf("got %d values, want the 3 profiles", len(got))
			}
		})
	}
	a, _ := newTest(t, map[string]string{"INPUT_PROFILES_BASE64": one(p1) + "not base64!\n"})
	_, err := a.Base64ListInput("profiles-base64")
	if err == nil || !strings.Contains(err.Error(), "value 2 is not base64") {
		t.Errorf("err = %v", err)
	}
}

func TestOutputsWithoutRunner(t *testing.T) {
	// The toolkit panics when GITHUB_OUTPUT or GITHUB_STEP_SUMMARY are
	// unset; Action prints to the log instead.
	a, log := newTest(t, map[string]string{"INPUT_KEY_PASSWORD": "s3cr3t-pw"})
	a.SecretInput("key-password")
	a.SetOutput("sha256", "abc")
	a.SetOutput("leak", "x s3cr3t-pw y")
	a.AddSummary("### Signed\n")
	out := log.String()
	for _, want := range []string{"output sha256=abc\n", "output leak=x *** y\n", "### Signed\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}

func TestOutputsWithRunner(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{
		"GITHUB_OUTPUT":       filepath.Join(dir, "output"),
		"GITHUB_STEP_SUMMARY": filepath.Join(dir, "summary"),
	}
	a, log := newTest(t, env)
	a.SetOutput("signed-path", "/tmp/x.ipa")
	a.SetOutput("drive-link", "https://drive.google.com/file/d/1/view")
	a.AddSummary("| a | b |\n")
	if log.Len() != 0 {
		t.Errorf("log: %q", log)
	}
	out, _ := os.ReadFile(env["GITHUB_OUTPUT"])
	if !strings.Contains(string(out), "signed-path<<") || !strings.Contains(string(out), "\n/tmp/x.ipa\n") {
		t.Errorf("GITHUB_OUTPUT:\n%s", out)
	}
	sum, _ := os.ReadFile(env["GITHUB_STEP_SUMMARY"])
	if string(sum) != "| a | b |\n\n" {
		t.Errorf("GITHUB_STEP_SUMMARY: %q", sum)
	}
}

func TestAnnotations(t *testing.T) {
	a, log := newTest(t, map[string]string{"INPUT_P12_PASSWORD": "pw-value-1"})
	a.SecretInput("p12-password")
	log.Reset()
	a.Fail("Re-sign", &InputError{Input: "drive-file and drive-folder", Msg: "are both set: keep one"})
	a.Fail("Upload", errors.New("uploading: 100% done, pw-value-1\nsecond line"))
	a.Warning("Profile expires soon", "expires in 3 days")
	want := "::error title=Fix the drive-file and drive-folder input::input drive-file and drive-folder are both set: keep one\n" +
		"::error title=Upload failed::uploading: 100%25 done, ***%0Asecond line\n" +
		"::warning title=Profile expires soon::expires in 3 days\n"
	if log.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", log, want)
	}
}

func TestReportMarkdown(t *testing.T) {
	r := &Report{
		App: "Example | App", Platform: KindIPA.String(), BundleID: "com.example.app",
		Version: "1.2.3", Build: "45", Signer: "CN=Apple Distribution: Example Corp (ABCDE12345)",
		CertSHA256: "ab12", Verified: "passed",
		Profiles: []Profile{
			{Name: "Example App Store", BundleID: "com.example.app", Expires: time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC)},
			{Name: "Widget", BundleID: "com.example.app.widget", Expires: time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC)},
		},
		Output: "Example-signed.ipa", Size: 3 << 20, SHA256: "ff00",
		DriveLink: "https://drive.google.com/file/d/XYZ/view?usp=drivesdk",
	}
	want := "### Signed Example \\| App\n\n| | |\n|---|---|\n" +
		"| App | Example \\| App |\n" +
		"| Platform | iOS |\n" +
		"| Bundle ID | `com.example.app` |\n" +
		"| Version (build) | 1.2.3 (45) |\n" +
		"| Signed by | CN=Apple Distribution: Example Corp (ABCDE12345) |\n" +
		"| Certificate SHA-256 | `ab12` |\n" +
		"| Profile | Example App Store, expires 2027-01-02 |\n" +
		"| Profile | Widget, expires 2027-01-02 (`com.example.app.widget`) |\n" +
		"| Verification | passed |\n" +
		"| Output | Example-signed.ipa |\n" +
		"| Size | 3.0 MiB (3145728 bytes) |\n" +
		"| SHA-256 | `ff00` |\n" +
		"| Google Drive | [Example-signed.ipa](https://drive.google.com/file/d/XYZ/view?usp=drivesdk) |\n"
	if got := r.Markdown(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	android := (&Report{Platform: KindAAB.String(), BundleID: "com.example", Schemes: []string{"JAR"}, Output: "<b>.aab"}).Markdown()
	for _, s := range []string{"| Package | `com.example` |", "| Signature schemes | JAR |", "| Output | &lt;b&gt;.aab |"} {
		if !strings.Contains(android, s) {
			t.Errorf("android summary lacks %q:\n%s", s, android)
		}
	}
}

func zipOf(t testing.TB, names ...string) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range names {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte("x"))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestDetect(t *testing.T) {
	for _, tc := range []struct {
		name  string
		data  []byte
		want  Kind
		isErr bool
	}{
		{"ipa", zipOf(t, "Payload/", "Payload/Example.app/Info.plist", "Payload/Example.app/Example"), KindIPA, false},
		{"apk", zipOf(t, "AndroidManifest.xml", "classes.dex", "resources.arsc"), KindAPK, false},
		{"signed apk", zipOf(t, "META-INF/MANIFEST.MF", "AndroidManifest.xml"), KindAPK, false},
		{"aab", zipOf(t, "BundleConfig.pb", "base/manifest/AndroidManifest.xml", "base/dex/classes.dex"), KindAAB, false},
		{"plain zip", zipOf(t, "README.txt"), "", true},
		{"payload without app", zipOf(t, "Payload/readme.txt"), "", true},
		{"both", zipOf(t, "AndroidManifest.xml", "Payload/X.app/Info.plist"), "", true},
		{"not a zip", []byte("%PDF-1.7 not a build"), "", true},
		{"empty", nil, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Detect(bytes.NewReader(tc.data), int64(len(tc.data)))
			if tc.isErr {
				if !errors.Is(err, ErrUnknownBuild) {
					t.Errorf("err = %v, want ErrUnknownBuild", err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("Detect = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func FuzzDetect(f *testing.F) {
	f.Add(zipOf(f, "Payload/A.app/Info.plist"))
	f.Add(zipOf(f, "AndroidManifest.xml"))
	f.Add(zipOf(f, "BundleConfig.pb"))
	f.Add([]byte("PK\x03\x04"))
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := Detect(bytes.NewReader(b), int64(len(b)))
		if (err == nil) == (k == "") {
			t.Fatalf("Detect = %q, %v", k, err)
		}
	})
}

func FuzzBase64List(f *testing.F) {
	f.Add("QUJD\nREVG\n\nR0hJ")
	f.Add(strings.Repeat("A", 76) + "\n" + strings.Repeat("B", 10))
	f.Fuzz(func(t *testing.T, s string) {
		a, log := newTest(t, map[string]string{"INPUT_PROFILES_BASE64": s})
		vals, err := a.Base64ListInput("profiles-base64")
		if err != nil {
			return
		}
		for _, v := range vals {
			if len(v) == 0 {
				t.Fatalf("empty value from %q", s)
			}
		}
		// Every line of the input that may hold a secret is masked.
		for _, line := range lines(s) {
			line = strings.TrimSpace(line)
			if maskableLine(line) && !a.masked[line] {
				t.Fatalf("line %q not masked; log %q", line, log)
			}
		}
	})
}

func TestReportMarkdownEntitlements(t *testing.T) {
	r := &Report{
		Platform: KindIPA.String(),
		Entitlements: []EntitlementChange{
			{Bundle: "com.example.app", Key: "keychain-access-groups", Action: "changed", Old: "[OLDTEAM123.com.studio.game]", New: "[ABCDE12345.com.example.app]", Reason: "re-prefixed for the new team"},
			{Bundle: "com.example.app", Key: "com.apple.developer.associated-domains", Action: "dropped", Old: "[applinks:a.com|b]", Reason: "not granted by the profile <X>"},
			{Bundle: "com.example.app", Key: "beta-reports-active", Action: "added", New: "true", Reason: "TestFlight"},
			{Bundle: "com.example.app.share", Key: "application-identifier", Action: "added", New: "ABCDE12345.com.example.app.share", Reason: "from the profile"},
			{Bundle: "com.example.app.share", Key: "get-task-allow", Action: "added", New: "false", Reason: "from the profile"},
		},
		EntitlementsKept: 4,
	}
	got := r.Markdown()
	want := "\n#### Entitlements\n\n| Bundle | Entitlement | Change | Why |\n|---|---|---|---|\n" +
		"| `com.example.app` | `keychain-access-groups` | changed `[OLDTEAM123.com.studio.game]` → `[ABCDE12345.com.example.app]` | re-prefixed for the new team |\n" +
		"| `com.example.app` | `com.apple.developer.associated-domains` | **dropped** `[applinks:a.com\\|b]` | not granted by the profile &lt;X&gt; |\n" +
		"| `com.example.app` | `beta-reports-active` | added `true` | TestFlight |\n" +
		"| `com.example.app.share` | `application-identifier` `get-task-allow` | added | from the profile |\n" +
		"\n4 other entitlement(s) kept as the app was signed with them.\n"
	if !strings.HasSuffix(got, want) {
		t.Errorf("got:\n%s\nwant it to end with:\n%s", got, want)
	}
	if s := (&Report{Platform: KindIPA.String()}).Markdown(); strings.Contains(s, "Entitlements") {
		t.Errorf("an entitlements section without entitlements:\n%s", s)
	}
}
