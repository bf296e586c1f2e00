package apk

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	cryptorand "crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/storesign/storesign/signing"
)

// Errors returned when reading a signing certificate lineage.
var (
	// ErrLineageMagic means the data does not start with the magic number
	// of apksigner's lineage files.
	ErrLineageMagic = errors.New("apk: not a signing certificate lineage file (magic number mismatch)")
	// ErrLineageVersion means a lineage file or attribute has a version
	// other than 1, the only one apksig knows.
	ErrLineageVersion = errors.New("apk: unrecognized signing certificate lineage version")
	// ErrLineageMalformed means a lineage is truncated, has trailing data,
	// a certificate that does not parse, a duplicate certificate, or a
	// node whose signature does not verify with its parent's key.
	ErrLineageMalformed = errors.New("apk: malformed signing certificate lineage")
)

// lineageMagic starts apksigner's lineage files (SigningCertificateLineage
// MAGIC, little endian).
const lineageMagic = 0x3eff39d1

// lineageVersion is the only lineage format version.
const lineageVersion = 1

// maxLineageNodes bounds the signers of a lineage read from a file.
const maxLineageNodes = 64

// Capabilities are the flags a lineage grants an older signing
// certificate: what apps and data signed with it may still do once the
// APK is signed with a newer one (apksig's SignerCapabilities).
type Capabilities uint32

// The capabilities, as apksig numbers them.
const (
	// CapInstalledData lets the app's installed data, from an APK signed
	// with the older certificate, carry over: needed to rotate on devices.
	CapInstalledData Capabilities = 1
	// CapSharedUID lets apps signed with the older certificate share the
	// app's sharedUserId.
	CapSharedUID Capabilities = 2
	// CapPermission grants the app's signature permissions to apps signed
	// with the older certificate.
	CapPermission Capabilities = 4
	// CapRollback allows updates back to an APK signed with the older
	// certificate. It undoes the point of rotating away from a leaked key.
	CapRollback Capabilities = 8
	// CapAuth keeps authenticator access granted on the older certificate.
	CapAuth Capabilities = 16
	// DefaultCapabilities are apksig's defaults: everything but rollback.
	DefaultCapabilities = CapInstalledData | CapSharedUID | CapPermission | CapAuth
)

// Has reports whether c holds every capability of x.
func (c Capabilities) Has(x Capabilities) bool { return c&x == x }

// CapabilityChange sets or clears capabilities; nil fields leave a
// capability as it is (apksig's caller-configured capabilities).
type CapabilityChange struct {
	InstalledData, SharedUID, Permission, Rollback, Auth *bool
}

// Apply returns c with the change made.
func (ch CapabilityChange) Apply(c Capabilities) Capabilities {
	for _, f := range []struct {
		on  *bool
		cap Capabilities
	}{{ch.InstalledData, CapInstalledData}, {ch.SharedUID, CapSharedUID}, {ch.Permission, CapPermission}, {ch.Rollback, CapRollback}, {ch.Auth, CapAuth}} {
		switch {
		case f.on == nil:
		case *f.on:
			c |= f.cap
		default:
			c &^= f.cap
		}
	}
	return c
}

// Lineage is a signing certificate lineage (APK key rotation's proof of
// rotation): the app's signing certificates, oldest first, each after the
// first signed by the one before it, and the capabilities each older
// certificate keeps. Read one with [ReadLineage], start one with
// [NewLineage], add a signer with [Lineage.Rotate]; [Options.Lineage]
// signs an APK with it.
type Lineage struct {
	nodes []lineageNode
}

// lineageNode is one signer of a lineage, as apksig's
// SigningCertificateNode.
type lineageNode struct {
	cert *x509.Certificate
	// parentAlg is the algorithm the parent signed this node with (0 for
	// the first node); alg the one this node signs its child with (0 for
	// the last node).
	parentAlg, alg uint32
	sig            []byte
	caps           Capabilities
}

// ReadLineage reads a lineage file as `apksigner rotate` writes it:
// magic, version, then the encoded lineage. Every node's signature is
// checked against its parent's certificate.
func ReadLineage(data []byte) (*Lineage, error) {
	if len(data) < 8 {
		return nil, fmt.Errorf("%w: %d bytes, too short for a header", ErrLineageMagic, len(data))
	}
	le := binary.LittleEndian
	if le.Uint32(data) != lineageMagic {
		return nil, ErrLineageMagic
	}
	if v := le.Uint32(data[4:]); v != lineageVersion {
		return nil, fmt.Errorf("%w: %d", ErrLineageVersion, v)
	}
	r := &lreader{b: data[8:]}
	body := r.prefixed()
	if r.err {
		return nil, fmt.Errorf("%w: truncated", ErrLineageMalformed)
	}
	if len(r.b) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the lineage", ErrLineageMalformed, len(r.b))
	}
	return parseLineage(body)
}

// parseLineage reads the encoded lineage of a file or of a v3 signer's
// proof-of-rotation attribute: version, then length-prefixed nodes.
func parseLineage(b []byte) (*Lineage, error) {
	r := &lreader{b: b}
	v := r.u32()
	if r.err {
		return nil, fmt.Errorf("%w: empty", ErrLineageMalformed)
	}
	if v != lineageVersion {
		return nil, fmt.Errorf("%w: %d", ErrLineageVersion, v)
	}
	l := &Lineage{}
	for len(r.b) > 0 {
		n := len(l.nodes) + 1
		if n > maxLineageNodes {
			return nil, fmt.Errorf("%w: more than %d certificates", ErrLineageMalformed, maxLineageNodes)
		}
		nr := &lreader{b: r.prefixed()}
		signed := nr.prefixed()
		caps := nr.u32()
		alg := nr.u32()
		sig := nr.prefixed()
		sr := &lreader{b: signed}
		der := sr.prefixed()
		parentAlg := sr.u32()
		if r.err || nr.err || sr.err || len(nr.b) != 0 || len(sr.b) != 0 {
			return nil, fmt.Errorf("%w: certificate #%d: truncated or trailing data", ErrLineageMalformed, n)
		}
		cert, err := vParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("%w: certificate #%d: %w", ErrLineageMalformed, n, err)
		}
		if n > 1 {
			parent := &l.nodes[n-2]
			if parentAlg != parent.alg {
				return nil, fmt.Errorf("%w: certificate #%d was signed with algorithm %#x, its parent says %#x", ErrLineageMalformed, n, parentAlg, parent.alg)
			}
			va := vFindSigAlg(parentAlg)
			if va == nil {
				return nil, fmt.Errorf("%w: certificate #%d: unknown signature algorithm %#x", ErrLineageMalformed, n, parentAlg)
			}
			if ok, err := vVerifySignature(va, parent.cert.PublicKey, signed, sig); err != nil || !ok {
				return nil, fmt.Errorf("%w: the signature over certificate #%d does not verify with certificate #%d", ErrLineageMalformed, n, n-1)
			}
		}
		for _, prev := range l.nodes {
			if bytes.Equal(prev.cert.Raw, cert.Raw) {
				return nil, fmt.Errorf("%w: certificate #%d appears twice", ErrLineageMalformed, n)
			}
		}
		l.nodes = append(l.nodes, lineageNode{cert: cert, parentAlg: parentAlg, alg: alg, sig: bytes.Clone(sig), caps: Capabilities(caps)})
	}
	if len(l.nodes) == 0 {
		return nil, fmt.Errorf("%w: no certificates", ErrLineageMalformed)
	}
	return l, nil
}

// MarshalBinary encodes the lineage as a lineage file, byte for byte as
// `apksigner rotate` writes it.
func (l *Lineage) MarshalBinary() ([]byte, error) {
	if l == nil || len(l.nodes) == 0 {
		return nil, errors.New("apk: empty lineage")
	}
	body := l.encode()
	var e enc
	e.u32(lineageMagic).u32(lineageVersion).lp(body)
	return e.Bytes(), nil
}

// encode encodes the lineage as the v3 proof-of-rotation attribute holds
// it (apksig's encodeSigningCertificateLineage).
func (l *Lineage) encode() []byte {
	var e enc
	e.u32(lineageVersion)
	for _, n := range l.nodes {
		var ne enc
		ne.lp(lineageSignedData(n.cert, n.parentAlg))
		ne.u32(uint32(n.caps)).u32(n.alg)
		ne.lp(n.sig)
		e.lp(ne.Bytes())
	}
	return e.Bytes()
}

// lineageSignedData is what a parent signs: its child's certificate and
// the algorithm of the signature.
func lineageSignedData(cert *x509.Certificate, alg uint32) []byte {
	var e enc
	e.lp(cert.Raw).u32(alg)
	return e.Bytes()
}

// Len is the number of signers in the lineage.
func (l *Lineage) Len() int { return len(l.nodes) }

// Certificates returns the lineage's signing certificates, oldest first.
func (l *Lineage) Certificates() []*x509.Certificate {
	certs := make([]*x509.Certificate, len(l.nodes))
	for i, n := range l.nodes {
		certs[i] = n.cert
	}
	return certs
}

// index returns the position of cert in the lineage, or -1.
func (l *Lineage) index(cert *x509.Certificate) int {
	return slices.IndexFunc(l.nodes, func(n lineageNode) bool { return bytes.Equal(n.cert.Raw, cert.Raw) })
}

// Contains reports whether cert is one of the lineage's certificates.
func (l *Lineage) Contains(cert *x509.Certificate) bool { return l.index(cert) >= 0 }

// CertificateNotInLineageError reports a certificate that a lineage
// operation needs but the lineage does not hold.
type CertificateNotInLineageError struct {
	Subject string
}

func (e *CertificateNotInLineageError) Error() string {
	return fmt.Sprintf("apk: certificate %q is not in the signing certificate lineage", e.Subject)
}

// Capabilities returns the capabilities the lineage gives cert.
func (l *Lineage) Capabilities(cert *x509.Certificate) (Capabilities, error) {
	i := l.index(cert)
	if i < 0 {
		return 0, &CertificateNotInLineageError{Subject: cert.Subject.String()}
	}
	return l.nodes[i].caps, nil
}

// SetCapabilities changes the capabilities of cert's signer. Node
// capabilities are not signed, so no key is needed. It reports whether
// they changed.
func (l *Lineage) SetCapabilities(cert *x509.Certificate, ch CapabilityChange) (bool, error) {
	i := l.index(cert)
	if i < 0 {
		return false, &CertificateNotInLineageError{Subject: cert.Subject.String()}
	}
	old := l.nodes[i].caps
	l.nodes[i].caps = ch.Apply(old)
	return l.nodes[i].caps != old, nil
}

// Sub returns the lineage up to and including cert, as apksig's
// getSubLineage.
func (l *Lineage) Sub(cert *x509.Certificate) (*Lineage, error) {
	i := l.index(cert)
	if i < 0 {
		return nil, &CertificateNotInLineageError{Subject: cert.Subject.String()}
	}
	return &Lineage{nodes: slices.Clone(l.nodes[:i+1])}, nil
}

// clone copies the lineage (nodes are values; certificates and
// signatures are never modified).
func (l *Lineage) clone() *Lineage { return &Lineage{nodes: slices.Clone(l.nodes)} }

// NewLineage starts a lineage with old's certificate, rotated to
// newCert: what `apksigner rotate` without --in writes. oldCaps are the
// capabilities the old certificate keeps, newCaps the new one's (which
// matter once it is rotated away from in turn); pass
// [DefaultCapabilities] for apksigner's defaults. rand is for ECDSA
// signatures (nil: crypto/rand).
func NewLineage(rand io.Reader, old *signing.Identity, oldCaps Capabilities, newCert *x509.Certificate, newCaps Capabilities) (*Lineage, error) {
	if old == nil || old.Certificate == nil || old.Signer == nil {
		return nil, errors.New("apk: rotating needs the old signer's key and certificate")
	}
	if _, err := lineageAlg(old.Certificate.PublicKey); err != nil {
		return nil, err
	}
	l := &Lineage{nodes: []lineageNode{{cert: old.Certificate, caps: oldCaps}}}
	return l.Rotate(rand, old, newCert, newCaps)
}

// Rotate returns a copy of the lineage extended with newCert, signed by
// old, which must be the lineage's newest signer (apksig's
// spawnDescendant). caps are the new signer's capabilities.
func (l *Lineage) Rotate(rand io.Reader, old *signing.Identity, newCert *x509.Certificate, caps Capabilities) (*Lineage, error) {
	if old == nil || old.Certificate == nil || old.Signer == nil {
		return nil, errors.New("apk: rotating needs the old signer's key and certificate")
	}
	if newCert == nil {
		return nil, errors.New("apk: rotating needs the new signer's certificate")
	}
	if len(l.nodes) == 0 {
		return nil, errors.New("apk: empty lineage")
	}
	last := l.nodes[len(l.nodes)-1]
	if !bytes.Equal(last.cert.Raw, old.Certificate.Raw) {
		return nil, fmt.Errorf("apk: the old signer (%s) is not the newest signer of the lineage (%s)", old.Certificate.Subject, last.cert.Subject)
	}
	if l.Contains(newCert) {
		return nil, fmt.Errorf("apk: the new signer's certificate (%s) is already in the lineage", newCert.Subject)
	}
	if k, ok := old.Signer.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !k.Equal(old.Certificate.PublicKey) {
		return nil, signing.ErrKeyMismatch
	}
	alg, err := lineageAlg(old.Certificate.PublicKey)
	if err != nil {
		return nil, err
	}
	if rand == nil {
		rand = cryptorand.Reader
	}
	signed := lineageSignedData(newCert, alg.id)
	h := alg.hash.New()
	h.Write(signed)
	sig, err := old.Signer.Sign(rand, h.Sum(nil), alg.hash)
	if err != nil {
		return nil, fmt.Errorf("signing the lineage: %w", err)
	}
	out := l.clone()
	out.nodes[len(out.nodes)-1].alg = alg.id
	out.nodes = append(out.nodes, lineageNode{cert: newCert, parentAlg: alg.id, sig: sig, caps: caps})
	return out, nil
}

// lineageAlg is the algorithm a lineage node signs its child with: the
// one apksig's v3 signer picks for the key.
func lineageAlg(pub crypto.PublicKey) (schemeAlg, error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() > 3072 {
			return algRSASHA512, nil
		}
		return algRSASHA256, nil
	case *ecdsa.PublicKey:
		if k.Curve.Params().N.BitLen() > 256 {
			return algECDSASHA512, nil
		}
		return algECDSASHA256, nil
	}
	return schemeAlg{}, fmt.Errorf("%w: %s keys cannot sign a lineage", signing.ErrUnsupportedKey, signing.KeyAlgorithm(pub))
}

// lreader reads the little-endian structures of a lineage; err is set
// once anything is short.
type lreader struct {
	b   []byte
	err bool
}

func (r *lreader) u32() uint32 {
	if r.err || len(r.b) < 4 {
		r.err = true
		return 0
	}
	v := binary.LittleEndian.Uint32(r.b)
	r.b = r.b[4:]
	return v
}

func (r *lreader) prefixed() []byte {
	n := r.u32()
	if r.err || uint64(n) > uint64(len(r.b)) {
		r.err = true
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}
