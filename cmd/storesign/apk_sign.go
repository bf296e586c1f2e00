package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/storesign/storesign/internal/jsondoc"
	"github.com/storesign/storesign/signing"
	"github.com/storesign/storesign/signing/apk"
)

const apksUsage = "apk sign (--ks KEYSTORE [--ks-pass pass:|env:|file:|stdin] [--ks-key-alias ALIAS] | --key KEY --cert CERT) --out OUT.apk [flags] IN.apk"

// apksFlags are `apksigner sign`'s flags that storesign supports, with
// the same names and value syntax.
type apksFlags struct {
	keyFlags
	rot                       apksRotationFlags
	in, out                   string
	v1Name                    string
	minSDK, maxSDK, libAlign  int
	v1, v2, v3, v4, preserved boolValue
	debuggable                boolValue
	alignFileSize, verity     boolValue
	verbose, werr, asJSON     bool
}

func (f *apksFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.in, "in", "", "the APK to sign (or give it as the argument)")
	fs.StringVar(&f.out, "out", "", "where to write the signed APK (required; never the input)")
	f.keyFlags.register(fs, "signing key")
	f.rot.register(fs)
	fs.StringVar(&f.v1Name, "v1-signer-name", "", "base `name` of the JAR signature files (default: the key alias, or the key file's name)")
	fs.IntVar(&f.minSDK, "min-sdk-version", 0, "lowest Android API `level` the signatures must work on (default: the APK's minSdkVersion)")
	fs.IntVar(&f.maxSDK, "max-sdk-version", 0, "highest Android API `level` the signatures must work on (default: all)")
	fs.IntVar(&f.libAlign, "lib-page-alignment", apk.DefaultLibPageAlignment, "alignment in `bytes` of uncompressed native libraries")
	optBoolVar(fs, &f.v1, "v1-signing-enabled", "true or false: JAR signing (default: only when minSdkVersion < 24)")
	optBoolVar(fs, &f.v2, "v2-signing-enabled", "true or false: APK Signature Scheme v2 (default: true)")
	optBoolVar(fs, &f.v3, "v3-signing-enabled", "true or false: APK Signature Scheme v3 (default: true)")
	optBoolVar(fs, &f.v4, "v4-signing-enabled", "true or false: write OUT.apk.idsig, APK Signature Scheme v4 (default: false)")
	optBoolVar(fs, &f.debuggable, "debuggable-apk-permitted", "true or false: sign APKs whose manifest says android:debuggable (default: true)")
	optBoolVar(fs, &f.alignFileSize, "align-file-size", "true or false: pad the APK to a multiple of 4096 bytes with its zip comment (default: false)")
	optBoolVar(fs, &f.verity, "verity-enabled", "true or false: add the verity signature algorithm to v2 and v3 signers (default: false)")
	optBoolVar(fs, &f.preserved, "alignment-preserved", "true or false: keep the input's alignment instead of aligning (default: false)")
	fs.BoolVarP(&f.verbose, "verbose", "v", false, "print more detail")
	fs.BoolVar(&f.werr, "Werr", false, "treat warnings as errors: nothing is written when signing warns")
	fs.BoolVar(&f.asJSON, "json", false, jsonFlagUsage)
}

// newAPKSignCmd is `storesign apk sign`, modelled on `apksigner sign`:
// an apksigner command line works with only the program name changed.
// It parses its flags itself: the options after --next-signer and
// --stamp-signer are another signer's.
func newAPKSignCmd(e *env) *cobra.Command {
	var f apksFlags
	cmd := &cobra.Command{
		Use:   "sign (--ks KEYSTORE [--ks-pass SPEC] [--ks-key-alias ALIAS] | --key KEY --cert CERT) --out OUT.apk [--json] [flags] IN.apk",
		Short: "Sign an APK as apksigner does, verified before it is written",
		Long: `Sign an APK with APK Signature Schemes v1 (JAR), v2, v3 and optionally v4,
as apksigner 35 does: with the same inputs the bytes are apksigner's. The
signed APK is verified for the Android versions it serves before it is
renamed into place; the input is never modified.

Passwords (--ks-pass, --key-pass) are pass:PASSWORD, env:VAR, file:PATH or
stdin (the default, prompting on a terminal). Boolean options take true or
false as the next word (--v1-signing-enabled false) or after "=", and mean
true alone. Options after --next-signer (key rotation with --lineage) and
after --stamp-signer (a source stamp) are that signer's: --ks, --ks-key-alias,
--ks-pass, --key-pass, --pass-encoding, --ks-type, --key, --cert and
--v1-signer-name, up to the next other option.`,
		Example: `  storesign apk sign --ks release.jks --ks-pass env:KS_PASS --out signed.apk app.apk
  storesign apk sign --key key.pk8 --cert cert.x509.pem --v1-signing-enabled false --out signed.apk app.apk
  storesign apk sign --ks old.jks --ks-pass env:OLD_PASS --next-signer --ks new.jks --ks-pass env:NEW_PASS \
      --lineage lineage.bin --out rotated.apk app.apk`,
		DisableFlagParsing: true,
		ValidArgsFunction:  completeManually("apk"),
	}
	f.register(cmd.Flags())
	completeKeyFlags(cmd)
	completeBools(cmd)
	completeFlags(cmd, map[string]cobra.CompletionFunc{"in": completeExt("apk"), "out": completeExt("apk"), "lib-page-alignment": completeWords("4096", "16384")})
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		own, next := f.rot.split(args, cmd.Flags())
		if help, err := parseOwnFlags(cmd, own); help || err != nil {
			return err
		}
		return f.run(cmd.Context(), e, cmd.Flags().Args(), next)
	}
	return cmd
}

// run signs the APK: the output is verified before it is renamed into
// place.
func (f *apksFlags) run(ctx context.Context, e *env, args []string, next []signerArgs) error {
	in, err := apksInput(f.in, args)
	if err != nil {
		return err
	}
	if f.out == "" {
		return usagef("apk sign: --out is required: storesign never signs an APK in place")
	}
	if f.libAlign <= 0 || f.libAlign > 0xffff || f.libAlign&(f.libAlign-1) != 0 {
		return usagef("apk sign: --lib-page-alignment %d: give a power of two such as 4096 or 16384", f.libAlign)
	}
	if f.minSDK < 0 || f.maxSDK < 0 {
		return usagef("apk sign: --min-sdk-version and --max-sdk-version must be positive")
	}
	if f.minSDK > 0 && f.maxSDK > 0 && f.minSDK > f.maxSDK {
		return usagef("apk sign: --min-sdk-version %d is above --max-sdk-version %d", f.minSDK, f.maxSDK)
	}
	if err := f.rot.checkSigners(next, f.v3.Ptr()); err != nil {
		return err
	}
	// One password reader for all the signers, as apksigner: stdin and
	// each file give their next line to the next password asked.
	pr := newPasswordReader(e.stderr)
	id, err := f.load("apk sign", pr, "signer #1")
	if err != nil {
		return err
	}
	var verifyTime time.Duration
	var warnings []string
	opts := apk.Options{
		V1SigningEnabled:   f.v1.Ptr(),
		V2SigningEnabled:   f.v2.Ptr(),
		V3SigningEnabled:   f.v3.Ptr(),
		V4SigningEnabled:   f.v4.set && f.v4.val,
		MinSDKVersion:      f.minSDK,
		AlignmentPreserved: f.preserved.set && f.preserved.val,
		RefuseDebuggable:   f.debuggable.set && !f.debuggable.val,
		AlignFileSize:      f.alignFileSize.set && f.alignFileSize.val,
		VerityEnabled:      f.verity.set && f.verity.val,
		LibPageAlignment:   f.libAlign,
		SignerName:         f.signerName(),
		Check: func(ctx context.Context, r io.ReaderAt, size int64) error {
			start := time.Now()
			defer func() { verifyTime = time.Since(start) }()
			var err error
			warnings, err = f.check(ctx, r, size, f.out)
			if err == nil && f.werr && len(warnings) > 0 {
				return fmt.Errorf("%w (-Werr)", &apksWarningError{warnings[0]})
			}
			return err
		},
	}
	if err := f.rot.apply(next, &opts, pr); err != nil {
		return err
	}
	start := time.Now()
	opts.Identity = id
	res, err := apk.SignFile(ctx, in, f.out, opts)
	var we *apksWarningError
	if errors.As(err, &we) {
		return fmt.Errorf("%s was not written: %s (-Werr: warnings are errors)", f.out, we.msg)
	}
	if err != nil {
		return apksExplain(in, f.out, err)
	}
	for _, w := range warnings {
		fmt.Fprintln(e.stderr, "WARNING: "+oneLine(w)) // one line, as apk verify prints them: they name the output file
	}
	if f.asJSON {
		return jsondoc.Write(e.stdout, jsondoc.APKSign(in, f.out, res, opts, warnings))
	}
	apksReport(e.stdout, in, f.out, id, res, f.verbose)
	if f.verbose {
		fmt.Fprintf(e.stdout, "time:        %s (signing %s, verifying %s)\n", time.Since(start).Round(time.Millisecond), res.Duration.Round(time.Millisecond), verifyTime.Round(time.Millisecond))
	}
	return nil
}

// apksWarningError is a signing warning that -Werr turns into an error.
type apksWarningError struct{ msg string }

func (e *apksWarningError) Error() string { return e.msg }

// check verifies the signed APK before it is renamed into place, for
// the Android versions it serves: from the minimum SDK version on, or,
// when the schemes asked for leave older versions out (an explicit
// --v1-signing-enabled false below API level 24, as apksigner accepts
// it), from the first version they cover, with a warning naming the
// versions that will not install it.
func (f *apksFlags) check(ctx context.Context, r io.ReaderAt, size int64, out string) ([]string, error) {
	opts := apk.VerifyOptions{MinSDK: f.minSDK, MaxSDK: f.maxSDK}
	res, err := apk.Verify(ctx, r, size, opts)
	if err == nil || res == nil || !errors.Is(err, apk.ErrNotVerified) {
		return nil, err
	}
	served := apksServedMinSDK(res.MinSDK, f.v1.Ptr(), f.v2.Ptr())
	if served <= res.MinSDK && apksJAROnly(f.v2.Ptr(), f.v3.Ptr()) && res.TargetSDK >= apksSDKR && (f.maxSDK == 0 || f.maxSDK >= res.TargetSDK) {
		// JAR signing only, asked for, on an APK that targets Android 11
		// or newer: apksigner signs it; Android from its targetSdkVersion
		// on will not install it.
		opts.MaxSDK = res.TargetSDK - 1
		if opts.MinSDK > opts.MaxSDK {
			return nil, err
		}
		if _, err := apk.Verify(ctx, r, size, opts); err != nil {
			return nil, err
		}
		return []string{fmt.Sprintf("--v2-signing-enabled false and --v3-signing-enabled false: Android %s (API level %d, the targetSdkVersion) and newer will not install %s: an APK that targets it needs APK Signature Scheme v2 or newer; it verifies up to API level %d only",
			apksAndroidName(res.TargetSDK), res.TargetSDK, filepath.Base(out), res.TargetSDK-1)}, nil
	}
	if served <= res.MinSDK || (f.maxSDK > 0 && served > f.maxSDK) {
		return nil, err
	}
	opts.MinSDK = served
	if _, err := apk.Verify(ctx, r, size, opts); err != nil {
		return nil, err
	}
	scheme := "--v1-signing-enabled false"
	if served == apksSDKv3 {
		scheme = "--v1-signing-enabled false and --v2-signing-enabled false"
	}
	levels := fmt.Sprintf("API levels %d to %d", res.MinSDK, served-1)
	if res.MinSDK == served-1 {
		levels = fmt.Sprintf("API level %d", res.MinSDK)
	}
	return []string{fmt.Sprintf("%s: Android %s and older (%s, which minSdkVersion %d includes) will not install %s: it verifies on Android %s (API level %d) and newer only",
		scheme, apksAndroidName(served-1), levels, res.MinSDK, filepath.Base(out), apksAndroidName(served), served)}, nil
}

// API levels of the first Android versions that check APK Signature
// Scheme v2 and v3, and of Android 11, which wants v2 or newer for APKs
// that target it.
const (
	apksSDKv2 = 24
	apksSDKv3 = 28
	apksSDKR  = 30
)

// apksJAROnly reports whether v2 and v3 were both turned off.
func apksJAROnly(v2, v3 *bool) bool {
	return v2 != nil && !*v2 && v3 != nil && !*v3
}

// apksServedMinSDK returns the lowest API level that the schemes asked
// for cover, for an APK whose minimum SDK version is minSDK: JAR
// signing (on by default below 24) covers every level, v2 covers 24 and
// newer, v3 alone 28 and newer.
func apksServedMinSDK(minSDK int, v1, v2 *bool) int {
	switch {
	case v1 == nil || *v1:
		return minSDK
	case v2 == nil || *v2:
		return max(minSDK, apksSDKv2)
	}
	return max(minSDK, apksSDKv3)
}

// apksAndroidName is the Android version of an API level, for the
// levels the v1-off warning names.
func apksAndroidName(level int) string {
	switch level {
	case 23:
		return "6.0"
	case 24:
		return "7.0"
	case 27:
		return "8.1"
	case 28:
		return "9"
	case 30:
		return "11"
	case 31:
		return "12"
	case 32:
		return "12L"
	case 33:
		return "13"
	case 34:
		return "14"
	case 35:
		return "15"
	}
	return fmt.Sprintf("API %d", level)
}

// apksInput returns the input named by --in or the one positional
// argument, as apksigner takes it.
func apksInput(in string, args []string) (string, error) {
	switch {
	case in != "" && len(args) > 0:
		return "", usagef("apk sign: give the input once: --in IN.apk or IN.apk")
	case len(args) > 1:
		return "", usagef("apk sign: one APK at a time, got %d", len(args))
	case len(args) == 1:
		in = args[0]
	}
	if in == "" {
		return "", usagef("apk sign: no APK given: storesign %s", apksUsage)
	}
	return in, nil
}

// signerName is apksigner's default v1 signer name: --v1-signer-name,
// else the key alias, else the key file's name up to its first dot.
func (f *apksFlags) signerName() string {
	switch {
	case f.v1Name != "":
		return f.v1Name
	case f.alias != "":
		return f.alias
	case f.key != "":
		name, _, _ := strings.Cut(filepath.Base(f.key), ".")
		return name
	}
	return "" // the keystore's own alias, else CERT
}

// apksExplain turns a signing error into one line naming the file and
// what to do.
func apksExplain(in, out string, err error) error {
	if e := incompleteInput(in, err); e != nil {
		return e
	}
	if e := apkUnsupported(in, err); e != nil {
		return e
	}
	var dup *apk.DuplicateEntryError
	switch {
	case errors.Is(err, fs.ErrNotExist) && !strings.Contains(err.Error(), "output folder"):
		return fmt.Errorf("%s: no such file: check the path", in)
	case errors.Is(err, apk.ErrNotZip):
		return fmt.Errorf("%s is not an APK (not a zip archive): pass a .apk file", in)
	case errors.Is(err, apk.ErrNotAPK):
		return fmt.Errorf("%s has no AndroidManifest.xml: it is not an APK (an app bundle is signed with 'storesign aab sign')", in)
	case errors.As(err, &dup):
		return fmt.Errorf("%s has two entries named %q: Android refuses such APKs; rebuild it", in, dup.Name)
	case errors.Is(err, apk.ErrMalformed):
		return fmt.Errorf("%s is truncated or damaged (%s): download or build it again", in, strings.TrimPrefix(strings.TrimPrefix(err.Error(), apk.ErrMalformed.Error()), ": "))
	case errors.Is(err, apk.ErrDebuggable):
		return fmt.Errorf("%s was not signed: its manifest makes it debuggable, or does not say whether it is (android:debuggable), and --debuggable-apk-permitted false refuses it: sign a release build", in)
	case errors.Is(err, apk.ErrSignersWithoutLineage):
		return usagef("apk sign: several signers and APK Signature Scheme v3 need a signing certificate lineage: pass --lineage LINEAGE (from 'storesign apk rotate') to rotate the key, or --v3-signing-enabled false to sign v1 and v2 with each signer")
	case errors.Is(err, apk.ErrNoScheme):
		return usagef("apk sign: every signature scheme is off: enable at least one of --v1-signing-enabled, --v2-signing-enabled, --v3-signing-enabled")
	case errors.Is(err, apk.ErrNotVerified):
		msg := strings.TrimPrefix(err.Error(), "checking the signed APK: ")
		msg = strings.TrimPrefix(msg, apk.ErrNotVerified.Error()+": ")
		return fmt.Errorf("%s was not written: the signed APK would not verify (%s): check the --v1/--v2/--v3-signing-enabled flags against the APK's minSdkVersion", out, msg)
	case errors.Is(err, signing.ErrUnsupportedKey):
		return fmt.Errorf("cannot sign %s: %s", in, strings.TrimPrefix(err.Error(), "signing: "))
	}
	msg := strings.TrimPrefix(err.Error(), "apk: ")
	if strings.HasPrefix(msg, "output ") || strings.Contains(msg, in) || strings.Contains(msg, out) {
		return rephrase(msg, err)
	}
	return rephrase("signing "+in+": "+msg, err)
}

func apksReport(w io.Writer, in, out string, id *signing.Identity, res *apk.Result, verbose bool) {
	fmt.Fprintf(w, "signed %s -> %s (verified)\n", in, out)
	fmt.Fprintf(w, "schemes:     %s\n", strings.Join(res.Schemes(), ", "))
	fmt.Fprintf(w, "signer:      %s\n", res.Signer.Subject)
	fmt.Fprintf(w, "certificate: SHA-256 %s\n", signing.CertificateSHA256(res.Signer))
	if res.RotatedSigner != nil {
		fmt.Fprintf(w, "rotated to:  %s (SHA-256 %s)\n", res.RotatedSigner.Subject, signing.CertificateSHA256(res.RotatedSigner))
	}
	if res.V1 {
		fmt.Fprintf(w, "v1 files:    META-INF/%s.SF, META-INF/%s.%s (%s digests)\n", res.V1Name, res.V1Name, apksBlockExt(id), apksHashName(res))
	}
	if res.LibPageAlignment == 0 {
		fmt.Fprintf(w, "alignment:   preserved (%d entries realigned)\n", res.Realigned)
	} else {
		fmt.Fprintf(w, "alignment:   stored entries 4 bytes, native libraries %d bytes (%d entries realigned)\n", res.LibPageAlignment, res.Realigned)
	}
	fmt.Fprintf(w, "min SDK:     %d\n", res.MinSDKVersion)
	fmt.Fprintf(w, "entries:     %d\n", res.Entries)
	fmt.Fprintf(w, "size:        %d bytes\n", res.Size)
	if res.V4 {
		fmt.Fprintf(w, "v4:          %s.idsig\n", out)
	}
}

func apksBlockExt(id *signing.Identity) string {
	if a := id.KeyAlgorithm(); a == "EC" || a == "DSA" {
		return a
	}
	return "RSA"
}

func apksHashName(res *apk.Result) string {
	switch res.V1Digest.String() {
	case "SHA-1":
		return "SHA-1"
	case "SHA-512":
		return "SHA-512"
	}
	return "SHA-256"
}
