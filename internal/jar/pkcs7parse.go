package jar

import (
	"bytes"
	"crypto"
	"crypto/dsa" //nolint:staticcheck // old JAR signatures use DSA; verification only.
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/subtle"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"time"
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

	signedAttrsDER []byte // the attributes re-tagged as SET, as signed
	algProt        *algorithmProtection
	digestParams   []byte
	issuer         []byte
	serial         *big.Int
}

// ParsePKCS7 parses a DER PKCS#7 SignedData ContentInfo, the content of a
// JAR signature block file.
func ParsePKCS7(der []byte) (*SignedData, error) {
	var ci contentInfo
	rest, err := asn1.Unmarshal(der, &ci)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrPKCS7, err)
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: trailing data", ErrPKCS7)
	}
	if !ci.ContentType.Equal(oidSignedData) {
		return nil, fmt.Errorf("%w: content type %v is not signedData", ErrPKCS7, ci.ContentType)
	}
	if ci.Content.Class != asn1.ClassContextSpecific || ci.Content.Tag != 0 || !ci.Content.IsCompound {
		return nil, fmt.Errorf("%w: no signedData content", ErrPKCS7)
	}
	var sd signedData
	if rest, err := asn1.Unmarshal(ci.Content.Bytes, &sd); err != nil || len(rest) != 0 {
		if err == nil {
			err = errors.New("trailing data")
		}
		return nil, fmt.Errorf("%w: signedData: %v", ErrPKCS7, err)
	}
	out := &SignedData{Detached: len(sd.ContentInfo.Content.FullBytes) == 0}
	for rest := sd.Certificates.Bytes; len(rest) > 0; {
		var raw asn1.RawValue
		var err error
		rest, err = asn1.Unmarshal(rest, &raw)
		if err != nil {
			return nil, fmt.Errorf("%w: certificates: %v", ErrPKCS7, err)
		}
		if raw.Class != asn1.ClassUniversal || raw.Tag != asn1.TagSequence {
			continue // attribute certificates and the like
		}
		c, err := x509.ParseCertificate(raw.FullBytes)
		if err != nil {
			return nil, fmt.Errorf("%w: certificate: %v", ErrPKCS7, err)
		}
		out.Certificates = append(out.Certificates, c)
	}
	if len(sd.SignerInfos) == 0 {
		return nil, fmt.Errorf("%w: no signer", ErrPKCS7)
	}
	for _, si := range sd.SignerInfos {
		s := &SignerInfo{
			Hash:               hashForOID(si.DigestAlgorithm.Algorithm),
			DigestAlgorithm:    si.DigestAlgorithm.Algorithm,
			SignatureAlgorithm: si.SignatureAlgorithm.Algorithm,
			SignatureParams:    si.SignatureAlgorithm.Parameters.FullBytes,
			Signature:          si.Signature,
			digestParams:       si.DigestAlgorithm.Parameters.FullBytes,
			issuer:             si.IssuerAndSerial.Issuer.FullBytes,
			serial:             si.IssuerAndSerial.Serial,
		}
		if si.Version != 1 || s.serial == nil {
			return nil, fmt.Errorf("%w: unsupported SignerInfo version %d (only issuerAndSerialNumber signers)", ErrPKCS7, si.Version)
		}
		for _, c := range out.Certificates {
			if bytes.Equal(c.RawIssuer, s.issuer) && c.SerialNumber.Cmp(s.serial) == 0 {
				s.Certificate = c
				break
			}
		}
		if len(si.SignedAttrs.FullBytes) > 0 {
			if err := s.parseSignedAttributes(si.SignedAttrs); err != nil {
				return nil, err
			}
		}
		out.Signers = append(out.Signers, s)
	}
	return out, nil
}

func (s *SignerInfo) parseSignedAttributes(raw asn1.RawValue) error {
	s.SignedAttributes = true
	// Signed as an explicit SET OF: re-tag the IMPLICIT [0].
	s.signedAttrsDER = append([]byte{0x31}, raw.FullBytes[1:]...)
	seen := map[string]bool{}
	for rest := raw.Bytes; len(rest) > 0; {
		var a attribute
		var err error
		rest, err = asn1.Unmarshal(rest, &a)
		if err != nil {
			return fmt.Errorf("%w: signed attributes: %v", ErrPKCS7, err)
		}
		if seen[a.Type.String()] {
			return fmt.Errorf("%w: duplicate signed attribute %v", ErrPKCS7, a.Type)
		}
		seen[a.Type.String()] = true
		var values []asn1.RawValue
		for r := a.Values.Bytes; len(r) > 0; {
			var v asn1.RawValue
			r, err = asn1.Unmarshal(r, &v)
			if err != nil {
				return fmt.Errorf("%w: signed attribute %v: %v", ErrPKCS7, a.Type, err)
			}
			values = append(values, v)
		}
		if a.Values.Tag != asn1.TagSet || len(values) != 1 {
			return fmt.Errorf("%w: signed attribute %v must hold one value", ErrPKCS7, a.Type)
		}
		v := values[0].FullBytes
		switch {
		case a.Type.Equal(oidAttrContentType):
			_, err = asn1.Unmarshal(v, &s.ContentType)
		case a.Type.Equal(oidAttrMessageDigest):
			_, err = asn1.Unmarshal(v, &s.MessageDigest)
		case a.Type.Equal(oidAttrSigningTime):
			_, err = asn1.Unmarshal(v, &s.SigningTime)
		case a.Type.Equal(oidAttrAlgProtection):
			s.algProt = new(algorithmProtection)
			_, err = asn1.Unmarshal(v, s.algProt)
			s.AlgorithmProtection = true
		}
		if err != nil {
			return fmt.Errorf("%w: signed attribute %v: %v", ErrPKCS7, a.Type, err)
		}
	}
	return nil
}

func hashForOID(oid asn1.ObjectIdentifier) crypto.Hash {
	for _, h := range []crypto.Hash{crypto.SHA1, crypto.SHA256, crypto.SHA384, crypto.SHA512} {
		if oid.Equal(digestOID(h)) {
			return h
		}
	}
	return 0
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
		if err := s.verify(content); err != nil {
			if len(sd.Signers) > 1 {
				return nil, fmt.Errorf("signer %d: %w", i+1, err)
			}
			return nil, err
		}
		certs = append(certs, s.Certificate)
	}
	return certs, nil
}

func (s *SignerInfo) verify(content []byte) error {
	if s.Certificate == nil {
		return fmt.Errorf("%w: the signer's certificate is not in the block", ErrPKCS7)
	}
	if s.Hash == 0 || !s.Hash.Available() {
		return fmt.Errorf("%w: unsupported digest algorithm %v", ErrPKCS7, s.DigestAlgorithm)
	}
	h := s.Hash.New()
	h.Write(content)
	digest := h.Sum(nil)
	signed := digest
	if s.SignedAttributes {
		if !s.ContentType.Equal(oidData) {
			return fmt.Errorf("%w: signed contentType %v is not data", ErrSignature, s.ContentType)
		}
		if s.MessageDigest == nil || subtle.ConstantTimeCompare(s.MessageDigest, digest) != 1 {
			return fmt.Errorf("%w: the signed message digest does not match the signature file", ErrSignature)
		}
		if p := s.algProt; p != nil {
			if !p.DigestAlgorithm.Algorithm.Equal(s.DigestAlgorithm) ||
				len(p.SignatureAlgorithm.Algorithm) > 0 && !p.SignatureAlgorithm.Algorithm.Equal(s.SignatureAlgorithm) {
				return fmt.Errorf("%w: CMSAlgorithmProtection does not match the signer's algorithms", ErrSignature)
			}
		}
		h := s.Hash.New()
		h.Write(s.signedAttrsDER)
		signed = h.Sum(nil)
	}
	if err := checkSignature(s.Certificate.PublicKey, s.SignatureAlgorithm, s.Hash, signed, s.Signature); err != nil {
		return err
	}
	return nil
}

// checkSignature verifies sig over digest (made with hash h) by pub. The
// signature algorithm OID must fit the key; a combined OID
// (sha256WithRSAEncryption) must name the same digest as h.
func checkSignature(pub crypto.PublicKey, alg asn1.ObjectIdentifier, h crypto.Hash, digest, sig []byte) error {
	combined := map[string]crypto.Hash{
		oidSHA1WithRSA.String(): crypto.SHA1, oidSHA256WithRSA.String(): crypto.SHA256,
		oidSHA384WithRSA.String(): crypto.SHA384, oidSHA512WithRSA.String(): crypto.SHA512,
		oidECDSAWithSHA1.String(): crypto.SHA1, oidECDSAWithSHA256.String(): crypto.SHA256,
		oidECDSAWithSHA384.String(): crypto.SHA384, oidECDSAWithSHA512.String(): crypto.SHA512,
		oidDSAWithSHA1.String(): crypto.SHA1, oidDSAWithSHA256.String(): crypto.SHA256,
	}
	if ch, ok := combined[alg.String()]; ok && ch != h {
		return fmt.Errorf("%w: signature algorithm %v does not match digest algorithm %v", ErrPKCS7, alg, h)
	}
	fits := func(oids ...asn1.ObjectIdentifier) bool {
		for _, o := range oids {
			if alg.Equal(o) {
				return true
			}
		}
		return false
	}
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if !fits(oidRSAEncryption, oidSHA1WithRSA, oidSHA256WithRSA, oidSHA384WithRSA, oidSHA512WithRSA) {
			return fmt.Errorf("%w: signature algorithm %v does not fit an RSA key", ErrPKCS7, alg)
		}
		if err := rsa.VerifyPKCS1v15(k, h, digest, sig); err != nil {
			return ErrSignature
		}
	case *ecdsa.PublicKey:
		if !fits(oidECPublicKey, oidECDSAWithSHA1, oidECDSAWithSHA256, oidECDSAWithSHA384, oidECDSAWithSHA512) {
			return fmt.Errorf("%w: signature algorithm %v does not fit an EC key", ErrPKCS7, alg)
		}
		if !ecdsa.VerifyASN1(k, digest, sig) {
			return ErrSignature
		}
	case *dsa.PublicKey:
		if !fits(oidDSA, oidDSAWithSHA1, oidDSAWithSHA256) {
			return fmt.Errorf("%w: signature algorithm %v does not fit a DSA key", ErrPKCS7, alg)
		}
		var rs struct{ R, S *big.Int }
		if rest, err := asn1.Unmarshal(sig, &rs); err != nil || len(rest) != 0 || rs.R == nil || rs.S == nil {
			return ErrSignature
		}
		// DSA signs the leftmost bits of the digest that fit Q.
		if n := k.Q.BitLen() / 8; len(digest) > n {
			digest = digest[:n]
		}
		if !dsa.Verify(k, digest, rs.R, rs.S) {
			return ErrSignature
		}
	default:
		return fmt.Errorf("%w: unsupported public key %T", ErrPKCS7, pub)
	}
	return nil
}
