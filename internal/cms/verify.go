package cms

import (
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
)

// ErrSignature is wrapped by errors about signatures that do not verify.
var ErrSignature = errors.New("cms: signature does not verify")

// Verify checks si's signature over content (for a detached signature,
// the content signed elsewhere; else sd.Content) by cert's key. With
// signed attributes it checks that they hold the content type of sd and
// the content's digest, that a CMSAlgorithmProtection attribute (if any)
// names si's algorithms, and the signature over the attributes as stored
// ([SignerInfo.SignedAttributesDER]). It does not check the certificate:
// callers judge trust (JAR signatures are judged by key, code signatures
// by chain).
func (sd *SignedData) Verify(si *SignerInfo, cert *x509.Certificate, content []byte) error {
	if cert == nil {
		return fmt.Errorf("%w: the signer's certificate is not in the signature", ErrMalformed)
	}
	h := HashForOID(si.DigestAlgorithm.Algorithm)
	if h == 0 || !h.Available() {
		return fmt.Errorf("%w: unsupported digest algorithm %v", ErrMalformed, si.DigestAlgorithm.Algorithm)
	}
	if content == nil {
		content = sd.Content
	}
	d := h.New()
	d.Write(content)
	digest := d.Sum(nil)
	signed := digest
	if si.SignedAttributes != nil {
		var ct asn1.ObjectIdentifier
		if a, err := si.Attribute(OIDContentType); err != nil {
			return err
		} else if a == nil {
			return fmt.Errorf("%w: no contentType signed attribute", ErrSignature)
		} else if err := a.Value(&ct); err != nil {
			return err
		}
		if !ct.Equal(sd.ContentType) {
			return fmt.Errorf("%w: signed contentType %v is not the content's %v", ErrSignature, ct, sd.ContentType)
		}
		var md []byte
		if a, err := si.Attribute(OIDMessageDigest); err != nil {
			return err
		} else if a == nil {
			return fmt.Errorf("%w: no messageDigest signed attribute", ErrSignature)
		} else if err := a.Value(&md); err != nil {
			return err
		}
		if subtle.ConstantTimeCompare(md, digest) != 1 {
			return fmt.Errorf("%w: the signed message digest does not match the content", ErrSignature)
		}
		if a, err := si.Attribute(OIDAlgorithmProtect); err != nil {
			return err
		} else if a != nil {
			var p struct {
				DigestAlgorithm    AlgorithmIdentifierDER
				SignatureAlgorithm AlgorithmIdentifierDER `asn1:"tag:1,optional"`
			}
			if err := a.Value(&p); err != nil {
				return err
			}
			if !p.DigestAlgorithm.Algorithm.Equal(si.DigestAlgorithm.Algorithm) ||
				len(p.SignatureAlgorithm.Algorithm) > 0 && !p.SignatureAlgorithm.Algorithm.Equal(si.SignatureAlgorithm.Algorithm) {
				return fmt.Errorf("%w: CMSAlgorithmProtection does not match the signer's algorithms", ErrSignature)
			}
		}
		d := h.New()
		d.Write(si.SignedAttributesDER())
		signed = d.Sum(nil)
	}
	return CheckSignature(cert.PublicKey, si.SignatureAlgorithm.Algorithm, h, signed, si.Signature)
}

// AlgorithmIdentifierDER is an AlgorithmIdentifier for encoding/asn1.
type AlgorithmIdentifierDER struct {
	Algorithm  asn1.ObjectIdentifier
	Parameters asn1.RawValue `asn1:"optional"`
}

// CheckSignature verifies sig over digest (made with hash h) by pub. The
// signature algorithm OID must fit the key; a combined OID
// (sha256WithRSAEncryption) must name the same digest as h. RSA PKCS#1
// v1.5, ECDSA and DSA are checked.
func CheckSignature(pub crypto.PublicKey, alg asn1.ObjectIdentifier, h crypto.Hash, digest, sig []byte) error {
	combined := map[string]crypto.Hash{
		OIDSHA1WithRSA.String(): crypto.SHA1, OIDSHA256WithRSA.String(): crypto.SHA256,
		OIDSHA384WithRSA.String(): crypto.SHA384, OIDSHA512WithRSA.String(): crypto.SHA512,
		OIDECDSAWithSHA1.String(): crypto.SHA1, OIDECDSAWithSHA256.String(): crypto.SHA256,
		OIDECDSAWithSHA384.String(): crypto.SHA384, OIDECDSAWithSHA512.String(): crypto.SHA512,
		OIDDSAWithSHA1.String(): crypto.SHA1, OIDDSAWithSHA256.String(): crypto.SHA256,
	}
	if ch, ok := combined[alg.String()]; ok && ch != h {
		return fmt.Errorf("%w: signature algorithm %v does not match digest algorithm %v", ErrMalformed, alg, h)
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
		if !fits(OIDRSAEncryption, OIDSHA1WithRSA, OIDSHA256WithRSA, OIDSHA384WithRSA, OIDSHA512WithRSA) {
			return fmt.Errorf("%w: signature algorithm %v does not fit an RSA key", ErrMalformed, alg)
		}
		if err := rsa.VerifyPKCS1v15(k, h, digest, sig); err != nil {
			return ErrSignature
		}
	case *ecdsa.PublicKey:
		if !fits(OIDECPublicKey, OIDECDSAWithSHA1, OIDECDSAWithSHA256, OIDECDSAWithSHA384, OIDECDSAWithSHA512) {
			return fmt.Errorf("%w: signature algorithm %v does not fit an EC key", ErrMalformed, alg)
		}
		if !ecdsa.VerifyASN1(k, digest, sig) {
			return ErrSignature
		}
	case *dsa.PublicKey:
		if !fits(OIDDSA, OIDDSAWithSHA1, OIDDSAWithSHA256) {
			return fmt.Errorf("%w: signature algorithm %v does not fit a DSA key", ErrMalformed, alg)
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
		return fmt.Errorf("%w: unsupported public key %T", ErrMalformed, pub)
	}
	return nil
}
