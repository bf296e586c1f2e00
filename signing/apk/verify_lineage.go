package apk

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
)

// vLineage is a signing certificate lineage (proof of rotation), oldest
// certificate first.
type vLineage struct {
	certs []*x509.Certificate
	flags []uint32
}

// vMaxLineage bounds the number of lineage nodes.
const vMaxLineage = 64

// parseLineageForVerify parses and verifies the value of the v3
// proof-of-rotation attribute: each certificate is signed by the one
// before it.
func parseLineageForVerify(val []byte) (*vLineage, error) {
	in := &vReader{b: val}
	if !in.remaining() {
		return nil, errors.New("empty SigningCertificateLineage")
	}
	if v := in.u32(); in.err || v != 1 {
		return nil, errors.New("Encoded SigningCertificateLineage has a version different than any of which we are aware")
	}
	lin := &vLineage{}
	var last *x509.Certificate
	var lastAlg uint32
	for n := 1; in.remaining(); n++ {
		if n > vMaxLineage {
			return nil, errors.New("SigningCertificateLineage has too many certificates")
		}
		node := in.sub()
		signed := node.prefixed()
		flags := node.u32()
		algID := node.u32()
		sig := node.prefixed()
		if node.err {
			return nil, errors.New("Failed to parse the SigningCertificateLineage structure in the APK Signature Scheme v3 signature's additional attributes section")
		}
		if last != nil {
			alg := vFindSigAlg(lastAlg)
			if alg == nil {
				return nil, fmt.Errorf("SigningCertificateLineage certificate #%d uses unknown signature algorithm %#x", n, lastAlg)
			}
			ok, err := vVerifySignature(alg, last.PublicKey, signed, sig)
			if err != nil || !ok {
				return nil, errors.New("SigningCertificateLineage attribute containd a proof-of-rotation record with signature(s) that did not verify.")
			}
		}
		sd := &vReader{b: signed}
		der := sd.prefixed()
		signedAlg := sd.u32()
		if sd.err {
			return nil, errors.New("Failed to parse the SigningCertificateLineage structure in the APK Signature Scheme v3 signature's additional attributes section")
		}
		if last != nil && signedAlg != lastAlg {
			return nil, fmt.Errorf("Signing algorithm ID mismatch for certificate #%d when verifying V3SigningCertificateLineage object", n)
		}
		c, err := vParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("Failed to parse certificate #%d of the SigningCertificateLineage: %v", n, err)
		}
		for _, prev := range lin.certs {
			if bytes.Equal(prev.Raw, c.Raw) {
				return nil, fmt.Errorf("Encountered duplicate entries in SigningCertificateLineage at certificate #%d.  All signing certificates should be unique", n)
			}
		}
		lin.certs = append(lin.certs, c)
		lin.flags = append(lin.flags, flags)
		last, lastAlg = c, algID
	}
	if len(lin.certs) == 0 {
		return nil, errors.New("empty SigningCertificateLineage")
	}
	return lin, nil
}

// endsWith reports whether c is the newest certificate of the lineage.
func (l *vLineage) endsWith(c *x509.Certificate) bool {
	return len(l.certs) > 0 && bytes.Equal(l.certs[len(l.certs)-1].Raw, c.Raw)
}

// indexOf returns the position of c in the lineage, or -1.
func (l *vLineage) indexOf(c *x509.Certificate) int {
	for i, x := range l.certs {
		if bytes.Equal(x.Raw, c.Raw) {
			return i
		}
	}
	return -1
}

// consolidateLineagesForVerify returns the longest lineage when every
// other one is a prefix of it.
func consolidateLineagesForVerify(ls []*vLineage) (*vLineage, bool) {
	var longest *vLineage
	for _, l := range ls {
		if longest == nil || len(l.certs) > len(longest.certs) {
			longest = l
		}
	}
	for _, l := range ls {
		for i, c := range l.certs {
			if !bytes.Equal(longest.certs[i].Raw, c.Raw) {
				return longest, false
			}
		}
	}
	return longest, true
}
