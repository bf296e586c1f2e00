package signing

import (
	"bytes"
	"crypto"
	"crypto/dsa" //nolint:staticcheck // DSA is loaded for verification only.
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// Errors callers branch on.
var (
	// ErrWrongPassword is returned when a keystore, PKCS#12 file or key
	// cannot be decrypted with the password given.
	ErrWrongPassword = errors.New("signing: wrong password")
	// ErrKeyMismatch is returned when a private key does not belong to the
	// certificate it was given with.
	ErrKeyMismatch = errors.New("signing: the private key does not match the certificate")
	// ErrUnsupportedKey is returned for keys storesign cannot sign with.
	ErrUnsupportedKey = errors.New("signing: unsupported key type (use RSA or ECDSA P-256, P-384 or P-521)")
	// ErrNoKey is returned when a container holds no private key.
	ErrNoKey = errors.New("signing: no private key found")
)

// AliasError reports a keystore alias that is not in the keystore, or an
// alias that must be chosen because the keystore holds several keys.
type AliasError struct {
	Alias     string   // the alias asked for; empty when none was given
	Available []string // the private-key aliases the keystore holds
}

func (e *AliasError) Error() string {
	if e.Alias == "" {
		return fmt.Sprintf("signing: the keystore holds %d keys (%s): choose one with the key alias", len(e.Available), aliasList(e.Available))
	}
	if len(e.Available) == 0 {
		return fmt.Sprintf("signing: no key with alias %q: the keystore holds no private keys", e.Alias)
	}
	return fmt.Sprintf("signing: no key with alias %q: the keystore holds %s", e.Alias, aliasList(e.Available))
}

// aliasList lists aliases from a keystore for a one-line message: the
// first ten, each quoted when it holds anything but printable characters.
func aliasList(aliases []string) string {
	const most = 10
	var parts []string
	for i, a := range aliases {
		if i == most {
			parts = append(parts, fmt.Sprintf("and %d more", len(aliases)-most))
			break
		}
		if a == "" || strings.ContainsFunc(a, func(r rune) bool { return !unicode.IsPrint(r) || r == ',' }) {
			a = strconv.Quote(a)
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, ", ")
}

// Identity is a signer: the certificate chain, leaf first, and the private
// key of the leaf as a [crypto.Signer]. Identities are immutable once loaded
// and safe for concurrent use.
type Identity struct {
	// Signer signs with the leaf's private key. It may be an HSM or KMS key;
	// nil for a verify-only identity.
	Signer crypto.Signer
	// Certificate is the leaf certificate.
	Certificate *x509.Certificate
	// Chain holds the certificates that issued the leaf, nearest first, as
	// far as the source gave them. It never contains the leaf.
	Chain []*x509.Certificate
	// Alias is the keystore alias the identity was loaded from, if any.
	Alias string
}

// NewIdentity checks that signer belongs to cert and that the key is one
// storesign can sign with, and returns the identity.
func NewIdentity(signer crypto.Signer, cert *x509.Certificate, chain ...*x509.Certificate) (*Identity, error) {
	if cert == nil {
		return nil, errors.New("signing: no certificate")
	}
	if signer == nil {
		return nil, ErrNoKey
	}
	if err := checkCertificates(append([]*x509.Certificate{cert}, chain...)); err != nil {
		return nil, err
	}
	if err := checkPublicKeySize(signer.Public(), "private key"); err != nil {
		return nil, err
	}
	if err := checkSigningKey(signer.Public()); err != nil {
		return nil, err
	}
	if !publicKeysEqual(signer.Public(), cert.PublicKey) {
		return nil, ErrKeyMismatch
	}
	var rest []*x509.Certificate
	for _, c := range chain {
		if c != nil && !c.Equal(cert) {
			rest = append(rest, c)
		}
	}
	return &Identity{Signer: signer, Certificate: cert, Chain: rest}, nil
}

// Certificates returns the leaf followed by the chain.
func (id *Identity) Certificates() []*x509.Certificate {
	return append([]*x509.Certificate{id.Certificate}, id.Chain...)
}

// Fingerprint returns the lowercase hex SHA-256 of the leaf certificate,
// the form apksigner and the Play Console show.
func (id *Identity) Fingerprint() string {
	return CertificateSHA256(id.Certificate)
}

// CertificateSHA256 returns the lowercase hex SHA-256 of cert's DER bytes.
func CertificateSHA256(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	return hex.EncodeToString(sum[:])
}

// KeyAlgorithm names the identity's key as apksigner does: "RSA", "EC" or
// "DSA".
func (id *Identity) KeyAlgorithm() string {
	return KeyAlgorithm(id.Certificate.PublicKey)
}

// KeyAlgorithm names a public key's algorithm: "RSA", "EC", "DSA" or "".
func KeyAlgorithm(pub crypto.PublicKey) string {
	switch pub.(type) {
	case *rsa.PublicKey:
		return "RSA"
	case *ecdsa.PublicKey:
		return "EC"
	case *dsa.PublicKey:
		return "DSA"
	case ed25519.PublicKey:
		return "Ed25519"
	}
	return ""
}

func checkSigningKey(pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < 1024 {
			return fmt.Errorf("%w: RSA key of %d bits is too short", ErrUnsupportedKey, k.N.BitLen())
		}
		return nil
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
			return nil
		}
		return fmt.Errorf("%w: curve %s", ErrUnsupportedKey, k.Curve.Params().Name)
	}
	return ErrUnsupportedKey
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	type equaler interface {
		Equal(crypto.PublicKey) bool
	}
	if e, ok := a.(equaler); ok {
		return e.Equal(b)
	}
	da, err1 := x509.MarshalPKIXPublicKey(a)
	db, err2 := x509.MarshalPKIXPublicKey(b)
	return err1 == nil && err2 == nil && bytes.Equal(da, db)
}
