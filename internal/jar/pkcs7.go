package jar

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
	"slices"
	"time"
)

// Object identifiers used in JAR signature blocks.
var (
	oidData                   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidSignedData             = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidAttrContentType        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	oidAttrMessageDigest      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	oidAttrSigningTime        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}
	oidAttrAlgProtection      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 52}
	oidSHA1                   = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA256                 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384                 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512                 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
	oidRSAEncryption          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidSHA1WithRSA            = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 5}
	oidSHA256WithRSA          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	oidSHA384WithRSA          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 12}
	oidSHA512WithRSA          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 13}
	oidECPublicKey            = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidECDSAWithSHA1          = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 1}
	oidECDSAWithSHA256        = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidECDSAWithSHA384        = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}
	oidECDSAWithSHA512        = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 4}
	oidDSA                    = asn1.ObjectIdentifier{1, 2, 840, 10040, 4, 1}
	oidDSAWithSHA1            = asn1.ObjectIdentifier{1, 2, 840, 10040, 4, 3}
	oidDSAWithSHA256          = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 2}
	asn1NULL                  = asn1.RawValue{FullBytes: []byte{5, 0}}
	errUnsupportedKeyForPKCS7 = errors.New("jar: unsupported signing key (use RSA or ECDSA)")
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

type algorithmIdentifier = pkix.AlgorithmIdentifier

type contentInfo struct {
	ContentType asn1.ObjectIdentifier
	// Content is the EXPLICIT [0] wrapper, handled by hand: encoding/asn1
	// ignores tag options on RawValue fields.
	Content asn1.RawValue `asn1:"optional"`
}

type signedData struct {
	Version          int
	DigestAlgorithms []algorithmIdentifier `asn1:"set"`
	ContentInfo      contentInfo
	Certificates     asn1.RawValue `asn1:"optional,tag:0"`
	CRLs             asn1.RawValue `asn1:"optional,tag:1"`
	SignerInfos      []signerInfo  `asn1:"set"`
}

type issuerAndSerial struct {
	Issuer asn1.RawValue
	Serial *big.Int
}

type signerInfo struct {
	Version            int
	IssuerAndSerial    issuerAndSerial
	DigestAlgorithm    algorithmIdentifier
	SignedAttrs        asn1.RawValue `asn1:"optional,tag:0"`
	SignatureAlgorithm algorithmIdentifier
	Signature          []byte
	UnsignedAttrs      asn1.RawValue `asn1:"optional,tag:1"`
}

type attribute struct {
	Type   asn1.ObjectIdentifier
	Values asn1.RawValue // a SET
}

type algorithmProtection struct {
	DigestAlgorithm    algorithmIdentifier
	SignatureAlgorithm algorithmIdentifier `asn1:"tag:1,optional"`
}

func digestOID(h crypto.Hash) asn1.ObjectIdentifier {
	switch h {
	case crypto.SHA1:
		return oidSHA1
	case crypto.SHA256:
		return oidSHA256
	case crypto.SHA384:
		return oidSHA384
	case crypto.SHA512:
		return oidSHA512
	}
	return nil
}

// signatureAlgorithm returns the SignerInfo signatureAlgorithm for a key
// and digest.
func signatureAlgorithm(pub crypto.PublicKey, h crypto.Hash, keyOID bool) (algorithmIdentifier, error) {
	switch pub.(type) {
	case *rsa.PublicKey:
		if keyOID {
			return algorithmIdentifier{Algorithm: oidRSAEncryption, Parameters: asn1NULL}, nil
		}
		oid := map[crypto.Hash]asn1.ObjectIdentifier{crypto.SHA1: oidSHA1WithRSA, crypto.SHA256: oidSHA256WithRSA, crypto.SHA384: oidSHA384WithRSA, crypto.SHA512: oidSHA512WithRSA}[h]
		return algorithmIdentifier{Algorithm: oid, Parameters: asn1NULL}, nil
	case *ecdsa.PublicKey:
		if keyOID {
			return algorithmIdentifier{Algorithm: oidECPublicKey, Parameters: asn1NULL}, nil
		}
		oid := map[crypto.Hash]asn1.ObjectIdentifier{crypto.SHA1: oidECDSAWithSHA1, crypto.SHA256: oidECDSAWithSHA256, crypto.SHA384: oidECDSAWithSHA384, crypto.SHA512: oidECDSAWithSHA512}[h]
		return algorithmIdentifier{Algorithm: oid}, nil
	}
	return algorithmIdentifier{}, errUnsupportedKeyForPKCS7
}

// SignPKCS7 returns a DER PKCS#7 SignedData ContentInfo holding a detached
// signature of content (the .SF bytes) by signer, whose certificate must
// be certs[0]; all of certs are embedded (sorted, as DER sets are). This is the content
// of a JAR signature block file (.RSA, .EC).
func SignPKCS7(signer crypto.Signer, certs []*x509.Certificate, content []byte, opts PKCS7Options) ([]byte, error) {
	if signer == nil || len(certs) == 0 || certs[0] == nil {
		return nil, errors.New("jar: signing needs a key and its certificate")
	}
	h := opts.Hash
	if h == 0 {
		h = crypto.SHA256
	}
	dOID := digestOID(h)
	if dOID == nil || !h.Available() {
		return nil, fmt.Errorf("jar: unsupported digest algorithm %v", h)
	}
	digestAlg := algorithmIdentifier{Algorithm: dOID, Parameters: asn1NULL}
	sigAlg, err := signatureAlgorithm(signer.Public(), h, opts.KeyAlgorithmOID)
	if err != nil {
		return nil, err
	}
	d := h.New()
	d.Write(content)
	digest := d.Sum(nil)

	si := signerInfo{
		Version:            1,
		IssuerAndSerial:    issuerAndSerial{Issuer: asn1.RawValue{FullBytes: certs[0].RawIssuer}, Serial: certs[0].SerialNumber},
		DigestAlgorithm:    digestAlg,
		SignatureAlgorithm: sigAlg,
	}
	toSign := digest
	if opts.SignedAttributes {
		now := time.Now
		if opts.Now != nil {
			now = opts.Now
		}
		attrs, err := marshalSignedAttributes(digestAlg, sigAlg, digest, now().UTC().Truncate(time.Second))
		if err != nil {
			return nil, err
		}
		d := h.New()
		d.Write(attrs)
		toSign = d.Sum(nil)
		// In the SignerInfo the SET OF is IMPLICIT [0].
		si.SignedAttrs = asn1.RawValue{FullBytes: append([]byte{0xa0}, attrs[1:]...)}
	}
	rnd := opts.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	sig, err := signer.Sign(rnd, toSign, h)
	if err != nil {
		return nil, fmt.Errorf("jar: signing: %w", err)
	}
	si.Signature = sig

	// Certificates are a DER SET OF: sorted, as jarsigner and apksigner
	// write them.
	var sorted [][]byte
	for _, c := range certs {
		sorted = append(sorted, c.Raw)
	}
	slices.SortFunc(sorted, bytes.Compare)
	rawCerts := bytes.Join(sorted, nil)
	sd := signedData{
		Version:          1,
		DigestAlgorithms: []algorithmIdentifier{digestAlg},
		ContentInfo:      contentInfo{ContentType: oidData},
		Certificates:     asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: rawCerts},
		SignerInfos:      []signerInfo{si},
	}
	inner, err := asn1.Marshal(sd)
	if err != nil {
		return nil, fmt.Errorf("jar: encoding signature block: %w", err)
	}
	return asn1.Marshal(contentInfo{
		ContentType: oidSignedData,
		Content:     asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: inner},
	})
}

// marshalSignedAttributes returns the DER SET OF the attributes jarsigner
// 17 signs, sorted as DER requires.
func marshalSignedAttributes(digestAlg, sigAlg algorithmIdentifier, digest []byte, t time.Time) ([]byte, error) {
	one := func(typ asn1.ObjectIdentifier, v any) ([]byte, error) {
		val, err := asn1.Marshal(v)
		if err != nil {
			return nil, err
		}
		set, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true, Bytes: val})
		if err != nil {
			return nil, err
		}
		return asn1.Marshal(attribute{Type: typ, Values: asn1.RawValue{FullBytes: set}})
	}
	var encoded [][]byte
	for _, a := range []struct {
		typ asn1.ObjectIdentifier
		v   any
	}{
		{oidAttrContentType, oidData},
		{oidAttrSigningTime, t},
		{oidAttrAlgProtection, algorithmProtection{DigestAlgorithm: digestAlg, SignatureAlgorithm: sigAlg}},
		{oidAttrMessageDigest, digest},
	} {
		b, err := one(a.typ, a.v)
		if err != nil {
			return nil, fmt.Errorf("jar: encoding signed attributes: %w", err)
		}
		encoded = append(encoded, b)
	}
	slices.SortFunc(encoded, bytes.Compare)
	return asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true, Bytes: bytes.Join(encoded, nil)})
}
