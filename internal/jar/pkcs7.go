package jar

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/storesign/storesign/internal/cms"
)

// PKCS7Options says how [SignPKCS7] builds a signature block. The zero
// value signs the content directly with SHA-256 and names the signature
// algorithm (sha256WithRSAEncryption); jarsigner 17's form adds
// SignedAttributes, apksigner's form (APK v1) sets KeyAlgorithmOID.
type PKCS7Options struct {
	// Hash is the digest algorithm; zero means SHA-256.
	Hash crypto.Hash
	// SignedAttributes signs attributes as jarsigner 17 does (contentType
	// data, signingTime, CMSAlgorithmProtection, messageDigest) instead of
	// the content directly, as apksigner does for APK v1 signatures.
	SignedAttributes bool
	// KeyAlgorithmOID writes the key's algorithm as the SignerInfo
	// signatureAlgorithm (rsaEncryption, or id-ecPublicKey with NULL
	// parameters), as apksigner does, instead of the signature algorithm
	// (sha256WithRSAEncryption, ecdsa-with-SHA256) as jarsigner does.
	KeyAlgorithmOID bool
	// Now gives the signing time for SignedAttributes; nil means time.Now.
	Now func() time.Time
	// Rand is the randomness for ECDSA signatures; nil means crypto/rand.
	Rand io.Reader
}

// SignPKCS7 returns a DER PKCS#7 SignedData ContentInfo holding a detached
// signature of content (the .SF bytes) by signer, whose certificate must
// be certs[0]; all of certs are embedded (sorted, as DER sets are). This
// is the content of a JAR signature block file (.RSA, .EC). The encoding
// is internal/cms's.
func SignPKCS7(signer crypto.Signer, certs []*x509.Certificate, content []byte, opts PKCS7Options) ([]byte, error) {
	if signer == nil || len(certs) == 0 || certs[0] == nil {
		return nil, errors.New("jar: signing needs a key and its certificate")
	}
	o := cms.SignOptions{Hash: opts.Hash, SignedAttributes: opts.SignedAttributes, Rand: opts.Rand}
	if opts.KeyAlgorithmOID {
		o.Naming = cms.NameKeyAlgorithm
	}
	if opts.SignedAttributes {
		now := time.Now
		if opts.Now != nil {
			now = opts.Now
		}
		o.SigningTime = now()
		o.AlgorithmProtection = true
	}
	der, err := cms.Sign(content, signer, certs, o)
	if err != nil {
		return nil, jarError(err)
	}
	return der, nil
}

// jarError restates an error of internal/cms as one of this package:
// "jar:" instead of "cms:", matching ErrPKCS7 or ErrSignature (and still
// the cms sentinels and types).
func jarError(err error) error {
	var sentinel, cmsSentinel error
	switch {
	case errors.Is(err, cms.ErrSignature):
		sentinel, cmsSentinel = ErrSignature, cms.ErrSignature
	case errors.Is(err, cms.ErrMalformed):
		sentinel, cmsSentinel = ErrPKCS7, cms.ErrMalformed
	default:
		if msg, ok := strings.CutPrefix(err.Error(), "cms: "); ok {
			return &mappedError{msg: "jar: " + msg, errs: []error{err}}
		}
		return err
	}
	msg := err.Error()
	var le *cms.LimitError
	if errors.As(err, &le) {
		msg = sentinel.Error() + ": " + strings.TrimPrefix(msg, "cms: ")
	} else {
		msg = strings.Replace(msg, cmsSentinel.Error(), sentinel.Error(), 1)
	}
	return &mappedError{msg: msg, errs: []error{sentinel, err}}
}

type mappedError struct {
	msg  string
	errs []error
}

func (e *mappedError) Error() string   { return e.msg }
func (e *mappedError) Unwrap() []error { return e.errs }

// errorf wraps an error of this package's own checks.
func errorf(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: %s", sentinel, fmt.Sprintf(format, args...))
}
