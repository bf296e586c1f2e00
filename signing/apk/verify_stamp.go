package apk

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// Errors of [VerifySourceStamp].
var (
	// ErrNoStamp means the APK has no source stamp: neither a
	// stamp-cert-sha256 entry nor a source stamp block.
	ErrNoStamp = errors.New("apk: no source stamp")
	// ErrStampNotVerified means the APK's source stamp does not verify;
	// the StampResult says why.
	ErrStampNotVerified = errors.New("apk: the source stamp does not verify")
)

// StampResult is what [VerifySourceStamp] found.
type StampResult struct {
	// Verified reports a source stamp whose signatures verify over the
	// APK's digests, with no error.
	Verified bool
	// Certificate is the stamp signer's certificate (nil when the block
	// is missing or malformed).
	Certificate *x509.Certificate
	// Lineage is the stamp signer's lineage, oldest first (nil without
	// one).
	Lineage []*x509.Certificate
	// Time is the time of stamping (zero without one).
	Time time.Time
	// Errors and Warnings are apksigner's issues, in its words.
	Errors, Warnings []string
}

// Err returns nil for a verified stamp, else an error wrapping
// [ErrStampNotVerified] with the first issue.
func (r *StampResult) Err() error {
	if r.Verified {
		return nil
	}
	issues := slices.Concat(r.Errors, r.Warnings)
	if len(issues) == 0 {
		return ErrStampNotVerified
	}
	return fmt.Errorf("%w: %s", ErrStampNotVerified, issues[0])
}

// VerifySourceStamp checks an APK's source stamp as `apksigner verify
// --verify-source-stamp` does: the stamp-cert-sha256 entry names the
// stamp block's certificate; the block signs, with the stamp key, the
// content digests of every signature scheme the APK is signed with (JAR:
// the SHA-256 of META-INF/MANIFEST.MF); its attributes are signed, and
// its lineage, if any, verifies and ends with the stamp certificate.
// The APK's own signatures are not checked here: [Verify] does that.
func VerifySourceStamp(ctx context.Context, r io.ReaderAt, size int64) (*StampResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	arch, err := readArchive(r, size)
	if err != nil {
		return nil, err
	}
	var entryDigest []byte
	if e := arch.find(stampEntryName); e != nil {
		if entryDigest, err = e.ReadAll(r, arch.lfhEnd, 1<<16); err != nil {
			return nil, fmt.Errorf("%w: reading %s: %w", ErrMalformed, stampEntryName, err)
		}
	}
	blocks, err := readSigningBlockPairs(r, arch)
	if err != nil {
		return nil, err
	}
	stampBlock, hasBlock := blocks[blockIDSourceStampV2]
	res := &StampResult{}
	switch {
	case entryDigest == nil && !hasBlock:
		return nil, ErrNoStamp
	case entryDigest == nil:
		res.Errors = append(res.Errors, "Missing SourceStamp certificate digest file in APK")
		return res, res.Err()
	case !hasBlock:
		res.Errors = append(res.Errors, "No SourceStamp signature")
		return res, res.Err()
	}
	digests, err := stampSchemeDigests(r, arch, blocks)
	if err != nil {
		return nil, err
	}
	res.verify(stampBlock, entryDigest, digests)
	res.Verified = len(res.Errors) == 0 && len(res.Warnings) == 0
	return res, res.Err()
}

// readSigningBlockPairs returns the entries of the APK Signing Block by
// ID (none when there is no block).
func readSigningBlockPairs(r io.ReaderAt, arch *archive) (map[uint32][]byte, error) {
	pairs := map[uint32][]byte{}
	if arch.lfhEnd == arch.CDOffset {
		return pairs, nil
	}
	n := arch.CDOffset - arch.lfhEnd
	if n > 64<<20 {
		return nil, fmt.Errorf("%w: APK Signing Block of %d bytes", ErrMalformed, n)
	}
	b := make([]byte, n)
	if _, err := r.ReadAt(b, arch.lfhEnd); err != nil {
		return nil, fmt.Errorf("reading the APK Signing Block: %w", err)
	}
	b = b[8 : len(b)-24]
	for len(b) > 0 {
		if len(b) < 12 {
			return nil, fmt.Errorf("%w: truncated APK Signing Block entry", ErrMalformed)
		}
		l := binary.LittleEndian.Uint64(b)
		if l < 4 || l > uint64(len(b)-8) {
			return nil, fmt.Errorf("%w: APK Signing Block entry of %d bytes", ErrMalformed, l)
		}
		id := binary.LittleEndian.Uint32(b[8:])
		if _, dup := pairs[id]; !dup {
			pairs[id] = b[12 : 8+l]
		}
		b = b[8+l:]
	}
	return pairs, nil
}

// stampSchemeDigests returns, per signature scheme the APK is signed
// with, the encoded digests a stamp signs: the content digests the first
// v2 or v3 signer lists (by content digest algorithm ID), and the
// SHA-256 of the JAR manifest.
func stampSchemeDigests(r io.ReaderAt, arch *archive, blocks map[uint32][]byte) (map[uint32][]byte, error) {
	out := map[uint32][]byte{}
	for _, s := range []struct {
		scheme, block uint32
		v3            bool
	}{{stampSchemeV2, blockIDSchemeV2, false}, {stampSchemeV3, blockIDSchemeV3, true}} {
		b, ok := blocks[s.block]
		if !ok {
			continue
		}
		d, err := signerContentDigests(b)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
		}
		out[s.scheme] = d
	}
	if mf := arch.find("META-INF/MANIFEST.MF"); mf != nil && hasJARSignature(arch) {
		data, err := mf.ReadAll(r, arch.lfhEnd, maxManifestSize)
		if err != nil {
			return nil, fmt.Errorf("%w: reading META-INF/MANIFEST.MF: %w", ErrMalformed, err)
		}
		sum := sha256.Sum256(data)
		out[stampSchemeJAR] = lpSeq(idBytes(digestSHA256, sum[:]))
	}
	return out, nil
}

// hasJARSignature reports a .SF file in META-INF.
func hasJARSignature(arch *archive) bool {
	for _, e := range arch.Entries {
		rest, ok := strings.CutPrefix(e.Name, "META-INF/")
		if ok && !strings.Contains(rest, "/") && strings.HasSuffix(strings.ToUpper(rest), ".SF") {
			return true
		}
	}
	return false
}

// signerContentDigests reads the first signer of a v2 or v3 block and
// returns its content digests, by content digest algorithm, encoded as
// a stamp signs them.
func signerContentDigests(block []byte) ([]byte, error) {
	signers := (&lreader{b: block}).prefixed()
	signer := (&lreader{b: signers}).prefixed()
	sr := &lreader{b: signer}
	sd := &lreader{b: sr.prefixed()}
	dr := &lreader{b: sd.prefixed()}
	if sr.err || sd.err || dr.err {
		return nil, errors.New("truncated signature scheme block")
	}
	type digest struct {
		id  uint32
		sum []byte
	}
	var ds []digest
	for len(dr.b) > 0 {
		one := &lreader{b: dr.prefixed()}
		alg := one.u32()
		sum := one.prefixed()
		if dr.err || one.err {
			return nil, errors.New("truncated digest record")
		}
		id := uint32(0)
		if a := vFindSigAlg(alg); a != nil {
			id = uint32(a.digest.stampID())
		}
		if id == 0 || slices.ContainsFunc(ds, func(d digest) bool { return d.id == id }) {
			continue
		}
		ds = append(ds, digest{id, sum})
	}
	slices.SortFunc(ds, func(a, b digest) int { return int(a.id) - int(b.id) })
	var parts [][]byte
	for _, d := range ds {
		parts = append(parts, idBytes(d.id, d.sum))
	}
	return lpSeq(parts...), nil
}

// stampID is apksig's ContentDigestAlgorithm ID of a digest kind.
func (d vDigestKind) stampID() int {
	switch d {
	case vChunkedSHA256:
		return digestChunkedSHA256
	case vChunkedSHA512:
		return digestChunkedSHA512
	case vVeritySHA256:
		return 3
	}
	return 0
}

// verify checks a V2 source stamp block against the stamp entry's
// digest and the APK's scheme digests, as apksig's SourceStampVerifier.
func (res *StampResult) verify(block, entryDigest []byte, digests map[uint32][]byte) {
	malformed := func() { res.Warnings = append(res.Warnings, "Malformed SourceStamp signature") }
	outer := &lreader{b: block}
	sr := &lreader{b: outer.prefixed()}
	der := sr.prefixed()
	signed := sr.prefixed()
	if outer.err || sr.err {
		malformed()
		return
	}
	cert, err := vParseCertificate(der)
	if err != nil {
		res.Errors = append(res.Errors, fmt.Sprintf("Malformed SourceStamp certificate: %v", err))
		return
	}
	res.Certificate = cert
	if sum := sha256.Sum256(der); !bytes.Equal(sum[:], entryDigest) {
		res.Warnings = append(res.Warnings, fmt.Sprintf("Certificate mismatch between SourceStamp block in APK signing block and SourceStamp file in APK: <%s> vs <%s>",
			hex.EncodeToString(sum[:]), hex.EncodeToString(entryDigest)))
		return
	}
	// The signed digests, by scheme.
	bySchemes := map[uint32][]byte{}
	sd := &lreader{b: signed}
	for len(sd.b) > 0 {
		one := &lreader{b: sd.prefixed()}
		scheme := one.u32()
		sigs := one.prefixed()
		if sd.err || one.err {
			malformed()
			return
		}
		bySchemes[scheme] = sigs
	}
	schemes := make([]uint32, 0, len(digests))
	for s := range digests {
		schemes = append(schemes, s)
	}
	slices.Sort(schemes)
	for _, s := range schemes {
		sigs, ok := bySchemes[s]
		if !ok {
			res.Errors = append(res.Errors, "No SourceStamp signature")
			return
		}
		if !res.checkSignatures(cert, digests[s], sigs) {
			return
		}
	}
	// Attributes (stamps made before they existed have none).
	if len(sr.b) == 0 {
		return
	}
	attrs := sr.prefixed()
	attrSigs := sr.prefixed()
	if sr.err {
		malformed()
		return
	}
	if !res.checkSignatures(cert, attrs, attrSigs) {
		return
	}
	ar := &lreader{b: attrs}
	list := &lreader{b: ar.prefixed()}
	if ar.err {
		malformed()
		return
	}
	for len(list.b) > 0 {
		one := &lreader{b: list.prefixed()}
		id := one.u32()
		if list.err || one.err {
			malformed()
			return
		}
		switch id {
		case stampAttrProofOfRotation:
			l, err := parseLineage(one.b)
			if err != nil {
				res.Errors = append(res.Errors, "Failed to parse the SourceStamp lineage: "+strings.TrimPrefix(err.Error(), "apk: "))
				return
			}
			certs := l.Certificates()
			if !bytes.Equal(certs[len(certs)-1].Raw, cert.Raw) {
				res.Errors = append(res.Errors, "The SourceStamp lineage does not end with the stamp certificate")
				return
			}
			res.Lineage = certs
		case stampAttrTime:
			if len(one.b) != 8 {
				malformed()
				return
			}
			t := int64(binary.LittleEndian.Uint64(one.b))
			if t <= 0 {
				res.Errors = append(res.Errors, fmt.Sprintf("The source stamp timestamp attribute has an invalid value: %d", t))
				return
			}
			res.Time = time.Unix(t, 0)
		}
	}
}

// checkSignatures verifies the stamp signatures (a sequence of signature
// algorithm and signature) over data; it reports false after recording
// an issue.
func (res *StampResult) checkSignatures(cert *x509.Certificate, data, sigs []byte) bool {
	sr := &lreader{b: sigs}
	verified := false
	for len(sr.b) > 0 {
		one := &lreader{b: sr.prefixed()}
		algID := one.u32()
		sig := one.prefixed()
		if sr.err || one.err {
			res.Warnings = append(res.Warnings, "Malformed SourceStamp signature")
			return false
		}
		alg := vFindSigAlg(algID)
		if alg == nil {
			continue // unknown algorithms are skipped, as apksig does
		}
		ok, err := vVerifySignature(alg, cert.PublicKey, data, sig)
		if err != nil || !ok {
			res.Errors = append(res.Errors, fmt.Sprintf("SourceStamp signature over the APK's digests did not verify (%s)", alg.name))
			return false
		}
		verified = true
	}
	if !verified {
		res.Errors = append(res.Errors, "No SourceStamp signature")
	}
	return verified
}
