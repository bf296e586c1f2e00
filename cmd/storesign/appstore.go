package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/storesign/storesign/internal/jsondoc"
	"github.com/storesign/storesign/signing"
	"github.com/storesign/storesign/signing/ipa"
	"github.com/storesign/storesign/store/appstore"
)

// newAppStoreCmd is "storesign appstore upload".
func newAppStoreCmd(e *env) *cobra.Command {
	return newGroup("appstore <command>", "Upload iOS builds to App Store Connect (TestFlight)",
		`Upload IPAs to App Store Connect as new builds, with an App Store Connect API
key, and wait for their processing.`,
		`  storesign appstore upload --api-key AuthKey_ABC123.p8 --api-issuer ISSUER_ID --wait 30m signed.ipa`,
		newAppStoreUploadCmd(e))
}

const appStoreUploadLong = `Uploads the IPA to App Store Connect (TestFlight) as a new build of the app
with its bundle ID; version and build number are read from the IPA, which
must pass 'storesign ipa check' first. --api-key is the .p8 file, or
env:VAR / file:PATH holding its text or base64. STORESIGN_ASC_ENDPOINT
points at another server.`

// newAppStoreUploadCmd is "storesign appstore upload".
func newAppStoreUploadCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "upload --api-key AuthKey_ID.p8 [--api-key-id ID] --api-issuer ISSUER [--wait DURATION] [--json] FILE.ipa",
		Short: "Upload an IPA to App Store Connect as a new build",
		Long:  appStoreUploadLong,
		Example: `  storesign appstore upload --api-key AuthKey_ABC123.p8 --api-issuer ISSUER_ID signed.ipa
  storesign appstore upload --api-key env:ASC_KEY --api-key-id ABC123 --api-issuer ISSUER_ID --wait 30m --json signed.ipa`,
		Args:              cobra.ArbitraryArgs,
		ValidArgsFunction: completeExt("ipa"),
	}
	fs := cmd.Flags()
	keySpec := fs.String("api-key", "", "the API key: AuthKey_<ID>.p8, env:VAR or file:PATH (its PEM text or base64)")
	keyID := fs.String("api-key-id", "", "the key ID (default: the <ID> of AuthKey_<ID>.p8)")
	issuer := fs.String("api-issuer", "", "the issuer ID (App Store Connect > Users and Access > Integrations)")
	wait := fs.Duration("wait", 0, "wait up to this long for App Store Connect to process the build (e.g. 30m; 0: do not wait)")
	poll := fs.Duration("poll", 15*time.Second, "time between two looks at the processing state")
	asJSON := fs.Bool("json", false, jsonFlagUsage)
	showProgress := fs.Bool("progress", false, "print the upload's progress (every 10%) and the processing state on stderr")
	skip := fs.Bool("skip-checks-unsafe", false, "upload even when the pre-flight checks find errors (Apple will most likely refuse the build)")
	completeFlags(cmd, map[string]cobra.CompletionFunc{"api-key": completeExt("p8")})
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		if fs.NArg() != 1 {
			return usagef("appstore upload: give one IPA")
		}
		if *keySpec == "" || *issuer == "" {
			return usagef("appstore upload: --api-key and --api-issuer are required")
		}
		key, err := loadASCKey(*keySpec, *keyID, *issuer)
		if err != nil {
			return err
		}
		c, err := appstore.New(ctx, key)
		if err != nil {
			return err
		}
		in := fs.Arg(0)
		opts := appstore.UploadOptions{Wait: *wait, PollInterval: *poll, SkipChecksUnsafe: *skip}
		if *showProgress {
			opts.Progress = progressPrinter(e)
		}
		res, err := c.UploadFile(ctx, in, opts)
		var pe *appstore.PreflightError
		if errors.As(err, &pe) && len(pe.Findings) > 0 {
			return uploadRefusal(in, pe.Findings)
		}
		if err != nil {
			return err
		}
		if *asJSON {
			return jsondoc.Write(e.stdout, jsondoc.AppStoreUpload(in, res))
		}
		// The IPA's values, which --skip-checks-unsafe leaves unchecked.
		fmt.Fprintf(e.stdout, "uploaded %s %s (%s) from %s\n", lineValue(res.BundleID), lineValue(res.Version), lineValue(res.Build), lineValue(filepath.Base(in)))
		fmt.Fprintf(e.stdout, "build upload: %s\n", res.BuildUploadID)
		if res.BuildID != "" {
			fmt.Fprintf(e.stdout, "build: %s\n", res.BuildID)
		}
		state := res.State
		if !res.Final {
			state += " (App Store Connect is still processing it: it shows in TestFlight when done)"
		}
		fmt.Fprintf(e.stdout, "state: %s\nlink: %s\nmd5: %s\nsha256: %s\n", state, res.URL, res.MD5, res.SHA256)
		for _, w := range res.Warnings {
			fmt.Fprintf(e.stdout, "warning: %s\n", oneLine(w.String()))
		}
		return nil
	}
	return cmd
}

// uploadRefusal is the error of an IPA the pre-flight checks of
// appstore upload refused before sending it: as ipa check says it, the
// file, how many errors, the first one and what to do about it.
func uploadRefusal(file string, errs []ipa.Finding) error {
	first := errs[0]
	fix := first.Fix
	if fix == "" {
		fix = "fix it, then upload the IPA again"
	}
	more := ""
	if len(errs) > 1 {
		more = " (storesign ipa check lists them all)"
	}
	return fmt.Errorf("%s: App Store Connect would refuse it, nothing was uploaded: %d error(s), first %s: %s: %s: %s%s", file, len(errs), first.Code, first.Bundle, first.Message, fix, more)
}

// loadASCKey reads the API key: a file name, or env:VAR / file:PATH
// holding the key's text or base64. Errors never hold the key.
func loadASCKey(spec, keyID, issuer string) (*appstore.Key, error) {
	switch {
	case strings.HasPrefix(spec, "env:"), strings.HasPrefix(spec, "pass:"):
		v, err := signing.ReadPassword(spec)
		if err != nil {
			return nil, fmt.Errorf("reading --api-key: %w", err)
		}
		if keyID == "" {
			return nil, usagef("appstore upload: give --api-key-id with a key from %s", strings.SplitN(spec, ":", 2)[0]+":")
		}
		return appstore.ParseKey([]byte(v), keyID, issuer)
	case strings.HasPrefix(spec, "file:"):
		spec = strings.TrimPrefix(spec, "file:")
	}
	if _, err := os.Stat(spec); err != nil {
		return nil, fmt.Errorf("reading --api-key: %w", pathErr(err))
	}
	k, err := appstore.ParseKeyFile(spec, keyID, issuer)
	if err != nil && keyID == "" && !strings.HasPrefix(filepath.Base(spec), "AuthKey_") {
		return nil, usagef("appstore upload: give --api-key-id (the key file is not named AuthKey_<ID>.p8)")
	}
	return k, err
}

// progressPrinter prints a line on stderr at each tenth of the upload
// and at each new processing state.
func progressPrinter(e *env) func(appstore.Progress) {
	lastTenth, lastState := -1, ""
	return func(p appstore.Progress) {
		switch p.Phase {
		case appstore.PhaseUploading:
			tenth := 10
			if p.Total > 0 {
				tenth = int(p.Sent * 10 / p.Total)
			}
			if tenth != lastTenth {
				lastTenth = tenth
				fmt.Fprintf(e.stderr, "uploading: %d%% (%.1f of %.1f MiB)\n", tenth*10, float64(p.Sent)/(1<<20), float64(p.Total)/(1<<20))
			}
		case appstore.PhaseProcessing:
			if p.State != lastState {
				lastState = p.State
				fmt.Fprintf(e.stderr, "processing: %s\n", lineValue(p.State))
			}
		}
	}
}
