package apk

import (
	"bytes"
	"crypto"
	"crypto/dsa" //nolint:staticcheck // old APKs are DSA-signed; verification only.
	"crypto/ecdsa"
	"crypto/md5"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash"
	"math/big"
	"strings"

	"github.com/storesign/storesign/internal/cms"
)

// A JAR signature block (.RSA, .DSA, .EC) is a PKCS#7 SignedData, read
// by internal/cms; these are the parts apksig looks at.

var (
	vOIDContentType   = cms.OIDContentType
	vOIDMessageDigest = cms.OIDMessageDigest
	vOIDKeyUsage      = asn1.ObjectIdentifier{2, 5, 29, 15}
)

// vPKCS7 is a parsed signature block.
type vPKCS7 struct {
	contentType asn1.ObjectIdentifier // of the encapsulated content
	certs       []*x509.Certificate
	signers     []*cms.SignerInfo
}

// vParsePKCS7 parses a signature block as apksig does: BER accepted,
// bytes after it ignored, certificates parsed leniently (Android takes
// some that crypto/x509 refuses), within internal/cms's limits.
func vParsePKCS7(der []byte) (*vPKCS7, error) {
	sd, err := cms.Parse(der, cms.ParseOptions{ParseCertificate: vParseCertificate, AllowTrailingData: true})
	if err != nil {
		return nil, errors.New(strings.TrimPrefix(err.Error(), "cms: "))
	}
	return &vPKCS7{contentType: sd.ContentType, certs: sd.Certificates, signers: sd.Signers}, nil
}

// findCert returns the certificate a SignerInfo names by issuer and
// serial number.
func (p *vPKCS7) findCert(si *cms.SignerInfo) *x509.Certificate {
	if si.Issuer == nil || si.SerialNumber == nil {
		return nil
	}
	var issuer pkix.RDNSequence
	asn1.Unmarshal(si.Issuer, &issuer)
	for _, c := range p.certs {
		if c.SerialNumber.Cmp(si.SerialNumber) != 0 {
			continue
		}
		if bytes.Equal(c.RawIssuer, si.Issuer) || c.Issuer.String() == vName(issuer) {
			return c
		}
	}
	return nil
}

func vName(seq pkix.RDNSequence) string {
	var n pkix.Name
	n.FillFromRDNSequence(&seq)
	return n.String()
}

// chain returns leaf and, following issuer names, the certificates that
// issued it.
func (p *vPKCS7) chain(leaf *x509.Certificate) []*x509.Certificate {
	out := []*x509.Certificate{leaf}
	used := map[*x509.Certificate]bool{leaf: true}
	for cur := leaf; !bytes.Equal(cur.RawSubject, cur.RawIssuer); {
		var next *x509.Certificate
		for _, c := range p.certs {
			if !used[c] && bytes.Equal(c.RawSubject, cur.RawIssuer) {
				next = c
				break
			}
		}
		if next == nil {
			break
		}
		used[next] = true
		out = append(out, next)
		cur = next
	}
	return out
}

// OIDs of digest and signature algorithms apksig knows in JAR signatures.
const (
	vOIDMD5        = "1.2.840.113549.2.5"
	vOIDSHA1       = "1.3.14.3.2.26"
	vOIDSHA224     = "2.16.840.1.101.3.4.2.4"
	vOIDSHA256     = "2.16.840.1.101.3.4.2.1"
	vOIDSHA384     = "2.16.840.1.101.3.4.2.2"
	vOIDSHA512     = "2.16.840.1.101.3.4.2.3"
	vOIDRSA        = "1.2.840.113549.1.1.1"
	vOIDMD5RSA     = "1.2.840.113549.1.1.4"
	vOIDSHA1RSA    = "1.2.840.113549.1.1.5"
	vOIDSHA224RSA  = "1.2.840.113549.1.1.14"
	vOIDSHA256RSA  = "1.2.840.113549.1.1.11"
	vOIDSHA384RSA  = "1.2.840.113549.1.1.12"
	vOIDSHA512RSA  = "1.2.840.113549.1.1.13"
	vOIDDSA        = "1.2.840.10040.4.1"
	vOIDSHA1DSA    = "1.2.840.10040.4.3"
	vOIDSHA224DSA  = "2.16.840.1.101.3.4.3.1"
	vOIDSHA256DSA  = "2.16.840.1.101.3.4.3.2"
	vOIDSHA384DSA  = "2.16.840.1.101.3.4.3.3"
	vOIDSHA512DSA  = "2.16.840.1.101.3.4.3.4"
	vOIDEC         = "1.2.840.10045.2.1"
	vOIDSHA1ECDSA  = "1.2.840.10045.4.1"
	vOIDSHA224EC   = "1.2.840.10045.4.3.1"
	vOIDSHA256EC   = "1.2.840.10045.4.3.2"
	vOIDSHA384EC   = "1.2.840.10045.4.3.3"
	vOIDSHA512EC   = "1.2.840.10045.4.3.4"
	vSDKUnbounded  = 1<<31 - 1
	vSDKAlwaysFrom = 0
)

type vRange struct{ lo, hi int }

func vFrom(lo int) vRange       { return vRange{lo, vSDKUnbounded} }
func vFromTo(lo, hi int) vRange { return vRange{lo, hi} }

// vJarSigAlgLevels returns the API levels on which Android verifies a
// JAR SignerInfo with the given digest and signature algorithm OIDs (from
// apksig's table of what each platform's PKCS#7 code accepts).
func vJarSigAlgLevels(digestOID, sigOID string) []vRange {
	all := vFrom(0)
	old := vFromTo(0, 8)
	mid := vFromTo(21, 23)
	type k struct{ d, s string }
	t := map[k][]vRange{
		// RSA
		{vOIDMD5, vOIDRSA}: {all}, {vOIDMD5, vOIDMD5RSA}: {old, vFrom(21)},
		{vOIDMD5, vOIDSHA1RSA}: {mid}, {vOIDMD5, vOIDSHA224RSA}: {mid}, {vOIDMD5, vOIDSHA256RSA}: {mid},
		{vOIDMD5, vOIDSHA384RSA}: {mid}, {vOIDMD5, vOIDSHA512RSA}: {mid},
		{vOIDSHA1, vOIDRSA}: {all}, {vOIDSHA1, vOIDMD5RSA}: {mid}, {vOIDSHA1, vOIDSHA1RSA}: {all},
		{vOIDSHA1, vOIDSHA224RSA}: {mid}, {vOIDSHA1, vOIDSHA256RSA}: {mid}, {vOIDSHA1, vOIDSHA384RSA}: {mid},
		{vOIDSHA1, vOIDSHA512RSA}: {mid},
		{vOIDSHA224, vOIDRSA}:     {old, vFrom(21)}, {vOIDSHA224, vOIDMD5RSA}: {mid}, {vOIDSHA224, vOIDSHA1RSA}: {mid},
		{vOIDSHA224, vOIDSHA224RSA}: {old, vFrom(21)}, {vOIDSHA224, vOIDSHA256RSA}: {vFromTo(21, 21)},
		{vOIDSHA224, vOIDSHA384RSA}: {mid}, {vOIDSHA224, vOIDSHA512RSA}: {mid},
		{vOIDSHA256, vOIDRSA}: {old, vFrom(18)}, {vOIDSHA256, vOIDMD5RSA}: {mid}, {vOIDSHA256, vOIDSHA1RSA}: {vFromTo(21, 21)},
		{vOIDSHA256, vOIDSHA224RSA}: {mid}, {vOIDSHA256, vOIDSHA256RSA}: {old, vFrom(18)},
		{vOIDSHA256, vOIDSHA384RSA}: {mid}, {vOIDSHA256, vOIDSHA512RSA}: {mid},
		{vOIDSHA384, vOIDRSA}: {vFrom(18)}, {vOIDSHA384, vOIDMD5RSA}: {mid}, {vOIDSHA384, vOIDSHA1RSA}: {mid},
		{vOIDSHA384, vOIDSHA224RSA}: {mid}, {vOIDSHA384, vOIDSHA256RSA}: {mid}, {vOIDSHA384, vOIDSHA384RSA}: {vFrom(21)},
		{vOIDSHA384, vOIDSHA512RSA}: {mid},
		{vOIDSHA512, vOIDRSA}:       {vFrom(18)}, {vOIDSHA512, vOIDMD5RSA}: {mid}, {vOIDSHA512, vOIDSHA1RSA}: {mid},
		{vOIDSHA512, vOIDSHA224RSA}: {mid}, {vOIDSHA512, vOIDSHA256RSA}: {mid}, {vOIDSHA512, vOIDSHA384RSA}: {vFromTo(21, 21)},
		{vOIDSHA512, vOIDSHA512RSA}: {vFrom(21)},
		// DSA
		{vOIDMD5, vOIDSHA1DSA}: {mid}, {vOIDMD5, vOIDSHA224DSA}: {mid}, {vOIDMD5, vOIDSHA256DSA}: {mid},
		{vOIDSHA1, vOIDDSA}: {all}, {vOIDSHA1, vOIDSHA1DSA}: {vFrom(9)}, {vOIDSHA1, vOIDSHA224DSA}: {mid},
		{vOIDSHA1, vOIDSHA256DSA}: {mid},
		{vOIDSHA224, vOIDDSA}:     {vFrom(22)}, {vOIDSHA224, vOIDSHA1DSA}: {mid}, {vOIDSHA224, vOIDSHA224DSA}: {vFrom(21)},
		{vOIDSHA224, vOIDSHA256DSA}: {mid},
		{vOIDSHA256, vOIDDSA}:       {vFrom(22)}, {vOIDSHA256, vOIDSHA1DSA}: {mid}, {vOIDSHA256, vOIDSHA224DSA}: {mid},
		{vOIDSHA256, vOIDSHA256DSA}: {vFrom(21)},
		{vOIDSHA384, vOIDSHA1DSA}:   {mid}, {vOIDSHA384, vOIDSHA224DSA}: {mid}, {vOIDSHA384, vOIDSHA256DSA}: {mid},
		{vOIDSHA512, vOIDSHA1DSA}: {mid}, {vOIDSHA512, vOIDSHA224DSA}: {mid}, {vOIDSHA512, vOIDSHA256DSA}: {mid},
		// ECDSA
		{vOIDSHA1, vOIDEC}: {vFrom(18)}, {vOIDSHA224, vOIDEC}: {vFrom(21)}, {vOIDSHA256, vOIDEC}: {vFrom(18)},
		{vOIDSHA384, vOIDEC}: {vFrom(18)}, {vOIDSHA512, vOIDEC}: {vFrom(18)},
		{vOIDMD5, vOIDSHA1ECDSA}: {mid}, {vOIDMD5, vOIDSHA224EC}: {mid}, {vOIDMD5, vOIDSHA256EC}: {mid},
		{vOIDMD5, vOIDSHA384EC}: {mid}, {vOIDMD5, vOIDSHA512EC}: {mid},
		{vOIDSHA1, vOIDSHA1ECDSA}: {vFrom(18)}, {vOIDSHA1, vOIDSHA224EC}: {mid}, {vOIDSHA1, vOIDSHA256EC}: {mid},
		{vOIDSHA1, vOIDSHA384EC}: {mid}, {vOIDSHA1, vOIDSHA512EC}: {mid},
		{vOIDSHA224, vOIDSHA1ECDSA}: {mid}, {vOIDSHA224, vOIDSHA224EC}: {vFrom(21)}, {vOIDSHA224, vOIDSHA256EC}: {mid},
		{vOIDSHA224, vOIDSHA384EC}: {mid}, {vOIDSHA224, vOIDSHA512EC}: {mid},
		{vOIDSHA256, vOIDSHA1ECDSA}: {mid}, {vOIDSHA256, vOIDSHA224EC}: {mid}, {vOIDSHA256, vOIDSHA256EC}: {vFrom(21)},
		{vOIDSHA256, vOIDSHA384EC}: {mid}, {vOIDSHA256, vOIDSHA512EC}: {mid},
		{vOIDSHA384, vOIDSHA1ECDSA}: {mid}, {vOIDSHA384, vOIDSHA224EC}: {mid}, {vOIDSHA384, vOIDSHA256EC}: {mid},
		{vOIDSHA384, vOIDSHA384EC}: {vFrom(21)}, {vOIDSHA384, vOIDSHA512EC}: {mid},
		{vOIDSHA512, vOIDSHA1ECDSA}: {mid}, {vOIDSHA512, vOIDSHA224EC}: {mid}, {vOIDSHA512, vOIDSHA256EC}: {mid},
		{vOIDSHA512, vOIDSHA384EC}: {vFromTo(21, 21)}, {vOIDSHA512, vOIDSHA512EC}: {vFrom(21)},
	}
	return t[k{digestOID, sigOID}]
}

// vUncovered returns the parts of [lo, hi] outside the ranges.
func vUncovered(lo, hi int, ranges []vRange) []vRange {
	var out []vRange
	cur := lo
	for cur <= hi {
		covered := false
		for _, r := range ranges {
			if cur >= r.lo && cur <= r.hi {
				covered = true
				if r.hi >= hi {
					return out
				}
				cur = r.hi + 1
				break
			}
		}
		if covered {
			continue
		}
		// find the next covered start
		next := hi + 1
		for _, r := range ranges {
			if r.lo > cur && r.lo < next {
				next = r.lo
			}
		}
		out = append(out, vRange{cur, next - 1})
		cur = next
	}
	return out
}

// vDigestHash maps a digest OID to its hash.
func vDigestHash(oid string) crypto.Hash {
	switch oid {
	case vOIDMD5:
		return crypto.MD5
	case vOIDSHA1:
		return crypto.SHA1
	case vOIDSHA224:
		return crypto.SHA224
	case vOIDSHA256:
		return crypto.SHA256
	case vOIDSHA384:
		return crypto.SHA384
	case vOIDSHA512:
		return crypto.SHA512
	}
	return 0
}

// vJCASignature returns the hash and key type Java's Signature uses for a
// SignerInfo: the combined algorithm's own when sigOID names one, else the
// digest algorithm with the key type.
func vJCASignature(digestOID, sigOID string) (crypto.Hash, string) {
	switch sigOID {
	case vOIDMD5RSA:
		return crypto.MD5, "RSA"
	case vOIDSHA1RSA:
		return crypto.SHA1, "RSA"
	case vOIDSHA224RSA:
		return crypto.SHA224, "RSA"
	case vOIDSHA256RSA:
		return crypto.SHA256, "RSA"
	case vOIDSHA384RSA:
		return crypto.SHA384, "RSA"
	case vOIDSHA512RSA:
		return crypto.SHA512, "RSA"
	case vOIDSHA1DSA:
		return crypto.SHA1, "DSA"
	case vOIDSHA224DSA:
		return crypto.SHA224, "DSA"
	case vOIDSHA256DSA:
		return crypto.SHA256, "DSA"
	case vOIDSHA1ECDSA:
		return crypto.SHA1, "EC"
	case vOIDSHA224EC:
		return crypto.SHA224, "EC"
	case vOIDSHA256EC:
		return crypto.SHA256, "EC"
	case vOIDSHA384EC:
		return crypto.SHA384, "EC"
	case vOIDSHA512EC:
		return crypto.SHA512, "EC"
	case vOIDRSA:
		return vDigestHash(digestOID), "RSA"
	case vOIDDSA:
		return vDigestHash(digestOID), "DSA"
	case vOIDEC:
		return vDigestHash(digestOID), "EC"
	}
	return 0, ""
}

func vNewJarHash(h crypto.Hash) hash.Hash {
	switch h {
	case crypto.MD5:
		return md5.New()
	case crypto.SHA1:
		return sha1.New()
	case crypto.SHA224:
		return sha256.New224()
	case crypto.SHA256:
		return sha256.New()
	case crypto.SHA384:
		return sha512.New384()
	case crypto.SHA512:
		return sha512.New()
	}
	return nil
}

var errVSigException = errors.New("signature exception")

// vVerifyJarSignature checks a PKCS#1 v1.5, DSA or ECDSA signature over
// data. A key that does not fit the algorithm is an error; a signature
// that does not verify is (false, nil).
func vVerifyJarSignature(pub crypto.PublicKey, h crypto.Hash, keyType string, data, sig []byte) (bool, error) {
	hh := vNewJarHash(h)
	if hh == nil {
		return false, fmt.Errorf("%w: unsupported digest algorithm", errVSigException)
	}
	hh.Write(data)
	digest := hh.Sum(nil)
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if keyType != "RSA" {
			return false, fmt.Errorf("%w: an RSA key cannot verify a %s signature", errVSigException, keyType)
		}
		return rsa.VerifyPKCS1v15(k, h, digest, sig) == nil, nil
	case *ecdsa.PublicKey:
		if keyType != "EC" {
			return false, fmt.Errorf("%w: an EC key cannot verify a %s signature", errVSigException, keyType)
		}
		return ecdsa.VerifyASN1(k, digest, sig), nil
	case *dsa.PublicKey:
		if keyType != "DSA" {
			return false, fmt.Errorf("%w: a DSA key cannot verify a %s signature", errVSigException, keyType)
		}
		var rs struct{ R, S *big.Int }
		if rest, err := asn1.Unmarshal(sig, &rs); err != nil || len(rest) != 0 || rs.R == nil || rs.S == nil {
			return false, nil
		}
		if n := (k.Q.BitLen() + 7) / 8; len(digest) > n {
			digest = digest[:n]
		}
		return dsa.Verify(k, digest, rs.R, rs.S), nil
	}
	return false, fmt.Errorf("%w: unsupported public key %T", errVSigException, pub)
}
