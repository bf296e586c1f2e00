package main

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/storesign/storesign/internal/atomicfile"
	"github.com/storesign/storesign/internal/jsondoc"
	"github.com/storesign/storesign/internal/zipx"
	"github.com/storesign/storesign/signing/apk"
)

// newAPKVerifyCmd is `storesign apk verify`, modelled on `apksigner
// verify`.
func newAPKVerifyCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "verify [--print-certs | --print-certs-pem] [--json] [--min-sdk-version N] [--max-sdk-version N] [--v4-signature-file FILE] [--verify-source-stamp] [-Werr] [-v] APK",
		Short: "Verify an APK's signatures as apksigner verify does",
		Long: `Check that an APK's signatures verify on every Android version it supports
(from its minSdkVersion, or --min-sdk-version to --max-sdk-version), as
apksigner verify does, and print its signers. Exits 3 when the APK was read
and does not verify.

With --verify-source-stamp only the APK's source stamp is checked (as
apksigner verify --verify-source-stamp), and --print-certs prints the stamp
signer's certificate.`,
		Example: `  storesign apk verify signed.apk
  storesign apk verify -v --print-certs signed.apk
  storesign apk verify --json --min-sdk-version 24 signed.apk
  storesign apk verify --verify-source-stamp --print-certs stamped.apk`,
		Args:              cobra.ArbitraryArgs,
		ValidArgsFunction: completeExt("apk"),
	}
	fset := cmd.Flags()
	var printCerts, printPEM, werr, asJSON, stamp boolValue
	optBoolVar(fset, &printCerts, "print-certs", "print the signers' certificates (DN and SHA-256, SHA-1, MD5 digests)")
	optBoolVar(fset, &printPEM, "print-certs-pem", "as --print-certs, and print each certificate in PEM")
	v4File := fset.String("v4-signature-file", "", "check this APK Signature Scheme v4 `file` (.idsig) too; as apksigner, its outcome does not change the verdict")
	optBoolVar(fset, &werr, "Werr", "treat warnings as errors")
	optBoolVar(fset, &asJSON, "json", jsonFlagUsage)
	optBoolVar(fset, &stamp, "verify-source-stamp", "check the APK's source stamp (stamp-cert-sha256 and the stamp block) instead of its signatures")
	minSDK := fset.Int("min-sdk-version", 0, "lowest Android API `level` to verify for (default: the APK's minSdkVersion)")
	maxSDK := fset.Int("max-sdk-version", 0, "highest Android API `level` to verify for (default: all)")
	var verbose boolValue
	fset.VarP(&verbose, "verbose", "v", "print the verdict, the schemes the APK verified with and its signers' count, every error (warnings print without it), and key details with --print-certs")
	fset.Lookup("verbose").NoOptDefVal = "true"
	in := fset.String("in", "", "the APK to verify (or give it as the argument)")
	completeFlags(cmd, map[string]cobra.CompletionFunc{"in": completeExt("apk"), "v4-signature-file": completeExt("idsig")})
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return apkVerify(cmd.Context(), e, args, apkVerifyFlags{
			in: *in, v4File: *v4File, minSDK: *minSDK, maxSDK: *maxSDK,
			printCerts: printCerts.val, printPEM: printPEM.val, werr: werr.val, asJSON: asJSON.val,
			stamp: stamp.val, verbose: verbose.val,
		})
	}
	return cmd
}

// apkVerifyFlags are apk verify's options.
type apkVerifyFlags struct {
	in, v4File                                         string
	minSDK, maxSDK                                     int
	printCerts, printPEM, werr, asJSON, stamp, verbose bool
}

// apkVerify verifies the APK given as rest or --in.
func apkVerify(ctx context.Context, e *env, rest []string, f apkVerifyFlags) error {
	path := f.in
	switch {
	case len(rest) == 1 && path == "":
		path = rest[0]
	case len(rest) == 0 && path != "":
	case len(rest) == 0:
		return usagef("apk verify: no APK given: storesign apk verify [flags] APK")
	default:
		return usagef("apk verify: one APK at a time, got %d", len(rest)+apkvBtoi(path != ""))
	}
	if f.minSDK < 0 || f.maxSDK < 0 {
		return usagef("apk verify: SDK versions must be positive")
	}
	if f.minSDK > 0 && f.maxSDK > 0 && f.minSDK > f.maxSDK {
		return usagef("apk verify: --min-sdk-version %d is above --max-sdk-version %d", f.minSDK, f.maxSDK)
	}

	if f.stamp {
		return apkVerifyStamp(ctx, e, path, f)
	}
	opts := apk.VerifyOptions{MinSDK: f.minSDK, MaxSDK: f.maxSDK}
	if f.v4File != "" {
		v4, size, err := atomicfile.OpenInput(f.v4File, "a v4 signature file")
		if err != nil {
			var nr *atomicfile.NotRegularError
			if errors.As(err, &nr) {
				return err
			}
			if errors.Is(err, fs.ErrNotExist) {
				return usagef("apk verify: --v4-signature-file %s: no such file: check the path (apksigner writes it beside the APK as APK.idsig)", f.v4File)
			}
			return fmt.Errorf("%s: %w: check --v4-signature-file", f.v4File, pathErr(err))
		}
		defer v4.Close()
		opts.V4Signature, opts.V4SignatureSize = v4, size
	}
	res, err := apk.VerifyFile(ctx, path, opts)
	if err != nil && (res == nil || !errors.Is(err, apk.ErrNotVerified)) {
		if errors.Is(err, apk.ErrV4Malformed) {
			return fmt.Errorf("%s is not an APK Signature Scheme v4 file (%s): pass the .idsig written with the APK", f.v4File, strings.TrimPrefix(err.Error(), "verifying "+path+": checking the v4 signature: "+apk.ErrV4Malformed.Error()+": "))
		}
		return apkvError(path, err)
	}
	if f.asJSON {
		if err := jsondoc.Write(e.stdout, jsondoc.APKVerify(path, res, err)); err != nil {
			return err
		}
	} else {
		apkvWriteText(e, res, f.verbose, f.printCerts || f.printPEM, f.printPEM)
		for _, m := range res.V4Errors {
			fmt.Fprintf(e.stderr, "NOTE: the v4 signature %s does not verify (apksigner does not count it in the verdict either): %s\n", f.v4File, oneLine(m))
		}
		if f.v4File == "" && f.verbose {
			if st, err := os.Stat(path + ".idsig"); err == nil && st.Mode().IsRegular() {
				fmt.Fprintf(e.stderr, "NOTE: %s.idsig was not checked, as apksigner does not check it: pass --v4-signature-file %s.idsig\n", path, path)
			}
		}
	}
	if res.Verified && f.werr && len(res.Warnings) > 0 {
		return notVerified(fmt.Errorf("%s verifies, with %d warnings, and -Werr makes them errors", path, len(res.Warnings)))
	}
	if !res.Verified {
		msg := "is not signed"
		if len(res.Errors) > 0 {
			msg = "does not verify: " + res.Errors[0]
			if n := len(res.Errors) - 1; n > 0 {
				msg += fmt.Sprintf(" (and %d more errors; run with -v to see them)", n)
			}
		}
		msg += ": sign it with 'storesign apk sign', or get the APK as its signer delivered it"
		return notVerified(fmt.Errorf("%s %s", path, msg))
	}
	return nil
}

func apkvBtoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// apkvError turns a read failure into one line naming the file and
// what to do.
func apkvError(path string, err error) error {
	if e := incompleteInput(path, err); e != nil {
		return e
	}
	if e := apkUnsupported(path, err); e != nil {
		return e
	}
	var nr *atomicfile.NotRegularError
	switch {
	case errors.As(err, &nr):
		return err // names the file and the fix
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s: no such file: check the path", path)
	case errors.Is(err, apk.ErrNotZip):
		return fmt.Errorf("%s is not an APK (not a zip archive): pass a .apk file", path)
	case errors.Is(err, apk.ErrMalformed):
		return fmt.Errorf("%s is truncated or damaged: download or build it again", path)
	case errors.Is(err, apk.ErrNotAPK):
		return fmt.Errorf("%s has no AndroidManifest.xml: it is not an APK (or pass --min-sdk-version to verify it anyway)", path)
	}
	var dup *apk.DuplicateEntryError
	if errors.As(err, &dup) {
		return fmt.Errorf("%s has two entries named %q: it is malformed and Android would refuse it", path, dup.Name)
	}
	return fmt.Errorf("%s cannot be verified: %v", path, strings.TrimPrefix(err.Error(), "verifying "+path+": "))
}

// apkUnsupported is the error line of an APK that uses a zip feature
// storesign refuses on purpose, as Android does (a compression method
// other than stored and deflate, encryption, several disks): not damage
// to download again, but an archive to rebuild. It is nil for any other
// error.
func apkUnsupported(path string, err error) error {
	var unsup *zipx.UnsupportedError
	if !errors.As(err, &unsup) {
		return nil
	}
	what, fix := unsup.Feature, "rebuild it with a standard zip tool"
	if unsup.Method != 0 {
		what, fix = fmt.Sprintf("uses compression method %d", unsup.Method), fix+" (stored or deflate)"
	}
	if unsup.Name != "" {
		return rephrase(fmt.Sprintf("%s: entry %q %s, which Android's package manager does not read: %s", path, unsup.Name, what, fix), err)
	}
	return rephrase(fmt.Sprintf("%s %s, which Android's package manager does not read: %s", path, what, fix), err)
}

func apkvWriteText(e *env, res *apk.VerifyResult, verbose, printCerts, pem bool) {
	w := e.stdout
	if verbose {
		if res.Verified {
			fmt.Fprintln(w, "Verifies")
		} else {
			fmt.Fprintln(w, "DOES NOT VERIFY")
		}
		fmt.Fprintf(w, "Verified using v1 scheme (JAR signing): %v\n", res.V1)
		fmt.Fprintf(w, "Verified using v2 scheme (APK Signature Scheme v2): %v\n", res.V2)
		fmt.Fprintf(w, "Verified using v3 scheme (APK Signature Scheme v3): %v\n", res.V3)
		fmt.Fprintf(w, "Verified using v3.1 scheme (APK Signature Scheme v3.1): %v\n", res.V31)
		// v4 (.idsig) is verified only from --v4-signature-file, as in
		// apksigner.
		fmt.Fprintf(w, "Verified using v4 scheme (APK Signature Scheme v4): %v\n", res.V4)
		if res.Verified {
			fmt.Fprintf(w, "Number of signers: %d\n", len(res.Signers))
		}
	}
	if res.Verified && printCerts {
		if res.V31 {
			for _, s := range append(append([]*apk.VerifySigner(nil), res.V31Signers...), res.V3Signers...) {
				apkvPrintCert(w, s.Certificate, apkvV3Name(s), verbose, pem)
			}
		} else {
			for i, s := range res.Signers {
				apkvPrintCert(w, s.Certificate, fmt.Sprintf("Signer #%d", i+1), verbose, pem)
			}
		}
		if verbose && len(res.Lineage) > 1 {
			for i, c := range res.Lineage {
				apkvPrintCert(w, c, fmt.Sprintf("Lineage certificate #%d", i+1), false, false)
			}
		}
	}
	if verbose {
		for _, m := range res.Errors {
			fmt.Fprintln(e.stderr, "ERROR: "+oneLine(m))
		}
	}
	// The messages may name the APK's entries: one line each, a
	// control or layout character in a name shown escaped.
	for _, m := range res.Warnings {
		fmt.Fprintln(e.stderr, "WARNING: "+oneLine(m))
	}
}

func apkvV3Name(s *apk.VerifySigner) string {
	dev := ""
	if s.DevRelease {
		dev = " (dev release=true)"
	}
	return fmt.Sprintf("Signer (minSdkVersion=%d%s, maxSdkVersion=%d)", s.MinSDK, dev, s.MaxSDK)
}

func apkvPrintCert(w io.Writer, c *x509.Certificate, name string, verbose, printPEM bool) {
	if c == nil {
		return
	}
	d := apkvCertDigests(c)
	fmt.Fprintf(w, "%s certificate DN: %s\n", name, lineValue(apkvDN(c.RawSubject)))
	fmt.Fprintf(w, "%s certificate SHA-256 digest: %s\n", name, d.SHA256)
	fmt.Fprintf(w, "%s certificate SHA-1 digest: %s\n", name, d.SHA1)
	fmt.Fprintf(w, "%s certificate MD5 digest: %s\n", name, d.MD5)
	if verbose {
		alg, bits := keyInfo(c)
		fmt.Fprintf(w, "%s key algorithm: %s\n", name, alg)
		fmt.Fprintf(w, "%s key size (bits): %d\n", name, bits)
		fmt.Fprintf(w, "%s public key SHA-256 digest: %s\n", name, d.KeySHA256)
		fmt.Fprintf(w, "%s public key SHA-1 digest: %s\n", name, d.KeySHA1)
		fmt.Fprintf(w, "%s public key MD5 digest: %s\n", name, d.KeyMD5)
	}
	if printPEM {
		pem.Encode(w, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
}

type apkvDigestSet struct {
	SHA256, SHA1, MD5          string
	KeySHA256, KeySHA1, KeyMD5 string
}

func apkvCertDigests(c *x509.Certificate) apkvDigestSet {
	s256 := sha256.Sum256(c.Raw)
	s1 := sha1.Sum(c.Raw)
	m5 := md5.Sum(c.Raw)
	k256 := sha256.Sum256(c.RawSubjectPublicKeyInfo)
	k1 := sha1.Sum(c.RawSubjectPublicKeyInfo)
	km5 := md5.Sum(c.RawSubjectPublicKeyInfo)
	return apkvDigestSet{
		hex.EncodeToString(s256[:]), hex.EncodeToString(s1[:]), hex.EncodeToString(m5[:]),
		hex.EncodeToString(k256[:]), hex.EncodeToString(k1[:]), hex.EncodeToString(km5[:]),
	}
}

// apkvDN formats a DN as Java's X500Principal does (and so
// apksigner): most specific attribute first, ", " between attributes.
func apkvDN(raw []byte) string {
	var seq pkix.RDNSequence
	if _, err := asn1.Unmarshal(raw, &seq); err != nil {
		return ""
	}
	names := map[string]string{
		"2.5.4.3": "CN", "2.5.4.6": "C", "2.5.4.7": "L", "2.5.4.8": "ST", "2.5.4.9": "STREET",
		"2.5.4.10": "O", "2.5.4.11": "OU", "2.5.4.5": "SERIALNUMBER", "2.5.4.4": "SURNAME",
		"2.5.4.42": "GIVENNAME", "2.5.4.12": "T", "2.5.4.46": "DNQUALIFIER",
		"1.2.840.113549.1.9.1": "EMAILADDRESS", "0.9.2342.19200300.100.1.25": "DC",
		"0.9.2342.19200300.100.1.1": "UID",
	}
	var parts []string
	for i := len(seq) - 1; i >= 0; i-- {
		var rdn []string
		for _, atv := range seq[i] {
			name, ok := names[atv.Type.String()]
			if !ok {
				name = "OID." + atv.Type.String()
			}
			rdn = append(rdn, name+"="+apkvEscape(fmt.Sprint(atv.Value)))
		}
		parts = append(parts, strings.Join(rdn, " + "))
	}
	return strings.Join(parts, ", ")
}

func apkvEscape(s string) string {
	if strings.ContainsAny(s, ",+=\"\\<>;") || strings.HasPrefix(s, " ") || strings.HasSuffix(s, " ") || strings.HasPrefix(s, "#") {
		return `"` + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `"`, `\"`) + `"`
	}
	return s
}

// apkVerifyStamp is apk verify --verify-source-stamp: as apksigner, it
// checks the source stamp only, prints "Verified for SourceStamp" (or
// "DOES NOT VERIFY" and the errors) with -v and the stamp signer's
// certificate with --print-certs, and exits 3 when the stamp is missing
// or does not verify.
func apkVerifyStamp(ctx context.Context, e *env, path string, f apkVerifyFlags) error {
	file, size, err := atomicfile.OpenInput(path, "an APK")
	if err != nil {
		return apkvError(path, err)
	}
	defer file.Close()
	res, err := apk.VerifySourceStamp(ctx, file, size)
	if errors.Is(err, apk.ErrNoStamp) {
		res = &apk.StampResult{Errors: []string{"Neither the source stamp certificate digest file nor the signature block are present in the APK"}}
	} else if err != nil && (res == nil || !errors.Is(err, apk.ErrStampNotVerified)) {
		return apkvError(path, err)
	}
	if f.asJSON {
		if err := jsondoc.Write(e.stdout, jsondoc.APKVerifyStamp(path, res, err)); err != nil {
			return err
		}
	} else {
		if f.verbose && res.Verified {
			fmt.Fprintln(e.stdout, "Verifies")
			fmt.Fprintln(e.stdout, "Verified for SourceStamp: true")
		}
		if res.Verified && (f.printCerts || f.printPEM) {
			apkvPrintCert(e.stdout, res.Certificate, "Source Stamp Signer", f.verbose, f.printPEM)
		}
		if !res.Verified && f.verbose {
			fmt.Fprintln(e.stderr, "DOES NOT VERIFY")
			for _, m := range res.Errors {
				fmt.Fprintln(e.stderr, "ERROR: "+oneLine(m))
			}
		}
		for _, m := range res.Warnings {
			fmt.Fprintln(e.stderr, "WARNING: "+oneLine(m))
		}
	}
	switch {
	case errors.Is(err, apk.ErrNoStamp):
		return notVerified(fmt.Errorf("%s has no source stamp: stamp it with 'storesign apk sign --stamp-signer', or verify its signatures without --verify-source-stamp", path))
	case !res.Verified:
		return notVerified(fmt.Errorf("%s: the source stamp does not verify: %s: get the APK as its stamp signer delivered it", path, oneLine(res.Err().Error())))
	case f.werr && len(res.Warnings) > 0:
		return notVerified(fmt.Errorf("%s: the source stamp verifies, with %d warnings, and -Werr makes them errors", path, len(res.Warnings)))
	}
	return nil
}
