package apk

import (
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/big"
)

// vParseCertificate parses a signer certificate. Android (and apksig)
// accept certificates that crypto/x509 refuses, such as negative serial
// numbers or an RSA modulus encoded as a negative INTEGER; for those it
// falls back to a lenient parse of the fields verification needs.
func vParseCertificate(der []byte) (*x509.Certificate, error) {
	c, err := x509.ParseCertificate(der)
	if err == nil {
		return c, nil
	}
	if lc, lerr := vParseCertificateLeniently(der); lerr == nil {
		return lc, nil
	}
	return nil, err
}

type vRawCertificate struct {
	TBS    asn1.RawValue
	SigAlg asn1.RawValue
	Sig    asn1.BitString
}

type vRawTBS struct {
	Version  int `asn1:"optional,explicit,default:0,tag:0"`
	Serial   asn1.RawValue
	SigAlg   asn1.RawValue
	Issuer   asn1.RawValue
	Validity asn1.RawValue
	Subject  asn1.RawValue
	SPKI     asn1.RawValue
}

type vRawSPKI struct {
	Algorithm pkix.AlgorithmIdentifier
	Key       asn1.BitString
}

var vOIDRSAEncryption = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}

func vParseCertificateLeniently(der []byte) (*x509.Certificate, error) {
	var rc vRawCertificate
	rest, err := asn1.Unmarshal(der, &rc)
	if err != nil {
		return nil, err
	}
	if len(rest) != 0 {
		return nil, errors.New("trailing data after certificate")
	}
	var tbs vRawTBS
	if _, err := asn1.Unmarshal(rc.TBS.FullBytes, &tbs); err != nil {
		return nil, err
	}
	if tbs.Serial.Tag != asn1.TagInteger || len(tbs.Serial.Bytes) == 0 {
		return nil, errors.New("malformed serial number")
	}
	c := &x509.Certificate{
		Raw:                     der,
		RawTBSCertificate:       rc.TBS.FullBytes,
		RawSubjectPublicKeyInfo: tbs.SPKI.FullBytes,
		RawSubject:              tbs.Subject.FullBytes,
		RawIssuer:               tbs.Issuer.FullBytes,
		Version:                 tbs.Version + 1,
		SerialNumber:            vTwosComplement(tbs.Serial.Bytes),
		Signature:               rc.Sig.RightAlign(),
	}
	var subject, issuer pkix.RDNSequence
	if _, err := asn1.Unmarshal(c.RawSubject, &subject); err == nil {
		c.Subject.FillFromRDNSequence(&subject)
	}
	if _, err := asn1.Unmarshal(c.RawIssuer, &issuer); err == nil {
		c.Issuer.FillFromRDNSequence(&issuer)
	}
	if pub, err := x509.ParsePKIXPublicKey(c.RawSubjectPublicKeyInfo); err == nil {
		c.PublicKey = pub
	} else {
		// An RSA modulus encoded without its leading zero byte reads as
		// negative; Android takes the bytes as unsigned.
		var spki vRawSPKI
		if _, err := asn1.Unmarshal(c.RawSubjectPublicKeyInfo, &spki); err != nil || !spki.Algorithm.Algorithm.Equal(vOIDRSAEncryption) {
			return nil, errors.New("unsupported public key")
		}
		var key struct{ N, E asn1.RawValue }
		if _, err := asn1.Unmarshal(spki.Key.RightAlign(), &key); err != nil {
			return nil, err
		}
		e := new(big.Int).SetBytes(key.E.Bytes)
		if len(key.N.Bytes) == 0 || !e.IsInt64() || e.Int64() < 3 || e.Int64() > 1<<31-1 {
			return nil, errors.New("malformed RSA public key")
		}
		c.PublicKey = &rsa.PublicKey{N: new(big.Int).SetBytes(key.N.Bytes), E: int(e.Int64())}
	}
	switch c.PublicKey.(type) {
	case *rsa.PublicKey:
		c.PublicKeyAlgorithm = x509.RSA
	}
	return c, nil
}

// vTwosComplement decodes a DER INTEGER's content bytes.
func vTwosComplement(b []byte) *big.Int {
	n := new(big.Int).SetBytes(b)
	if len(b) > 0 && b[0]&0x80 != 0 {
		n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(len(b))*8))
	}
	return n
}
