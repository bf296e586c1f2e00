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
)

var (
	oidData          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidSignedData    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidContentType   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	oidMessageDigest = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	oidSigningTime   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}
	oidSHA1          = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA256        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidRSA           = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidECDSASHA256   = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
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
	sorted := append([][]byte(nil), parts...)
	sort.Slice(sorted, func(i, j int) bool { return bytes.Compare(sorted[i], sorted[j]) < 0 })
	return tlv(0x31, bytes.Join(sorted, nil))
}

func attribute(oid asn1.ObjectIdentifier, values ...[]byte) []byte {
	return seq(mustMarshal(oid), derSet(values...))
}

func algID(oid asn1.ObjectIdentifier, nullParams bool) []byte {
	if nullParams {
		return seq(mustMarshal(oid), []byte{0x05, 0x00})
	}
	return seq(mustMarshal(oid))
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

// buildCMS writes a detached CMS SignedData over the primary
// CodeDirectory, as codesign does: digest SHA-256, content type id-data,
// signed attributes content type, signing time, message digest and
// Apple's two cdhashes attributes; every certificate embedded. With
// estimate set it signs nothing and returns an upper bound of the size.
func buildCMS(in cmsInput, estimate bool) ([]byte, error) {
	leaf := in.certs[0]
	md := sha256.Sum256(in.primaryCD)
	var cdHashes [][]byte
	var cdDigests [][]byte
	for i, cd := range in.cds {
		h := sum(in.cdTypes[i], cd)
		cdHashes = append(cdHashes, h)
		oid := oidSHA256
		if in.cdTypes[i] == hashTypeSHA1 {
			oid = oidSHA1
		}
		cdDigests = append(cdDigests, seq(mustMarshal(oid), mustMarshal(h)))
	}
	signingTime, err := asn1.Marshal(in.time.UTC())
	if err != nil {
		return nil, fmt.Errorf("encoding the signing time: %w", err)
	}
	attrs := [][]byte{
		attribute(oidContentType, mustMarshal(oidData)),
		attribute(oidSigningTime, signingTime),
		attribute(oidMessageDigest, mustMarshal(md[:])),
		attribute(oidCDHashesPlist, mustMarshal(cdHashesPlist(cdHashes))),
		attribute(oidCDHashes, cdDigests...),
	}
	signedAttrs := derSet(attrs...) // tag 0x31: what is signed
	digest := sha256.Sum256(signedAttrs)

	var sigAlg []byte
	var sig []byte
	switch leaf.PublicKey.(type) {
	case *rsa.PublicKey:
		sigAlg = algID(oidRSA, true)
	case *ecdsa.PublicKey:
		sigAlg = algID(oidECDSASHA256, false)
	default:
		return nil, fmt.Errorf("unsupported key type %T for code signing", leaf.PublicKey)
	}
	if estimate {
		sig = make([]byte, maxSignatureSize(leaf.PublicKey))
	} else {
		sig, err = in.signer.Sign(rand.Reader, digest[:], crypto.SHA256)
		if err != nil {
			return nil, fmt.Errorf("signing the code directory: %w", err)
		}
	}
	sid := seq(leaf.RawIssuer, mustMarshal(new(big.Int).Set(leaf.SerialNumber)))
	implicitAttrs := append([]byte{0xa0}, signedAttrs[1:]...)
	signerInfo := seq(
		mustMarshal(1),
		sid,
		algID(oidSHA256, true),
		implicitAttrs,
		sigAlg,
		tlv(0x04, sig),
	)
	var certs []byte
	for _, c := range in.certs {
		certs = append(certs, c.Raw...)
	}
	signedData := seq(
		mustMarshal(1),
		derSet(algID(oidSHA256, true)),
		seq(mustMarshal(oidData)),
		tlv(0xa0, certs),
		derSet(signerInfo),
	)
	return seq(mustMarshal(oidSignedData), tlv(0xa0, signedData)), nil
}
