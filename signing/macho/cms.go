package macho

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"fmt"
	"math/big"
	"sort"
	"time"

	"go.mozilla.org/pkcs7"
)

// The CMS signature is built by go.mozilla.org/pkcs7 (v0.10.0) with two
// departures, each for something that version cannot do:
//
//   - Signing time. AddSigner always stamps time.Now() as the signing
//     time, and a second signing-time attribute passed through
//     ExtraSignedAttributes would not replace it (RFC 5652 §11.3 forbids
//     two). The signature must carry the injected clock (SignOptions.Now)
//     for output to be reproducible and for the chain check at signing
//     time, so pkcs7SignedData sets the attribute to that time and signs
//     the attributes again; the library's first signature is discarded.
//   - Keys. pkcs7 picks the signature algorithm with a type switch on
//     *rsa.PrivateKey and *ecdsa.PrivateKey and rejects any other
//     crypto.Signer (a key in a KMS or an HSM, a wrapper). For those, and
//     to bound the size before anything is signed, derSignedData writes
//     the same structure itself, byte for byte what pkcs7 writes
//     (TestCMSMatchesPKCS7 checks it).

var (
	oidData          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidSignedData    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidContentType   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	oidMessageDigest = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	oidSigningTime   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}
	oidSHA1          = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA256        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
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

func seq(parts ...[]byte) []byte { return tlv(0x30, bytes.Join(parts, nil)) }

// derSet encodes a SET OF with its elements in DER order.
func derSet(parts ...[]byte) []byte {
	return tlv(0x31, bytes.Join(sortedDER(parts), nil))
}

func sortedDER(parts [][]byte) [][]byte {
	sorted := append([][]byte(nil), parts...)
	sort.Slice(sorted, func(i, j int) bool { return bytes.Compare(sorted[i], sorted[j]) < 0 })
	return sorted
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
	time      time.Time
}

// maxSignatureSize bounds the size of a signature by key.
func maxSignatureSize(pub crypto.PublicKey) int {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return k.Size()
	case *ecdsa.PublicKey:
		n := (k.Curve.Params().BitSize + 7) / 8
		return 2*(n+3) + 4
	}
	return 1024
}

// signatureAlgorithm is the SignerInfo signature algorithm pkcs7 writes
// for a SHA-256 digest: sha256WithRSAEncryption (codesign writes
// rsaEncryption; RFC 5652 takes either, as openssl does) or
// ecdsa-with-SHA256.
func signatureAlgorithm(pub crypto.PublicKey) (asn1.ObjectIdentifier, error) {
	switch pub.(type) {
	case *rsa.PublicKey:
		return pkcs7.OIDEncryptionAlgorithmRSASHA256, nil
	case *ecdsa.PublicKey:
		return pkcs7.OIDDigestAlgorithmECDSASHA256, nil
	}
	return nil, fmt.Errorf("unsupported key type %T for code signing", pub)
}

// appleAttributes returns Apple's two cdhashes attributes, as codesign
// and rcodesign write them: 9.1 an OCTET STRING holding the plist of the
// truncated cdhashes, 9.2 one value per CodeDirectory,
// SEQUENCE { digest OID, OCTET STRING full digest }.
func appleAttributes(in cmsInput) []pkcs7.Attribute {
	var hashes, digests [][]byte
	for i, cd := range in.cds {
		h := sum(in.cdTypes[i], cd)
		hashes = append(hashes, h)
		oid := oidSHA256
		if in.cdTypes[i] == hashTypeSHA1 {
			oid = oidSHA1
		}
		digests = append(digests, seq(mustMarshal(oid), mustMarshal(h)))
	}
	return []pkcs7.Attribute{
		{Type: oidCDHashesPlist, Value: cdHashesPlist(hashes)},
		// A RawValue's FullBytes are written verbatim: several values
		// in the attribute's SET, in DER order.
		{Type: oidCDHashes, Value: asn1.RawValue{FullBytes: bytes.Join(sortedDER(digests), nil)}},
	}
}

// buildCMS returns a detached CMS SignedData over the primary
// CodeDirectory, as codesign writes it: digest SHA-256, content type
// id-data, signed attributes content type, signing time, message digest
// and Apple's two cdhashes attributes; every certificate embedded, leaf
// first. With estimate set it signs nothing and returns a blob at least
// as large as the signed one.
func buildCMS(in cmsInput, estimate bool) ([]byte, error) {
	leaf := in.certs[0]
	if _, err := signatureAlgorithm(leaf.PublicKey); err != nil {
		return nil, err
	}
	extra := appleAttributes(in)
	if estimate {
		size := maxSignatureSize(leaf.PublicKey)
		return derSignedData(in, extra, func([]byte) ([]byte, error) { return make([]byte, size), nil })
	}
	sign := func(digest []byte) ([]byte, error) {
		sig, err := in.signer.Sign(rand.Reader, digest, crypto.SHA256)
		if err != nil {
			return nil, fmt.Errorf("signing the code directory: %w", err)
		}
		return sig, nil
	}
	switch in.signer.(type) {
	case *rsa.PrivateKey, *ecdsa.PrivateKey:
		return pkcs7SignedData(in, extra, sign)
	}
	return derSignedData(in, extra, sign)
}

// pkcs7SignedData builds the signature with go.mozilla.org/pkcs7.
func pkcs7SignedData(in cmsInput, extra []pkcs7.Attribute, sign func([]byte) ([]byte, error)) ([]byte, error) {
	sd, err := pkcs7.NewSignedData(in.primaryCD)
	if err != nil {
		return nil, fmt.Errorf("building the CMS signature: %w", err)
	}
	sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA256)
	// AddSigner, not AddSignerChain: the chain given may hold more than
	// the leaf's issuers, in any order, and the signer is identified by
	// the leaf's own issuer name. The certificates follow the leaf.
	if err := sd.AddSigner(in.certs[0], in.signer, pkcs7.SignerInfoConfig{ExtraSignedAttributes: extra}); err != nil {
		return nil, fmt.Errorf("signing the code directory: %w", err)
	}
	for _, c := range in.certs[1:] {
		sd.AddCertificate(c)
	}

	// Put the injected signing time in place of pkcs7's time.Now(), then
	// sign the attributes again.
	signingTime, err := asn1.Marshal(in.time.UTC())
	if err != nil {
		return nil, fmt.Errorf("encoding the signing time: %w", err)
	}
	si := &sd.GetSignedData().SignerInfos[0]
	attrs := si.AuthenticatedAttributes
	found := false
	for i := range attrs {
		if attrs[i].Type.Equal(oidSigningTime) {
			attrs[i].Value.Bytes = signingTime
			found = true
		}
	}
	if !found {
		panic("macho: internal error: pkcs7 wrote no signing time")
	}
	// The attributes go in DER order, which the new time may change.
	sort.SliceStable(attrs, func(i, j int) bool {
		return bytes.Compare(mustMarshal(attrs[i]), mustMarshal(attrs[j])) < 0
	})
	var set []byte
	for i := range attrs {
		set = append(set, mustMarshal(attrs[i])...)
	}
	digest := sha256.Sum256(tlv(0x31, set))
	if si.EncryptedDigest, err = sign(digest[:]); err != nil {
		return nil, err
	}

	sd.Detach()
	der, err := sd.Finish()
	if err != nil {
		return nil, fmt.Errorf("encoding the CMS signature: %w", err)
	}
	return der, nil
}

// derSignedData writes what pkcs7SignedData does, for the signers pkcs7
// does not take: the same fields, in the same encoding (algorithm
// identifiers without parameters, version 1, issuer and serial of the
// leaf), with sign making the signature over the signed attributes.
func derSignedData(in cmsInput, extra []pkcs7.Attribute, sign func([]byte) ([]byte, error)) ([]byte, error) {
	leaf := in.certs[0]
	sigAlg, err := signatureAlgorithm(leaf.PublicKey)
	if err != nil {
		return nil, err
	}
	signingTime, err := asn1.Marshal(in.time.UTC())
	if err != nil {
		return nil, fmt.Errorf("encoding the signing time: %w", err)
	}
	md := sha256.Sum256(in.primaryCD)
	attr := func(oid asn1.ObjectIdentifier, value []byte) []byte {
		return seq(mustMarshal(oid), tlv(0x31, value))
	}
	attrs := [][]byte{
		attr(oidContentType, mustMarshal(oidData)),
		attr(oidMessageDigest, mustMarshal(md[:])),
		attr(oidSigningTime, signingTime),
	}
	for _, a := range extra {
		attrs = append(attrs, attr(a.Type, mustMarshal(a.Value)))
	}
	signedAttrs := derSet(attrs...) // what is signed, tagged SET
	digest := sha256.Sum256(signedAttrs)
	sig, err := sign(digest[:])
	if err != nil {
		return nil, err
	}
	sha256ID := seq(mustMarshal(oidSHA256))
	signerInfo := seq(
		mustMarshal(1),
		seq(leaf.RawIssuer, mustMarshal(new(big.Int).Set(leaf.SerialNumber))),
		sha256ID,
		append([]byte{0xa0}, signedAttrs[1:]...), // [0] IMPLICIT
		seq(mustMarshal(sigAlg)),
		tlv(0x04, sig),
	)
	var certs []byte
	for _, c := range in.certs {
		certs = append(certs, c.Raw...)
	}
	signedData := seq(
		mustMarshal(1),
		tlv(0x31, sha256ID),
		seq(mustMarshal(oidData)),
		tlv(0xa0, certs),
		tlv(0x31, signerInfo),
	)
	return seq(mustMarshal(oidSignedData), tlv(0xa0, signedData)), nil
}
