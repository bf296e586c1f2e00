package actions_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/storesign/storesign/actions"
)

// An action step outside a runner: secrets are masked before anything is
// printed, outputs go to the log, and an input mistake becomes an
// annotation titled with the input to fix.
func Example() {
	env := map[string]string{
		"INPUT_KEYSTORE_PASSWORD": "hunter2",
		"INPUT_KEY_ALIAS":         "upload",
	}
	a := actions.New(actions.Options{Stdout: os.Stdout, Getenv: func(k string) string { return env[k] }})
	pw := a.SecretInput("keystore-password")
	a.Infof("alias %s, password %s", a.Input("key-alias"), pw)
	a.SetOutput("sha256", "9f86d081884c7d65")
	a.Fail("Signing", &actions.InputError{Input: "keystore-password", Msg: "does not open keystore-base64"})
	// Output:
	// ::add-mask::hunter2
	// alias upload, password ***
	// output sha256=9f86d081884c7d65
	// ::error title=Fix the keystore-password input::input keystore-password does not open keystore-base64
}

func ExampleReport_Markdown() {
	r := &actions.Report{
		App:      "Example",
		Platform: actions.KindIPA.String(),
		BundleID: "com.example.app",
		Version:  "1.4.0",
		Build:    "142",
		Signer:   "Apple Distribution: Example Corp (ABCDE12345)",
		Profiles: []actions.Profile{{Name: "Example App Store", Expires: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}},
		Verified: "passed",
		Output:   "Example-1.4.ipa",
		Size:     50 << 20,
	}
	fmt.Print(r.Markdown())
	// Output:
	// ### Signed Example
	//
	// | | |
	// |---|---|
	// | App | Example |
	// | Platform | iOS |
	// | Bundle ID | `com.example.app` |
	// | Version (build) | 1.4.0 (142) |
	// | Signed by | Apple Distribution: Example Corp (ABCDE12345) |
	// | Profile | Example App Store, expires 2027-01-01 |
	// | Verification | passed |
	// | Output | Example-1.4.ipa |
	// | Size | 50.0 MiB (52428800 bytes) |
}

func ExampleDetect() {
	var buf bytes.Buffer
	// Any zip that is neither an IPA, an APK nor an app bundle.
	buf.Write([]byte("PK\x05\x06" + string(make([]byte, 18))))
	_, err := actions.Detect(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	fmt.Println(errors.Is(err, actions.ErrUnknownBuild))
	// Output: true
}

// Where a release puts a signed build: the default layout, from what the
// re-sign step read in the build.
func ExampleLayout_Place() {
	l := actions.Layout{Subfolder: actions.DefaultSubfolder, Name: actions.DefaultName}
	r := &actions.Report{App: "Studio", Platform: "iOS", BundleID: "com.example.studio", Version: "1.4", Build: "142", Input: "Studio.ipa"}
	sub, name, err := l.Place(r, "Studio.ipa")
	fmt.Println(sub, "|", name, err)
	// Output:
	// Studio/1.4 (142) | Studio-1.4-142.ipa <nil>
}

// With planner-names, an input mistake names the secret the planner fixes.
func ExamplePlannerNames() {
	env := map[string]string{"INPUT_PLANNER_NAMES": "p12-password=secret IOS_P12_PASSWORD\np12-base64=secret IOS_P12_BASE64"}
	a := actions.New(actions.Options{Stdout: os.Stdout, Getenv: func(k string) string { return env[k] }})
	a.Fail("Checking the inputs", &actions.InputError{Input: "p12-password", Msg: "does not open p12-base64"})
	// Output:
	// ::error title=Fix the secret IOS_P12_PASSWORD::secret IOS_P12_PASSWORD (input p12-password) does not open secret IOS_P12_BASE64
}
