package cms

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"

	"github.com/storesign/storesign/internal/limits"
)

// ErrMalformed is wrapped by every error about an encoding that is not a
// CMS SignedData this package can read, limits included.
var ErrMalformed = errors.New("cms: malformed signed data")

// LimitError reports an input past one of [Limits]: a hostile or broken
// signature, refused before it costs time or memory. It is the one limit
// error of storesign's readers (internal/limits), and also matches
// [ErrMalformed].
type LimitError = limits.Error

// limitError returns a LimitError for what, with value -1 when unknown.
func limitError(what string, value, limit int64) error {
	return &LimitError{What: "CMS " + what, Value: value, Limit: limit, Err: ErrMalformed}
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// Limits bound what [Parse] accepts. A zero field takes its default.
type Limits struct {
	// MaxSize is the largest encoding, in bytes (default 4 MiB).
	MaxSize int
	// MaxCertificates bounds the embedded certificates and CRLs
	// (default 64).
	MaxCertificates int
	// MaxSigners bounds the SignerInfos and digest algorithms (default 16).
	MaxSigners int
	// MaxAttributes bounds the attributes of a SignerInfo, signed and
	// unsigned each (default 64).
	MaxAttributes int
	// MaxValues bounds the values of one attribute (default 64).
	MaxValues int
	// MaxDepth bounds the nesting of BER elements (default 32).
	MaxDepth int
}

func (l Limits) withDefaults() Limits {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.MaxSize, 4<<20)
	def(&l.MaxCertificates, 64)
	def(&l.MaxSigners, 16)
	def(&l.MaxAttributes, 64)
	def(&l.MaxValues, 64)
	def(&l.MaxDepth, 32)
	return l
}

// ParseOptions says how [Parse] reads a signature. The zero value is the
// strict default: no trailing bytes, certificates parsed by crypto/x509,
// default [Limits].
type ParseOptions struct {
	// Limits bound sizes and counts.
	Limits Limits
	// ParseCertificate parses each embedded certificate; nil means
	// x509.ParseCertificate. (APK verification passes a lenient parser:
	// Android accepts certificates crypto/x509 refuses.)
	ParseCertificate func(der []byte) (*x509.Certificate, error)
	// AllowTrailingData accepts bytes after the ContentInfo, as apksig
	// does.
	AllowTrailingData bool
}

// AlgorithmIdentifier is an algorithm OID with its parameters.
type AlgorithmIdentifier struct {
	Algorithm asn1.ObjectIdentifier
	// Parameters is the DER of the parameters (05 00 for NULL); nil when
	// absent.
	Parameters []byte
}

// Attribute is a CMS attribute: a type and its SET OF values.
type Attribute struct {
	Type asn1.ObjectIdentifier
	// Values holds the encoding of each value, in the order stored.
	Values [][]byte
}

// SignedData is a parsed CMS (PKCS#7) SignedData ContentInfo.
type SignedData struct {
	// Version is the SignedData version.
	Version int
	// DigestAlgorithms lists the digest algorithms of the signers.
	DigestAlgorithms []AlgorithmIdentifier
	// ContentType is the encapsulated content's type (id-data in JAR and
	// code signatures).
	ContentType asn1.ObjectIdentifier
	// Content is the encapsulated content; nil when the signature is
	// detached.
	Content []byte
	// RawCertificates holds the encoding of each embedded certificate, in
	// the order stored; Certificates the parsed ones, in the same order.
	RawCertificates [][]byte
	Certificates    []*x509.Certificate
	// Signers holds one entry per SignerInfo, in the order stored.
	Signers []*SignerInfo
}

// SignerInfo is one signer of a [SignedData].
type SignerInfo struct {
	// Version is 1 for an issuer-and-serial signer identifier, 3 for a
	// subject key identifier.
	Version int
	// Issuer (the raw DER Name) and SerialNumber identify the signer's
	// certificate; for a subject key identifier SubjectKeyID does and
	// Issuer is nil.
	Issuer       []byte
	SerialNumber *big.Int
	SubjectKeyID []byte
	// DigestAlgorithm and SignatureAlgorithm are as stored.
	DigestAlgorithm, SignatureAlgorithm AlgorithmIdentifier
	// SignedAttributes is nil when the signature covers the content
	// itself.
	SignedAttributes []Attribute
	// RawSignedAttributes is the signed attributes' encoding as stored
	// (tagged [0] IMPLICIT); nil when absent.
	RawSignedAttributes []byte
	// Signature is the signature value.
	Signature []byte
	// UnsignedAttributes is nil when absent.
	UnsignedAttributes []Attribute
}

// Parse parses a BER or DER CMS SignedData ContentInfo (RFC 5652): a JAR
// signature block, an Apple code signature (codesign writes indefinite
// lengths), a provisioning profile's envelope.
func Parse(der []byte, opts ParseOptions) (*SignedData, error) {
	lim := opts.Limits.withDefaults()
	if len(der) > lim.MaxSize {
		return nil, limitError("size (bytes)", int64(len(der)), int64(lim.MaxSize))
	}
	r := &reader{maxDepth: lim.MaxDepth}
	ci, rest, err := r.next(der, 0)
	if err != nil {
		return nil, err
	}
	if len(rest) != 0 && !opts.AllowTrailingData {
		return nil, malformed("%d bytes after the signature", len(rest))
	}
	if !ci.isUniversal(asn1.TagSequence) {
		return nil, malformed("not a ContentInfo")
	}
	parts, err := r.fields(ci, 0, "ContentInfo fields", 2)
	if err != nil {
		return nil, err
	}
	if len(parts) != 2 {
		return nil, malformed("ContentInfo has %d fields", len(parts))
	}
	if ct, err := parts[0].oid(); err != nil {
		return nil, err
	} else if !ct.Equal(OIDSignedData) {
		return nil, malformed("content type %v is not signedData", ct)
	}
	if !parts[1].is(asn1.ClassContextSpecific, 0, true) {
		return nil, malformed("no signedData content")
	}
	inner, err := r.fields(parts[1], 1, "ContentInfo content", 1)
	if err != nil {
		return nil, err
	}
	if len(inner) != 1 || !inner[0].isUniversal(asn1.TagSequence) {
		return nil, malformed("signedData content is not a SEQUENCE")
	}
	return parseSignedData(r, inner[0], lim, opts)
}

func parseSignedData(r *reader, e element, lim Limits, opts ParseOptions) (*SignedData, error) {
	const depth = 2
	f, err := r.fields(e, depth, "SignedData fields", 6)
	if err != nil {
		return nil, err
	}
	if len(f) < 4 {
		return nil, malformed("SignedData has %d fields", len(f))
	}
	sd := &SignedData{}
	if sd.Version, err = f[0].smallInt(); err != nil {
		return nil, err
	}
	if !f[1].is(asn1.ClassUniversal, asn1.TagSet, true) {
		return nil, malformed("digestAlgorithms is not a SET")
	}
	algs, err := r.children(f[1], depth+1, "digest algorithms", lim.MaxSigners)
	if err != nil {
		return nil, err
	}
	for _, a := range algs {
		alg, err := parseAlgorithm(r, a, depth+2)
		if err != nil {
			return nil, err
		}
		sd.DigestAlgorithms = append(sd.DigestAlgorithms, alg)
	}
	if err := sd.parseEncapsulated(r, f[2], depth+1); err != nil {
		return nil, err
	}
	i := 3
	if f[i].is(asn1.ClassContextSpecific, 0, true) {
		certs, err := r.children(f[i], depth+1, "certificates", lim.MaxCertificates)
		if err != nil {
			return nil, err
		}
		parse := opts.ParseCertificate
		if parse == nil {
			parse = x509.ParseCertificate
		}
		for _, c := range certs {
			if !c.is(asn1.ClassUniversal, asn1.TagSequence, true) {
				continue // attribute certificates and other choices
			}
			if c.indefinite {
				return nil, malformed("certificate with an indefinite length")
			}
			cert, err := parse(c.full)
			if err != nil {
				return nil, fmt.Errorf("%w: certificate %d: %v", ErrMalformed, len(sd.Certificates)+1, err)
			}
			sd.RawCertificates = append(sd.RawCertificates, c.full)
			sd.Certificates = append(sd.Certificates, cert)
		}
		i++
	}
	if i < len(f) && f[i].is(asn1.ClassContextSpecific, 1, true) {
		if _, err := r.children(f[i], depth+1, "CRLs", lim.MaxCertificates); err != nil {
			return nil, err
		}
		i++
	}
	if i != len(f)-1 {
		return nil, malformed("SignedData has unexpected fields")
	}
	if !f[i].is(asn1.ClassUniversal, asn1.TagSet, true) {
		return nil, malformed("signerInfos is not a SET")
	}
	sis, err := r.children(f[i], depth+1, "signers", lim.MaxSigners)
	if err != nil {
		return nil, err
	}
	for n, s := range sis {
		si, err := parseSignerInfo(r, s, depth+2, lim)
		if err != nil {
			return nil, fmt.Errorf("signer %d: %w", n+1, err)
		}
		sd.Signers = append(sd.Signers, si)
	}
	return sd, nil
}

func (sd *SignedData) parseEncapsulated(r *reader, e element, depth int) error {
	if !e.isUniversal(asn1.TagSequence) {
		return malformed("encapContentInfo is not a SEQUENCE")
	}
	f, err := r.fields(e, depth, "encapContentInfo fields", 2)
	if err != nil {
		return err
	}
	if len(f) == 0 {
		return malformed("encapContentInfo is empty")
	}
	if sd.ContentType, err = f[0].oid(); err != nil {
		return err
	}
	if len(f) == 1 {
		return nil
	}
	if !f[1].is(asn1.ClassContextSpecific, 0, true) {
		return malformed("bad eContent")
	}
	inner, err := r.fields(f[1], depth+1, "eContent", 1)
	if err != nil {
		return err
	}
	if len(inner) != 1 {
		return malformed("bad eContent")
	}
	c := inner[0]
	switch {
	case c.is(asn1.ClassUniversal, asn1.TagOctetString, false):
		sd.Content = c.content
	case c.is(asn1.ClassUniversal, asn1.TagOctetString, true):
		// A BER constructed OCTET STRING: the concatenation of its parts.
		parts, err := r.children(c, depth+2, "eContent parts", 4096)
		if err != nil {
			return err
		}
		sd.Content = []byte{}
		for _, p := range parts {
			b, err := p.octets()
			if err != nil {
				return err
			}
			sd.Content = append(sd.Content, b...)
		}
	default:
		// PKCS#7 allowed any type here: keep its encoding.
		sd.Content = c.full
	}
	return nil
}

func parseAlgorithm(r *reader, e element, depth int) (AlgorithmIdentifier, error) {
	if !e.isUniversal(asn1.TagSequence) {
		return AlgorithmIdentifier{}, malformed("algorithm identifier is not a SEQUENCE")
	}
	f, err := r.fields(e, depth, "algorithm identifier fields", 2)
	if err != nil {
		return AlgorithmIdentifier{}, err
	}
	if len(f) == 0 {
		return AlgorithmIdentifier{}, malformed("empty algorithm identifier")
	}
	var a AlgorithmIdentifier
	if a.Algorithm, err = f[0].oid(); err != nil {
		return AlgorithmIdentifier{}, err
	}
	if len(f) == 2 {
		a.Parameters = f[1].full
	}
	return a, nil
}

func parseSignerInfo(r *reader, e element, depth int, lim Limits) (*SignerInfo, error) {
	if !e.isUniversal(asn1.TagSequence) {
		return nil, malformed("SignerInfo is not a SEQUENCE")
	}
	f, err := r.fields(e, depth, "SignerInfo fields", 7)
	if err != nil {
		return nil, err
	}
	if len(f) < 5 {
		return nil, malformed("SignerInfo has %d fields", len(f))
	}
	si := &SignerInfo{}
	if si.Version, err = f[0].smallInt(); err != nil {
		return nil, err
	}
	switch sid := f[1]; {
	case sid.isUniversal(asn1.TagSequence):
		ias, err := r.fields(sid, depth+1, "issuerAndSerialNumber fields", 2)
		if err != nil {
			return nil, err
		}
		if len(ias) != 2 || !ias[0].is(asn1.ClassUniversal, asn1.TagSequence, true) || ias[0].indefinite {
			return nil, malformed("bad issuerAndSerialNumber")
		}
		si.Issuer = ias[0].full
		if si.SerialNumber, err = ias[1].integer(); err != nil {
			return nil, err
		}
	case sid.is(asn1.ClassContextSpecific, 0, false):
		si.SubjectKeyID = sid.content
	default:
		return nil, malformed("bad signer identifier")
	}
	if si.DigestAlgorithm, err = parseAlgorithm(r, f[2], depth+1); err != nil {
		return nil, err
	}
	i := 3
	if f[i].is(asn1.ClassContextSpecific, 0, true) {
		if si.SignedAttributes, err = parseAttributes(r, f[i], depth+1, lim); err != nil {
			return nil, fmt.Errorf("signed attributes: %w", err)
		}
		if si.SignedAttributes == nil {
			si.SignedAttributes = []Attribute{}
		}
		si.RawSignedAttributes = f[i].full
		i++
	}
	if len(f) < i+2 {
		return nil, malformed("SignerInfo has %d fields", len(f))
	}
	if si.SignatureAlgorithm, err = parseAlgorithm(r, f[i], depth+1); err != nil {
		return nil, err
	}
	if si.Signature, err = f[i+1].octets(); err != nil {
		return nil, err
	}
	i += 2
	if i < len(f) {
		if !f[i].is(asn1.ClassContextSpecific, 1, true) || i != len(f)-1 {
			return nil, malformed("SignerInfo has unexpected fields")
		}
		if si.UnsignedAttributes, err = parseAttributes(r, f[i], depth+1, lim); err != nil {
			return nil, fmt.Errorf("unsigned attributes: %w", err)
		}
	}
	return si, nil
}

func parseAttributes(r *reader, e element, depth int, lim Limits) ([]Attribute, error) {
	attrs, err := r.children(e, depth, "attributes", lim.MaxAttributes)
	if err != nil {
		return nil, err
	}
	var out []Attribute
	for _, a := range attrs {
		if !a.isUniversal(asn1.TagSequence) {
			return nil, malformed("attribute is not a SEQUENCE")
		}
		f, err := r.fields(a, depth+1, "attribute fields", 2)
		if err != nil {
			return nil, err
		}
		if len(f) != 2 || !f[1].is(asn1.ClassUniversal, asn1.TagSet, true) {
			return nil, malformed("attribute is not a type and a SET of values")
		}
		typ, err := f[0].oid()
		if err != nil {
			return nil, err
		}
		vals, err := r.children(f[1], depth+2, "attribute values", lim.MaxValues)
		if err != nil {
			return nil, err
		}
		at := Attribute{Type: typ}
		for _, v := range vals {
			at.Values = append(at.Values, v.full)
		}
		out = append(out, at)
	}
	return out, nil
}

// SignedAttributesDER returns what the signature covers when there are
// signed attributes: their encoding as stored, tagged SET OF instead of
// [0] IMPLICIT (RFC 5652 §5.4). Never re-encoded: signatures whose
// attributes are not in DER order (codesign's 9.2 values before 2021)
// verify over the bytes their signer hashed.
func (si *SignerInfo) SignedAttributesDER() []byte {
	if si.RawSignedAttributes == nil {
		return nil
	}
	out := append([]byte(nil), si.RawSignedAttributes...)
	out[0] = 0x31
	return out
}

// Attribute returns the signed attribute of type oid, nil when absent;
// two attributes of one type are an error (RFC 5652 §11).
func (si *SignerInfo) Attribute(oid asn1.ObjectIdentifier) (*Attribute, error) {
	return findAttribute(si.SignedAttributes, oid)
}

func findAttribute(attrs []Attribute, oid asn1.ObjectIdentifier) (*Attribute, error) {
	var found *Attribute
	for i := range attrs {
		if attrs[i].Type.Equal(oid) {
			if found != nil {
				return nil, malformed("duplicate attribute %v", oid)
			}
			found = &attrs[i]
		}
	}
	return found, nil
}

// Value returns the attribute's only value, decoded into v with
// encoding/asn1; an attribute with several values is an error.
func (a *Attribute) Value(v any) error {
	if len(a.Values) != 1 {
		return malformed("attribute %v holds %d values, want one", a.Type, len(a.Values))
	}
	rest, err := asn1.Unmarshal(a.Values[0], v)
	if err != nil {
		return fmt.Errorf("%w: attribute %v: %v", ErrMalformed, a.Type, err)
	}
	if len(rest) != 0 {
		return malformed("attribute %v: trailing data", a.Type)
	}
	return nil
}

// SignerCertificate returns the embedded certificate si names, nil when
// none matches.
func (sd *SignedData) SignerCertificate(si *SignerInfo) *x509.Certificate {
	for _, c := range sd.Certificates {
		switch {
		case si.Issuer != nil:
			if si.SerialNumber != nil && c.SerialNumber != nil && c.SerialNumber.Cmp(si.SerialNumber) == 0 && bytes.Equal(c.RawIssuer, si.Issuer) {
				return c
			}
		case si.SubjectKeyID != nil:
			if len(c.SubjectKeyId) > 0 && bytes.Equal(c.SubjectKeyId, si.SubjectKeyID) {
				return c
			}
		}
	}
	return nil
}
