package macho

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/storesign/storesign/internal/cms"
)

// The CMS signature is written by internal/cms as codesign writes it
// (learned from Apple-signed apps of 2015, 2020 and 2023 and an App Store
// dylib; TestCMSLikeCodesign compares with them byte for byte):
//
//   - BER indefinite lengths on the ContentInfo, its [0], the SignedData
//     and the empty encapsulated ContentInfo (detached, id-data); DER
//     inside;
//   - digest SHA-256 with NULL parameters; signature algorithm
//     sha256WithRSAEncryption with NULL parameters (codesign wrote
//     rsaEncryption until about 2021; current codesign and the App Store
//     write sha256WithRSAEncryption), ecdsa-with-SHA256 without parameters
//     for EC keys;
//   - every certificate of the chain given (leaf, WWDR intermediate, Apple
//     Root CA when the chain reaches it) in DER SET OF order, which is
//     the order codesign's signatures show;
//   - SignerInfo version 1, issuer and serial number, no unsigned
//     attributes;
//   - signed attributes in DER order: contentType, signingTime,
//     messageDigest, then Apple's 1.2.840.113635.100.9.2 (one value per
//     CodeDirectory, values in DER order as current codesign writes them,
//     which for its SHA-1 + SHA-256 pair is also CodeDirectory order;
//     codesign of 2020 stored them the other way round, which openssl cms
//     -verify refuses) and 1.2.840.113635.100.9.1 (the cdhashes plist).
//     The App Store signs without signingTime: a zero cmsInput.time
//     leaves it out.

var (
	oidSigningTime = cms.OIDSigningTime
	oidSHA1        = cms.OIDSHA1
	oidSHA256      = cms.OIDSHA256
	// oidCDHashesPlist is Apple's signed attribute holding an XML plist
	// {cdhashes: [<20-byte cdhash of each CodeDirectory>]}.
	oidCDHashesPlist = asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 9, 1}
	// oidCDHashes is Apple's signed attribute holding, per CodeDirectory,
	// SEQUENCE { digest algorithm OID, OCTET STRING full digest }.
	oidCDHashes = asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 9, 2}
)

func mustMarshal(v any) []byte {
	b, err := asn1.Marshal(v)
	if err != nil {
		panic("macho: internal error: " + err.Error())
	}
	return b
}

// cdHashesPlist is the XML plist codesign puts in the 9.1 attribute.
func cdHashesPlist(hashes [][]byte) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>cdhashes</key>
	<array>
`)
	for _, h := range hashes {
		if len(h) > 20 {
			h = h[:20]
		}
		b.WriteString("\t\t<data>\n\t\t" + base64.StdEncoding.EncodeToString(h) + "\n\t\t</data>\n")
	}
	b.WriteString("\t</array>\n</dict>\n</plist>\n")
	return b.Bytes()
}

// cmsInput is what the CMS signature covers.
type cmsInput struct {
	primaryCD []byte   // the CodeDirectory in slot 0: the detached content
	cds       [][]byte // every CodeDirectory, primary first
	cdTypes   []uint8
	certs     []*x509.Certificate // leaf first
	signer    crypto.Signer
	time      time.Time // zero: no signingTime attribute (as the App Store signs)
}

// appleAttributes returns Apple's two cdhashes attributes, as codesign
// writes them: 9.1 an OCTET STRING holding the plist of the truncated
// cdhashes, 9.2 one value per CodeDirectory, SEQUENCE { digest OID,
// OCTET STRING full digest }.
func appleAttributes(in cmsInput) []cms.Attribute {
	var hashes, digests [][]byte
	for i, cd := range in.cds {
		h := sum(in.cdTypes[i], cd)
		hashes = append(hashes, h)
		oid := oidSHA256
		if in.cdTypes[i] == hashTypeSHA1 {
			oid = oidSHA1
		}
		digests = append(digests, mustMarshal(struct {
			Alg    asn1.ObjectIdentifier
			Digest []byte
		}{oid, h}))
	}
	return []cms.Attribute{
		{Type: oidCDHashesPlist, Values: [][]byte{mustMarshal(cdHashesPlist(hashes))}},
		{Type: oidCDHashes, Values: digests},
	}
}

// cmsOptions are the options of codesign's form.
func cmsOptions(in cmsInput) cms.SignOptions {
	return cms.SignOptions{
		Hash:             crypto.SHA256,
		Naming:           cms.NameSignatureAlgorithm,
		SignedAttributes: true,
		SigningTime:      in.time,
		Extra:            appleAttributes(in),
		Indefinite:       true,
	}
}

// buildCMS returns a detached CMS SignedData over the primary
// CodeDirectory, as codesign writes it. With estimate set it signs
// nothing and returns a blob at least as large as the signed one.
func buildCMS(in cmsInput, estimate bool) ([]byte, error) {
	if len(in.certs) == 0 {
		return nil, errors.New("macho: no signing certificate")
	}
	leaf := in.certs[0]
	if _, err := cms.SignatureAlgorithm(leaf.PublicKey, crypto.SHA256, cms.NameSignatureAlgorithm); err != nil {
		return nil, fmt.Errorf("unsupported key type %T for code signing", leaf.PublicKey)
	}
	signer := in.signer
	if estimate {
		signer = sizeSigner{leaf.PublicKey}
	}
	der, err := cms.Sign(in.primaryCD, signer, in.certs, cmsOptions(in))
	if err != nil {
		return nil, fmt.Errorf("signing the code directory: %w", err)
	}
	return der, nil
}

// sizeSigner stands in for the key when reserving space: its
// "signature" is as long as the key's longest.
type sizeSigner struct{ pub crypto.PublicKey }

func (s sizeSigner) Public() crypto.PublicKey { return s.pub }

func (s sizeSigner) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return make([]byte, cms.MaxSignatureSize(s.pub)), nil
}

// signature is a parsed CMS code signature (internal/cms). Its fields and
// methods are what [Verify] asks of it.
type signature struct {
	// Certificates are the embedded certificates.
	Certificates []*x509.Certificate
	// Signers give the signed attributes of each SignerInfo.
	Signers []signerAttributes
	// Content is the detached content: the primary CodeDirectory.
	Content []byte

	sd *cms.SignedData
}

type signerAttributes struct {
	AuthenticatedAttributes []signedAttribute
}

// signedAttribute is one signed attribute; Value is its SET of values
// (Value.Bytes: the values as stored, in their order).
type signedAttribute struct {
	Type  asn1.ObjectIdentifier
	Value asn1.RawValue
}

// parseSignature parses the CMS blob of a code signature (BER, as
// codesign writes it), within internal/cms's limits.
func parseSignature(der []byte) (*signature, error) {
	sd, err := cms.Parse(der, cms.ParseOptions{})
	if err != nil {
		return nil, err
	}
	s := &signature{Certificates: sd.Certificates, sd: sd}
	for _, si := range sd.Signers {
		var attrs []signedAttribute
		for _, a := range si.SignedAttributes {
			attrs = append(attrs, signedAttribute{Type: a.Type, Value: asn1.RawValue{
				Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true, Bytes: bytes.Join(a.Values, nil),
			}})
		}
		s.Signers = append(s.Signers, signerAttributes{attrs})
	}
	return s, nil
}

// UnmarshalSignedAttribute decodes the only value of the first signer's
// signed attribute of type oid into out.
func (s *signature) UnmarshalSignedAttribute(oid asn1.ObjectIdentifier, out any) error {
	if len(s.sd.Signers) == 0 {
		return errors.New("no signer")
	}
	a, err := s.sd.Signers[0].Attribute(oid)
	if err != nil {
		return err
	}
	if a == nil {
		return fmt.Errorf("no signed attribute %v", oid)
	}
	return a.Value(out)
}

// GetOnlySigner returns the certificate of the only signer; nil when
// there is not exactly one or it is not embedded.
func (s *signature) GetOnlySigner() *x509.Certificate {
	if len(s.sd.Signers) != 1 {
		return nil
	}
	return s.sd.SignerCertificate(s.sd.Signers[0])
}

// Verify checks every signer over Content and its signed attributes as
// stored, and that the signing time, when present, is within the
// signer's certificate's validity. It does not check the chain.
func (s *signature) Verify() error { return s.verify(nil, time.Time{}) }

// VerifyWithChainAtTime is Verify, and checks that each signer's
// certificate chains to roots at now through the embedded certificates
// (any extended key usage).
func (s *signature) VerifyWithChainAtTime(roots *x509.CertPool, now time.Time) error {
	return s.verify(roots, now)
}

func (s *signature) verify(roots *x509.CertPool, now time.Time) error {
	if len(s.sd.Signers) == 0 {
		return errors.New("the CMS signature has no signer")
	}
	for _, si := range s.sd.Signers {
		leaf := s.sd.SignerCertificate(si)
		if leaf == nil {
			return errors.New("the signer's certificate is not embedded")
		}
		if err := s.sd.Verify(si, leaf, s.Content); err != nil {
			return err
		}
		if a, _ := si.Attribute(oidSigningTime); a != nil {
			var st time.Time
			if err := a.Value(&st); err != nil {
				return err
			}
			if st.After(leaf.NotAfter) || st.Before(leaf.NotBefore) {
				return fmt.Errorf("signing time %s is outside the certificate's validity, %s to %s",
					st.Format(time.RFC3339), leaf.NotBefore.Format(time.RFC3339), leaf.NotAfter.Format(time.RFC3339))
			}
		}
		if roots == nil {
			continue
		}
		inter := x509.NewCertPool()
		for _, c := range s.Certificates {
			inter.AddCert(c)
		}
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
			return err
		}
	}
	return nil
}
