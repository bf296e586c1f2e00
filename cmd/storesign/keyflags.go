package main

import (
	"crypto/dsa" //nolint:staticcheck // old APKs are DSA-signed; reporting only.
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/spf13/cobra"

	"github.com/storesign/storesign/internal/atomicfile"
	"github.com/storesign/storesign/internal/limits"
	"github.com/storesign/storesign/signing"
)

// keyFlags are apksigner's signer flags, shared by `apk sign` and
// `aab sign`: a keystore with its passwords and alias, or a PKCS#8 key
// (encrypted with --key-pass, or not) and its certificate.
type keyFlags struct {
	ks, alias, ksPass, keyPass, ksType, key, cert string
	// passEncoding is --pass-encoding: another character encoding to
	// try for non-ASCII passwords.
	passEncoding string
}

// register adds the flags; what names the key in the help ("signing key").
func (k *keyFlags) register(fs stringVarer, what string) {
	fs.StringVar(&k.ks, "ks", "", "keystore `file` (JKS or PKCS#12) holding the "+what)
	fs.StringVar(&k.alias, "ks-key-alias", "", "`alias` of the key in the keystore (needed when it holds several)")
	fs.StringVar(&k.ksPass, "ks-pass", "", "keystore password: pass:PASSWORD, env:VAR, file:PATH or stdin (default: stdin, prompting on a terminal)")
	fs.StringVar(&k.keyPass, "key-pass", "", "key password if it differs from the keystore's, or of an encrypted --key: pass:, env:, file: or stdin")
	fs.StringVar(&k.passEncoding, "pass-encoding", "", "another character `encoding` (e.g. ibm437) to try for passwords with non-ASCII characters, as keytool on a non-Unicode console encoded them")
	fs.StringVar(&k.ksType, "ks-type", "", "keystore `type`: JKS or PKCS12 (default: detected)")
	fs.StringVar(&k.key, "key", "", "private key `file` (PKCS#8, DER or PEM, encrypted with --key-pass or not), with --cert instead of --ks")
	fs.StringVar(&k.cert, "cert", "", "certificate `file` (DER or PEM, leaf first) of --key")
}

// completeKeyFlags completes the values of the key flags cmd has.
func completeKeyFlags(cmd *cobra.Command) {
	completeFlags(cmd, map[string]cobra.CompletionFunc{
		"ks":            completeExt("jks", "keystore", "p12", "pfx", "bks"),
		"ks-type":       completeWords("JKS", "PKCS12"),
		"key":           completeExt("pk8", "pem", "der", "key"),
		"cert":          completeExt("pem", "der", "crt", "cer", "x509.pem"),
		"pass-encoding": completeWords("ibm437", "windows-1252", "iso-8859-1", "utf-8"),
	})
}

// load returns the identity the flags name; cmd ("apk sign") prefixes
// usage errors. Errors name the file and the flag to fix, never a
// password. Passwords are read as apksigner reads them: --ks-pass
// defaults to stdin; without --key-pass the key is tried with the
// keystore password, then its own password is asked on stdin.
//
// pr is the command's one password reader, shared by all its signers
// (its prompts go to the command's stderr, not os.Stderr, which the stop
// line of runUntilSignal does not close); signer names this one in the
// prompts as apksigner does ("signer #2", "old signer").
func (k *keyFlags) load(cmd string, pr *passwordReader, signer string) (*signing.Identity, error) {
	switch {
	case k.ks != "" && (k.key != "" || k.cert != ""):
		return nil, usagef("%s: use either --ks or --key and --cert, not both", cmd)
	case k.ks == "" && k.key == "" && k.cert == "":
		return nil, usagef("%s: no signing key: pass --ks KEYSTORE (with --ks-pass) or --key KEY --cert CERT", cmd)
	case k.ks == "" && (k.key == "" || k.cert == ""):
		return nil, usagef("%s: --key and --cert go together", cmd)
	}
	if pr == nil || pr.prompt == nil {
		panic("internal error: keyFlags.load: no password reader, or no writer for its prompts")
	}
	pr, err := pr.withEncoding(k.passEncoding)
	if err != nil {
		return nil, err
	}
	if k.key != "" {
		return loadKeyCertWith(pr, k.key, k.cert, k.keyPass, signer)
	}
	data, err := atomicfile.ReadInput(k.ks, "a keystore", atomicfile.MaxKeyFile)
	if err != nil {
		return nil, readErr(err, "keystore "+k.ks, "--ks")
	}
	spec := k.ksPass
	if spec == "" {
		spec = "stdin"
	}
	storePasses, err := pr.read(spec, "Keystore password for "+signer)
	if err != nil {
		if k.ksPass == "" && errors.Is(err, errStdinClosed) {
			return nil, usagef("%s: --ks-pass is required with --ks (pass:PASSWORD, env:VAR, file:PATH, or stdin to read it from standard input)", cmd)
		}
		return nil, fmt.Errorf("--ks-pass: %w", err)
	}
	typ := strings.ToUpper(k.ksType)
	if typ == "" {
		typ = signing.DetectKeystoreType(data)
	}
	open := func(storePass string, keyPass *string) (*signing.Identity, error) {
		opts := signing.KeystoreOptions{Type: k.ksType, StorePassword: storePass, Alias: k.alias, KeyPassword: keyPass}
		if typ == signing.TypeJKS {
			var ok bool
			if opts.StorePassword, ok = jksForm(storePass); !ok {
				return nil, signing.ErrWrongPassword
			}
			if keyPass != nil {
				kp, ok := jksForm(*keyPass)
				if !ok {
					return nil, signing.ErrWrongPassword
				}
				opts.KeyPassword = &kp
			}
		}
		return signing.LoadKeystore(data, opts)
	}
	// The store password: the first form that opens the keystore (with
	// the same form for the key, as apksigner tries first).
	var id *signing.Identity
	storePass := ""
	for _, sp := range storePasses {
		storePass = sp
		if id, err = open(sp, nil); !errors.Is(err, signing.ErrWrongPassword) || strings.Contains(err.Error(), "for key") {
			break
		}
	}
	keyWrong := errors.Is(err, signing.ErrWrongPassword) && strings.Contains(err.Error(), "for key")
	if keyWrong && k.keyPass == "" {
		// The keystore's other forms may open the key (apksigner tries
		// them all) before asking for the key's own password.
		for _, sp := range storePasses {
			if id, err = open(storePass, &sp); err == nil {
				break
			}
		}
	}
	if err != nil && keyWrong {
		kspec := k.keyPass
		if kspec == "" {
			kspec = "stdin"
		}
		keyPasses, rerr := pr.read(kspec, fmt.Sprintf("Key %q password for %s", k.alias, signer))
		if rerr != nil && !(k.keyPass == "" && errors.Is(rerr, errStdinClosed)) {
			return nil, fmt.Errorf("--key-pass: %w", rerr)
		}
		for _, kp := range keyPasses {
			if id, err = open(storePass, &kp); err == nil {
				break
			}
		}
	}
	var ae *signing.AliasError
	switch {
	case err == nil:
		return id, nil
	case errors.Is(err, signing.ErrWrongPassword):
		return nil, fmt.Errorf("keystore %s: wrong password: check --ks-pass, and --key-pass if the key has its own password", k.ks)
	case errors.As(err, &ae):
		return nil, fmt.Errorf("keystore %s: %s: set --ks-key-alias to one of them", k.ks, strings.TrimPrefix(err.Error(), "signing: "))
	}
	return nil, fmt.Errorf("keystore %s: %s", k.ks, strings.TrimPrefix(err.Error(), "signing: "))
}

// readErr explains a failed atomicfile.ReadInput of the file a flag
// names: errors that name the file and say what to do already (not a
// regular file, too big) as they are, others as "what NAME: error: check
// FLAG".
func readErr(err error, what, flag string) error {
	var nr *atomicfile.NotRegularError
	var le *limits.Error
	if errors.As(err, &nr) || errors.As(err, &le) {
		return err
	}
	return fmt.Errorf("%s: %w: check %s", what, pathErr(err), flag)
}

// pathErr drops the operation and path of a file error, for messages
// that name the file themselves.
func pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// keyInfo returns the algorithm and size of a certificate's key, as
// apksigner and jarsigner print them ("RSA", 2048).
func keyInfo(c *x509.Certificate) (string, int) {
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		return "RSA", k.N.BitLen()
	case *ecdsa.PublicKey:
		return "EC", k.Curve.Params().BitSize
	case *dsa.PublicKey:
		return "DSA", k.P.BitLen()
	}
	return c.PublicKeyAlgorithm.String(), 0
}

// loadKeyCert loads --key and --cert; as apksigner, --key-pass (keyPass,
// a password spec) decrypts an encrypted PKCS#8 key and is ignored for
// an unencrypted one. A password prompt goes to prompt (the command's
// stderr).
func loadKeyCert(prompt io.Writer, key, cert, keyPass string) (*signing.Identity, error) {
	return loadKeyCertWith(newPasswordReader(prompt), key, cert, keyPass, "signer #1")
}

// loadKeyCertWith is loadKeyCert with passwords read by pr, the
// command's password reader, for the signer it names ("signer #2"): an
// encrypted key without --key-pass asks for its password on stdin, as
// apksigner does.
func loadKeyCertWith(pr *passwordReader, key, cert, keyPass, signer string) (*signing.Identity, error) {
	keyData, err := atomicfile.ReadInput(key, "a private key", atomicfile.MaxKeyFile)
	if err != nil {
		return nil, readErr(err, "key "+key, "--key")
	}
	certData, err := atomicfile.ReadInput(cert, "a certificate", atomicfile.MaxKeyFile)
	if err != nil {
		return nil, readErr(err, "certificate "+cert, "--cert")
	}
	id, err := signing.LoadKeyAndCertificateWithPassword(keyData, certData, nil)
	if errors.Is(err, signing.ErrEncryptedKey) {
		spec := keyPass
		if spec == "" {
			spec = "stdin"
		}
		var passes []string
		passes, err = pr.read(spec, "Private key password for "+signer)
		if err != nil {
			if keyPass == "" && errors.Is(err, errStdinClosed) {
				return nil, fmt.Errorf("%s: the private key is encrypted: pass its password with --key-pass", key)
			}
			return nil, fmt.Errorf("--key-pass: %w", err)
		}
		for _, p := range passes {
			tries := []string{p}
			if b, ok := jksForm(p); ok && b != p {
				tries = append(tries, b)
			}
			for _, t := range tries {
				if id, err = signing.LoadKeyAndCertificateWithPassword(keyData, certData, &t); !errors.Is(err, signing.ErrWrongPassword) {
					break
				}
			}
			if !errors.Is(err, signing.ErrWrongPassword) {
				break
			}
		}
	}
	switch {
	case errors.Is(err, signing.ErrEncryptedKey):
		return nil, fmt.Errorf("%s: the private key is encrypted: pass its password with --key-pass", key)
	case errors.Is(err, signing.ErrWrongPassword):
		return nil, fmt.Errorf("%s: wrong password for the private key: check --key-pass", key)
	case errors.Is(err, signing.ErrKeyMismatch):
		return nil, fmt.Errorf("key %s does not match certificate %s: pass the certificate of this key", key, cert)
	case err != nil:
		return nil, fmt.Errorf("key %s, certificate %s: %s", key, cert, strings.TrimPrefix(err.Error(), "signing: "))
	}
	return id, nil
}
