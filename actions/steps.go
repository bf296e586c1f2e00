package actions

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/storesign/storesign/drive"
	"github.com/storesign/storesign/internal/atomicfile"
	"github.com/storesign/storesign/signing"
	"github.com/storesign/storesign/signing/aab"
	"github.com/storesign/storesign/signing/apk"
	"github.com/storesign/storesign/signing/ipa"
	"github.com/storesign/storesign/signing/macho"
	"github.com/storesign/storesign/signing/provision"
)

// The steps of the composite actions. Each is one library call that
// "storesign action <step>" makes:
//
//	Secrets   check every input, decode the secrets into 0600 files,
//	          check that passwords open them
//	Download  fetch the build from Google Drive
//	Resign    sign or re-sign, verify, summarize
//	Upload    upload the signed build to Google Drive
//	Plan      list the builds of a deliveries folder not released yet
//	PlayUpload, AppStoreUpload (store.go)
//	          upload the signed build to Google Play or App Store Connect
//
// Inputs come from INPUT_* variables (see [EnvName]). STORESIGN_ACTION
// names the action running the step (release, resign-ipa, resign-apk,
// drive-download, drive-upload, plan, play-upload, appstore-upload),
// which decides what is required.
// STORESIGN_SECRETS_DIR is the folder the secrets step made.

// The actions, by STORESIGN_ACTION.
const (
	actRelease       = "release"
	actResignIPA     = "resign-ipa"
	actResignAPK     = "resign-apk"
	actDriveDownload = "drive-download"
	actDriveUpload   = "drive-upload"
	actPlan          = "plan"
)

// ErrUnknownAction is returned by the steps when STORESIGN_ACTION names
// no storesign action: a mistake in an action.yml, not in its inputs.
var ErrUnknownAction = errors.New("actions: unknown STORESIGN_ACTION")

// StepError is the error of a failed step, returned after its annotation
// was written. Its message is on one line, secrets replaced with "***".
type StepError struct {
	Title string // what the step was doing: "Signing"
	msg   string
	err   error
}

func (e *StepError) Error() string { return e.msg }

func (e *StepError) Unwrap() error { return e.err }

// Secrets checks every input of the action, decodes the secrets into a
// new private folder and checks that the passwords open them, so that a
// typo fails before anything is downloaded. It sets the output dir, the
// folder the later steps read (STORESIGN_SECRETS_DIR) and the cleanup
// step removes.
func Secrets(ctx context.Context, a *Action) error {
	return runStep(ctx, a, "Checking the inputs", (*actionStep).secrets)
}

// Download fetches the build the drive-file input links to, or the
// newest match of name in drive-folder, and sets the outputs path,
// drive-file-id and platform.
func Download(ctx context.Context, a *Action) error {
	return runStep(ctx, a, "Downloading from Google Drive", (*actionStep).download)
}

// Resign signs the build at the path input, verifies it, and sets the
// outputs signed-path and sha256. The step summary is written, or kept in
// the secrets folder for [Upload] when STORESIGN_SUMMARY=defer.
func Resign(ctx context.Context, a *Action) error {
	return runStep(ctx, a, "Signing", (*actionStep).resign)
}

// Upload uploads the path input to the output-folder input and sets the
// outputs drive-file-id and drive-link. See [Layout] for where a release
// puts the signed build, and how a re-run replaces it.
func Upload(ctx context.Context, a *Action) error {
	return runStep(ctx, a, "Uploading to Google Drive", (*actionStep).upload)
}

// actionStep is one run of a step.
type actionStep struct {
	a      *Action
	action string
	now    func() time.Time
}

// runStep masks the secrets, runs f, and on failure writes the
// annotation and returns a [*StepError].
func runStep(ctx context.Context, a *Action, title string, f func(*actionStep, context.Context) error) error {
	st := &actionStep{a: a, now: a.now, action: a.getenv("STORESIGN_ACTION")}
	if st.action == "" {
		st.action = actRelease
	}
	// Mask every secret before anything else is printed, even if the
	// action's mask step was skipped.
	st.maskSecrets()
	switch st.action {
	case actRelease, actResignIPA, actResignAPK, actDriveDownload, actDriveUpload, actPlan, actPlayUpload, actAppStoreUpload:
	default:
		return fmt.Errorf("%w %q", ErrUnknownAction, st.action)
	}
	if err := f(st, ctx); err != nil {
		a.Fail(title, err)
		return &StepError{Title: title, msg: oneLine(a.Redact(title + ": " + a.planner(err))), err: err}
	}
	return nil
}

// Names of the files in the secrets folder.
const (
	secretP12         = "identity.p12"
	secretKeystore    = "keystore"
	secretCredentials = "credentials.json"
	secretProfile     = "profile-%d.mobileprovision"
	reportFile        = "report.json"
	sourceFile        = "source.json" // the delivered file's Drive ID and MD5
	errorSuffix       = "-error.json" // ios-error.json, android-error.json
)

// deferredError is an input problem of the platform a release may not
// need, kept by the secrets step for the resign step.
type deferredError struct {
	Input string `json:"input"`
	Msg   string `json:"msg"`
}

// deferred returns the input problem the secrets step kept for platform,
// or nil.
func deferred(dir, platform string) error {
	b, err := os.ReadFile(filepath.Join(dir, platform+errorSuffix))
	if err != nil {
		return nil
	}
	var d deferredError
	if json.Unmarshal(b, &d) != nil || d.Input == "" {
		return nil
	}
	return &InputError{Input: d.Input, Msg: d.Msg}
}

// maskSecrets masks the inputs that hold secrets.
func (st *actionStep) maskSecrets() {
	for _, in := range []string{"p12-base64", "p12-password", "profiles-base64", "keystore-base64", "keystore-password", "key-password", "credentials-json",
		"credentials", "play-credentials", "asc-key-base64"} {
		st.a.SecretInput(in)
	}
}

// setOutputs sets step outputs from name, value pairs.
func (st *actionStep) setOutputs(kv ...string) error {
	for i := 0; i+1 < len(kv); i += 2 {
		if err := st.a.SetOutput(kv[i], kv[i+1]); err != nil {
			return err
		}
	}
	return nil
}

// inputErr is a shorthand for an *InputError.
func inputErr(input, format string, args ...any) error {
	return &InputError{Input: input, Msg: fmt.Sprintf(format, args...)}
}

// sourceInput names the input a planner fixes when the build itself is
// wrong: where it came from.
func (st *actionStep) sourceInput() string {
	switch st.action {
	case actRelease, actDriveDownload:
		if st.a.Input("drive-file") != "" {
			return "drive-file"
		}
		return "drive-folder"
	}
	return "path"
}

// secretsDir is the folder the secrets step made, checked.
func (st *actionStep) secretsDir() (string, error) {
	dir := st.a.getenv("STORESIGN_SECRETS_DIR")
	if dir == "" {
		return "", errors.New("STORESIGN_SECRETS_DIR is not set: run \"storesign action secrets\" first and pass its dir output")
	}
	if !strings.HasPrefix(filepath.Base(dir), SecretsDirPrefix) {
		return "", fmt.Errorf("STORESIGN_SECRETS_DIR %s is not a storesign secrets folder", dir)
	}
	if _, err := os.Stat(dir); err != nil {
		return "", fmt.Errorf("opening the secrets folder: %w", err)
	}
	return dir, nil
}

// secrets checks every input of the action, decodes the secrets into a new
// private folder and checks that the passwords open them, so that a typo
// fails before anything is downloaded. It sets the output dir.
func (st *actionStep) secrets(ctx context.Context) (err error) {
	if err := st.checkPlainInputs(); err != nil {
		return err
	}
	dir, err := st.a.NewSecretsDir()
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			RemoveSecretsDir(dir)
		}
	}()
	// Set at once, so that the cleanup step finds the folder even if
	// this step is killed.
	if err := st.a.SetOutput("dir", dir); err != nil {
		return err
	}

	var summary []string
	ios, android := st.wants()
	// A release given both sets signs whichever the build needs: a problem
	// with the other set must not block it. The problem is kept, and
	// reported by the resign step if the build turns out to need that set.
	lenient := st.action == actRelease && ios && android
	failed := 0
	keep := func(platform string, err error, files ...string) error {
		var ie *InputError
		if !lenient || !errors.As(err, &ie) {
			return err
		}
		for _, f := range files {
			os.Remove(f)
		}
		b, jerr := json.Marshal(deferredError{Input: ie.Input, Msg: ie.Msg})
		if jerr != nil {
			return err
		}
		if _, werr := WriteSecret(dir, platform+errorSuffix, b); werr != nil {
			return err
		}
		failed++
		if failed == 2 {
			return err
		}
		st.a.Warning(st.a.InputTitle(ie), st.a.InputMessage(ie)+" (this stops the release only if the build is for "+platform+")")
		return nil
	}
	// The credentials first: the profiles may come from Drive.
	if st.usesDrive() {
		if err := st.decodeCredentials(dir); err != nil {
			return err
		}
	}
	if ios {
		id, err := st.decodeP12(dir)
		n := 0
		if err == nil {
			n, err = st.decodeProfiles(ctx, dir, id)
		}
		if err != nil {
			profiles, _ := filepath.Glob(filepath.Join(dir, "profile-*.mobileprovision"))
			if err := keep("ios", err, append(profiles, filepath.Join(dir, secretP12))...); err != nil {
				return err
			}
		} else {
			summary = append(summary, fmt.Sprintf("iOS: %q (certificate SHA-256 %s), %d provisioning profile(s)", id.Certificate.Subject.CommonName, signing.CertificateSHA256(id.Certificate), n))
		}
	}
	if android {
		kid, err := st.decodeKeystore(dir)
		if err != nil {
			if err := keep("android", err, filepath.Join(dir, secretKeystore)); err != nil {
				return err
			}
		} else {
			summary = append(summary, fmt.Sprintf("Android: key %q, %q (certificate SHA-256 %s)", kid.Alias, kid.Certificate.Subject.CommonName, signing.CertificateSHA256(kid.Certificate)))
		}
	}
	summary = append(summary, "The inputs are fine.")
	for _, s := range summary {
		st.a.Infof("%s", s)
	}
	return nil
}

// wants says which signing secrets the action needs: both for a release
// whose platform is auto and which got both sets.
func (st *actionStep) wants() (ios, android bool) {
	switch st.action {
	case actResignIPA:
		return true, false
	case actResignAPK:
		return false, true
	case actRelease:
		hasIOS := st.a.Getenv(EnvName("p12-base64")) != "" || st.a.Getenv(EnvName("profiles-base64")) != "" ||
			st.a.Input("profiles-path") != "" || st.a.Input("profiles-drive-folder") != ""
		hasAndroid := st.a.Getenv(EnvName("keystore-base64")) != ""
		switch st.platform() {
		case "ios":
			return true, false
		case "android":
			return false, true
		}
		return hasIOS, hasAndroid
	}
	return false, false
}

func (st *actionStep) platform() string {
	return strings.ToLower(st.a.Input("platform"))
}

func (st *actionStep) usesDrive() bool {
	switch st.action {
	case actRelease, actDriveDownload, actDriveUpload, actPlan:
		return true
	}
	return false
}

var (
	driveIDRE     = regexp.MustCompile(`^[A-Za-z0-9_-]{10,}$`)
	bundleIDRE    = regexp.MustCompile(`^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$`)
	compressionRE = regexp.MustCompile(`^[0-9]$`)
	boolRE        = regexp.MustCompile(`^(true|false)$`)
	driveLinkIDRE = regexp.MustCompile(`(?:/d/|/folders/|[?&]id=)([A-Za-z0-9_-]{10,})`)
)

// driveID returns the ID in a Drive link or ID, or "".
func driveID(s string) string {
	s = strings.TrimSpace(s)
	if driveIDRE.MatchString(s) {
		return s
	}
	if strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://") {
		if m := driveLinkIDRE.FindStringSubmatch(s); m != nil {
			return m[1]
		}
	}
	return ""
}

// checkPlainInputs checks the inputs that are not secrets: presence,
// contradictions, formats, paths.
func (st *actionStep) checkPlainInputs() error {
	in := st.a.Input
	switch st.action {
	case actRelease, actDriveDownload:
		file, folder, name := in("drive-file"), in("drive-folder"), in("name")
		switch {
		case file != "" && folder != "":
			return inputErr("drive-file and drive-folder", "are both set: give either one file (drive-file) or a folder to take the newest build from (drive-folder, with name), not both")
		case file == "" && folder == "":
			return inputErr("drive-file", "is empty: paste the Google Drive link of the build to sign, or set drive-folder (and name) to take the newest build in a folder")
		case file != "" && name != "":
			return inputErr("name", "is set with drive-file: name picks a file in drive-folder; leave it empty when drive-file names the file")
		case file != "" && driveID(file) == "":
			return inputErr("drive-file", "is not a Google Drive link or file ID: copy the link from Drive (Share > Copy link)")
		case folder != "" && driveID(folder) == "":
			return inputErr("drive-folder", "is not a Google Drive folder link or ID: open the folder in Drive and copy the address bar")
		}
		if name != "" {
			if _, err := filepath.Match(name, ""); err != nil {
				return inputErr("name", "is not a valid pattern: use * for any text, e.g. MyGame-*.ipa")
			}
		}
	}
	if st.action == actPlan {
		folder, name := in("drive-folder"), in("name")
		switch {
		case folder == "":
			return inputErr("drive-folder", "is empty: give the Google Drive folder (link or ID) the studios deliver builds to")
		case driveID(folder) == "":
			return inputErr("drive-folder", "is not a Google Drive folder link or ID: open the folder in Drive and copy the address bar")
		}
		if name != "" {
			if _, err := filepath.Match(name, ""); err != nil {
				return inputErr("name", "is not a valid pattern: use * for any text, e.g. MyGame-*.ipa")
			}
		}
	}
	switch st.action {
	case actRelease, actDriveUpload, actPlan:
		of := in("output-folder")
		switch {
		case of == "":
			return inputErr("output-folder", "is empty: give the Google Drive folder (link or ID) the signed build goes to")
		case driveID(of) == "":
			return inputErr("output-folder", "is not a Google Drive folder link or ID: open the folder in Drive and copy the address bar")
		}
	}
	switch st.action {
	case actResignIPA, actResignAPK, actDriveUpload:
		p := in("path")
		if p == "" {
			verb := "sign"
			if st.action == actDriveUpload {
				verb = "upload"
			}
			return inputErr("path", "is empty: give the file to %s (e.g. the output of an earlier step)", verb)
		}
		if fi, err := os.Stat(p); err != nil || !fi.Mode().IsRegular() {
			return inputErr("path", "names no file: %s does not exist on the runner (is it the output of an earlier step?)", p)
		}
	}
	if st.action == actRelease {
		l := st.layout()
		if err := (Layout{Subfolder: l.Subfolder}).Check(); err != nil {
			return inputErr("output-subfolder", "is %q: %s", l.Subfolder, strings.TrimPrefix(err.Error(), "actions: "))
		}
		if err := (Layout{Name: l.Name}).Check(); err != nil {
			return inputErr("output-name", "is %q: %s", l.Name, strings.TrimPrefix(err.Error(), "actions: "))
		}
		switch st.platform() {
		case "", "auto", "ios", "android":
		default:
			return inputErr("platform", "is %q: use auto, ios or android", in("platform"))
		}
	}
	ios, android := st.wants()
	if st.action == actRelease && !ios && !android {
		return inputErr("p12-base64 or keystore-base64", "is needed: give p12-base64, p12-password and profiles-base64 to sign iOS apps, or keystore-base64 and keystore-password to sign Android apps")
	}
	env := func(name string) string { return st.a.Getenv(EnvName(name)) }
	if ios {
		if strings.TrimSpace(env("p12-base64")) == "" {
			return inputErr("p12-base64", "is empty: iOS signing needs p12-base64 (the distribution certificate), p12-password and the App Store profiles; check that the secret exists in this repository or organization")
		}
		if strings.TrimSpace(env("profiles-base64")) == "" && in("profiles-path") == "" && in("profiles-drive-folder") == "" {
			return inputErr("profiles-base64", "is empty: iOS signing needs the App Store profiles, in profiles-base64 (one base64 value per line), or as .mobileprovision files in profiles-path (in the repository) or profiles-drive-folder (a Drive folder); check that the secret exists in this repository or organization")
		}
		if f := in("profiles-drive-folder"); f != "" && driveID(f) == "" {
			return inputErr("profiles-drive-folder", "is not a Google Drive folder link or ID: open the folder in Drive and copy the address bar")
		}
		for _, c := range []struct {
			name string
			ok   func(string) bool
			want string
		}{
			{"bundle-id", bundleIDRE.MatchString, "letters, digits, - and dots, e.g. com.example.game"},
			// The library's rules, which App Store Connect applies.
			{"short-version", ipa.ValidShortVersion, "one to three numbers with dots, e.g. 1.4.0"},
			{"bundle-version", ipa.ValidBundleVersion, "one to three numbers with dots, e.g. 142"},
			{"compression-level", compressionRE.MatchString, "0 (store the signed binaries: fastest) to 9 (smallest)"},
			{"drop-ungranted-entitlements", boolRE.MatchString, "true or false"},
		} {
			if v := in(c.name); v != "" && !c.ok(v) {
				return inputErr(c.name, "is %q: it must be %s", v, c.want)
			}
		}
	}
	if android && strings.TrimSpace(env("keystore-base64")) == "" {
		return inputErr("keystore-base64", "is empty: Android signing needs keystore-base64 (the keystore) and keystore-password; check that the secret exists in this repository or organization")
	}
	return nil
}

func (st *actionStep) decodeP12(dir string) (*signing.Identity, error) {
	data, err := st.a.Base64Input("p12-base64")
	if err != nil {
		return nil, err
	}
	id, err := signing.LoadPKCS12(data, st.a.SecretInput("p12-password"))
	switch {
	case errors.Is(err, signing.ErrWrongPassword):
		return nil, &InputError{Input: "p12-password", Msg: "does not open p12-base64: give the password the .p12 was exported with", Err: err}
	case err != nil:
		return nil, &InputError{Input: "p12-base64", Msg: "is not a .p12 file with a certificate and its private key: in Keychain Access, export the distribution certificate with its key as .p12, then base64 it", Err: err}
	}
	if na := id.Certificate.NotAfter; st.now().After(na) {
		return nil, inputErr("p12-base64", "holds a certificate that expired on %s (%s): make a new distribution certificate", na.Format("2006-01-02"), id.Certificate.Subject.CommonName)
	}
	if _, err := WriteSecret(dir, secretP12, data); err != nil {
		return nil, err
	}
	return id, nil
}

// profileBlob is a provisioning profile as an input gave it.
type profileBlob struct {
	input string // the input it came from
	what  string // "value 2", "file profiles/App.mobileprovision"
	data  []byte
}

// maxProfile bounds the size of a profile read from a file or Drive: they
// are a few KB.
const maxProfile = 1 << 20

// decodeProfiles checks the profiles of profiles-base64, profiles-path and
// profiles-drive-folder against the certificate and writes them to the
// secrets folder.
func (st *actionStep) decodeProfiles(ctx context.Context, dir string, id *signing.Identity) (int, error) {
	var all []profileBlob
	blobs, err := st.a.Base64ListInput("profiles-base64")
	if err != nil {
		return 0, err
	}
	for i, b := range blobs {
		all = append(all, profileBlob{"profiles-base64", fmt.Sprintf("value %d", i+1), b})
	}
	more, err := st.profilesFromPath()
	if err != nil {
		return 0, err
	}
	all = append(all, more...)
	if more, err = st.profilesFromDrive(ctx, dir); err != nil {
		return 0, err
	}
	all = append(all, more...)
	if len(all) == 0 {
		return 0, inputErr("profiles-base64", "holds no profile, and neither profiles-path nor profiles-drive-folder gave one: add the App Store profiles of the app and of each extension")
	}
	for i, pb := range all {
		p, err := provision.Parse(pb.data)
		if err != nil {
			return 0, &InputError{Input: pb.input, Msg: fmt.Sprintf("%s is not a provisioning profile: give the .mobileprovision files from the Apple Developer site", pb.what), Err: err}
		}
		if ex := p.ExpirationDate; !ex.IsZero() && st.now().After(ex) {
			return 0, inputErr(pb.input, "%s, profile %q, expired on %s: renew it on the Apple Developer site", pb.what, p.Name, ex.Format("2006-01-02"))
		}
		if err := p.CheckCertificate(id.Certificate); err != nil {
			return 0, inputErr(pb.input, "%s, profile %q, does not include the certificate in p12-base64 (%s): edit the profile on the Apple Developer site to include it, or use the matching .p12", pb.what, p.Name, id.Certificate.Subject.CommonName)
		}
		st.a.Infof("Profile %d: %q for %s, expires %s (%s %s)", i+1, p.Name, p.ApplicationIdentifier, p.ExpirationDate.Format("2006-01-02"), pb.input, pb.what)
		if _, err := WriteSecret(dir, fmt.Sprintf(secretProfile, i+1), pb.data); err != nil {
			return 0, err
		}
	}
	return len(all), nil
}

// profilesFromPath reads the profiles-path input: a .mobileprovision file,
// a folder of them, or a glob, relative to the workspace (the repository
// actions/checkout checked out).
func (st *actionStep) profilesFromPath() ([]profileBlob, error) {
	p := st.a.Input("profiles-path")
	if p == "" {
		return nil, nil
	}
	full := p
	if ws := st.a.getenv("GITHUB_WORKSPACE"); ws != "" && !filepath.IsAbs(p) {
		full = filepath.Join(ws, p)
	}
	var files []string
	if fi, err := os.Stat(full); err == nil && fi.IsDir() {
		ents, err := os.ReadDir(full)
		if err != nil {
			return nil, inputErr("profiles-path", "names the folder %s, which cannot be read: %v", p, err)
		}
		for _, e := range ents {
			if !e.IsDir() && strings.EqualFold(filepath.Ext(e.Name()), ".mobileprovision") {
				files = append(files, filepath.Join(full, e.Name()))
			}
		}
	} else {
		m, err := filepath.Glob(full)
		if err != nil {
			return nil, inputErr("profiles-path", "is not a valid path or pattern: use e.g. signing/profiles or signing/*.mobileprovision")
		}
		files = m
	}
	if len(files) == 0 {
		return nil, inputErr("profiles-path", "names no .mobileprovision file: %s is not in the workspace (check it out with actions/checkout first)", p)
	}
	var out []profileBlob
	for _, f := range files {
		rel, err := filepath.Rel(filepath.Dir(full), f)
		if err != nil || strings.HasPrefix(rel, "..") {
			rel = filepath.Base(f)
		}
		data, err := readSmall(f)
		if err != nil {
			return nil, inputErr("profiles-path", "names %s, which cannot be read: %v", rel, err)
		}
		out = append(out, profileBlob{"profiles-path", "file " + rel, data})
	}
	return out, nil
}

// readSmall reads a regular file of at most maxProfile bytes.
func readSmall(name string) ([]byte, error) {
	f, size, err := atomicfile.OpenInput(name, "a provisioning profile")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if size > maxProfile {
		return nil, fmt.Errorf("%d bytes is too large for a profile", size)
	}
	return io.ReadAll(io.LimitReader(f, maxProfile+1))
}

// profilesFromDrive downloads the .mobileprovision files of the
// profiles-drive-folder input.
func (st *actionStep) profilesFromDrive(ctx context.Context, dir string) ([]profileBlob, error) {
	folder := st.a.Input("profiles-drive-folder")
	if folder == "" {
		return nil, nil
	}
	c, err := st.driveClient(ctx, st.credentialsFile(dir))
	if err != nil {
		return nil, err
	}
	files, err := c.List(ctx, folder)
	if err != nil {
		return nil, driveInputErr("profiles-drive-folder", err)
	}
	var out []profileBlob
	for _, f := range files {
		if f.IsFolder() || !strings.EqualFold(filepath.Ext(f.Name), ".mobileprovision") {
			continue
		}
		if f.ShortcutTarget != "" {
			if f, err = c.Stat(ctx, f.ID); err != nil {
				return nil, driveInputErr("profiles-drive-folder", err)
			}
		}
		if f.Size > maxProfile {
			return nil, inputErr("profiles-drive-folder", "holds %s, of %d bytes: too large for a provisioning profile", shown(f.Name), f.Size)
		}
		var buf bytes.Buffer
		if err := c.Download(ctx, f, &buf, drive.DownloadOptions{}); err != nil {
			return nil, driveInputErr("profiles-drive-folder", err)
		}
		out = append(out, profileBlob{"profiles-drive-folder", "file " + shown(f.Name), buf.Bytes()})
	}
	if len(out) == 0 {
		return nil, inputErr("profiles-drive-folder", "holds no .mobileprovision file: put the App Store profiles of the app and of each extension in it")
	}
	return out, nil
}

func (st *actionStep) keystoreOptions() signing.KeystoreOptions {
	opts := signing.KeystoreOptions{StorePassword: st.a.SecretInput("keystore-password"), Alias: st.a.Input("key-alias")}
	if kp := st.a.SecretInput("key-password"); kp != "" {
		opts.KeyPassword = &kp
	}
	return opts
}

func (st *actionStep) decodeKeystore(dir string) (*signing.Identity, error) {
	data, err := st.a.Base64Input("keystore-base64")
	if err != nil {
		return nil, err
	}
	opts := st.keystoreOptions()
	id, err := signing.LoadKeystore(data, opts)
	if err != nil {
		return nil, keystoreErr(data, opts, err)
	}
	if _, err := WriteSecret(dir, secretKeystore, data); err != nil {
		return nil, err
	}
	return id, nil
}

// keystoreErr is the InputError of err, returned by signing.LoadKeystore:
// the input to fix and what to do. Of the passwords, it names key-password
// when keystore-password opened the keystore but not its key (a key with a
// password of its own), keystore-password when it did not open a JKS
// keystore, and either for a PKCS#12 file, which is tried with both.
func keystoreErr(data []byte, opts signing.KeystoreOptions, err error) *InputError {
	var ae *signing.AliasError
	if errors.As(err, &ae) {
		msg := "must name a key of the keystore"
		if ae.Alias != "" {
			msg = fmt.Sprintf("is %q, which the keystore does not hold", ae.Alias)
		}
		return &InputError{Input: "key-alias", Msg: fmt.Sprintf("%s: its keys are %s", msg, quoteList(ae.Available)), Err: err}
	}
	if !errors.Is(err, signing.ErrWrongPassword) {
		return &InputError{Input: "keystore-base64", Msg: "is not a keystore (.jks or .p12) with a private key: base64 the keystore file itself", Err: err}
	}
	if alias, ok := wrongKeyPassword(err); ok {
		if opts.KeyPassword == nil {
			return &InputError{Input: "key-password", Msg: fmt.Sprintf("is empty, and the key %q in keystore-base64 has a password of its own (keystore-password opens the keystore, not the key): set key-password to the key's own password", alias), Err: err}
		}
		return &InputError{Input: "key-password", Msg: fmt.Sprintf("does not open the key %q in keystore-base64 (keystore-password opens the keystore): set key-password to the key's own password", alias), Err: err}
	}
	in := "keystore-password"
	if opts.KeyPassword != nil && signing.DetectKeystoreType(data) != signing.TypeJKS {
		// A PKCS#12 file is tried with either password.
		in = "keystore-password or key-password"
	}
	return &InputError{Input: in, Msg: "does not open keystore-base64: give the password the keystore was made with", Err: err}
}

// wrongKeyPassword returns the alias of the key that signing.LoadKeystore
// could not open after the keystore password opened the keystore: its
// signing.ErrWrongPassword then ends in (for key "ALIAS").
func wrongKeyPassword(err error) (alias string, ok bool) {
	if !errors.Is(err, signing.ErrWrongPassword) {
		return "", false
	}
	_, rest, found := strings.Cut(err.Error(), " (for key ")
	if !found || !strings.HasSuffix(rest, ")") {
		return "", false
	}
	alias, uerr := strconv.Unquote(strings.TrimSuffix(rest, ")"))
	if uerr != nil {
		return "", false
	}
	return alias, true
}

func quoteList(s []string) string {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = fmt.Sprintf("%q", v)
	}
	if len(q) == 0 {
		return "none"
	}
	return strings.Join(q, ", ")
}

// decodeCredentials writes credentials-json, given as JSON or as base64
// JSON, to the secrets folder.
func (st *actionStep) decodeCredentials(dir string) error {
	raw := st.a.SecretInput("credentials-json")
	if strings.TrimSpace(raw) == "" {
		return nil
	}
	data := []byte(strings.TrimSpace(raw))
	if !bytes.HasPrefix(data, []byte("{")) {
		var err error
		data, err = st.a.Base64Input("credentials-json")
		if err != nil {
			return err
		}
	}
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(data, &head); err != nil || head.Type == "" {
		return inputErr("credentials-json", "is not a Google credentials file: paste the service account's JSON key (or leave it empty and use google-github-actions/auth)")
	}
	_, err := WriteSecret(dir, secretCredentials, data)
	return err
}

// credentialsFile is the decoded credentials-json, or "" for Application
// Default Credentials.
func (st *actionStep) credentialsFile(dir string) string {
	p := filepath.Join(dir, secretCredentials)
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

// download fetches the build and sets the outputs path, drive-file-id and
// platform.
func (st *actionStep) download(ctx context.Context) error {
	dir, err := st.secretsDir()
	if err != nil {
		return err
	}
	outDir := filepath.Join(st.a.TempDir(), "storesign-download")
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return fmt.Errorf("making the download folder: %w", err)
	}
	res, err := st.driveGet(ctx, driveGet{
		credentials: st.credentialsFile(dir),
		file:        st.a.Input("drive-file"),
		folder:      st.a.Input("drive-folder"),
		name:        st.a.Input("name"),
		outDir:      outDir,
	})
	if err != nil {
		return err
	}
	kind, err := detectFile(res.path)
	if err != nil {
		os.Remove(res.path)
		return inputErr(st.sourceInput(), "names %s, which is not an iOS app (.ipa), an Android APK or an Android App Bundle (.aab): pick the build the studio delivered", filepath.Base(res.path))
	}
	st.a.Infof("Downloaded %s (%s, Drive file %s).", filepath.Base(res.path), kind, res.id)
	// The release's upload step marks the signed build with where it came
	// from, which the plan step reads.
	if b, err := json.Marshal(source{ID: res.id, MD5: res.md5}); err == nil && st.action == actRelease {
		if _, err := WriteSecret(dir, sourceFile, b); err != nil {
			return err
		}
	}
	return st.setOutputs("path", res.path, "drive-file-id", res.id, "platform", kind.Platform())
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func detectFile(path string) (Kind, error) {
	f, size, err := atomicfile.OpenInput(path, "a build")
	if err != nil {
		return "", err
	}
	defer f.Close()
	return Detect(f, size)
}

// resign signs the build at the path input, verifies it, and sets the
// outputs signed-path and sha256. The step summary is written, or kept in
// the secrets folder for the upload step when STORESIGN_SUMMARY=defer.
func (st *actionStep) resign(ctx context.Context) error {
	dir, err := st.secretsDir()
	if err != nil {
		return err
	}
	in := st.a.Input("path")
	if in == "" {
		return inputErr("path", "is empty: give the file to sign")
	}
	kind, err := detectFile(in)
	if err != nil {
		return inputErr(st.sourceInput(), "names %s, which is not an iOS app (.ipa), an Android APK or an Android App Bundle (.aab): pick the build the studio delivered", filepath.Base(in))
	}
	// What the secrets step decoded says which platforms can be signed.
	ios := fileExists(filepath.Join(dir, secretP12))
	android := fileExists(filepath.Join(dir, secretKeystore))
	switch {
	case st.action == actRelease && (st.platform() == "ios" && kind != KindIPA || st.platform() == "android" && kind == KindIPA):
		return inputErr("platform", "is %s, but %s is %s: set platform to auto, or pick the right build", st.platform(), filepath.Base(in), kind)
	case kind == KindIPA && !ios && deferred(dir, "ios") != nil:
		return deferred(dir, "ios")
	case kind != KindIPA && !android && deferred(dir, "android") != nil:
		return deferred(dir, "android")
	case kind == KindIPA && !ios:
		if st.action == actResignAPK {
			return inputErr("path", "is an iOS app (%s): use the resign-ipa action for it", filepath.Base(in))
		}
		return inputErr("p12-base64", "is empty, but %s is an iOS app: give p12-base64, p12-password and profiles-base64", filepath.Base(in))
	case kind != KindIPA && !android:
		if st.action == actResignIPA {
			return inputErr("path", "is an Android build (%s): use the resign-apk action for it", filepath.Base(in))
		}
		return inputErr("keystore-base64", "is empty, but %s is an Android build: give keystore-base64 and keystore-password", filepath.Base(in))
	}

	out := st.a.Input("output-path")
	if out == "" {
		// A folder of its own per run, so that signing the same file twice
		// in a job (two bundle IDs, say) keeps both results.
		outDir, err := os.MkdirTemp(st.a.TempDir(), "storesign-signed-")
		if err != nil {
			return fmt.Errorf("making the output folder: %w", err)
		}
		os.Chmod(outDir, 0o755)
		out = filepath.Join(outDir, filepath.Base(in))
	}

	rep := &Report{Platform: kind.String(), Input: filepath.Base(in), Output: filepath.Base(out)}
	var signer *signing.Identity
	switch kind {
	case KindIPA:
		signer, err = st.resignIPA(ctx, dir, in, out, rep)
	default:
		signer, err = st.signAndroid(ctx, dir, kind, in, out, rep)
	}
	if err != nil {
		return err
	}
	rep.Signer = signer.Certificate.Subject.CommonName
	if rep.Signer == "" {
		rep.Signer = signer.Certificate.Subject.String()
	}
	rep.CertSHA256 = signing.CertificateSHA256(signer.Certificate)

	sum, size, err := fileSHA256(out)
	if err != nil {
		return err
	}
	rep.SHA256, rep.Size = sum, size
	if f, err := os.Open(out); err == nil {
		if info, err := ReadAppInfo(f, size, kind); err == nil {
			rep.App, rep.BundleID, rep.Version, rep.Build = info.Name, info.BundleID, info.Version, info.Build
		}
		f.Close()
	}
	if rep.App == "" {
		rep.App = strings.TrimSuffix(filepath.Base(in), filepath.Ext(in))
	}
	if err := st.setOutputs("signed-path", out, "sha256", sum); err != nil {
		return err
	}
	st.a.Infof("Signed %s: %s (%d bytes, SHA-256 %s).", rep.Input, out, size, sum)
	if st.a.getenv("STORESIGN_SUMMARY") == "defer" {
		b, err := json.Marshal(rep)
		if err != nil {
			return err
		}
		if _, err := WriteSecret(dir, reportFile, b); err != nil {
			return err
		}
		return nil
	}
	return st.a.AddSummary(rep.Markdown())
}

func (st *actionStep) resignIPA(ctx context.Context, dir, in, out string, rep *Report) (*signing.Identity, error) {
	data, err := os.ReadFile(filepath.Join(dir, secretP12))
	if err != nil {
		return nil, fmt.Errorf("reading the decoded p12-base64 (run the secrets step first): %w", err)
	}
	id, err := signing.LoadPKCS12(data, st.a.SecretInput("p12-password"))
	if err != nil {
		return nil, &InputError{Input: "p12-password", Msg: "does not open p12-base64", Err: err}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "profile-*.mobileprovision"))
	var profiles []*provision.Profile
	for _, f := range files {
		p, err := provision.ReadFile(f)
		if err != nil {
			return nil, &InputError{Input: "profiles-base64", Msg: "holds a value that is not a provisioning profile", Err: err}
		}
		profiles = append(profiles, p)
	}
	// Embed the Apple WWDR intermediate as codesign does: from the .p12
	// when it has it, else fetched from the certificate's AIA address.
	chain, err := macho.ResolveChain(ctx, id.Certificate, macho.ChainOptions{Chain: id.Chain, CacheDir: filepath.Join(st.a.TempDir(), "storesign-certs")})
	if err != nil {
		return nil, &InputError{Input: "p12-base64", Msg: "lacks the Apple WWDR intermediate certificate, and it could not be fetched from the certificate's AIA address: export the .p12 from Keychain Access with its certificate chain", Err: err}
	}
	opts := ipa.Options{
		Identity:      id,
		Chain:         chain,
		Profiles:      profiles,
		BundleID:      st.a.Input("bundle-id"),
		ShortVersion:  st.a.Input("short-version"),
		BundleVersion: st.a.Input("bundle-version"),
		DisplayName:   st.a.Input("display-name"),
		Log:           st.logger(),
	}
	if v := st.a.Input("compression-level"); v != "" {
		if !compressionRE.MatchString(v) {
			return nil, &InputError{Input: "compression-level", Msg: fmt.Sprintf("is %q: it must be 0 (store the signed binaries: fastest) to 9 (smallest)", v)}
		}
		opts.CompressionLevel = int(v[0] - '0')
	}
	switch v := st.a.Input("drop-ungranted-entitlements"); v {
	case "", "false":
	case "true":
		opts.DropUngrantedEntitlements = true
	default:
		return nil, &InputError{Input: "drop-ungranted-entitlements", Msg: fmt.Sprintf("is %q: it must be true or false", v)}
	}
	st.a.Group("Re-signing " + filepath.Base(in))
	r, err := ipa.ResignFile(ctx, in, out, opts)
	st.a.EndGroup()
	if err != nil {
		var pe *provision.NoProfileError
		if errors.As(err, &pe) {
			return nil, &InputError{Input: "profiles-base64", Msg: "has no profile for " + pe.BundleID + ": add the App Store profile of " + pe.BundleID + " (one base64 value per line)", Err: err}
		}
		var ne *ipa.EntitlementNotGrantedError
		if errors.As(err, &ne) {
			var keys []string
			for _, u := range ne.Ungranted {
				keys = append(keys, u.Key+" ("+u.Old+")")
			}
			return nil, &InputError{Input: "profiles-base64", Err: err, Msg: fmt.Sprintf(
				"holds the profile %q (%s), which does not grant %s: %s was signed with it; enable %s for the App ID %s in the Apple Developer portal and download the profile again, or set the input drop-ungranted-entitlements to true to sign without it",
				ne.Profile, ne.AppID, strings.Join(keys, ", "), ne.Path, strings.Join(ne.Capabilities(), ", "), ne.BundleID)}
		}
		if errors.Is(err, ipa.ErrTeamMismatch) {
			return nil, &InputError{Input: "profiles-base64", Msg: "holds a profile of another team than the certificate in p12-base64: use the profiles of the certificate's team", Err: err}
		}
		if errors.Is(err, ipa.ErrNotIPA) {
			return nil, &InputError{Input: st.sourceInput(), Msg: "is not an iOS app archive: " + err.Error(), Err: err}
		}
		return nil, fmt.Errorf("re-signing %s: %w", filepath.Base(in), err)
	}
	for _, w := range r.Warnings {
		st.a.Warning("Check the build", w)
	}
	// ResignFile verified the output before renaming it into place.
	rep.Verified = fmt.Sprintf("passed: %d bundle(s) and binaries, seals and profiles checked", len(r.Bundles))
	for _, b := range r.Bundles {
		if b.Profile != nil {
			rep.Profiles = append(rep.Profiles, Profile{Name: b.Profile.Name, BundleID: b.BundleID, Expires: b.Profile.Expires})
		}
		bundle := b.BundleID
		if bundle == "" {
			bundle = b.Path
		}
		for _, c := range b.EntitlementChanges {
			if c.Action == ipa.EntitlementKept {
				rep.EntitlementsKept++
				continue
			}
			rep.Entitlements = append(rep.Entitlements, EntitlementChange{Bundle: bundle, Key: c.Key, Action: c.Action, Old: c.Old, New: c.New, Reason: c.Reason})
			if c.Action == ipa.EntitlementDropped {
				st.a.Warning("Entitlement dropped", fmt.Sprintf("%s: %s (%s) was dropped: %s", bundle, c.Key, c.Old, c.Reason))
			}
		}
	}
	return id, nil
}

// logger sends the library's progress to the log, secrets masked.
func (st *actionStep) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(redactWriter{st.a, st.a.w}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type redactWriter struct {
	a *Action
	w io.Writer
}

func (r redactWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(r.w, r.a.Redact(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (st *actionStep) signAndroid(ctx context.Context, dir string, kind Kind, in, out string, rep *Report) (*signing.Identity, error) {
	ks := filepath.Join(dir, secretKeystore)
	data, err := os.ReadFile(ks)
	if err != nil {
		return nil, fmt.Errorf("reading the decoded keystore-base64 (run the secrets step first): %w", err)
	}
	opts := st.keystoreOptions()
	id, err := signing.LoadKeystore(data, opts)
	if err != nil {
		return nil, keystoreErr(data, opts, err)
	}
	if kind == KindAAB {
		st.a.Group("Signing " + filepath.Base(in))
		// SignFile verifies the output before renaming it into place.
		res, err := aab.SignFile(ctx, in, out, aab.Options{Identity: id, Log: st.logger()})
		st.a.EndGroup()
		if err != nil {
			if errors.Is(err, aab.ErrNotBundle) {
				return nil, &InputError{Input: st.sourceInput(), Msg: "is not an Android App Bundle: " + err.Error(), Err: err}
			}
			return nil, fmt.Errorf("signing %s: %w", filepath.Base(in), err)
		}
		rep.Schemes = []string{"JAR signature (v1), as Google Play expects for uploads"}
		rep.Verified = fmt.Sprintf("passed: %d entries signed", res.Entries)
		return id, nil
	}
	// Verify the output before SignFile renames it into place.
	var v *apk.VerifyResult
	check := func(ctx context.Context, r io.ReaderAt, size int64) error {
		var err error
		if v, err = apk.Verify(ctx, r, size, apk.VerifyOptions{}); err != nil {
			return fmt.Errorf("verifying the signed APK: %w", err)
		}
		if err := v.Err(); err != nil {
			return fmt.Errorf("verifying the signed APK: %w", err)
		}
		return nil
	}
	st.a.Group("Signing " + filepath.Base(in))
	res, err := apk.SignFile(ctx, in, out, apk.Options{Identity: id, Log: st.logger(), Check: check})
	st.a.EndGroup()
	if err != nil {
		if errors.Is(err, apk.ErrNotZip) || errors.Is(err, apk.ErrNoAndroidManifest) {
			return nil, &InputError{Input: st.sourceInput(), Msg: "is not an Android APK: " + err.Error(), Err: err}
		}
		return nil, fmt.Errorf("signing %s: %w", filepath.Base(in), err)
	}
	rep.Schemes = res.Schemes()
	rep.Verified = fmt.Sprintf("passed for Android API %d and later", v.MinSDK)
	if v.MaxSDK > 0 {
		rep.Verified = fmt.Sprintf("passed for Android API %d to %d", v.MinSDK, v.MaxSDK)
	}
	for _, w := range v.Warnings {
		st.a.Warning("Check the signed APK", w)
	}
	return id, nil
}

func fileSHA256(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("hashing %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// upload uploads the path input to the output-folder input and sets the
// outputs drive-file-id and drive-link. It writes the step summary: the
// whole report when the re-sign step deferred it, a short table otherwise.
func (st *actionStep) upload(ctx context.Context) error {
	dir, err := st.secretsDir()
	if err != nil {
		return err
	}
	p := st.a.Input("path")
	if p == "" {
		return inputErr("path", "is empty: give the file to upload")
	}
	sum, size, err := fileSHA256(p)
	if err != nil {
		return inputErr("path", "names no file: %s does not exist on the runner", p)
	}
	rep := &Report{Output: filepath.Base(p), Size: size, SHA256: sum}
	if b, err := os.ReadFile(filepath.Join(dir, reportFile)); err == nil {
		var r Report
		if json.Unmarshal(b, &r) == nil && r.SHA256 == sum {
			rep = &r
		}
	}
	put := drivePut{
		credentials: st.credentialsFile(dir),
		path:        p,
		folder:      st.a.Input("output-folder"),
		name:        st.a.Input("name"),
		nameInput:   "name",
	}
	if st.action == actRelease {
		// In the release, name picks the input; the layout inputs say
		// where the signed build goes, and a re-run replaces it.
		if put, err = st.releasePut(put, dir, rep); err != nil {
			return err
		}
	}
	res, err := st.drivePut(ctx, put)
	if err != nil {
		if rep.Signer != "" {
			// The deferred summary of the re-sign step, without a link.
			st.a.AddSummary(rep.Markdown())
		}
		return err
	}
	if put.name != "" {
		rep.Output = put.name
	}
	rep.DriveLink, rep.DriveFolder, rep.Upload = res.link, put.subfolder, res.upload
	if err := st.setOutputs("drive-file-id", res.id, "drive-link", res.link, "drive-folder", put.subfolder, "upload", res.upload); err != nil {
		return err
	}
	where := shown(rep.Output)
	if put.subfolder != "" {
		where = shown(put.subfolder + "/" + rep.Output)
	}
	switch res.upload {
	case UploadReplaced:
		st.a.Notice("Replaced the earlier upload", fmt.Sprintf("%s was already in the output folder from an earlier run: the signed build is now a new revision of it (Drive keeps the earlier one: File > Manage versions)", where))
	case UploadUnchanged:
		st.a.Infof("%s was already in the output folder, identical: kept it.", where)
	default:
		st.a.Infof("Uploaded %s to Google Drive: %s", where, res.link)
	}
	return st.a.AddSummary(rep.Markdown())
}

// releasePut fills in where a release puts the signed build: the
// output-subfolder and output-name inputs expanded from the report of the
// re-sign step, replacing an earlier upload, marked with the delivered
// file it came from.
func (st *actionStep) releasePut(put drivePut, dir string, rep *Report) (drivePut, error) {
	if rep.Signer == "" {
		return put, errors.New("the re-sign step left no report for this file in the secrets folder: run \"storesign action resign\" with STORESIGN_SUMMARY=defer first")
	}
	layout := st.layout()
	sub, name, err := layout.Place(rep, filepath.Base(put.path))
	if err != nil {
		in := "output-name"
		if _, _, e := (Layout{Subfolder: layout.Subfolder}).Place(rep, "x"); e != nil {
			in = "output-subfolder"
		}
		return put, &InputError{Input: in, Msg: "cannot be used: " + strings.TrimPrefix(err.Error(), "actions: "), Err: err}
	}
	put.subfolder, put.name, put.nameInput, put.replace = sub, name, "output-name", true
	if b, err := os.ReadFile(filepath.Join(dir, sourceFile)); err == nil {
		var src source
		if json.Unmarshal(b, &src) == nil && src.ID != "" {
			put.props = map[string]string{SourceProperty: src.ID, SourceMD5Property: src.MD5}
		}
	}
	return put, nil
}

// layout is the release's output-subfolder and output-name inputs.
func (st *actionStep) layout() Layout {
	return Layout{Subfolder: st.a.Input("output-subfolder"), Name: st.a.Input("output-name")}
}

// driveGet says what to download.
type driveGet struct {
	credentials        string // a credentials file, or "" for ADC
	file, folder, name string // drive-file, or drive-folder and name
	outDir             string // the downloaded file keeps its Drive name here
}

type driveGot struct {
	path, id, md5 string
}

// source is the delivered file a release signed.
type source struct {
	ID  string `json:"id"`
	MD5 string `json:"md5"`
}

// drivePut says what to upload.
type drivePut struct {
	credentials  string
	path         string
	folder, name string
	subfolder    string            // under folder, made when missing
	replace      bool              // a different file of the same name gets a new revision
	props        map[string]string // appProperties
	nameInput    string            // the input that names the file: name, output-name
}

type drivePutResult struct {
	id, link string
	upload   string // UploadNew, UploadReplaced, UploadUnchanged
}

// buildExts are the files a folder is searched for when name is empty.
var buildExts = []string{".ipa", ".apk", ".aab"}

func (st *actionStep) driveClient(ctx context.Context, credentials string) (*drive.Client, error) {
	opts := []drive.Option{drive.WithLogger(st.logger())}
	if ep := st.a.getenv(drive.EndpointEnv); ep != "" {
		opts = append(opts, drive.WithEndpoint(ep))
	}
	if credentials != "" {
		opts = append(opts, drive.WithCredentialsFile(credentials))
	}
	c, err := drive.New(ctx, opts...)
	if err != nil {
		if credentials != "" {
			return nil, &InputError{Input: "credentials-json", Msg: "cannot be used: " + err.Error(), Err: err}
		}
		return nil, err
	}
	return c, nil
}

// driveInputErr names the input to fix for a Drive failure.
func driveInputErr(input string, err error) error {
	var ae *drive.AmbiguousError
	switch {
	case errors.Is(err, drive.ErrAuth):
		input = "credentials-json"
	case errors.As(err, &ae):
	case errors.Is(err, drive.ErrNotFound), errors.Is(err, drive.ErrPermission), errors.Is(err, drive.ErrBadReference),
		errors.Is(err, drive.ErrIsFolder), errors.Is(err, drive.ErrNotFolder), errors.Is(err, drive.ErrGoogleDoc), errors.Is(err, drive.ErrNoQuota):
	default:
		return err
	}
	return &InputError{Input: input, Msg: "does not work: " + strings.TrimPrefix(err.Error(), "drive: "), Err: err}
}

func (st *actionStep) driveGet(ctx context.Context, g driveGet) (driveGot, error) {
	c, err := st.driveClient(ctx, g.credentials)
	if err != nil {
		return driveGot{}, err
	}
	var f *drive.File
	switch {
	case g.file != "":
		f, err = c.Stat(ctx, g.file)
		if err != nil {
			return driveGot{}, driveInputErr("drive-file", err)
		}
		if f.IsFolder() {
			return driveGot{}, inputErr("drive-file", "is a folder (%s): put it in drive-folder instead, with name if needed", shown(f.Name))
		}
	case g.name != "":
		f, err = c.Find(ctx, g.folder, drive.FindOptions{Name: g.name, Newest: true})
		if errors.Is(err, drive.ErrNotFound) {
			return driveGot{}, &InputError{Input: "name", Msg: "matches no file in drive-folder: " + strings.TrimPrefix(err.Error(), "drive: "), Err: err}
		}
		if err != nil {
			return driveGot{}, driveInputErr("drive-folder", err)
		}
	default:
		files, err := c.List(ctx, g.folder)
		if err != nil {
			return driveGot{}, driveInputErr("drive-folder", err)
		}
		for _, x := range files { // newest first
			if !x.IsFolder() && slices.Contains(buildExts, strings.ToLower(filepath.Ext(x.Name))) {
				f = x
				break
			}
		}
		if f == nil {
			return driveGot{}, inputErr("drive-folder", "holds no .ipa, .apk or .aab file: check the folder, or set name to the file to take")
		}
		if f.ShortcutTarget != "" {
			if f, err = c.Stat(ctx, f.ID); err != nil {
				return driveGot{}, driveInputErr("drive-folder", err)
			}
		}
	}
	// The file keeps its Drive name when that is a plain file name with a
	// build's extension; else it is saved under its ID, which is letters,
	// digits, - and _ (the extension kept when it is a build's).
	name, err := drive.LocalName(f.Name)
	if err != nil {
		st.a.Warning("Unusual file name in Google Drive", fmt.Sprintf("%s: saved as %s on the runner", strings.TrimPrefix(err.Error(), "drive: "), f.ID))
		name = f.ID
		if ext := strings.ToLower(filepath.Ext(f.Name)); slices.Contains(buildExts, ext) {
			name += ext
		}
	}
	target := filepath.Join(g.outDir, name)
	st.a.Infof("Downloading %s (%d bytes, modified %s) from Google Drive.", shown(f.Name), f.Size, f.ModifiedTime.UTC().Format(time.RFC3339))
	if err := c.DownloadFile(ctx, f, target, drive.DownloadOptions{}); err != nil {
		return driveGot{}, fmt.Errorf("downloading %s: %w", shown(f.Name), err)
	}
	return driveGot{path: target, id: f.ID, md5: f.MD5}, nil
}

func (st *actionStep) drivePut(ctx context.Context, p drivePut) (drivePutResult, error) {
	c, err := st.driveClient(ctx, p.credentials)
	if err != nil {
		return drivePutResult{}, err
	}
	res, err := c.UploadFile(ctx, p.path, drive.UploadOptions{Folder: p.folder, Path: p.subfolder, Name: p.name, Replace: p.replace, AppProperties: p.props})
	if err != nil {
		if errors.Is(err, drive.ErrBadName) && p.name != "" && p.nameInput != "" {
			return drivePutResult{}, &InputError{Input: p.nameInput, Msg: "cannot be used: " + strings.TrimPrefix(err.Error(), "drive: "), Err: err}
		}
		if errors.Is(err, drive.ErrExists) {
			name := p.name
			if name == "" {
				name = filepath.Base(p.path)
			}
			how := "or set name to upload it under another name"
			if p.nameInput == "" {
				how = "or give the file another name"
			}
			return drivePutResult{}, &InputError{Input: "output-folder", Msg: "already holds a different file named " + shown(name) + ": remove or rename that file in Drive, " + how, Err: err}
		}
		return drivePutResult{}, driveInputErr("output-folder", err)
	}
	r := drivePutResult{id: res.File.ID, link: res.File.WebViewLink, upload: UploadNew}
	switch {
	case res.Skipped:
		r.upload = UploadUnchanged
		st.a.Infof("An identical file was already in the folder: kept it.")
	case res.Replaced:
		r.upload = UploadReplaced
	}
	if r.link == "" {
		r.link = "https://drive.google.com/file/d/" + res.File.ID + "/view"
	}
	return r, nil
}
