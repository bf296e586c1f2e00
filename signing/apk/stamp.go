package apk

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"time"

	"github.com/storesign/storesign/internal/zipx"
	"github.com/storesign/storesign/signing"
)

// Source stamp identifiers (apksig's SourceStampConstants).
const (
	blockIDSourceStampV2 = 0x6dff800d
	// stampAttrProofOfRotation holds the stamp signer's lineage.
	stampAttrProofOfRotation = 0x9d6303f7
	// stampAttrTime holds the time of stamping, in seconds since 1970.
	stampAttrTime = 0xe43c5946
)

// IDs the stamp block signs the digests of: the signature schemes and
// their content digest algorithms (apksig's VERSION_* and
// ContentDigestAlgorithm).
const (
	stampSchemeJAR      = 1
	stampSchemeV2       = 2
	stampSchemeV3       = 3
	digestChunkedSHA256 = 1
	digestChunkedSHA512 = 2
	digestVeritySHA256  = 3
	digestSHA256        = 4
)

// ErrStampMismatch means the APK already holds a source stamp
// certificate digest (the stamp-cert-sha256 entry) of another stamp
// signer, which apksigner refuses to replace unless asked to
// (Options.StampOverwrite).
var ErrStampMismatch = errors.New("apk: the APK holds the source stamp of another stamp signer (stamp-cert-sha256): replace it only on purpose (Options.StampOverwrite)")

// stamper is the source stamp signer of a signing run.
type stamper struct {
	id      *signing.Identity
	lineage *Lineage // nil without one
	// certDigest is the content of the stamp-cert-sha256 entry: the
	// SHA-256 of the stamp certificate.
	certDigest []byte
	time       int64 // 0: no timestamp attribute
}

// newStamper checks the stamp options.
func newStamper(opts Options) (*stamper, error) {
	id := opts.StampSigner
	if id == nil {
		if opts.StampLineage != nil {
			return nil, errors.New("apk: a stamp lineage needs a stamp signer")
		}
		return nil, nil
	}
	if id.Signer == nil || id.Certificate == nil {
		return nil, errors.New("apk: the stamp signer needs a private key and its certificate")
	}
	// apksig signs source stamps with RSA PKCS#1 v1.5 and SHA-256 only.
	if _, ok := id.Certificate.PublicKey.(*rsa.PublicKey); !ok {
		return nil, fmt.Errorf("%w: a source stamp is signed with RSA (apksigner signs stamps with RSA PKCS#1 v1.5 SHA-256 only); the stamp key is %s", signing.ErrUnsupportedKey, signing.KeyAlgorithm(id.Certificate.PublicKey))
	}
	if err := checkKeyPair(id); err != nil {
		return nil, err
	}
	s := &stamper{id: id}
	sum := sha256.Sum256(id.Certificate.Raw)
	s.certDigest = sum[:]
	if opts.StampLineage != nil {
		sub, err := opts.StampLineage.Sub(id.Certificate)
		if err != nil {
			return nil, fmt.Errorf("apk: the stamp signer is not in the stamp lineage: %w", err)
		}
		s.lineage = sub
	}
	if !opts.StampTimestampDisabled {
		now := time.Now
		if opts.Now != nil {
			now = opts.Now
		}
		if s.time = now().Unix(); s.time <= 0 {
			return nil, fmt.Errorf("apk: stamp time %d is not after 1970", s.time)
		}
	}
	return s, nil
}

// checkInput refuses an input whose stamp-cert-sha256 entry names
// another stamp certificate, as apksigner does without
// --force-stamp-overwrite.
func (s *stamper) checkInput(src io.ReaderAt, arch *archive, overwrite bool) error {
	e := arch.find(stampEntryName)
	if e == nil || overwrite {
		return nil
	}
	data, err := e.ReadAll(src, arch.lfhEnd, 1<<16)
	if err != nil {
		return fmt.Errorf("%w: reading %s: %w", ErrMalformed, stampEntryName, err)
	}
	if !bytes.Equal(data, s.certDigest) {
		return ErrStampMismatch
	}
	return nil
}

// entry returns the stamp-cert-sha256 entry written at offset off: its
// local record and its central directory record.
func (s *stamper) entry(off int64, modTime, modDate uint16) (local, central []byte) {
	comp := zipx.Deflate(s.certDigest, 9)
	h := zipx.FileHeader{
		Name:             stampEntryName,
		Method:           zipx.Deflated,
		ModTime:          modTime,
		ModDate:          modDate,
		CRC32:            crc32.ChecksumIEEE(s.certDigest),
		CompressedSize:   uint32(len(comp)),
		UncompressedSize: uint32(len(s.certDigest)),
	}
	return append(h.LocalHeader(), comp...), h.CentralHeader(off)
}

// stampDigests are the digests a source stamp signs, per scheme.
type stampDigests struct {
	v2, v3         []byte // the v2 and v3.0 content digests, nil without
	v2Hash, v3Hash crypto.Hash
	// v2Verity and v3Verity are their VERITY_CHUNKED_SHA256 content
	// digests, nil without.
	v2Verity, v3Verity []byte
	manifest           []byte // the JAR manifest, nil without v1
}

// block encodes the V2 source stamp block as apksig's V2SourceStampSigner.
func (s *stamper) block(c *config, d stampDigests) ([]byte, error) {
	sign := func(data []byte) ([]byte, error) {
		sig, err := schemeSign(c, s.id, algRSASHA256, data)
		if err != nil {
			return nil, fmt.Errorf("source stamp: %w", err)
		}
		return lpSeq(idBytes(algRSASHA256.id, sig)), nil
	}
	chunkedID := func(h crypto.Hash) uint32 {
		if h == crypto.SHA512 {
			return digestChunkedSHA512
		}
		return digestChunkedSHA256
	}
	// Schemes in ascending order: JAR, v2, v3.
	var schemes [][]byte
	// A scheme's digests are listed by ascending ID (chunked, verity).
	add := func(scheme, digestID uint32, digest, verity []byte) error {
		digests := [][]byte{idBytes(digestID, digest)}
		if verity != nil {
			digests = append(digests, idBytes(digestVeritySHA256, verity))
		}
		sig, err := sign(lpSeq(digests...))
		if err != nil {
			return err
		}
		schemes = append(schemes, idBytes(scheme, sig))
		return nil
	}
	if d.manifest != nil {
		sum := sha256.Sum256(d.manifest)
		if err := add(stampSchemeJAR, digestSHA256, sum[:], nil); err != nil {
			return nil, err
		}
	}
	if d.v2 != nil {
		if err := add(stampSchemeV2, chunkedID(d.v2Hash), d.v2, d.v2Verity); err != nil {
			return nil, err
		}
	}
	if d.v3 != nil {
		if err := add(stampSchemeV3, chunkedID(d.v3Hash), d.v3, d.v3Verity); err != nil {
			return nil, err
		}
	}
	// Attributes, in the order of Java's HashMap for these two IDs: the
	// lineage, then the time; prefixed with their total size.
	var attrs enc
	if s.lineage != nil {
		l := s.lineage.encode()
		attrs.u32(uint32(4 + len(l))).u32(stampAttrProofOfRotation)
		attrs.Write(l)
	}
	if s.time != 0 {
		attrs.u32(12).u32(stampAttrTime)
		attrs.Write(binary.LittleEndian.AppendUint64(nil, uint64(s.time)))
	}
	var encAttrs enc
	encAttrs.lp(attrs.Bytes())
	attrSig, err := sign(encAttrs.Bytes())
	if err != nil {
		return nil, err
	}
	signer := lpSeq(s.id.Certificate.Raw, lpSeq(schemes...), encAttrs.Bytes(), attrSig)
	var e enc
	e.lp(signer)
	return e.Bytes(), nil
}
