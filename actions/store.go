package actions

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/storesign/storesign/internal/androidinfo"
	"github.com/storesign/storesign/signing/ipa"
	"github.com/storesign/storesign/store/appstore"
	"github.com/storesign/storesign/store/play"
)

// The store steps, run by the play-upload and appstore-upload actions
// (STORESIGN_ACTION=play-upload, appstore-upload) and by the release
// action's last steps (STORESIGN_ACTION=release), which name their inputs
// play-* and asc-*.
const (
	actPlayUpload     = "play-upload"
	actAppStoreUpload = "appstore-upload"
)

// PlayUpload uploads a signed app bundle or APK to a Google Play track,
// in one edit committed at the end, and sets the outputs package-name,
// version-code, track, status, sha256 and link. The step summary gets the
// release; a refusal is an annotation that names the input to fix, in the
// planner's words ([PlannerNamesInput]).
//
// The play-upload action's inputs are file, package-name, track, status,
// user-fraction, release-name, release-notes-dir, mapping,
// changes-not-sent-for-review, expect-cert-sha256 and credentials; the
// release action's are path (the signed build) and play-track,
// play-status, and so on, with the credentials of play-credentials, else
// credentials-json. Without credentials, STORESIGN_PLAY_TOKEN or
// Application Default Credentials (google-github-actions/auth) are used.
// The credentials are masked first and never written to disk.
// STORESIGN_PLAY_ENDPOINT points the step at another server.
func PlayUpload(ctx context.Context, a *Action) error {
	return runStep(ctx, a, "Uploading to Google Play", (*actionStep).playUpload)
}

// AppStoreUpload uploads a signed IPA to App Store Connect (TestFlight)
// with an API key, waits for its processing when asked to, and sets the
// outputs build-id, build-upload-id, state and link. The step summary
// gets the build; a refusal is an annotation that names the input to fix,
// in the planner's words ([PlannerNamesInput]).
//
// The appstore-upload action's inputs are file, asc-key-id,
// asc-issuer-id, asc-key-base64 (the .p8 key, base64 or PEM) and wait;
// the release action's are path (the signed build), the same asc-*
// inputs and asc-wait. A wait is a duration such as 30m; a bare number is
// minutes; 0 or empty does not wait. The key is masked first and never
// written to disk. STORESIGN_ASC_ENDPOINT points the step at another
// server.
func AppStoreUpload(ctx context.Context, a *Action) error {
	return runStep(ctx, a, "Uploading to App Store Connect", (*actionStep).appStoreUpload)
}

// storeInputs names the inputs of a store upload in the action that runs
// it: the play-upload and appstore-upload actions' own, or the release's
// play-* and asc-* ones. Errors name these; planner-names turns them into
// the planner's words.
type storeInputs struct {
	file string // the build; "" in the release, where it is the re-sign step's output
	// Google Play. pkg and mapping are "" in the release, which has no
	// such inputs.
	pkg, track, status, fraction, releaseName, notes, mapping, notForReview, expectCert string
	credentials                                                                         []string // the first one set is used
	// App Store Connect.
	keyID, issuer, key, wait string
}

// storeInputsOf returns the names of the store inputs of action.
func storeInputsOf(action string) storeInputs {
	if action == actRelease {
		return storeInputs{
			track: "play-track", status: "play-status", fraction: "play-user-fraction", releaseName: "play-release-name",
			notes: "play-release-notes-dir", notForReview: "play-changes-not-sent-for-review", expectCert: "play-expect-cert-sha256",
			credentials: []string{"play-credentials", "credentials-json"},
			keyID:       "asc-key-id", issuer: "asc-issuer-id", key: "asc-key-base64", wait: "asc-wait",
		}
	}
	return storeInputs{
		file: "file", pkg: "package-name", track: "track", status: "status", fraction: "user-fraction", releaseName: "release-name",
		notes: "release-notes-dir", mapping: "mapping", notForReview: "changes-not-sent-for-review", expectCert: "expect-cert-sha256",
		credentials: []string{"credentials"},
		keyID:       "asc-key-id", issuer: "asc-issuer-id", key: "asc-key-base64", wait: "wait",
	}
}

// wrapError is an error with a message of its own that still unwraps to
// the library's.
type wrapError struct {
	msg string
	err error
}

func (e *wrapError) Error() string { return e.msg }

func (e *wrapError) Unwrap() error { return e.err }

// workspacePath resolves a path input against the workspace, as the
// runner's steps see it.
func (st *actionStep) workspacePath(p string) string {
	if ws := st.a.getenv("GITHUB_WORKSPACE"); ws != "" && !filepath.IsAbs(p) {
		return filepath.Join(ws, p)
	}
	return p
}

// storeFile returns the build to upload, checked to be of kind (an IPA,
// or either Android kind when kind is KindAPK). In the release it is the
// re-sign step's output, and a problem with it is the action's, not an
// input's; else input names it.
func (st *actionStep) storeFile(in storeInputs, kind Kind) (string, error) {
	what := "the .aab or .apk to upload (e.g. the signed-path output of resign-apk)"
	if kind == KindIPA {
		what = "the .ipa to upload (e.g. the signed-path output of resign-ipa)"
	}
	fail := func(format string, args ...any) error {
		if in.file == "" {
			return fmt.Errorf("the signed build: "+format, args...)
		}
		return inputErr(in.file, format, args...)
	}
	var path string
	if in.file == "" {
		if path = st.a.Input("path"); path == "" {
			return "", errors.New("the re-sign step left no signed build to upload (its signed-path output is empty)")
		}
	} else if path = st.a.Input(in.file); path == "" {
		return "", inputErr(in.file, "is empty: give %s", what)
	}
	path = st.workspacePath(path)
	if fi, err := os.Stat(path); err != nil || !fi.Mode().IsRegular() {
		return "", fail("names no file: %s does not exist on the runner (is it the output of an earlier step?)", path)
	}
	got, err := detectFile(path)
	switch {
	case err != nil:
		return "", fail("names %s, which is not an iOS app (.ipa), an Android APK or an Android App Bundle (.aab)", filepath.Base(path))
	case kind == KindIPA && got != KindIPA:
		return "", fail("names %s, which is %s, not an iOS app: Google Play takes it, App Store Connect does not", filepath.Base(path), got)
	case kind != KindIPA && got == KindIPA:
		return "", fail("names %s, which is an iOS app, not an Android build: App Store Connect takes it, Google Play does not", filepath.Base(path))
	}
	return path, nil
}

// playUpload uploads the build to Google Play and reports the release.
func (st *actionStep) playUpload(ctx context.Context) error {
	if st.action != actRelease && st.action != actPlayUpload {
		return fmt.Errorf("%w %q: the Google Play upload runs in the release and play-upload actions", ErrUnknownAction, st.action)
	}
	in := storeInputsOf(st.action)
	path, err := st.storeFile(in, KindAPK)
	if err != nil {
		return err
	}
	opts, err := st.playOptions(in, path)
	if err != nil {
		return err
	}
	mapping := ""
	if in.mapping != "" {
		if m := st.a.Input(in.mapping); m != "" {
			mapping = st.workspacePath(m)
			if fi, err := os.Stat(mapping); err != nil || !fi.Mode().IsRegular() {
				return inputErr(in.mapping, "names no file: %s does not exist on the runner", m)
			}
		}
	}
	credIn, creds, err := st.playCredentials(in)
	if err != nil {
		return err
	}
	c, err := st.playClient(ctx, credIn, creds)
	if err != nil {
		return err
	}
	name := filepath.Base(path)
	opts.Progress = st.progress("Uploading " + shown(name) + " to Google Play")
	res, err := c.UploadFile(ctx, path, mapping, opts)
	if err != nil {
		return st.playError(in, credIn, name, err)
	}
	if err := st.setOutputs("package-name", res.Package, "version-code", strconv.FormatInt(res.VersionCode, 10),
		"track", res.Track, "status", string(res.Status), "sha256", res.SHA256, "link", res.StoreURL); err != nil {
		return err
	}
	rollout := string(res.Status)
	if res.UserFraction != 0 {
		rollout += " to " + strconv.FormatFloat(res.UserFraction*100, 'g', 6, 64) + "% of users"
	}
	st.a.Infof("Uploaded %s (%d) to %s: %s", res.Package, res.VersionCode, res.Track, rollout)
	return st.a.AddSummary(playMarkdown(res, rollout))
}

// playMarkdown is the step summary of a Google Play upload.
func playMarkdown(res *play.UploadResult, rollout string) string {
	var b strings.Builder
	b.WriteString("### Uploaded to Google Play\n\n| | |\n|---|---|\n")
	app := "`" + codeText(res.Package) + "` "
	if res.VersionName != "" {
		app += cell(res.VersionName) + " "
	}
	fmt.Fprintf(&b, "| App | %s(%d) |\n", app, res.VersionCode)
	fmt.Fprintf(&b, "| Track | %s |\n", cell(res.Track))
	fmt.Fprintf(&b, "| Status | %s |\n", cell(rollout))
	if res.ReleaseName != "" {
		fmt.Fprintf(&b, "| Release | %s |\n", cell(res.ReleaseName))
	}
	if res.SHA256 != "" {
		fmt.Fprintf(&b, "| SHA-256 | `%s` |\n", codeText(res.SHA256))
	}
	if l := markdownLink(res.StoreURL); l != "" {
		fmt.Fprintf(&b, "| Link | %s |\n", l)
	}
	return b.String()
}

// markdownLink is a Markdown link to an https URL, showing the URL; ""
// when the URL is not a plain https one.
func markdownLink(u string) string {
	link := safeLink(u)
	if link == "" {
		return ""
	}
	text := link
	if strings.ContainsAny(text, "[]\\`*<>&") {
		text = "open"
	}
	return "[" + strings.ReplaceAll(text, "_", `\_`) + "](" + link + ")"
}

// playOptions reads and checks the Google Play inputs: the same checks as
// the library's, made first so that errors name the input.
func (st *actionStep) playOptions(in storeInputs, path string) (play.UploadOptions, error) {
	get := st.a.Input
	opts := play.UploadOptions{Track: get(in.track), ReleaseName: get(in.releaseName)}
	if in.pkg != "" {
		opts.Package = get(in.pkg)
	}
	if opts.Track == "" {
		return opts, inputErr(in.track, "is empty: set the track (internal, alpha, beta, production or a closed testing track's name)")
	}
	switch v := get(in.status); strings.ToLower(v) {
	case "", "completed":
		opts.Status = play.StatusCompleted
	case "inprogress":
		opts.Status = play.StatusInProgress
	case "draft":
		opts.Status = play.StatusDraft
	case "halted":
		opts.Status = play.StatusHalted
	default:
		return opts, inputErr(in.status, "is %q: use completed, inProgress (a staged rollout, with %s), draft (the only one a never-published app takes) or halted", v, in.fraction)
	}
	if v := get(in.fraction); v != "" {
		f, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(v, "%")), 64)
		if strings.HasSuffix(v, "%") {
			f /= 100
		}
		if err != nil || !(f > 0 && f < 1) {
			return opts, inputErr(in.fraction, "is %q: give the share of users as a number between 0 and 1 (0.1 for 10%% of users)", v)
		}
		opts.UserFraction = f
	}
	staged := opts.Status == play.StatusInProgress || opts.Status == play.StatusHalted
	switch {
	case staged && opts.UserFraction == 0:
		return opts, inputErr(in.fraction, "is empty, but the release's status is %s (a staged rollout): give the share of users who get the release (0.1 for 10%%)", opts.Status)
	case !staged && opts.UserFraction != 0:
		return opts, inputErr(in.fraction, "is set, but the release's status is %s: a share of users goes with a staged rollout (status inProgress or halted); leave it empty to release to every user of the track", opts.Status)
	}
	switch v := get(in.notForReview); strings.ToLower(v) {
	case "", "false", "no":
	case "true", "yes":
		opts.ChangesNotSentForReview = true
	default:
		return opts, inputErr(in.notForReview, "is %q: use true or false", v)
	}
	if v := get(in.expectCert); v != "" {
		h := strings.NewReplacer(":", "", " ", "").Replace(v)
		if b, err := hex.DecodeString(h); err != nil || len(b) != 32 {
			return opts, inputErr(in.expectCert, "is %q: give the upload certificate's SHA-256 as Play Console shows it (Setup > App signing): 64 hex digits, colons allowed", v)
		}
		opts.ExpectCertSHA256 = h
	}
	if dir := get(in.notes); dir != "" {
		code, err := versionCode(path)
		if err != nil {
			return opts, err
		}
		notes, err := play.ReadReleaseNotes(st.workspacePath(dir), code)
		if err != nil {
			return opts, &InputError{Input: in.notes, Msg: "cannot be read: " + strings.TrimPrefix(err.Error(), "play: "), Err: err}
		}
		opts.ReleaseNotes = notes
	}
	return opts, nil
}

// versionCode reads the version code of the Android build at path.
func versionCode(path string) (int64, error) {
	info, err := androidinfo.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("reading the version code of %s: %w", filepath.Base(path), err)
	}
	return info.VersionCode, nil
}

// playCredentials returns the first credentials input set and its JSON
// (given as JSON or base64 JSON), or none for the credentials of the
// environment. The JSON stays in memory.
func (st *actionStep) playCredentials(in storeInputs) (string, []byte, error) {
	for _, name := range in.credentials {
		raw := strings.TrimSpace(st.a.SecretInput(name))
		if raw == "" {
			continue
		}
		data := []byte(raw)
		if !bytes.HasPrefix(data, []byte("{")) {
			var err error
			if data, err = st.a.Base64Input(name); err != nil {
				return name, nil, err
			}
		}
		var head struct {
			Type string `json:"type"`
		}
		// The parser's error is not kept: it may quote the key.
		if json.Unmarshal(data, &head) != nil || head.Type == "" {
			return name, nil, inputErr(name, "is not a Google credentials file: paste the service account's JSON key (or leave it empty and use google-github-actions/auth)")
		}
		return name, data, nil
	}
	return "", nil, nil
}

// playClient is a Google Play client with the credentials of input credIn
// (creds), else STORESIGN_PLAY_TOKEN, else Application Default
// Credentials.
func (st *actionStep) playClient(ctx context.Context, credIn string, creds []byte) (*play.Client, error) {
	opts := []play.Option{play.WithoutEnvironment(), play.WithLogger(st.logger())}
	if ep := st.a.getenv(play.EndpointEnv); ep != "" {
		opts = append(opts, play.WithEndpoint(ep))
	}
	switch tok := strings.TrimSpace(st.a.getenv(play.TokenEnv)); {
	case creds != nil:
		opts = append(opts, play.WithCredentialsJSON(creds))
	case tok != "":
		st.a.Mask(tok)
		opts = append(opts, play.WithAccessToken(tok))
	}
	c, err := play.New(ctx, opts...)
	if err != nil {
		if credIn != "" {
			return nil, &InputError{Input: credIn, Msg: "cannot be used: " + strings.TrimPrefix(err.Error(), "play: "), Err: err}
		}
		return nil, fmt.Errorf("connecting to Google Play: %w", err)
	}
	return c, nil
}

// playError names the input to fix for a refused upload, when one can
// fix it.
func (st *actionStep) playError(in storeInputs, credIn, name string, err error) error {
	msg := err.Error()
	var pe *play.Error
	if errors.As(err, &pe) && pe.Msg != "" {
		msg = pe.Msg
	}
	var ws *play.WrongSignerError
	switch {
	case errors.As(err, &ws):
		m := strings.Replace(err.Error(), "the expected fingerprint", "the expected fingerprint ("+st.a.Name(in.expectCert)+")", 1)
		return &wrapError{msg: "uploading " + name + ": " + m, err: err}
	case errors.Is(err, play.ErrNotAndroid) && in.file != "":
		return &InputError{Input: in.file, Msg: "is not an Android APK or app bundle: " + strings.TrimPrefix(err.Error(), "play: "), Err: err}
	case errors.Is(err, play.ErrWrongPackage) && in.pkg != "":
		return &InputError{Input: in.pkg, Msg: "does not match the build: " + err.Error(), Err: err}
	case errors.Is(err, play.ErrTrackNotFound):
		return &InputError{Input: in.track, Msg: fmt.Sprintf("is %q: %s", st.a.Input(in.track), msg), Err: err}
	case errors.Is(err, play.ErrDraftApp):
		// An empty status is the default, completed.
		v := st.a.Input(in.status)
		if v == "" {
			v = string(play.StatusCompleted)
		}
		return &InputError{Input: in.status, Msg: fmt.Sprintf("is %s: %s", v, msg), Err: err}
	case errors.Is(err, play.ErrAuth) && credIn != "":
		return &InputError{Input: credIn, Msg: "was refused: " + msg, Err: err}
	case errors.Is(err, play.ErrRejected) && strings.Contains(msg, "changesNotSentForReview"):
		v := st.a.Input(in.notForReview)
		if v == "" {
			v = "false"
		}
		msg = strings.ReplaceAll(msg, " (--changes-not-sent-for-review)", "")
		msg = strings.ReplaceAll(msg, "changes-not-sent-for-review", in.notForReview)
		return &InputError{Input: in.notForReview, Msg: fmt.Sprintf("is %s: %s", v, msg), Err: err}
	case errors.Is(err, play.ErrBadOptions) && strings.Contains(msg, "release notes"):
		return &InputError{Input: in.notes, Msg: "cannot be used: " + strings.TrimPrefix(strings.TrimPrefix(msg, play.ErrBadOptions.Error()), ": "), Err: err}
	}
	return fmt.Errorf("uploading %s: %w", name, err)
}

// progress logs an upload's progress at each tenth, per file.
func (st *actionStep) progress(label string) func(play.Progress) {
	last := map[string]int64{}
	return func(p play.Progress) {
		if p.Total <= 0 {
			return
		}
		tenth := p.Done * 10 / p.Total
		if prev, ok := last[p.What]; ok && prev == tenth {
			return
		}
		last[p.What] = tenth
		what := label
		if p.What == "mapping" {
			what = "Uploading the mapping file to Google Play"
		}
		st.a.Infof("%s: %d%% (%.1f of %.1f MiB)", what, tenth*10, float64(p.Done)/(1<<20), float64(p.Total)/(1<<20))
	}
}

// appStoreUpload uploads the IPA to App Store Connect and reports the
// build.
func (st *actionStep) appStoreUpload(ctx context.Context) error {
	if st.action != actRelease && st.action != actAppStoreUpload {
		return fmt.Errorf("%w %q: the App Store Connect upload runs in the release and appstore-upload actions", ErrUnknownAction, st.action)
	}
	in := storeInputsOf(st.action)
	raw := st.a.SecretInput(in.key)
	path, err := st.storeFile(in, KindIPA)
	if err != nil {
		return err
	}
	keyID, issuer := st.a.Input(in.keyID), st.a.Input(in.issuer)
	for _, c := range []struct{ input, v string }{{in.keyID, keyID}, {in.issuer, issuer}, {in.key, strings.TrimSpace(raw)}} {
		if c.v == "" {
			return inputErr(c.input, "is empty: the App Store Connect upload needs %s, %s and %s (App Store Connect > Users and Access > Integrations)", in.keyID, in.issuer, in.key)
		}
	}
	wait, err := waitInput(st.a.Input(in.wait))
	if err != nil {
		return inputErr(in.wait, "is %q: give a duration such as 30m (a bare number is minutes), or 0 not to wait", st.a.Input(in.wait))
	}
	data := []byte(raw)
	if !strings.Contains(raw, "-----BEGIN") {
		if data, err = st.a.Base64Input(in.key); err != nil {
			return err
		}
	}
	key, err := appstore.ParseKey(data, keyID, issuer)
	if err != nil {
		return &InputError{Input: in.key, Msg: "is not an App Store Connect API key: give the AuthKey_XXXX.p8 file (App Store Connect > Users and Access > Integrations) encoded with base64, or its PEM text", Err: err}
	}
	opts := []appstore.Option{appstore.WithoutEnvironment(), appstore.WithLogger(st.logger())}
	if ep := st.a.getenv(appstore.EndpointEnv); ep != "" {
		opts = append(opts, appstore.WithEndpoint(ep))
	}
	c, err := appstore.New(ctx, key, opts...)
	if err != nil {
		return fmt.Errorf("connecting to App Store Connect: %w", err)
	}
	name := filepath.Base(path)
	res, err := c.UploadFile(ctx, path, appstore.UploadOptions{Wait: wait, Progress: st.ascProgress(name)})
	if err != nil {
		return st.appStoreError(in, name, err)
	}
	for _, w := range res.Warnings {
		st.a.Warning("Check the build in App Store Connect", oneLine(w.String()))
	}
	if err := st.setOutputs("build-id", res.BuildID, "build-upload-id", res.BuildUploadID, "state", res.State, "link", res.URL); err != nil {
		return err
	}
	note := ""
	if !res.Final {
		note = " (App Store Connect is still processing it: it shows in TestFlight when done)"
	}
	st.a.Infof("Uploaded %s %s (%s): %s%s", res.BundleID, res.Version, res.Build, res.State, note)
	return st.a.AddSummary(appStoreMarkdown(res, note))
}

// appStoreMarkdown is the step summary of an App Store Connect upload.
func appStoreMarkdown(res *appstore.Result, note string) string {
	var b strings.Builder
	b.WriteString("### Uploaded to App Store Connect\n\n| | |\n|---|---|\n")
	fmt.Fprintf(&b, "| App | `%s` %s (%s) |\n", codeText(res.BundleID), cell(res.Version), cell(res.Build))
	fmt.Fprintf(&b, "| Build upload | `%s` |\n", codeText(res.BuildUploadID))
	build := res.BuildID
	if build == "" {
		build = "not yet"
	}
	fmt.Fprintf(&b, "| Build | `%s` |\n", codeText(build))
	fmt.Fprintf(&b, "| State | %s%s |\n", cell(res.State), note)
	if l := markdownLink(res.URL); l != "" {
		fmt.Fprintf(&b, "| Link | %s |\n", l)
	}
	return b.String()
}

// waitInput reads a wait input: a duration, a bare number of minutes, or
// empty or 0 for no wait.
func waitInput(v string) (time.Duration, error) {
	if v == "" || v == "0" {
		return 0, nil
	}
	if n, err := strconv.Atoi(v); err == nil {
		v = strconv.Itoa(n) + "m"
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("bad duration %q", v)
	}
	return d, nil
}

// appStoreError names the input to fix for a refused upload, when one
// can fix it.
func (st *actionStep) appStoreError(in storeInputs, name string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "appstore: ")
	var bu *appstore.BuildUsedError
	if errors.As(err, &bu) {
		// The library's advice names the CLI; the actions have inputs.
		m := fmt.Sprintf("build %s of version %s of %s was already uploaded to App Store Connect", bu.Build, bu.Version, bu.BundleID)
		if bu.Detail != "" {
			m += " (App Store Connect: " + bu.Detail + ")"
		}
		if st.action == actRelease {
			return &InputError{Input: "bundle-version", Msg: "must be raised: " + m + ": give a higher build number and run again", Err: err}
		}
		return &wrapError{msg: "uploading " + name + ": " + m + ": re-sign the IPA with a higher build number (the bundle-version input of resign-ipa) and upload again", err: err}
	}
	switch {
	case errors.Is(err, appstore.ErrUnauthorized):
		return &InputError{Input: in.keyID + " and " + in.issuer, Msg: fmt.Sprintf("were refused with the key of %s: check that they are the key's ID and the issuer ID shown in App Store Connect > Users and Access > Integrations, and that the key is not revoked (%s)", in.key, msg), Err: err}
	case errors.Is(err, appstore.ErrForbidden):
		return &InputError{Input: in.key, Msg: "holds a key whose role may not upload builds: give the key the App Manager or Developer role (Admin works too) in App Store Connect > Users and Access > Integrations (" + msg + ")", Err: err}
	case errors.Is(err, appstore.ErrBadKey):
		return &InputError{Input: in.key, Msg: "is not an App Store Connect API key: " + msg, Err: err}
	case errors.Is(err, ipa.ErrNotIPA) && in.file != "":
		return &InputError{Input: in.file, Msg: "is not an iOS app archive: " + strings.TrimPrefix(msg, "ipa: "), Err: err}
	}
	return fmt.Errorf("uploading %s: %w", name, err)
}

// ascProgress logs the upload at each tenth and each new processing
// state.
func (st *actionStep) ascProgress(name string) func(appstore.Progress) {
	lastTenth, lastState := int64(-1), ""
	return func(p appstore.Progress) {
		switch p.Phase {
		case appstore.PhaseUploading:
			tenth := int64(10)
			if p.Total > 0 {
				tenth = p.Sent * 10 / p.Total
			}
			if tenth != lastTenth {
				lastTenth = tenth
				st.a.Infof("Uploading %s to App Store Connect: %d%% (%.1f of %.1f MiB)", shown(name), tenth*10, float64(p.Sent)/(1<<20), float64(p.Total)/(1<<20))
			}
		case appstore.PhaseProcessing:
			if p.State != lastState {
				lastState = p.State
				st.a.Infof("App Store Connect is processing the build: %s", p.State)
			}
		}
	}
}
