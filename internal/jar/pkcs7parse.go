package jar

import (
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"time"

	"github.com/storesign/storesign/internal/cms"
)

// ErrPKCS7 is wrapped by errors about malformed signature blocks.
var ErrPKCS7 = errors.New("jar: malformed signature block")

// ErrSignature is wrapped by errors about signatures that do not verify.
var ErrSignature = errors.New("jar: signature does not verify")

// SignedData is a parsed PKCS#7 signature block.
type SignedData struct {
	// Certificates holds the embedded certificates in order.
	Certificates []*x509.Certificate
	// Signers holds one entry per SignerInfo.
	Signers []*SignerInfo
	// Detached is true when the block carries no content, as in JAR files.
	Detached bool

	sd *cms.SignedData
}

// SignerInfo is one signer of a [SignedData].
type SignerInfo struct {
	// Certificate is the embedded certificate named by the SignerInfo's
	// issuer and serial number; nil when none matches.
	Certificate *x509.Certificate
	// Hash is the digest algorithm; 0 when unknown.
	Hash crypto.Hash
	// DigestAlgorithm and SignatureAlgorithm are the raw OIDs.
	DigestAlgorithm, SignatureAlgorithm asn1.ObjectIdentifier
	// SignatureParams holds the DER parameters of SignatureAlgorithm, if any.
	SignatureParams []byte
	// SignedAttributes is true when the signature covers signed
	// attributes rather than the content.
	SignedAttributes bool
	// ContentType and MessageDigest are the signed attributes of those
	// names, when present.
	ContentType   asn1.ObjectIdentifier
	MessageDigest []byte
	// SigningTime is the signingTime attribute; zero when absent.
	SigningTime time.Time
	// AlgorithmProtection is true when a CMSAlgorithmProtection attribute
	// is present (it is checked against the algorithms by Verify).
	AlgorithmProtection bool
	// Signature holds the raw signature.
	Signature []byte

	si *cms.SignerInfo
}

// ParsePKCS7 parses a DER (or BER) PKCS#7 SignedData ContentInfo, the
// content of a JAR signature block file, within internal/cms's default
// limits.
func ParsePKCS7(der []byte) (*SignedData, error) {
	sd, err := cms.Parse(der, cms.ParseOptions{})
	if err != nil {
		return nil, jarError(err)
	}
	if len(sd.Signers) == 0 {
		return nil, errorf(ErrPKCS7, "no signer")
	}
	out := &SignedData{Certificates: sd.Certificates, Detached: sd.Content == nil, sd: sd}
	for _, si := range sd.Signers {
		if si.Version != 1 || si.Issuer == nil {
			return nil, errorf(ErrPKCS7, "unsupported SignerInfo version %d (only issuerAndSerialNumber signers)", si.Version)
		}
		s := &SignerInfo{
			Certificate:        sd.SignerCertificate(si),
			Hash:               cms.HashForOID(si.DigestAlgorithm.Algorithm),
			DigestAlgorithm:    si.DigestAlgorithm.Algorithm,
			SignatureAlgorithm: si.SignatureAlgorithm.Algorithm,
			SignatureParams:    si.SignatureAlgorithm.Parameters,
			SignedAttributes:   si.SignedAttributes != nil,
			Signature:          si.Signature,
			si:                 si,
		}
		if s.SignedAttributes {
			if err := s.parseSignedAttributes(); err != nil {
				return nil, err
			}
		}
		out.Signers = append(out.Signers, s)
	}
	return out, nil
}

func (s *SignerInfo) parseSignedAttributes() error {
	seen := map[string]bool{}
	for i := range s.si.SignedAttributes {
		a := &s.si.SignedAttributes[i]
		if seen[a.Type.String()] {
			return errorf(ErrPKCS7, "duplicate signed attribute %v", a.Type)
		}
		seen[a.Type.String()] = true
		if len(a.Values) != 1 {
			return errorf(ErrPKCS7, "signed attribute %v must hold one value", a.Type)
		}
		var err error
		switch {
		case a.Type.Equal(cms.OIDContentType):
			err = a.Value(&s.ContentType)
		case a.Type.Equal(cms.OIDMessageDigest):
			err = a.Value(&s.MessageDigest)
		case a.Type.Equal(cms.OIDSigningTime):
			err = a.Value(&s.SigningTime)
		case a.Type.Equal(cms.OIDAlgorithmProtect):
			s.AlgorithmProtection = true
		}
		if err != nil {
			return jarError(err)
		}
	}
	return nil
}

// Verify checks every signer's signature over content (the .SF bytes) and,
// when there are signed attributes, that they hold contentType data, the
// content's digest and (if present) an algorithm protection that matches.
// It returns the signers' certificates. It does not check certificate
// validity or trust: JAR and APK signatures are judged by the key, and
// Android accepts self-signed, expired certificates.
func (sd *SignedData) Verify(content []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for i, s := range sd.Signers {
		if err := sd.verify(s, content); err != nil {
			if len(sd.Signers) > 1 {
				return nil, fmt.Errorf("signer %d: %w", i+1, err)
			}
			return nil, err
		}
		certs = append(certs, s.Certificate)
	}
	return certs, nil
}

func (sd *SignedData) verify(s *SignerInfo, content []byte) error {
	if s.Certificate == nil {
		return errorf(ErrPKCS7, "the signer's certificate is not in the block")
	}
	if s.Hash == 0 || !s.Hash.Available() {
		return errorf(ErrPKCS7, "unsupported digest algorithm %v", s.DigestAlgorithm)
	}
	if s.SignedAttributes && !s.ContentType.Equal(cms.OIDData) {
		return errorf(ErrSignature, "signed contentType %v is not data", s.ContentType)
	}
	if err := sd.sd.Verify(s.si, s.Certificate, content); err != nil {
		return jarError(err)
	}
	return nil
}
