package main

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/storesign/storesign/internal/atomicfile"
	"github.com/storesign/storesign/internal/jsondoc"
	"github.com/storesign/storesign/signing"
	"github.com/storesign/storesign/signing/apk"
)

const (
	apkRotateUsage = "apk rotate --out LINEAGE [--in LINEAGE] --old-signer (--ks KS | --key KEY --cert CERT) [--set-CAPABILITY true|false]... --new-signer (--ks KS | --key KEY --cert CERT) [--set-CAPABILITY true|false]...\n\n" +
		"The options after --old-signer and --new-signer are that signer's, up to the next other option:\n" + signerOptionsHelp
	apkLineageUsage = "apk lineage --in LINEAGE|SIGNED.apk [--print-certs] [--print-certs-pem] [-v] [--out LINEAGE --signer (--ks KS | --key KEY --cert CERT) --set-CAPABILITY true|false...]...\n\n" +
		"The options after --signer are that signer's, up to the next other option:\n" + signerOptionsHelp
	signerOptionsHelp = "  --ks KEYSTORE, --ks-key-alias ALIAS, --ks-pass SPEC, --key-pass SPEC, --pass-encoding ENC, --ks-type TYPE,\n" +
		"  --key KEY --cert CERT (as for 'apk sign'), and the capabilities the lineage gives the signer once rotated from\n" +
		"  (default: all but rollback): --set-installed-data, --set-shared-uid, --set-permission, --set-rollback, --set-auth\n" +
		"  (true or false; bare means true)"
)

// capabilityFlags are apksigner's --set-* options of a signer.
var capabilityFlags = []string{"set-installed-data", "set-shared-uid", "set-permission", "set-rollback", "set-auth"}

// signerFlagNames are the options that belong to the signer after a
// --old-signer, --new-signer, --signer or --next-signer marker; the
// bool ones take an optional value.
var signerFlagNames = map[string]bool{
	"ks": false, "ks-key-alias": false, "ks-pass": false, "key-pass": false, "pass-encoding": false,
	"ks-type": false, "key": false, "cert": false, "v1-signer-name": false,
	"set-installed-data": true, "set-shared-uid": true, "set-permission": true, "set-rollback": true, "set-auth": true,
}

// signerArgs is the options of one signer, after its marker.
type signerArgs struct {
	marker string // "old-signer", "new-signer", "signer", "next-signer"
	args   []string
}

// flagName returns the name of an option token ("--key", "-key",
// "--key=x"), and whether it is one.
func flagName(tok string) (string, bool) {
	if !strings.HasPrefix(tok, "-") || tok == "-" || tok == "--" {
		return "", false
	}
	name := strings.TrimLeft(tok, "-")
	name, _, _ = strings.Cut(name, "=")
	return name, name != ""
}

// splitSigners takes apksigner's multi-signer syntax apart: after a
// marker option (e.g. --new-signer) the signer options that follow
// belong to that signer, as apksigner's processSignerParams reads them;
// any other option returns to the command's own. An optional boolean
// (bools: name -> true, from optionalBools) followed by true or false is
// joined to it ("--set-rollback=true"), as both flag parsers take it.
func splitSigners(args []string, markers map[string]bool, bools map[string]bool) (own []string, signers []signerArgs) {
	var cur *signerArgs
	for i := 0; i < len(args); i++ {
		tok := args[i]
		name, isFlag := flagName(tok)
		if !isFlag {
			cur = nil
			own = append(own, tok)
			continue
		}
		if markers[name] {
			signers = append(signers, signerArgs{marker: name})
			cur = &signers[len(signers)-1]
			continue
		}
		dst, optBool := &own, bools[name]
		if optSignerBool, ok := signerFlagNames[name]; ok && cur != nil {
			dst, optBool = &cur.args, optSignerBool
		} else {
			cur = nil
		}
		*dst = append(*dst, tok)
		switch {
		case strings.Contains(tok, "="):
		case optBool:
			if i+1 < len(args) && (args[i+1] == "true" || args[i+1] == "false") {
				i++
				(*dst)[len(*dst)-1] = tok + "=" + args[i]
			}
		case i+1 < len(args) && !isMarker(args[i+1], markers):
			i++
			*dst = append(*dst, args[i])
		}
	}
	return own, signers
}

// isMarker reports whether tok is one of the marker options, which
// never serve as another option's value.
func isMarker(tok string, markers map[string]bool) bool {
	name, ok := flagName(tok)
	return ok && markers[name]
}

// signerSpec is one signer's options: its key and the capabilities it
// sets.
type signerSpec struct {
	keyFlags
	caps         [5]boolValue
	v1SignerName string // --v1-signer-name, for apk sign's next signers
}

// parseSigner parses the options of one signer.
func parseSigner(cmd string, s signerArgs) (*signerSpec, error) {
	var spec signerSpec
	fs := flag.NewFlagSet(cmd+" --"+s.marker, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	spec.keyFlags.register(fs, "key of --"+s.marker)
	for i, name := range capabilityFlags {
		fs.Var(&spec.caps[i], name, "true or false")
	}
	fs.StringVar(&spec.v1SignerName, "v1-signer-name", "", "base name of the signer's JAR signature files")
	if err := parseSignerFlags(fs, s.args); err != nil {
		return nil, usagef("%s: --%s: %v", cmd, s.marker, err)
	}
	if fs.NArg() > 0 {
		return nil, unexpectedArg(cmd+": --"+s.marker, fs.Args(), "", "--ks-pass")
	}
	if len(s.args) == 0 {
		return nil, usagef("%s: --%s given without its options (--ks KEYSTORE or --key KEY --cert CERT)", cmd, s.marker)
	}
	if spec.v1SignerName != "" && s.marker != "next-signer" {
		return nil, usagef("%s: --v1-signer-name does not apply to --%s", cmd, s.marker)
	}
	return &spec, nil
}

// parseSignerFlags parses args into fs. Its errors never hold a value
// given (the standard library's quote it, and its bad syntax error
// prints the whole word, "---ks-pass=pass:SECRET"): a value fs cannot
// parse is named by its flag and the kind of value it takes, as
// flagErrorMessage does for a command's own flags.
func parseSignerFlags(fs *flag.FlagSet, args []string) error {
	var failed *flag.Flag
	fs.VisitAll(func(f *flag.Flag) {
		f.Value = &watchedValue{Value: f.Value, failed: func() { failed = f }}
	})
	err := fs.Parse(args)
	switch {
	case err == nil:
		return nil
	case failed != nil:
		typ := "string"
		if b, ok := failed.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			typ = "bool"
		}
		return errors.New(badFlagValue(failed.Name, typ, nil))
	case strings.HasPrefix(err.Error(), "bad flag syntax: "):
		word, _, _ := strings.Cut(strings.TrimPrefix(err.Error(), "bad flag syntax: "), "=")
		return errors.New("bad flag syntax: " + word)
	}
	return err // an unknown flag or a missing value: named without a value
}

// watchedValue is a flag.Value that calls failed when a value does not
// parse.
type watchedValue struct {
	flag.Value
	failed func()
}

func (w *watchedValue) Set(s string) error {
	err := w.Value.Set(s)
	if err != nil {
		w.failed()
	}
	return err
}

// IsBoolFlag is the wrapped value's, for the parser to take a bare
// boolean flag.
func (w *watchedValue) IsBoolFlag() bool {
	b, ok := w.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// change returns the capabilities the signer's --set-* options set.
func (s *signerSpec) change() apk.CapabilityChange {
	return apk.CapabilityChange{
		InstalledData: s.caps[0].Ptr(), SharedUID: s.caps[1].Ptr(), Permission: s.caps[2].Ptr(),
		Rollback: s.caps[3].Ptr(), Auth: s.caps[4].Ptr(),
	}
}

// maxLineageInput bounds a lineage input: a lineage file, or a signed
// APK whose lineage is read (into memory).
const maxLineageInput = 1 << 30

// readLineageFile reads a lineage file, or the lineage of a signed APK,
// as apksigner's --in and --lineage take them.
func readLineageFile(path, flagName string) (*apk.Lineage, error) {
	data, err := atomicfile.ReadInput(path, "a lineage file or signed APK", maxLineageInput)
	if err != nil {
		return nil, readErr(err, "lineage "+path, flagName)
	}
	var l *apk.Lineage
	if len(data) >= 4 && string(data[:4]) == "PK\x03\x04" {
		// A signed APK, as apksigner takes it: the lineage its v3.1
		// and v3 signers carry.
		l, err = apk.LineageFromAPK(bytes.NewReader(data), int64(len(data)))
	} else {
		l, err = apk.ReadLineage(data)
	}
	if err != nil {
		return nil, fmt.Errorf("lineage %s: %s: check %s", path, strings.TrimPrefix(err.Error(), "apk: "), flagName)
	}
	return l, nil
}

// writeLineageFile writes l to path, atomically.
func writeLineageFile(path string, l *apk.Lineage) error {
	data, err := l.MarshalBinary()
	if err != nil {
		return err
	}
	f, err := atomicfile.Create(path)
	if err != nil {
		return err
	}
	defer f.Abort()
	if _, err := f.File.Write(data); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Commit()
}

// signerHelpFlags registers, for the help of apk rotate and apk
// lineage, the options that belong to a signer (after its marker): the
// command refuses them among its own.
func signerHelpFlags(fs *pflag.FlagSet, marker string) {
	var spec signerSpec
	spec.keyFlags.register(fs, "signer after --"+marker)
	for i, name := range capabilityFlags {
		optBoolVar(fs, &spec.caps[i], name, "true or false: the "+strings.TrimPrefix(name, "set-")+" capability of the signer after --"+marker)
	}
}

// ownSignerFlag returns a signer option given among the command's own
// options (outside a signer), or "".
func ownSignerFlag(fs *pflag.FlagSet) string {
	for name := range signerFlagNames {
		if f := fs.Lookup(name); f != nil && f.Changed {
			return name
		}
	}
	return ""
}

// newAPKRotateCmd is `storesign apk rotate`, as `apksigner rotate`: it
// starts a lineage from --old-signer to --new-signer, or with --in adds
// --new-signer to an existing one, signed by its newest signer.
func newAPKRotateCmd(e *env) *cobra.Command {
	var in, out string
	var minSDK int
	var verbose, asJSON bool
	cmd := &cobra.Command{
		Use:   "rotate --out LINEAGE [--in LINEAGE] [--json] --old-signer SIGNER-OPTIONS --new-signer SIGNER-OPTIONS [flags]",
		Short: "Start or extend a signing certificate lineage (key rotation), as apksigner rotate",
		Long: `Write a signing certificate lineage: the old signer's key signs the new
signer's certificate, so that Android accepts APKs signed with the new key as
updates of those signed with the old one ('storesign apk sign --lineage').
With --in the new signer is added to an existing lineage, after its newest
signer.

The options after --old-signer and --new-signer are that signer's, up to the
next other option:
` + signerOptionsHelp,
		Example: `  storesign apk rotate --out lineage.bin --old-signer --ks old.jks --ks-pass env:OLD_PASS \
      --new-signer --ks new.jks --ks-pass env:NEW_PASS
  storesign apk rotate --out lineage.bin --old-signer --key old.pk8 --cert old.x509.pem --set-rollback true \
      --new-signer --key new.pk8 --cert new.x509.pem`,
		DisableFlagParsing: true,
		ValidArgsFunction:  completeManually(),
	}
	fs := cmd.Flags()
	fs.StringVar(&in, "in", "", "lineage `file` to extend (default: start a new lineage)")
	fs.StringVar(&out, "out", "", "where to write the lineage (required)")
	fs.IntVar(&minSDK, "min-sdk-version", 0, "accepted for apksigner compatibility (a lineage always targets Android 9 or later)")
	fs.BoolVarP(&verbose, "verbose", "v", false, "say what was done")
	fs.BoolVar(&asJSON, "json", false, jsonFlagUsage+": the lineage written")
	markerVar(fs, "old-signer", "the signer options that follow are the current signer's (its key signs the new one)")
	markerVar(fs, "new-signer", "the signer options that follow are the new signer's")
	signerHelpFlags(fs, "old-signer or --new-signer")
	completeKeyFlags(cmd)
	completeBools(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		own, signers := splitSigners(args, map[string]bool{"old-signer": true, "new-signer": true}, optionalBools(fs))
		if help, err := parseOwnFlags(cmd, own); help || err != nil {
			return err
		}
		if name := ownSignerFlag(fs); name != "" {
			return usagef("apk rotate: --%s belongs to a signer: give it after --old-signer or --new-signer", name)
		}
		if fs.NArg() > 0 {
			return unexpectedArg("apk rotate", fs.Args(), "", "--ks-pass")
		}
		return apkRotate(e, in, out, verbose, asJSON, signers)
	}
	return cmd
}

// apkRotate writes the lineage of apk rotate, and with asJSON prints its
// document (the -v message going to stderr).
func apkRotate(e *env, in, out string, verbose, asJSON bool, signers []signerArgs) error {
	var old, nw *signerSpec
	for _, s := range signers {
		spec, err := parseSigner("apk rotate", s)
		if err != nil {
			return err
		}
		if s.marker == "old-signer" {
			old = spec
		} else {
			nw = spec
		}
	}
	switch {
	case old == nil:
		return usagef("apk rotate: the old signer is missing: --old-signer --key KEY --cert CERT (or --ks KEYSTORE)")
	case nw == nil:
		return usagef("apk rotate: the new signer is missing: --new-signer --key KEY --cert CERT (or --ks KEYSTORE)")
	case out == "":
		return usagef("apk rotate: --out LINEAGE is required")
	}
	// One password reader for both, the old signer's read first, and
	// apksigner's names in the prompts.
	pr := newPasswordReader(e.stderr)
	oldID, err := old.load("apk rotate --old-signer", pr, "old signer")
	if err != nil {
		return err
	}
	newID, err := nw.load("apk rotate --new-signer", pr, "new signer")
	if err != nil {
		return err
	}
	var l *apk.Lineage
	if in != "" {
		if l, err = readLineageFile(in, "--in"); err != nil {
			return err
		}
		if _, err := l.SetCapabilities(oldID.Certificate, old.change()); err != nil {
			return fmt.Errorf("lineage %s: the old signer (%s) is not in it: give its newest signer as --old-signer", in, oldID.Certificate.Subject)
		}
		l, err = l.Rotate(nil, oldID, newID.Certificate, nw.change().Apply(apk.DefaultCapabilities))
	} else {
		l, err = apk.NewLineage(nil, oldID, old.change().Apply(apk.DefaultCapabilities), newID.Certificate, nw.change().Apply(apk.DefaultCapabilities))
	}
	if err != nil {
		return rotateExplain(err)
	}
	if err := writeLineageFile(out, l); err != nil {
		return err
	}
	if asJSON {
		if verbose {
			fmt.Fprintln(e.stderr, "Rotation entry generated.")
		}
		return jsondoc.Write(e.stdout, jsondoc.APKRotate(l, out))
	}
	if verbose {
		fmt.Fprintln(e.stdout, "Rotation entry generated.")
	}
	return nil
}

// rotateExplain words a lineage error for the command line.
func rotateExplain(err error) error {
	if errors.Is(err, signing.ErrKeyMismatch) {
		return errors.New("the old signer's private key does not match its certificate")
	}
	return errors.New(strings.TrimPrefix(err.Error(), "apk: "))
}

// newAPKLineageCmd is `storesign apk lineage`, as `apksigner
// lineage`: it prints a lineage's signers and capabilities, and with
// --signer and --set-* options updates the capabilities (written to
// --out).
func newAPKLineageCmd(e *env) *cobra.Command {
	var in, out string
	var printCerts, printPEM, verbose, asJSON boolValue
	cmd := &cobra.Command{
		Use:   "lineage --in LINEAGE|SIGNED.apk [--print-certs] [--print-certs-pem] [-v] [--json] [--out LINEAGE --signer SIGNER-OPTIONS...] [flags]",
		Short: "Print a lineage's signers, or change their capabilities, as apksigner lineage",
		Long: `Print the signers of a signing certificate lineage (a lineage file, or the
lineage of a signed APK) and their capabilities, or change the capabilities
of its signers, written to --out.

The options after --signer are that signer's, up to the next other option:
` + signerOptionsHelp,
		Example: `  storesign apk lineage --in lineage.bin --print-certs
  storesign apk lineage --in lineage.bin --out lineage2.bin --signer --key old.pk8 --cert old.x509.pem --set-rollback true`,
		DisableFlagParsing: true,
		ValidArgsFunction:  completeManually(),
	}
	fs := cmd.Flags()
	fs.StringVar(&in, "in", "", "lineage `file`, or a signed APK, to read (required)")
	fs.StringVar(&out, "out", "", "where to write the lineage when capabilities changed")
	optBoolVar(fs, &printCerts, "print-certs", "true or false: print each signer's certificate and capabilities")
	optBoolVar(fs, &printPEM, "print-certs-pem", "true or false: also print the certificates in PEM")
	fs.VarP(&verbose, "verbose", "v", "true or false: print key details and what changed")
	fs.Lookup("verbose").NoOptDefVal = "true"
	optBoolVar(fs, &asJSON, "json", jsonFlagUsage+"; the certificates and capabilities are in it")
	markerVar(fs, "signer", "the signer options that follow name a signer of the lineage and the capabilities to set")
	signerHelpFlags(fs, "signer")
	completeKeyFlags(cmd)
	completeBools(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		own, signers := splitSigners(args, map[string]bool{"signer": true}, optionalBools(fs))
		if help, err := parseOwnFlags(cmd, own); help || err != nil {
			return err
		}
		if name := ownSignerFlag(fs); name != "" {
			return usagef("apk lineage: --%s belongs to a signer: give it after --signer", name)
		}
		if fs.NArg() > 0 {
			return unexpectedArg("apk lineage", fs.Args(), "", "--ks-pass")
		}
		return apkLineage(e, in, out, printCerts, printPEM, verbose, asJSON.val, signers)
	}
	return cmd
}

// apkLineage prints or updates the lineage of apk lineage.
// With asJSON stdout has only the lineage document: the messages of -v
// go to stderr and the certificates are in the document.
func apkLineage(e *env, in, out string, printCerts, printPEM, verbose boolValue, asJSON bool, signers []signerArgs) error {
	w := e.stdout
	if asJSON {
		w = e.stderr
	}
	if in == "" {
		return usagef("apk lineage: --in LINEAGE is required")
	}
	l, err := readLineageFile(in, "--in")
	if err != nil {
		return err
	}
	v := verbose.set && verbose.val
	updated := false
	pr := newPasswordReader(e.stderr) // one for all the signers, as apksigner
	for i, s := range signers {
		spec, err := parseSigner("apk lineage", s)
		if err != nil {
			return err
		}
		name := fmt.Sprintf("signer #%d", i+1)
		cert, err := spec.certificate("apk lineage --signer", pr, name)
		if err != nil {
			return err
		}
		changed, err := l.SetCapabilities(cert, spec.change())
		if err != nil {
			return fmt.Errorf("the signer %s was not found in the specified lineage", name)
		}
		switch {
		case changed:
			updated = true
			if v {
				fmt.Fprintf(w, "Updated signer capabilities for %s.\n", name)
			}
		case v:
			fmt.Fprintf(w, "The provided signer capabilities for %s are unchanged.\n", name)
		}
	}
	pem := printPEM.set && printPEM.val
	if (printCerts.set && printCerts.val || pem) && !asJSON {
		for i, c := range l.Certificates() {
			caps, _ := l.Capabilities(c)
			printLineageCert(e.stdout, c, fmt.Sprintf("Signer #%d in lineage", i+1), v, pem)
			fmt.Fprintf(e.stdout, "Has installed data capability: %t\n", caps.Has(apk.CapInstalledData))
			fmt.Fprintf(e.stdout, "Has shared UID capability    : %t\n", caps.Has(apk.CapSharedUID))
			fmt.Fprintf(e.stdout, "Has permission capability    : %t\n", caps.Has(apk.CapPermission))
			fmt.Fprintf(e.stdout, "Has rollback capability      : %t\n", caps.Has(apk.CapRollback))
			fmt.Fprintf(e.stdout, "Has auth capability          : %t\n", caps.Has(apk.CapAuth))
		}
	}
	written := ""
	if updated {
		if out == "" {
			return usagef("apk lineage: the lineage was modified but an output file for the lineage was not specified: add --out LINEAGE")
		}
		if err := writeLineageFile(out, l); err != nil {
			return err
		}
		written = out
		if v {
			fmt.Fprintf(w, "Updated lineage saved to %s.\n", out)
		}
	}
	if asJSON {
		return jsondoc.Write(e.stdout, jsondoc.APKLineage(in, l, written))
	}
	return nil
}

// certificate returns the certificate the signer options name. Only
// the certificate matters to a capability change, but apksigner loads
// the key too; so does this, to find the certificate of a keystore key.
// pr and name are as for keyFlags.load.
func (s *signerSpec) certificate(cmd string, pr *passwordReader, name string) (*x509.Certificate, error) {
	id, err := s.load(cmd, pr, name)
	if err != nil {
		return nil, err
	}
	return id.Certificate, nil
}

// apksRotationFlags are `apk sign`'s key rotation and source stamp
// options: --lineage, --rotation-min-sdk-version,
// --rotation-targets-dev-release, the signers after --next-signer; the
// signer after --stamp-signer, --stamp-lineage, --stamp-timestamp-enabled
// and --force-stamp-overwrite.
type apksRotationFlags struct {
	lineage, stampLineage      string
	minSDK                     int
	dev, stampTime, forceStamp boolValue
}

func (r *apksRotationFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&r.lineage, "lineage", "", "signing certificate lineage `file` (from 'storesign apk rotate' or apksigner rotate) to sign with a rotated key; give the original signer first and the new one after --next-signer")
	fs.IntVar(&r.minSDK, "rotation-min-sdk-version", 0, "API level from which the rotated key is used (default 33, Android 13; 28 rotates from Android 9 on)")
	optBoolVar(fs, &r.dev, "rotation-targets-dev-release", "true or false: the rotated key also applies to the Android development release after --rotation-min-sdk-version")
	markerVar(fs, "next-signer", "the signer options that follow (--ks ... or --key and --cert) are the next signer's: with --lineage, the original signer comes first and the rotated one after --next-signer")
	markerVar(fs, "stamp-signer", "the signer options that follow (--ks or --key and --cert, an RSA key) are the source stamp signer's")
	fs.StringVar(&r.stampLineage, "stamp-lineage", "", "lineage `file` of the source stamp signer")
	optBoolVar(fs, &r.stampTime, "stamp-timestamp-enabled", "true or false: record the time of stamping in the source stamp (default: true)")
	optBoolVar(fs, &r.forceStamp, "force-stamp-overwrite", "true or false: replace the source stamp of another stamp signer the APK holds (default: false)")
}

// split takes the signers after --next-signer and --stamp-signer out of
// args; fs is the command's own flags.
func (r *apksRotationFlags) split(args []string, fs *pflag.FlagSet) ([]string, []signerArgs) {
	return splitSigners(args, map[string]bool{"next-signer": true, "stamp-signer": true}, optionalBools(fs))
}

// checkSigners refuses, as apksigner 35 does, several signers with
// APK Signature Scheme v3 (v3, nil: on by default) and no lineage to
// say which one rotates to which.
func (r *apksRotationFlags) checkSigners(next []signerArgs, v3 *bool) error {
	n := 1
	for _, s := range next {
		if s.marker == "next-signer" {
			n++
		}
	}
	if n == 1 || r.lineage != "" || (v3 != nil && !*v3) {
		return nil
	}
	return usagef("apk sign: %d signers and APK Signature Scheme v3 need a signing certificate lineage, as apksigner 35 says (\"Multiple signing certificates provided for use with APK Signature Scheme v3 without an accompanying SigningCertificateLineage\"): "+
		"pass --lineage LINEAGE (from 'storesign apk rotate') to rotate the key, or --v3-signing-enabled false to sign v1 and v2 with each signer", n)
}

// apply loads the next signers and the lineage into opts; pr is the
// command's password reader, which read signer #1's passwords. As
// apksigner, the signers after --next-signer are loaded in order, then
// the stamp signer, wherever it was given.
func (r *apksRotationFlags) apply(next []signerArgs, opts *apk.Options, pr *passwordReader) error {
	specs := make([]*signerSpec, len(next))
	for i, s := range next {
		spec, err := parseSigner("apk sign", s)
		if err != nil {
			return err
		}
		if spec.change() != (apk.CapabilityChange{}) {
			return usagef("apk sign: --set-* capabilities belong to 'storesign apk rotate' and 'storesign apk lineage', not to a signer of 'apk sign'")
		}
		specs[i] = spec
	}
	order := make([]int, 0, len(next))
	for _, stamp := range []bool{false, true} {
		for i, s := range next {
			if (s.marker == "stamp-signer") == stamp {
				order = append(order, i)
			}
		}
	}
	nextSigners := 0
	var names []string // the next signers' v1 names
	for _, i := range order {
		s, spec := next[i], specs[i]
		name := "stamp signer"
		if s.marker == "next-signer" {
			nextSigners++
			name = fmt.Sprintf("signer #%d", nextSigners+1)
		}
		id, err := spec.load("apk sign ("+name+")", pr, name)
		if err != nil {
			return err
		}
		if s.marker == "stamp-signer" {
			opts.StampSigner = id
		} else {
			opts.NextIdentities = append(opts.NextIdentities, id)
			names = append(names, spec.v1Name())
		}
	}
	opts.StampTimestampDisabled = r.stampTime.set && !r.stampTime.val
	opts.StampOverwrite = r.forceStamp.set && r.forceStamp.val
	if r.stampLineage != "" {
		if opts.StampSigner == nil {
			return usagef("apk sign: --stamp-lineage needs --stamp-signer")
		}
		l, err := readLineageFile(r.stampLineage, "--stamp-lineage")
		if err != nil {
			return err
		}
		opts.StampLineage = l
	}
	if r.minSDK < 0 {
		return usagef("apk sign: --rotation-min-sdk-version must be positive")
	}
	opts.RotationMinSDKVersion = r.minSDK
	opts.RotationTargetsDevRelease = r.dev.set && r.dev.val
	if r.lineage == "" {
		// Several signers without a lineage each sign v1 and v2.
		opts.NextSignerNames = names
		if r.minSDK != 0 || opts.RotationTargetsDevRelease {
			return usagef("apk sign: --rotation-min-sdk-version and --rotation-targets-dev-release need --lineage")
		}
		return nil
	}
	l, err := readLineageFile(r.lineage, "--lineage")
	if err != nil {
		return err
	}
	opts.Lineage = l
	// The oldest signer signs v1, under its own name as apksigner names
	// it: it may be a signer after --next-signer.
	oldest := l.Certificates()[0]
	for i, id := range opts.NextIdentities {
		if id.Certificate.Equal(oldest) && names[i] != "" {
			opts.SignerName = names[i]
		}
	}
	return nil
}

// v1Name is the JAR signature name apksigner gives a signer: its
// --v1-signer-name, else its key alias, else its key file's name up to
// the first dot.
func (s *signerSpec) v1Name() string {
	switch {
	case s.v1SignerName != "":
		return s.v1SignerName
	case s.alias != "":
		return s.alias
	case s.key != "":
		name, _, _ := strings.Cut(filepath.Base(s.key), ".")
		return name
	}
	return ""
}

// printLineageCert prints a certificate as apksigner's printCertificate
// does.
func printLineageCert(w io.Writer, c *x509.Certificate, name string, verbose, printPEM bool) {
	s256, s1, m5 := sha256.Sum256(c.Raw), sha1.Sum(c.Raw), md5.Sum(c.Raw)
	fmt.Fprintf(w, "%s certificate DN: %s\n", name, lineValue(apkvDN(c.RawSubject)))
	fmt.Fprintf(w, "%s certificate SHA-256 digest: %s\n", name, hex.EncodeToString(s256[:]))
	fmt.Fprintf(w, "%s certificate SHA-1 digest: %s\n", name, hex.EncodeToString(s1[:]))
	fmt.Fprintf(w, "%s certificate MD5 digest: %s\n", name, hex.EncodeToString(m5[:]))
	if verbose {
		alg, bits := keyInfo(c)
		spki := c.RawSubjectPublicKeyInfo
		k256, k1, km5 := sha256.Sum256(spki), sha1.Sum(spki), md5.Sum(spki)
		fmt.Fprintf(w, "%s key algorithm: %s\n", name, alg)
		fmt.Fprintf(w, "%s key size (bits): %d\n", name, bits)
		fmt.Fprintf(w, "%s public key SHA-256 digest: %s\n", name, hex.EncodeToString(k256[:]))
		fmt.Fprintf(w, "%s public key SHA-1 digest: %s\n", name, hex.EncodeToString(k1[:]))
		fmt.Fprintf(w, "%s public key MD5 digest: %s\n", name, hex.EncodeToString(km5[:]))
	}
	if printPEM {
		pem.Encode(w, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
}
