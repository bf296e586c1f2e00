package main

import (
	"crypto/md5"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/storesign/storesign/internal/jsondoc"
	"github.com/storesign/storesign/internal/zipx"
	"github.com/storesign/storesign/signing/aab"
)

// newAABCmd is `storesign aab sign|verify`.
func newAABCmd(e *env) *cobra.Command {
	return newGroup("aab <command>", "Sign and verify Android App Bundles for Play upload",
		`Sign an Android App Bundle (.aab) with the upload key, as jarsigner does, and
verify the JAR signature of a bundle. The key flags are apksigner's.`,
		`  storesign aab sign --ks upload.jks --ks-pass env:KS_PASS --ks-key-alias upload --out signed.aab app.aab
  storesign aab verify --print-certs signed.aab`,
		newAABSignCmd(e), newAABVerifyCmd(e))
}

// aabInput returns the input named by --in or the one positional argument.
func aabInput(cmd, in string, args []string) (string, error) {
	switch {
	case in != "" && len(args) > 0:
		return "", usagef("%s: give the input once: --in FILE or FILE", cmd)
	case len(args) > 1:
		return "", usagef("%s: one input at a time, got %d", cmd, len(args))
	case len(args) == 1:
		in = args[0]
	}
	if in == "" {
		return "", usagef("%s: missing input bundle (--in FILE)", cmd)
	}
	fi, err := os.Stat(in)
	if err != nil {
		return "", fmt.Errorf("input %s: %w: check the path", in, pathErr(err))
	}
	if fi.IsDir() {
		return "", fmt.Errorf("input %s is a folder: pass the .aab file", in)
	}
	return in, nil
}

// newAABSignCmd is `storesign aab sign`: the bundle's JAR signature
// with the upload key, verified before it is written.
func newAABSignCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sign (--ks KEYSTORE [--ks-pass SPEC] [--ks-key-alias ALIAS] | --key KEY --cert CERT) --out OUT.aab [--json] IN.aab",
		Short: "Sign an app bundle with the upload key, as jarsigner does",
		Long: `Sign an Android App Bundle with the Play upload key: a JAR signature
(META-INF/NAME.SF and its block) as jarsigner writes it, verified before the
output is renamed into place. The input is never modified. Passwords are
pass:PASSWORD, env:VAR, file:PATH or stdin.`,
		Example: `  storesign aab sign --ks upload.jks --ks-pass env:KS_PASS --ks-key-alias upload --out signed.aab app.aab
  storesign aab sign --key upload.pk8 --cert upload.x509.pem --out signed.aab app.aab`,
		Args:              cobra.ArbitraryArgs,
		ValidArgsFunction: completeExt("aab"),
	}
	fs := cmd.Flags()
	var k keyFlags
	k.register(fs, "upload key")
	in := fs.String("in", "", "the app bundle to sign (or give it as the argument)")
	out := fs.String("out", "", "where to write the signed bundle (never the input)")
	signerName := fs.String("v1-signer-name", "", "base `name` of the signature files, META-INF/NAME.SF (default: the key alias, else CERT)")
	asJSON := fs.Bool("json", false, jsonFlagUsage)
	completeKeyFlags(cmd)
	completeFlags(cmd, map[string]cobra.CompletionFunc{"in": completeExt("aab"), "out": completeExt("aab")})
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		input, err := aabInput("aab sign", *in, args)
		if err != nil {
			return err
		}
		if *out == "" {
			return usagef("aab sign: missing --out: storesign never signs in place")
		}
		// As apk sign: --ks-pass defaults to stdin.
		id, err := k.load("aab sign", newPasswordReader(e.stderr), "signer #1")
		if err != nil {
			return err
		}
		start := time.Now()
		name := *signerName
		if name == "" {
			name = k.alias
		}
		opts := aab.Options{Identity: id, SignerName: name}
		res, err := aab.SignFile(ctx, input, *out, opts)
		if err != nil {
			return aabExplain(input, err)
		}
		if *asJSON {
			return jsondoc.Write(e.stdout, jsondoc.AABSign(input, *out, res, opts))
		}
		s := res.Signers[0]
		fmt.Fprintf(e.stdout, "signed %s -> %s (verified)\n", input, *out)
		fmt.Fprintf(e.stdout, "  signer:      %s\n", s.Certificate.Subject)
		fmt.Fprintf(e.stdout, "  certificate: SHA-256 %s\n", s.Fingerprint())
		fmt.Fprintf(e.stdout, "  signature:   %s, %s (%s, %s entry digests)\n", s.SignatureFile, s.BlockFile, s.SignatureAlgorithm, s.DigestAlgorithm)
		fmt.Fprintf(e.stdout, "  entries:     %d\n", res.Entries)
		fmt.Fprintf(e.stdout, "  size:        %d bytes (%s)\n", res.Size, time.Since(start).Round(time.Millisecond))
		return nil
	}
	return cmd
}

// aabExplain adds to a library error about the bundle in what the user
// can do about it.
func aabExplain(in string, err error) error {
	if e := incompleteInput(in, err); e != nil {
		return e
	}
	var dup *zipx.DuplicateError
	switch {
	case errors.Is(err, zipx.ErrFormat):
		return rephrase(in+" is not an app bundle (not a zip archive): pass the .aab that Gradle's bundleRelease or bundletool built", err)
	case errors.Is(err, zipx.ErrTruncated):
		return fmt.Errorf("%w: download or build the bundle again", err)
	case errors.As(err, &dup):
		return err // zipx says what to do
	case errors.Is(err, aab.ErrNotBundle):
		return fmt.Errorf("%w: pass the .aab that Gradle's bundleRelease or bundletool built (for an .apk use 'storesign apk')", err)
	case errors.Is(err, aab.ErrNotSigned):
		return fmt.Errorf("%w: sign it with 'storesign aab sign'", err)
	case errors.Is(err, aab.ErrInvalidSignature):
		return fmt.Errorf("%w: the bundle changed after it was signed; get the original or sign it again", err)
	}
	return err
}

// newAABVerifyCmd is `storesign aab verify`.
func newAABVerifyCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "verify [--print-certs] [--json] FILE.aab",
		Short: "Verify an app bundle's JAR signature",
		Long: `Verify the JAR signature of an Android App Bundle: every entry's digest,
the signature file and its signature block. Exits 3 when the bundle was read
and is not signed or its signature does not verify.`,
		Example: `  storesign aab verify signed.aab
  storesign aab verify --print-certs --json signed.aab`,
		Args:              cobra.ArbitraryArgs,
		ValidArgsFunction: completeExt("aab"),
	}
	fs := cmd.Flags()
	in := fs.String("in", "", "the app bundle to verify (or give it as the argument)")
	printCerts := fs.Bool("print-certs", false, "print each signer's certificate")
	asJSON := fs.Bool("json", false, jsonFlagUsage)
	verbose := fs.BoolP("verbose", "v", false, "same as --print-certs")
	completeFlags(cmd, map[string]cobra.CompletionFunc{"in": completeExt("aab")})
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		input, err := aabInput("aab verify", *in, args)
		if err != nil {
			return err
		}
		res, err := aab.VerifyFile(ctx, input, aab.VerifyOptions{})
		notValid := errors.Is(err, aab.ErrNotSigned) || errors.Is(err, aab.ErrInvalidSignature)
		if *asJSON && (err == nil || notValid) {
			var problem error
			if err != nil {
				problem = errors.New(oneLine(aabExplain(input, err).Error()))
			}
			if jerr := jsondoc.Write(e.stdout, jsondoc.AABVerify(input, res, problem)); jerr != nil {
				return jerr
			}
		}
		if err != nil {
			if notValid {
				return notVerified(aabExplain(input, err))
			}
			return aabExplain(input, err)
		}
		if *asJSON {
			return nil
		}
		fmt.Fprintf(e.stdout, "verified %s: %d entries signed by %d signer(s)\n", input, res.Entries, len(res.Signers))
		for i, s := range res.Signers {
			if !*printCerts && !*verbose {
				fmt.Fprintf(e.stdout, "Signer #%d: %s, certificate SHA-256 %s\n", i+1, lineValue(s.Certificate.Subject.String()), s.Fingerprint())
				continue
			}
			c := s.Certificate
			sha1sum, md5sum := sha1.Sum(c.Raw), md5.Sum(c.Raw)
			alg, bits := keyInfo(c)
			n := i + 1
			fmt.Fprintf(e.stdout, "Signer #%d name: %s (%s, %s)\n", n, lineValue(s.Name), lineValue(s.SignatureFile), lineValue(s.BlockFile))
			fmt.Fprintf(e.stdout, "Signer #%d certificate DN: %s\n", n, lineValue(c.Subject.String()))
			fmt.Fprintf(e.stdout, "Signer #%d certificate issuer DN: %s\n", n, lineValue(c.Issuer.String()))
			fmt.Fprintf(e.stdout, "Signer #%d certificate SHA-256 digest: %s\n", n, s.Fingerprint())
			fmt.Fprintf(e.stdout, "Signer #%d certificate SHA-1 digest: %s\n", n, hex.EncodeToString(sha1sum[:]))
			fmt.Fprintf(e.stdout, "Signer #%d certificate MD5 digest: %s\n", n, hex.EncodeToString(md5sum[:]))
			fmt.Fprintf(e.stdout, "Signer #%d certificate valid until: %s\n", n, c.NotAfter.UTC().Format(time.RFC3339))
			fmt.Fprintf(e.stdout, "Signer #%d key algorithm: %s\n", n, alg)
			fmt.Fprintf(e.stdout, "Signer #%d key size (bits): %d\n", n, bits)
			fmt.Fprintf(e.stdout, "Signer #%d signature algorithm: %s\n", n, s.SignatureAlgorithm)
			if !s.SigningTime.IsZero() {
				fmt.Fprintf(e.stdout, "Signer #%d signing time: %s\n", n, s.SigningTime.UTC().Format(time.RFC3339))
			}
		}
		return nil
	}
	return cmd
}
