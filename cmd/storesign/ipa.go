package main

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/storesign/storesign/internal/atomicfile"
	"github.com/storesign/storesign/internal/jsondoc"
	"github.com/storesign/storesign/signing"
	"github.com/storesign/storesign/signing/ipa"
	"github.com/storesign/storesign/signing/macho"
	"github.com/storesign/storesign/signing/provision"
)

// newIPACmd is `storesign ipa resign|verify|inspect|check`.
func newIPACmd(e *env) *cobra.Command {
	return newGroup("ipa <command>", "Re-sign, verify, inspect and check iOS apps",
		`Re-sign an iOS app archive (.ipa) with a distribution certificate and
provisioning profiles, verify its code signatures as codesign would, show
what codesign -dvvv shows, and run the pre-flight checks of an App Store
upload.`,
		`  storesign ipa resign app.ipa --out signed.ipa --p12 dist.p12 --p12-pass env:P12_PASS --profile App.mobileprovision
  storesign ipa verify signed.ipa
  storesign ipa check signed.ipa`,
		newIPAResignCmd(e), newIPAVerifyCmd(e), newIPAInspectCmd(e), newIPACheckCmd(e))
}

// newIPAResignCmd is `storesign ipa resign`.

func newIPAResignCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "resign app.ipa --out signed.ipa (--p12 F [--p12-pass SPEC] | --key F --cert F [--key-pass SPEC]) --profile P [--profile P2...] [flags]",
		Short: "Re-sign an IPA with a distribution identity and provisioning profiles",
		Long: `Re-sign every bundle of an IPA (the app, its extensions, frameworks and
Watch app) with the distribution certificate and the provisioning profile
whose application identifier matches each bundle. Entitlements are fitted to
each profile; each change is reported. The output is verified before it is
written, and the input is never modified. The input is the argument, or
--in app.ipa.

Passwords are given as apksigner takes them: pass:PASSWORD, env:VAR,
file:PATH (its first line) or stdin (a line of standard input). Without
--p12-pass, and without --key-pass for an encrypted --key, the password is
read from standard input, with a prompt on a terminal.`,
		Example: `  storesign ipa resign app.ipa --out signed.ipa --p12 dist.p12 --p12-pass env:P12_PASS \
      --profile App.mobileprovision --profile Widget.mobileprovision
  storesign ipa resign app.ipa --out signed.ipa --p12 dist.p12 \
      --profile App.mobileprovision   # asks for the .p12 password
  storesign ipa resign --in app.ipa --out signed.ipa --p12 dist.p12 --p12-pass file:p12.pass \
      --profile App.mobileprovision --bundle-id com.example.app --bundle-version 42 --json`,
		Args:              cobra.ArbitraryArgs,
		ValidArgsFunction: completeExt("ipa"),
	}
	fs := cmd.Flags()
	in := fs.String("in", "", "the IPA to re-sign, never modified (or give it as the argument)")
	out := fs.String("out", "", "where to write the re-signed IPA (written only once verified)")
	p12 := fs.String("p12", "", "PKCS#12 file (.p12) with the distribution certificate and its key")
	p12Pass := fs.String("p12-pass", "", "the .p12 password: pass:PASSWORD, env:VAR, file:PATH or stdin (default: stdin, prompting on a terminal)")
	keyFile := fs.String("key", "", "private key file (PEM or DER, PKCS#1/PKCS#8), instead of --p12")
	certFile := fs.String("cert", "", "certificate file (PEM or DER), with --key")
	keyPass := fs.String("key-pass", "", "password of an encrypted --key: pass:, env:, file: or stdin (default: stdin, prompting on a terminal)")
	chainFile := fs.String("chain", "", "PEM file with the Apple WWDR intermediate (default: from the .p12, else fetched from the certificate's AIA URL)")
	var profiles stringList
	fs.Var(&profiles, "profile", "provisioning profile (.mobileprovision); repeat for extensions")
	bundleID := fs.String("bundle-id", "", "new bundle ID of the app; nested bundle IDs follow by prefix")
	shortVersion := fs.String("short-version", "", "set CFBundleShortVersionString: one to three numbers with dots, such as 1.4.0")
	bundleVersion := fs.String("bundle-version", "", "set CFBundleVersion (the build number) of the app and its extensions: one to three numbers with dots, such as 42")
	displayName := fs.String("display-name", "", "set CFBundleDisplayName of the app")
	entsFile := fs.String("entitlements", "", "entitlements plist for the app, instead of those it was signed with fitted to its profile")
	dropUngranted := fs.Bool("drop-ungranted-entitlements", false, "sign without the entitlements a bundle was signed with that its new profile does not grant (each one is reported), instead of failing")
	dropWatch := fs.Bool("drop-watch", false, "remove the Watch app")
	dropPlugins := fs.Bool("drop-plugins", false, "remove the app extensions (PlugIns/, Extensions/)")
	level := fs.Int("compression-level", ipa.DefaultCompressionLevel, "deflate `level` of the rewritten entries (signed binaries, plists, profiles): 0 stores them, fastest, as zsign does; 1 (fast) to 9 (smallest)")
	asJSON := fs.Bool("json", false, jsonFlagUsage)
	completeFlags(cmd, map[string]cobra.CompletionFunc{
		"in": completeExt("ipa"), "out": completeExt("ipa"), "p12": completeExt("p12", "pfx"),
		"key": completeExt("pem", "key", "der", "pk8"), "cert": completeExt("pem", "cer", "crt", "der"),
		"chain": completeExt("pem"), "profile": completeExt("mobileprovision"), "entitlements": completeExt("plist", "entitlements", "xml"),
		"compression-level": completeWords("0", "1", "6", "9"),
	})
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		input, err := ipaResignInput(*in, fs.Args())
		if err != nil {
			return err
		}
		*in = input
		if *level < 0 || *level > 9 {
			return usagef("ipa resign: --compression-level is 0 (store, fastest) to 9 (smallest), not %d", *level)
		}
		// The versions App Store Connect takes, checked before any
		// password is asked (ipa.Resign refuses the others too).
		for _, v := range []struct {
			flag, value, want string
			ok                func(string) bool
		}{
			{"--short-version", *shortVersion, "one to three numbers with dots, such as 1.4.0", ipa.ValidShortVersion},
			{"--bundle-version", *bundleVersion, "one to three numbers with dots, such as 42 or 1.4.2", ipa.ValidBundleVersion},
		} {
			if v.value != "" && !v.ok(v.value) {
				return usagef("ipa resign: %s is %q: it must be %s (App Store Connect refuses others)", v.flag, v.value, v.want)
			}
		}
		switch {
		case *in == "":
			return usagef("ipa resign: no IPA given: storesign ipa resign app.ipa --out signed.ipa ...")
		case *out == "":
			return usagef("ipa resign: --out is required (where to write the re-signed IPA)")
		case *p12 == "" && (*keyFile == "" || *certFile == ""):
			return usagef("ipa resign: no signing identity: pass --p12 (with --p12-pass), or --key and --cert")
		case *p12 != "" && (*keyFile != "" || *certFile != ""):
			return usagef("ipa resign: pass --p12 or --key/--cert, not both")
		case len(profiles) == 0:
			return usagef("ipa resign: --profile is required (the app's App Store profile, and one per extension)")
		}
		if _, err := os.Stat(*in); err != nil {
			return fmt.Errorf("%s: %w", *in, pathErr(err))
		}

		id, err := loadIPAIdentity(e, *p12, *p12Pass, *keyFile, *certFile, *keyPass)
		if err != nil {
			return err
		}
		opts := ipa.Options{
			Identity:         id,
			BundleID:         *bundleID,
			ShortVersion:     *shortVersion,
			BundleVersion:    *bundleVersion,
			DisplayName:      *displayName,
			DropWatch:        *dropWatch,
			DropPlugins:      *dropPlugins,
			CompressionLevel: *level,

			DropUngrantedEntitlements: *dropUngranted,
		}
		for _, p := range profiles {
			prof, err := provision.ReadFile(p)
			if err != nil {
				return fmt.Errorf("%s: %w", p, pathErr(err))
			}
			opts.Profiles = append(opts.Profiles, prof)
		}
		if *entsFile != "" {
			b, err := atomicfile.ReadInput(*entsFile, "an entitlements plist", atomicfile.MaxPlistFile)
			if err != nil {
				return fmt.Errorf("%s: %w: check --entitlements", *entsFile, pathErr(err))
			}
			opts.Entitlements = b
		}
		if err := preCheck(id, opts.Profiles); err != nil {
			return err
		}
		var extra []*x509.Certificate
		if *chainFile != "" {
			b, err := atomicfile.ReadInput(*chainFile, "a certificate chain", atomicfile.MaxKeyFile)
			if err != nil {
				return fmt.Errorf("%s: %w: check --chain", *chainFile, pathErr(err))
			}
			if extra, err = signing.ParseCertificates(b); err != nil {
				return fmt.Errorf("--chain %s: %w", *chainFile, err)
			}
		}
		chain, err := macho.ResolveChain(ctx, id.Certificate, macho.ChainOptions{Chain: append(append([]*x509.Certificate{}, id.Chain...), extra...)})
		if err != nil {
			return fmt.Errorf("%w (or pass it with --chain)", err)
		}
		opts.Chain = chain

		rep, err := ipa.ResignFile(ctx, *in, *out, opts)
		if err != nil {
			return ipaInputError(*in, err)
		}
		for _, w := range rep.Warnings {
			fmt.Fprintf(e.stderr, "storesign: warning: %s\n", oneLine(w))
		}
		note := sizeNote(*in, *out, *level)
		if *asJSON {
			if note != "" {
				fmt.Fprintln(e.stderr, note)
			}
			return jsondoc.Write(e.stdout, jsondoc.IPAResign(*in, *out, rep, opts))
		}
		fmt.Fprintf(e.stdout, "re-signed %s -> %s\n", *in, *out)
		printReport(e.stdout, rep, false)
		if note != "" {
			fmt.Fprintln(e.stdout, note)
		}
		return nil
	}
	return cmd
}

// sizeNote explains an output notably larger than its input: the signed
// binaries are stored unless a compression level is given.
func sizeNote(in, out string, level int) string {
	a, err1 := os.Stat(in)
	b, err2 := os.Stat(out)
	if err1 != nil || err2 != nil || level != 0 || a.Size() == 0 || b.Size() < a.Size()+a.Size()/10 {
		return ""
	}
	return fmt.Sprintf("note: %s is %d%% larger than %s: the signed binaries are stored, which is fastest (the App Store recompresses them); --compression-level 1 deflates them",
		filepath.Base(out), (b.Size()-a.Size())*100/a.Size(), filepath.Base(in))
}

// preCheck catches, before any work, what would make the output unusable.
func preCheck(id *signing.Identity, profiles []*provision.Profile) error {
	c := id.Certificate
	now := time.Now()
	if now.After(c.NotAfter) {
		return fmt.Errorf("the signing certificate %q expired on %s: renew it in the Apple Developer portal and export a new .p12", c.Subject.CommonName, c.NotAfter.UTC().Format(time.DateOnly))
	}
	if now.Before(c.NotBefore) {
		return fmt.Errorf("the signing certificate %q is not valid before %s: check the machine's clock", c.Subject.CommonName, c.NotBefore.UTC().Format(time.RFC3339))
	}
	team := ""
	if ou := c.Subject.OrganizationalUnit; len(ou) > 0 {
		team = ou[0]
	}
	for _, p := range profiles {
		if err := p.CheckValid(now); err != nil {
			return err
		}
		if team != "" && p.TeamID != team {
			return fmt.Errorf("profile %q (%s) belongs to team %s but the certificate %q to team %s: use the profile of the certificate's team", p.Name, p.UUID, p.TeamID, c.Subject.CommonName, team)
		}
		if err := p.CheckCertificate(c); err != nil {
			return err
		}
	}
	return nil
}

// ipaResignInput returns the IPA ipa resign re-signs: --in (in) or the
// one positional argument, as apk sign and aab sign take theirs.
func ipaResignInput(in string, args []string) (string, error) {
	for _, a := range args {
		if strings.HasPrefix(a, "pass:") {
			return "", unexpectedArg("ipa resign", []string{a}, "", "--p12-pass")
		}
	}
	switch {
	case len(args) > 1:
		return "", unexpectedArg("ipa resign", args[1:], " (one IPA at a time: give the output with --out)", "--p12-pass")
	case in != "" && len(args) == 1:
		return "", usagef("ipa resign: give the input once: --in app.ipa or app.ipa, not both")
	case len(args) == 1:
		return args[0], nil
	}
	return in, nil
}

// loadIPAIdentity loads --p12, or --key and --cert. Passwords are read
// as apk sign reads --ks-pass (see passwordReader): --p12-pass defaults
// to stdin, prompting on a terminal, and an encrypted --key without
// --key-pass asks for its password on stdin.
func loadIPAIdentity(e *env, p12, p12Pass, keyFile, certFile, keyPass string) (*signing.Identity, error) {
	if p12 == "" {
		return loadKeyCert(e.stderr, keyFile, certFile, keyPass)
	}
	data, err := atomicfile.ReadInput(p12, "a .p12 file", atomicfile.MaxKeyFile)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: check --p12", p12, pathErr(err))
	}
	spec := p12Pass
	if spec == "" {
		spec = "stdin"
	}
	passes, err := newPasswordReader(e.stderr).read(spec, "Keystore password for signer #1")
	if err != nil {
		if p12Pass == "" && errors.Is(err, errStdinClosed) {
			return nil, usagef("ipa resign: --p12-pass is required with --p12 (pass:PASSWORD, env:VAR, file:PATH, or stdin to read it from standard input)")
		}
		return nil, fmt.Errorf("--p12-pass: %w", err)
	}
	// Each form of the password, as apk sign tries a keystore's.
	var id *signing.Identity
	for _, pw := range passes {
		if id, err = signing.LoadPKCS12(data, pw); !errors.Is(err, signing.ErrWrongPassword) {
			break
		}
	}
	if errors.Is(err, signing.ErrWrongPassword) {
		return nil, fmt.Errorf("%s: wrong password: check --p12-pass (the password the .p12 was exported with)", p12)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p12, err)
	}
	return id, nil
}

// newIPAVerifyCmd is `storesign ipa verify`.
func newIPAVerifyCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "verify [--json] [--root FILE] [--allow-expired] [--strict] app.ipa",
		Short: "Verify every code signature of an IPA, as codesign would",
		Long: `Verify the code signatures of every bundle of an IPA: code directories,
resources, entitlements against the embedded profile, the CMS signature and
its certificate chain. Exits 3 when the IPA was read and does not verify.`,
		Example: `  storesign ipa verify signed.ipa
  storesign ipa verify --root AppleIncRootCertificate.pem --json signed.ipa`,
		Args:              cobra.ArbitraryArgs,
		ValidArgsFunction: completeExt("ipa"),
	}
	fs := cmd.Flags()
	asJSON := fs.Bool("json", false, jsonFlagUsage)
	root := fs.String("root", "", "PEM file with the root certificate(s) signatures must chain to (default: Apple Root CA when the signature embeds it, as codesign's do)")
	allowExpired := fs.Bool("allow-expired", false, "accept expired profiles and certificates")
	strict := fs.Bool("strict", false, "also fail signatures that current codesign would not have written (older formats, exec-segment flags that do not follow the entitlements...)")
	completeFlags(cmd, map[string]cobra.CompletionFunc{"root": completeExt("pem", "cer", "crt")})
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		if fs.NArg() != 1 {
			return usagef("ipa verify: want one IPA")
		}
		name := fs.Arg(0)
		opts := ipa.VerifyOptions{AllowExpired: *allowExpired, Strict: *strict}
		if *root != "" {
			b, err := atomicfile.ReadInput(*root, "a certificate file", atomicfile.MaxKeyFile)
			if err != nil {
				return fmt.Errorf("%s: %w: check --root", *root, pathErr(err))
			}
			certs, err := signing.ParseCertificates(b)
			if err != nil {
				return fmt.Errorf("--root %s: %w", *root, err)
			}
			opts.Roots = x509.NewCertPool()
			for _, c := range certs {
				opts.Roots.AddCert(c)
			}
		}
		rep, err := ipa.VerifyFile(ctx, name, opts)
		if rep == nil {
			return ipaInputError(name, err)
		}
		if *asJSON {
			if jerr := jsondoc.Write(e.stdout, jsondoc.IPAVerify(name, rep, err)); jerr != nil {
				return jerr
			}
		} else {
			printReport(e.stdout, rep, true)
		}
		// A chain not checked against Apple's roots, among others: what
		// verifies but deserves a look, as ipa resign prints it.
		for _, w := range rep.Warnings {
			fmt.Fprintf(e.stderr, "storesign: warning: %s\n", oneLine(w))
		}
		if err != nil {
			return notVerified(fmt.Errorf("%s: %w: re-sign it with 'storesign ipa resign', or get the build as its signer delivered it", name, err))
		}
		if !*asJSON {
			fmt.Fprintf(e.stdout, "chain: %s\n", chainSummary(rep))
			fmt.Fprintf(e.stdout, "verified: %s\n", name)
		}
		return nil
	}
	return cmd
}

// chainSummary says what the bundles' certificate chains were checked
// against.
func chainSummary(rep *ipa.Report) string {
	count := map[string]int{}
	for _, b := range rep.Bundles {
		count[b.Anchor]++
	}
	n := len(rep.Bundles)
	switch {
	case count[macho.AnchorApple] == n:
		return "every signature chains to Apple Root CA"
	case count[macho.AnchorRoots] == n:
		return "every signature chains to a --root certificate"
	case count[""] == n:
		return "not checked: the signatures do not embed Apple Root CA; pass --root FILE to check them against a root"
	case count[""] > 0:
		return fmt.Sprintf("not checked for %d of %d signatures, which do not embed Apple Root CA; pass --root FILE to check them against a root", count[""], n)
	}
	return "every signature chains to Apple Root CA or a --root certificate"
}

// newIPAInspectCmd is `storesign ipa inspect`.
func newIPAInspectCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "inspect [--json] app.ipa",
		Short: "Show each bundle's signature, as codesign -dvvv does",
		Long: `Show, for each signed bundle of an IPA, what codesign -dvvv shows: the
identifier, format, CDHashes, authorities, team, requirement, profile and
entitlements, without verifying them.`,
		Example: `  storesign ipa inspect app.ipa
  storesign ipa inspect --json app.ipa`,
		Args:              cobra.ArbitraryArgs,
		ValidArgsFunction: completeExt("ipa"),
	}
	fs := cmd.Flags()
	asJSON := fs.Bool("json", false, jsonFlagUsage)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		if fs.NArg() != 1 {
			return usagef("ipa inspect: want one IPA")
		}
		name := fs.Arg(0)
		rep, err := ipa.InspectFile(ctx, name, ipa.VerifyOptions{})
		if err != nil {
			return ipaInputError(name, err)
		}
		if *asJSON {
			return jsondoc.Write(e.stdout, jsondoc.IPAInspect(name, rep))
		}
		printInspect(e.stdout, rep)
		return nil
	}
	return cmd
}

// printReport prints one line per signed bundle.
func printReport(w io.Writer, rep *ipa.Report, problems bool) {
	fmt.Fprintf(w, "app: %s (%s) version %s (%s)\n", lineValue(rep.Name), lineValue(rep.BundleID), lineValue(rep.Version), lineValue(rep.Build))
	for _, b := range rep.Bundles {
		cd := ""
		if len(b.CDHashes) > 0 {
			cd = b.CDHashes[0]
		}
		line := fmt.Sprintf("  %-9s %-40s cdhash=%s", b.Kind, lineValue(b.Identifier), cd)
		if b.AppleSigned {
			line = fmt.Sprintf("  %-9s %-40s left as Apple signed it", b.Kind, lineValue(b.Identifier))
		}
		if b.Profile != nil {
			line += fmt.Sprintf(" profile=%q (%s, expires %s)", b.Profile.Name, b.Profile.Kind, b.Profile.Expires.UTC().Format(time.DateOnly))
		}
		fmt.Fprintln(w, line)
		printEntitlementChanges(w, b.EntitlementChanges)
		if problems {
			for _, p := range b.Problems {
				fmt.Fprintf(w, "    problem: %s: %s\n", lineValue(b.Path), oneLine(p))
			}
			for _, d := range b.Deviations {
				fmt.Fprintf(w, "    not as codesign writes it: %s: %s\n", lineValue(b.Path), oneLine(d))
			}
		}
	}
}

// printEntitlementChanges prints what Resign did with a bundle's
// entitlements: a line per entitlement changed, dropped or added (one for
// all of them when they all come from the profile for the same reason),
// then those kept as signed.
func printEntitlementChanges(w io.Writer, changes []ipa.EntitlementChange) {
	// The keys and values come from the IPA: a control or layout
	// character in them is shown escaped.
	var kept, added []string
	sameReason := true
	for _, c := range changes {
		switch c.Action {
		case ipa.EntitlementKept:
			kept = append(kept, lineValue(c.Key))
		case ipa.EntitlementAdded:
			added = append(added, lineValue(c.Key)+"="+lineValue(c.New))
		}
		if c.Action != ipa.EntitlementAdded || c.Reason != changes[0].Reason {
			sameReason = false
		}
	}
	if sameReason && len(added) > 1 {
		fmt.Fprintf(w, "    entitlements added (%s): %s\n", oneLine(changes[0].Reason), strings.Join(added, " "))
		return
	}
	for _, c := range changes {
		switch c.Action {
		case ipa.EntitlementChanged:
			fmt.Fprintf(w, "    entitlement changed: %s: %s -> %s (%s)\n", lineValue(c.Key), lineValue(c.Old), lineValue(c.New), oneLine(c.Reason))
		case ipa.EntitlementDropped:
			fmt.Fprintf(w, "    entitlement dropped: %s: %s (%s)\n", lineValue(c.Key), lineValue(c.Old), oneLine(c.Reason))
		case ipa.EntitlementAdded:
			fmt.Fprintf(w, "    entitlement added: %s: %s (%s)\n", lineValue(c.Key), lineValue(c.New), oneLine(c.Reason))
		}
	}
	if len(kept) > 0 {
		fmt.Fprintf(w, "    entitlements kept as signed: %s\n", strings.Join(kept, " "))
	}
}

// printInspect prints what codesign -dvvv shows, per bundle.
func printInspect(w io.Writer, rep *ipa.Report) {
	fmt.Fprintf(w, "App=%s\nBundleIdentifier=%s\nVersion=%s (%s)\n", lineValue(rep.Name), lineValue(rep.BundleID), lineValue(rep.Version), lineValue(rep.Build))
	for _, b := range rep.Bundles {
		fmt.Fprintf(w, "\nPath=%s\n", lineValue(b.Path))
		fmt.Fprintf(w, "Kind=%s\n", b.Kind)
		fmt.Fprintf(w, "Identifier=%s\n", lineValue(b.Identifier))
		fmt.Fprintf(w, "Format=Mach-O (%s)\n", strings.Join(b.Archs, ", "))
		for i, h := range b.CDHashes {
			fmt.Fprintf(w, "CDHash=%s (%s)\n", h, b.Archs[i])
		}
		for _, a := range b.Authority {
			fmt.Fprintf(w, "Authority=%s\n", lineValue(a))
		}
		if b.SigningTime != nil {
			fmt.Fprintf(w, "Signed Time=%s\n", b.SigningTime.UTC().Format(time.RFC1123))
		}
		team := b.TeamID
		if team == "" {
			team = "not set"
		}
		fmt.Fprintf(w, "TeamIdentifier=%s\n", lineValue(team))
		if b.Requirement != "" {
			fmt.Fprintf(w, "designated => %s\n", lineValue(b.Requirement))
		}
		if b.CertificateExpires != nil {
			fmt.Fprintf(w, "CertificateExpires=%s\n", b.CertificateExpires.UTC().Format(time.DateOnly))
		}
		if p := b.Profile; p != nil {
			fmt.Fprintf(w, "Profile=%s (%s) %s team %s %s, expires %s\n", lineValue(p.Name), lineValue(p.UUID), p.Kind, lineValue(p.TeamID), lineValue(p.AppID), p.Expires.UTC().Format(time.DateOnly))
		}
		if b.Entitlements != "" {
			fmt.Fprintf(w, "Entitlements=\n%s", b.Entitlements)
			if !strings.HasSuffix(b.Entitlements, "\n") {
				fmt.Fprintln(w)
			}
		}
		for _, p := range b.Problems {
			fmt.Fprintf(w, "Problem=%s\n", oneLine(p))
		}
	}
}
