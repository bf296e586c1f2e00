package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/storesign/storesign/drive"
	"github.com/storesign/storesign/internal/androidinfo"
	"github.com/storesign/storesign/internal/atomicfile"
	"github.com/storesign/storesign/internal/jsondoc"
	"github.com/storesign/storesign/signing"
	"github.com/storesign/storesign/store/play"
)

// newPlayCmd is "storesign play upload|share".
func newPlayCmd(e *env) *cobra.Command {
	return newGroup("play <command>", "Upload Android builds to Google Play",
		`Upload app bundles and APKs to Google Play: onto a track in one edit, or to
internal app sharing.`,
		`  storesign play upload --track internal --credentials play.json signed.aab
  storesign play share --credentials play.json signed.aab`,
		newPlayUploadCmd(e), newPlayShareCmd(e))
}

// playFlags are the flags every play command takes.
type playFlags struct {
	credentials string
	accessToken string
	asJSON      bool
	quiet       bool
	verbose     bool
	stderr      io.Writer
}

func (p *playFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&p.credentials, "credentials", "", "Google credentials `file` (service account key or external_account JSON), or env:VAR holding the JSON or its base64; default: STORESIGN_PLAY_TOKEN, else Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS)")
	fs.StringVar(&p.accessToken, "access-token", "", "a ready OAuth access token (gcloud auth print-access-token): env:VAR or file:PATH")
	fs.BoolVar(&p.asJSON, "json", false, jsonFlagUsage)
	fs.BoolVar(&p.quiet, "quiet", false, "print no progress")
	fs.BoolVarP(&p.verbose, "verbose", "v", false, "log each retry on stderr")
}

func (p *playFlags) client(ctx context.Context) (*play.Client, error) {
	var opts []play.Option
	if p.credentials != "" && p.accessToken != "" {
		return nil, usagef("play: give --credentials or --access-token, not both")
	}
	if name, ok := strings.CutPrefix(p.credentials, "env:"); ok {
		data, err := credentialsFromEnv(name)
		if err != nil {
			return nil, err
		}
		opts = append(opts, play.WithCredentialsJSON(data))
	} else if p.credentials != "" {
		opts = append(opts, play.WithCredentialsFile(p.credentials))
	}
	if p.accessToken != "" {
		if !strings.HasPrefix(p.accessToken, "env:") && !strings.HasPrefix(p.accessToken, "file:") {
			return nil, usagef("play: --access-token takes env:VAR or file:PATH, so that the token stays off the command line (the value is not shown)")
		}
		tok, err := signing.ReadPassword(p.accessToken)
		if err != nil {
			return nil, fmt.Errorf("reading --access-token: %w", err)
		}
		tok = strings.TrimSpace(tok)
		if tok == "" {
			return nil, fmt.Errorf("reading --access-token: the token is empty: run gcloud auth print-access-token")
		}
		opts = append(opts, play.WithAccessToken(tok))
	}
	if p.verbose && p.stderr != nil {
		opts = append(opts, play.WithLogger(slog.New(slog.NewTextHandler(p.stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	}
	return play.New(ctx, opts...)
}

// credentialsFromEnv reads credentials JSON, or its base64, from the
// environment variable name (a secret of a workflow): it never touches
// the disk. Errors hold neither the value nor the name.
func credentialsFromEnv(name string) ([]byte, error) {
	v, ok := os.LookupEnv(name)
	v = strings.TrimSpace(v)
	if !ok || name == "" || v == "" {
		return nil, errors.New("reading --credentials: the environment variable named in the env: spec is empty or not set: set it to the service account key (JSON, or JSON encoded with base64)")
	}
	if strings.HasPrefix(v, "{") {
		return []byte(v), nil
	}
	b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(v), ""))
	if err != nil || !strings.HasPrefix(strings.TrimSpace(string(b)), "{") {
		return nil, errors.New("reading --credentials: the environment variable holds neither JSON nor base64-encoded JSON: paste the service account key file's content")
	}
	return b, nil
}

// progressFunc adapts the Drive progress printer to Play's uploads: one
// printer per file uploaded.
func (p *playFlags) progressFunc(name string) (func(play.Progress), func(ok bool)) {
	printers := map[string]*progress{}
	var cur *progress
	update := func(pr play.Progress) {
		pp := printers[pr.What]
		if pp == nil {
			if cur != nil {
				cur.finish(true)
			}
			label := "uploading " + shown(name)
			if pr.What == "mapping" {
				label = "uploading the mapping file"
			}
			pp = newProgress(p.stderr, label, p.quiet)
			printers[pr.What] = pp
			cur = pp
		}
		pp.update(drive.Progress{Done: pr.Done, Total: pr.Total, Elapsed: pr.Elapsed})
	}
	finish := func(ok bool) {
		if cur != nil {
			cur.finish(ok)
		}
	}
	return update, finish
}

const playUploadLong = `Uploads an app bundle or APK to Google Play and puts it on a track
(internal, alpha, beta, production, or a closed testing track's name) in
one edit, committed at the end; nothing is left half done on failure.
The package name and version code are read from the file. Before
uploading, it checks that the version code is on no track and was never
uploaded, that the file is of --package when given, and with
--expect-cert-sha256 that it is signed with that upload certificate (as
Play Console shows it under Setup > App signing). A refused upload exits
1 with Google Play's reason. --release-notes-dir holds <lang>.txt files
(en-US.txt), or fastlane's <lang>/changelogs/<versionCode>.txt layout.
Credentials: --credentials FILE, --access-token env:VAR, the
STORESIGN_PLAY_TOKEN environment variable, or Application Default
Credentials. STORESIGN_PLAY_ENDPOINT points at another server (a playtest
fake). Prints package=, version-code=, track=, status=, sha256=, edit=,
url= lines on stdout, or the result as JSON with --json.`

// newPlayUploadCmd is "storesign play upload".
func newPlayUploadCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "upload [--package PKG] --track TRACK [--status completed|inProgress|draft|halted] [--user-fraction F] [--release-name N] [--release-notes-dir DIR] [--mapping FILE] [--changes-not-sent-for-review] [--expect-cert-sha256 HEX] [--in-app-update-priority 0-5] [--json] FILE.aab|FILE.apk",
		Short: "Upload an app bundle or APK to a Google Play track",
		Long:  playUploadLong,
		Example: `  storesign play upload --track internal --credentials play.json signed.aab
  storesign play upload --track production --status inProgress --user-fraction 0.1 \
      --release-notes-dir notes/ --expect-cert-sha256 AB:CD:... signed.aab`,
		Args:              cobra.ArbitraryArgs,
		ValidArgsFunction: completeExt("aab", "apk"),
	}
	fs := cmd.Flags()
	pf := playFlags{stderr: e.stderr}
	pf.register(fs)
	pkg := fs.String("package", "", "the app's package `name` (default: the file's; when given, the file must be of it)")
	track := fs.String("track", "", "the `track`: internal, alpha, beta, production or a closed testing track's name")
	status := fs.String("status", "completed", "the release's `status`: completed, inProgress (a staged rollout, with --user-fraction), draft or halted")
	fraction := fs.String("user-fraction", "", "with --status inProgress or halted: the `share` of users, between 0 and 1 (0.1 for 10%)")
	name := fs.String("release-name", "", "the release's `name` in Play Console (default: Play names it after the versionName)")
	notesDir := fs.String("release-notes-dir", "", "a `folder` of release notes: <lang>.txt files, or fastlane's <lang>/changelogs/<versionCode>.txt")
	mapping := fs.String("mapping", "", "a deobfuscation `file` to upload with the build (R8/ProGuard mapping.txt)")
	notForReview := fs.Bool("changes-not-sent-for-review", false, "commit without sending the changes for review (when Play asks for it)")
	priority := fs.Int("in-app-update-priority", 0, "the release's in-app update `priority`, 0 (default) to 5 (most urgent), as fastlane supply's in_app_update_priority")
	cert := fs.String("expect-cert-sha256", "", "the upload certificate's SHA-256 `hex` (colons allowed): refuse a file signed otherwise")
	completeFlags(cmd, map[string]cobra.CompletionFunc{
		"credentials": completeExt("json"), "mapping": completeExt("txt"),
		"track":                  completeWords("internal", "alpha", "beta", "production"),
		"status":                 completeWords("completed", "inProgress", "draft", "halted"),
		"in-app-update-priority": completeWords("0", "1", "2", "3", "4", "5"),
	})
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		if fs.NArg() != 1 {
			return usagef("play upload: give one .aab or .apk")
		}
		if *track == "" {
			return usagef("play upload: --track is required (internal, alpha, beta, production or a closed testing track)")
		}
		opts := play.UploadOptions{Package: *pkg, Track: *track, Status: play.Status(*status), ReleaseName: *name,
			ChangesNotSentForReview: *notForReview, ExpectCertSHA256: *cert, InAppUpdatePriority: *priority}
		if *priority < 0 || *priority > 5 {
			return usagef("play upload: --in-app-update-priority %d: want 0 (default) to 5 (most urgent)", *priority)
		}
		switch opts.Status {
		case play.StatusCompleted, play.StatusInProgress, play.StatusDraft, play.StatusHalted:
		default:
			return usagef("play upload: --status %q: want completed, inProgress, draft or halted", *status)
		}
		if *fraction != "" {
			f, err := strconv.ParseFloat(strings.TrimSuffix(*fraction, "%"), 64)
			if strings.HasSuffix(*fraction, "%") {
				f /= 100
			}
			if err != nil || !(f > 0 && f < 1) {
				return usagef("play upload: --user-fraction %q: want a number between 0 and 1 (0.1 for 10%% of users)", *fraction)
			}
			opts.UserFraction = f
		}
		staged := opts.Status == play.StatusInProgress || opts.Status == play.StatusHalted
		if staged && opts.UserFraction == 0 {
			return usagef("play upload: --status %s needs --user-fraction (0.1 for 10%% of users)", opts.Status)
		}
		if !staged && opts.UserFraction != 0 {
			return usagef("play upload: --user-fraction goes with --status inProgress or halted")
		}
		in := fs.Arg(0)
		if *notesDir != "" {
			code, err := versionCodeOf(in)
			if err != nil {
				return err
			}
			notes, err := play.ReadReleaseNotes(*notesDir, code)
			if err != nil {
				return err
			}
			opts.ReleaseNotes = notes
		}
		c, err := pf.client(ctx)
		if err != nil {
			return err
		}
		update, finish := pf.progressFunc(filepath.Base(in))
		opts.Progress = update
		res, err := c.UploadFile(ctx, in, *mapping, opts)
		finish(err == nil)
		if err != nil {
			return err
		}
		if pf.asJSON {
			return jsondoc.Write(e.stdout, jsondoc.PlayUpload(in, res))
		}
		kv := []string{"package", res.Package, "version-code", strconv.FormatInt(res.VersionCode, 10), "track", res.Track, "status", string(res.Status)}
		if res.UserFraction != 0 {
			kv = append(kv, "user-fraction", strconv.FormatFloat(res.UserFraction, 'g', -1, 64))
		}
		if res.ReleaseName != "" {
			kv = append(kv, "release-name", res.ReleaseName)
		}
		kv = append(kv, "sha256", res.SHA256, "edit", res.EditID)
		if res.Mapping {
			kv = append(kv, "mapping", "uploaded")
		}
		kv = append(kv, "url", res.StoreURL)
		return printValues(e.stdout, kv...)
	}
	return cmd
}

// versionCodeOf reads the version code of the build at path, for the
// release notes of fastlane's layout.
func versionCodeOf(path string) (int64, error) {
	info, err := androidinfo.ReadFile(path)
	var pe *fs.PathError
	var nr *atomicfile.NotRegularError
	switch {
	case errors.As(err, &pe), errors.As(err, &nr):
		return 0, err // not read: the caller says which file and why
	case err != nil:
		return 0, fmt.Errorf("%w: %s: %v", play.ErrNotAndroid, path, err)
	}
	return info.VersionCode, nil
}

const playShareLong = `Uploads an app bundle or APK to Google Play's internal app sharing and
prints the download URL testers open on their devices (with internal app
sharing enabled in the Play Store app). Any version code is taken.
Credentials as for 'storesign play upload'.`

// newPlayShareCmd is "storesign play share".
func newPlayShareCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:               "share [--package PKG] [--expect-cert-sha256 HEX] [--json] FILE.aab|FILE.apk",
		Short:             "Upload to Google Play's internal app sharing and print the link",
		Long:              playShareLong,
		Example:           `  storesign play share --credentials play.json signed.aab`,
		Args:              cobra.ArbitraryArgs,
		ValidArgsFunction: completeExt("aab", "apk"),
	}
	fs := cmd.Flags()
	pf := playFlags{stderr: e.stderr}
	pf.register(fs)
	pkg := fs.String("package", "", "the app's package `name` (default: the file's; when given, the file must be of it)")
	cert := fs.String("expect-cert-sha256", "", "the upload certificate's SHA-256 `hex`: refuse a file signed otherwise")
	completeFlags(cmd, map[string]cobra.CompletionFunc{"credentials": completeExt("json")})
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		if fs.NArg() != 1 {
			return usagef("play share: give one .aab or .apk")
		}
		c, err := pf.client(ctx)
		if err != nil {
			return err
		}
		in := fs.Arg(0)
		update, finish := pf.progressFunc(filepath.Base(in))
		res, err := c.ShareFile(ctx, in, play.ShareOptions{Package: *pkg, ExpectCertSHA256: *cert, Progress: update})
		finish(err == nil)
		if err != nil {
			return err
		}
		if pf.asJSON {
			return jsondoc.Write(e.stdout, jsondoc.PlayShare(in, res))
		}
		_, err = fmt.Fprintln(e.stdout, lineValue(res.DownloadURL))
		return err
	}
	return cmd
}
