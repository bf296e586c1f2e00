package cms

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"time"
)

// Object identifiers of the content types, attributes and algorithms
// this package writes and checks.
var (
	OIDData               = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	OIDSignedData         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	OIDContentType        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	OIDMessageDigest      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	OIDSigningTime        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}
	OIDAlgorithmProtect   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 52}
	OIDSHA1               = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	OIDSHA256             = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	OIDSHA384             = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	OIDSHA512             = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
	OIDRSAEncryption      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	OIDSHA1WithRSA        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 5}
	OIDSHA256WithRSA      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	OIDSHA384WithRSA      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 12}
	OIDSHA512WithRSA      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 13}
	OIDECPublicKey        = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	OIDECDSAWithSHA1      = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 1}
	OIDECDSAWithSHA256    = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	OIDECDSAWithSHA384    = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}
	OIDECDSAWithSHA512    = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 4}
	OIDDSA                = asn1.ObjectIdentifier{1, 2, 840, 10040, 4, 1}
	OIDDSAWithSHA1        = asn1.ObjectIdentifier{1, 2, 840, 10040, 4, 3}
	OIDDSAWithSHA256      = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 2}
	nullParams            = []byte{5, 0}
	errUnsupportedSigning = errors.New("cms: unsupported signing key (use RSA or ECDSA)")
)

// DigestOID returns the OID of a digest algorithm, nil for one this
// package does not know.
func DigestOID(h crypto.Hash) asn1.ObjectIdentifier {
	switch h {
	case crypto.SHA1:
		return OIDSHA1
	case crypto.SHA256:
		return OIDSHA256
	case crypto.SHA384:
		return OIDSHA384
	case crypto.SHA512:
		return OIDSHA512
	}
	return nil
}

// HashForOID returns the digest algorithm an OID names; 0 when unknown.
func HashForOID(oid asn1.ObjectIdentifier) crypto.Hash {
	for _, h := range []crypto.Hash{crypto.SHA1, crypto.SHA256, crypto.SHA384, crypto.SHA512} {
		if oid.Equal(DigestOID(h)) {
			return h
		}
	}
	return 0
}

// AlgorithmNaming says how a SignerInfo names its signature algorithm.
type AlgorithmNaming int

const (
	// NameSignatureAlgorithm names the combined algorithm:
	// sha256WithRSAEncryption with NULL parameters, or ecdsa-with-SHA256
	// without parameters. jarsigner and current codesign write it.
	NameSignatureAlgorithm AlgorithmNaming = iota
	// NameKeyAlgorithm names the key's algorithm: rsaEncryption, or
	// id-ecPublicKey, with NULL parameters. apksigner writes it, and
	// codesign wrote rsaEncryption until about 2021.
	NameKeyAlgorithm
)

// SignatureAlgorithm returns the SignerInfo signatureAlgorithm for a
// public key and digest.
func SignatureAlgorithm(pub crypto.PublicKey, h crypto.Hash, naming AlgorithmNaming) (AlgorithmIdentifier, error) {
	switch pub.(type) {
	case *rsa.PublicKey:
		if naming == NameKeyAlgorithm {
			return AlgorithmIdentifier{OIDRSAEncryption, nullParams}, nil
		}
		oid := map[crypto.Hash]asn1.ObjectIdentifier{crypto.SHA1: OIDSHA1WithRSA, crypto.SHA256: OIDSHA256WithRSA, crypto.SHA384: OIDSHA384WithRSA, crypto.SHA512: OIDSHA512WithRSA}[h]
		return AlgorithmIdentifier{oid, nullParams}, nil
	case *ecdsa.PublicKey:
		if naming == NameKeyAlgorithm {
			return AlgorithmIdentifier{OIDECPublicKey, nullParams}, nil
		}
		oid := map[crypto.Hash]asn1.ObjectIdentifier{crypto.SHA1: OIDECDSAWithSHA1, crypto.SHA256: OIDECDSAWithSHA256, crypto.SHA384: OIDECDSAWithSHA384, crypto.SHA512: OIDECDSAWithSHA512}[h]
		return AlgorithmIdentifier{Algorithm: oid}, nil
	}
	return AlgorithmIdentifier{}, errUnsupportedSigning
}

// SignOptions says how [Sign] builds a signature. The zero value signs
// the content itself with SHA-256, names sha256WithRSAEncryption or
// ecdsa-with-SHA256, and writes DER.
type SignOptions struct {
	// Hash is the digest algorithm; zero means SHA-256.
	Hash crypto.Hash
	// Naming says how the signature algorithm is named.
	Naming AlgorithmNaming
	// SignedAttributes signs attributes (contentType id-data and
	// messageDigest, plus SigningTime, AlgorithmProtection and Extra when
	// set) instead of the content directly. Attributes and their values
	// are written in DER order.
	SignedAttributes bool
	// SigningTime, when not zero, adds a signingTime attribute (UTCTime
	// until 2049, as RFC 5652 requires), truncated to the second.
	SigningTime time.Time
	// AlgorithmProtection adds a CMSAlgorithmProtection attribute
	// (RFC 6211), as jarsigner 17 does.
	AlgorithmProtection bool
	// Extra holds more signed attributes (Apple's cdhashes).
	Extra []Attribute
	// Indefinite writes the ContentInfo, its content, the SignedData and
	// the encapsulated ContentInfo with BER indefinite lengths, as
	// codesign (Security.framework's CMS encoder) does; the rest stays
	// DER.
	Indefinite bool
	// Rand is the randomness for ECDSA; nil means crypto/rand.
	Rand io.Reader
}

// Sign returns a detached CMS SignedData ContentInfo over content, signed
// by signer whose certificate is certs[0]. Every certificate of certs is
// embedded, in DER SET OF order (as jarsigner, apksigner and codesign
// write them). The signer is any crypto.Signer with an RSA (PKCS#1 v1.5)
// or ECDSA public key.
func Sign(content []byte, signer crypto.Signer, certs []*x509.Certificate, opts SignOptions) ([]byte, error) {
	if signer == nil || len(certs) == 0 || certs[0] == nil {
		return nil, errors.New("cms: signing needs a key and its certificate")
	}
	h := opts.Hash
	if h == 0 {
		h = crypto.SHA256
	}
	dOID := DigestOID(h)
	if dOID == nil || !h.Available() {
		return nil, fmt.Errorf("cms: unsupported digest algorithm %v", h)
	}
	digestAlg := AlgorithmIdentifier{dOID, nullParams}
	sigAlg, err := SignatureAlgorithm(signer.Public(), h, opts.Naming)
	if err != nil {
		return nil, err
	}
	d := h.New()
	d.Write(content)
	digest := d.Sum(nil)

	leaf := certs[0]
	toSign := digest
	var signedAttrs []byte
	if opts.SignedAttributes {
		attrs := []Attribute{
			{Type: OIDContentType, Values: [][]byte{mustMarshal(OIDData)}},
			{Type: OIDMessageDigest, Values: [][]byte{mustMarshal(digest)}},
		}
		if !opts.SigningTime.IsZero() {
			t, err := asn1.Marshal(opts.SigningTime.UTC().Truncate(time.Second))
			if err != nil {
				return nil, fmt.Errorf("cms: encoding the signing time: %w", err)
			}
			attrs = append(attrs, Attribute{Type: OIDSigningTime, Values: [][]byte{t}})
		}
		if opts.AlgorithmProtection {
			// CMSAlgorithmProtection ::= SEQUENCE { digestAlgorithm,
			// signatureAlgorithm [1] IMPLICIT OPTIONAL, ... }
			sa := sigAlg.encode()
			sa[0] = 0xa1
			attrs = append(attrs, Attribute{Type: OIDAlgorithmProtect, Values: [][]byte{seq(digestAlg.encode(), sa)}})
		}
		attrs = append(attrs, opts.Extra...)
		signedAttrs = encodeAttributes(0x31, attrs)
		d := h.New()
		d.Write(signedAttrs)
		toSign = d.Sum(nil)
	}
	rnd := opts.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	sig, err := signer.Sign(rnd, toSign, h)
	if err != nil {
		return nil, fmt.Errorf("cms: signing: %w", err)
	}

	fields := [][]byte{
		mustMarshal(1),
		seq(leaf.RawIssuer, mustMarshal(leaf.SerialNumber)),
		digestAlg.encode(),
	}
	if signedAttrs != nil {
		implicit := append([]byte(nil), signedAttrs...)
		implicit[0] = 0xa0 // [0] IMPLICIT SET OF
		fields = append(fields, implicit)
	}
	fields = append(fields, sigAlg.encode(), tlv(0x04, sig))
	signerInfo := seq(fields...)

	raw := make([][]byte, len(certs))
	for i, c := range certs {
		raw[i] = c.Raw
	}
	wrap := tlv
	if opts.Indefinite {
		wrap = indefinite
	}
	signedData := wrap(0x30, concat(
		mustMarshal(1),
		setOf(0x31, [][]byte{digestAlg.encode()}),
		wrap(0x30, mustMarshal(OIDData)), // detached: no eContent
		setOf(0xa0, raw),
		setOf(0x31, [][]byte{signerInfo}),
	))
	return wrap(0x30, concat(mustMarshal(OIDSignedData), wrap(0xa0, signedData))), nil
}

func (a AlgorithmIdentifier) encode() []byte {
	return seq(mustMarshal(a.Algorithm), a.Parameters)
}

// encodeAttributes encodes a SET OF attributes (tag 0x31, or 0xa0 for
// [0] IMPLICIT) in DER: values sorted within each attribute, attributes
// sorted by their encodings.
func encodeAttributes(tag byte, attrs []Attribute) []byte {
	enc := make([][]byte, len(attrs))
	for i, a := range attrs {
		enc[i] = seq(mustMarshal(a.Type), setOf(0x31, a.Values))
	}
	return setOf(tag, enc)
}

func concat(parts ...[]byte) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	out := make([]byte, 0, n)
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// MaxSignatureSize bounds the size of a signature value made by a key,
// for reserving space before signing.
func MaxSignatureSize(pub crypto.PublicKey) int {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return k.Size()
	case *ecdsa.PublicKey:
		n := (k.Curve.Params().BitSize + 7) / 8
		return 2*(n+3) + 4
	}
	return 1024
}
