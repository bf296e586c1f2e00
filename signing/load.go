package signing

import (
	"bytes"
	"crypto"
	"crypto/dsa" //nolint:staticcheck // DSA is loaded for verification only.
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	keystore "github.com/pavlo-v-chernykh/keystore-go/v4"
	pkcs12 "software.sslmate.com/src/go-pkcs12"
)

// Keystore types, as apksigner's --ks-type names them.
const (
	TypeJKS    = "JKS"
	TypePKCS12 = "PKCS12"
)

// KeystoreOptions says how to open a keystore. The zero value opens an
// unprotected keystore holding exactly one key.
type KeystoreOptions struct {
	// Type is TypeJKS, TypePKCS12 or "" to detect it from the bytes
	// (keytool writes PKCS#12 even to files named .jks since Java 9).
	Type string
	// StorePassword opens the keystore.
	StorePassword string
	// Alias chooses the key; it may be empty when the keystore holds one key.
	Alias string
	// KeyPassword opens the key entry; nil means the store password, as
	// apksigner and jarsigner assume. (A pointer, since "" is a password.)
	KeyPassword *string
}

// DetectKeystoreType tells a JKS (or JCEKS) keystore from a PKCS#12 file by
// its first bytes. It returns "" when the bytes are neither.
func DetectKeystoreType(data []byte) string {
	switch {
	case len(data) >= 4 && (bytes.Equal(data[:4], []byte{0xfe, 0xed, 0xfe, 0xed}) || bytes.Equal(data[:4], []byte{0xce, 0xce, 0xce, 0xce})):
		return TypeJKS
	case len(data) >= 2 && data[0] == 0x30:
		return TypePKCS12
	}
	return ""
}

// LoadKeystore loads a signing identity from an Android keystore: JKS or
// PKCS#12.
func LoadKeystore(data []byte, opts KeystoreOptions) (*Identity, error) {
	if err := checkSize("keystore", data); err != nil {
		return nil, err
	}
	typ := strings.ToUpper(opts.Type)
	if typ == "" {
		typ = DetectKeystoreType(data)
	}
	switch typ {
	case TypeJKS:
		return loadJKS(data, opts)
	case TypePKCS12, "P12", "PFX":
		if opts.KeyPassword != nil && *opts.KeyPassword != opts.StorePassword {
			// PKCS#12 files written by keytool use one password for both;
			// try the key password if the store password fails.
			id, err := loadPKCS12(data, opts.StorePassword, opts.Alias)
			if errors.Is(err, ErrWrongPassword) {
				return loadPKCS12(data, *opts.KeyPassword, opts.Alias)
			}
			return id, err
		}
		return loadPKCS12(data, opts.StorePassword, opts.Alias)
	case "":
		return nil, errors.New("signing: not a keystore (neither JKS nor PKCS#12)")
	}
	return nil, fmt.Errorf("signing: unsupported keystore type %q (use JKS or PKCS12)", opts.Type)
}

// LoadPKCS12 loads a signing identity from a PKCS#12 (.p12, .pfx) file, as
// Keychain Access exports an Apple distribution certificate. Both modern
// (PBES2/AES) and legacy (3DES, RC2) files load. Certificates besides the
// leaf become the chain.
func LoadPKCS12(data []byte, password string) (*Identity, error) {
	return loadPKCS12(data, password, "")
}

func loadPKCS12(data []byte, password, alias string) (*Identity, error) {
	if err := checkSize("PKCS#12 file", data); err != nil {
		return nil, err
	}
	if err := checkPKCS12(data, password); err != nil {
		return nil, err
	}
	key, leaf, cas, err := pkcs12.DecodeChain(data, password)
	if err != nil {
		switch {
		case errors.Is(err, pkcs12.ErrIncorrectPassword), errors.Is(err, pkcs12.ErrDecryption):
			return nil, ErrWrongPassword
		}
		var nie pkcs12.NotImplementedError
		if errors.As(err, &nie) {
			return nil, fmt.Errorf("signing: PKCS#12 file uses an unsupported feature (%s): re-export it with AES-256 encryption", string(nie))
		}
		return nil, fmt.Errorf("signing: not a valid PKCS#12 file: %s", trimPrefix(err.Error(), "pkcs12: "))
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, ErrUnsupportedKey
	}
	// Before orderChain, which checks signatures between them.
	if err := checkCertificates(append([]*x509.Certificate{leaf}, cas...)); err != nil {
		return nil, err
	}
	id, err := NewIdentity(signer, leaf, orderChain(leaf, cas)...)
	if err != nil {
		return nil, err
	}
	id.Alias = alias
	return id, nil
}

func loadJKS(data []byte, opts KeystoreOptions) (*Identity, error) {
	if err := checkJKS(data); err != nil {
		var le *LimitError
		if errors.As(err, &le) {
			return nil, fmt.Errorf("signing: %w", err)
		}
		return nil, fmt.Errorf("signing: not a valid JKS keystore: %v", err)
	}
	ks := keystore.New()
	if err := ks.Load(bytes.NewReader(data), []byte(opts.StorePassword)); err != nil {
		if strings.Contains(err.Error(), "digest") || strings.Contains(err.Error(), "password") {
			return nil, ErrWrongPassword
		}
		return nil, fmt.Errorf("signing: not a valid JKS keystore: %v", err)
	}
	var aliases []string
	for _, a := range ks.Aliases() {
		if ks.IsPrivateKeyEntry(a) {
			aliases = append(aliases, a)
		}
	}
	slices.Sort(aliases)
	alias := opts.Alias
	switch {
	case alias == "" && len(aliases) == 1:
		alias = aliases[0]
	case alias == "" && len(aliases) == 0:
		return nil, ErrNoKey
	case alias == "":
		return nil, &AliasError{Available: aliases}
	case !ks.IsPrivateKeyEntry(alias):
		// keytool lowercases aliases in JKS files.
		if lower := strings.ToLower(alias); ks.IsPrivateKeyEntry(lower) {
			alias = lower
		} else {
			return nil, &AliasError{Alias: opts.Alias, Available: aliases}
		}
	}
	keyPass := opts.StorePassword
	if opts.KeyPassword != nil {
		keyPass = *opts.KeyPassword
	}
	entry, err := ks.GetPrivateKeyEntry(alias, []byte(keyPass))
	if err != nil {
		return nil, fmt.Errorf("%w (for key %q)", ErrWrongPassword, alias)
	}
	key, err := ParsePrivateKey(entry.PrivateKey)
	if err != nil {
		return nil, err
	}
	var certs []*x509.Certificate
	for _, c := range entry.CertificateChain {
		cert, err := x509.ParseCertificate(c.Content)
		if err != nil {
			return nil, fmt.Errorf("signing: key %q has an unreadable certificate: %v", alias, err)
		}
		certs = append(certs, cert)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("signing: key %q has no certificate", alias)
	}
	id, err := NewIdentity(key, certs[0], certs[1:]...)
	if err != nil {
		return nil, err
	}
	id.Alias = alias
	return id, nil
}

// LoadKeyAndCertificate loads an identity from a private key (PKCS#8, or
// PKCS#1 / SEC 1 in PEM; DER or PEM) and certificates (DER, or PEM with the
// leaf first and any chain after), as apksigner's --key and --cert take them.
// An encrypted key returns [ErrEncryptedKey]: load it with
// [LoadKeyAndCertificateWithPassword].
func LoadKeyAndCertificate(keyData, certData []byte) (*Identity, error) {
	return LoadKeyAndCertificateWithPassword(keyData, certData, nil)
}

// LoadKeyAndCertificateWithPassword is [LoadKeyAndCertificate] for a key
// that may be encrypted, as apksigner's --key, --cert and --key-pass take
// them. A nil password expects an unencrypted key, and returns
// [ErrEncryptedKey] for an encrypted one; otherwise the key is decrypted
// with [ParseEncryptedPrivateKey] (an unencrypted key loads, and the
// password is ignored).
func LoadKeyAndCertificateWithPassword(keyData, certData []byte, password *string) (*Identity, error) {
	if err := checkSize("private key", keyData); err != nil {
		return nil, err
	}
	if err := checkSize("certificate file", certData); err != nil {
		return nil, err
	}
	var (
		key crypto.Signer
		err error
	)
	if password == nil {
		key, err = ParsePrivateKey(keyData)
	} else {
		key, err = ParseEncryptedPrivateKey(keyData, *password)
	}
	if err != nil {
		return nil, err
	}
	certs, err := ParseCertificates(certData)
	if err != nil {
		return nil, err
	}
	if len(certs) == 0 {
		return nil, errors.New("signing: no certificate found")
	}
	return NewIdentity(key, certs[0], certs[1:]...)
}

// ParsePrivateKey parses an unencrypted private key: PKCS#8 DER, or PEM
// holding PKCS#8 ("PRIVATE KEY"), PKCS#1 ("RSA PRIVATE KEY") or SEC 1
// ("EC PRIVATE KEY"); in a PEM file holding other blocks too, the first
// private key counts. DSA keys parse, but the returned signer refuses to be
// used for signing by [NewIdentity]. An encrypted key returns
// [ErrEncryptedKey]: parse it with [ParseEncryptedPrivateKey].
func ParsePrivateKey(data []byte) (crypto.Signer, error) {
	if err := checkSize("private key", data); err != nil {
		return nil, err
	}
	der, pemType := data, ""
	if block := findKeyBlock(data); block != nil {
		if strings.Contains(block.Type, "ENCRYPTED") || x509.IsEncryptedPEMBlock(block) { //nolint:staticcheck // legacy keys are still met
			return nil, ErrEncryptedKey
		}
		der, pemType = block.Bytes, block.Type
	}
	if len(der) > maxKeyDER {
		if _, ok := parseEncryptedInfo(der); ok {
			return nil, ErrEncryptedKey
		}
		return nil, fmt.Errorf("signing: %w", &LimitError{What: "size of the private key (bytes)", Value: int64(len(der)), Limit: maxKeyDER, Fix: "check that it is the right file (a 16384-bit RSA key takes 10 KiB)"})
	}
	switch pemType {
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(der)
		if err != nil {
			return nil, fmt.Errorf("signing: not a valid RSA private key: %v", err)
		}
		return k, nil
	case "EC PRIVATE KEY":
		k, err := x509.ParseECPrivateKey(der)
		if err != nil {
			return nil, fmt.Errorf("signing: not a valid EC private key: %v", err)
		}
		return k, nil
	}
	key, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		if k, err2 := parseDSAPKCS8(der); err2 == nil {
			return k, nil
		}
		if _, ok := parseEncryptedInfo(der); ok {
			return nil, ErrEncryptedKey
		}
		return nil, errors.New("signing: not a valid private key (expected PKCS#8 DER or PEM)")
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, ErrUnsupportedKey
	}
	return signer, nil
}

// ParseCertificates parses one DER certificate, or every CERTIFICATE block of
// a PEM file, in order.
func ParseCertificates(data []byte) ([]*x509.Certificate, error) {
	if err := checkSize("certificate file", data); err != nil {
		return nil, err
	}
	if !bytes.Contains(data, []byte("-----BEGIN")) {
		c, err := x509.ParseCertificate(data)
		if err != nil {
			return nil, fmt.Errorf("signing: not a valid certificate (expected X.509 DER or PEM): %v", trimPrefix(err.Error(), "x509: "))
		}
		if err := checkPublicKeySize(c.PublicKey, "certificate "+strconv.Quote(c.Subject.CommonName)); err != nil {
			return nil, err
		}
		return []*x509.Certificate{c}, nil
	}
	var certs []*x509.Certificate
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		if len(certs) == MaxKeystoreEntries {
			return nil, fmt.Errorf("signing: %w", &LimitError{What: "certificates in the PEM file", Value: -1, Limit: MaxKeystoreEntries, Fix: "check that it is the right file"})
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("signing: not a valid certificate: %v", trimPrefix(err.Error(), "x509: "))
		}
		if err := checkPublicKeySize(c.PublicKey, "certificate "+strconv.Quote(c.Subject.CommonName)); err != nil {
			return nil, err
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, errors.New("signing: no CERTIFICATE block in the PEM file")
	}
	return certs, nil
}

// orderChain returns the certificates of cas that lead from leaf towards a
// root, nearest first, followed by any that are not on that path.
func orderChain(leaf *x509.Certificate, cas []*x509.Certificate) []*x509.Certificate {
	rest := slices.Clone(cas)
	var out []*x509.Certificate
	cur := leaf
	for len(rest) > 0 {
		i := slices.IndexFunc(rest, func(c *x509.Certificate) bool {
			return bytes.Equal(c.RawSubject, cur.RawIssuer) && cur.CheckSignatureFrom(c) == nil
		})
		if i < 0 || bytes.Equal(cur.RawIssuer, cur.RawSubject) {
			break
		}
		cur = rest[i]
		out = append(out, cur)
		rest = slices.Delete(rest, i, i+1)
	}
	return append(out, rest...)
}

func trimPrefix(s, p string) string { return strings.TrimPrefix(s, p) }

// dsaSigner holds a DSA key so that it can be loaded; it cannot sign.
type dsaSigner struct{ dsa.PrivateKey }

func (k *dsaSigner) Public() crypto.PublicKey { return &k.PublicKey }
func (k *dsaSigner) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, ErrUnsupportedKey
}
