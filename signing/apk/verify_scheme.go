package apk

import (
	"bytes"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
)

// Additional attribute IDs of v2/v3 signed data.
const (
	vAttrStrippingProtection = 0xbeeff00d
	vAttrProofOfRotation     = 0x3ba06f8c
	vAttrRotationMinSDK      = 0x559f8b02
	vAttrRotationOnDev       = 0xc2a6b3ba
)

// Scheme IDs used for stripping protection (as apksig numbers them).
const (
	vSchemeV2  = 2
	vSchemeV3  = 3
	vSchemeV31 = 31
)

// vSchemeSigner is one signer of a v2 or v3 block.
type vSchemeSigner struct {
	index          int
	certs          []*x509.Certificate
	minSDK, maxSDK int
	sigIDs         []uint32
	digests        []vDigestRecord
	lineage        *vLineage
	devRelease     bool
	errors         []string
	warnings       []string
}

type vDigestRecord struct {
	algID uint32
	value []byte
}

func (s *vSchemeSigner) errorf(format string, args ...any) {
	s.errors = append(s.errors, fmt.Sprintf(format, args...))
}

func (s *vSchemeSigner) warnf(format string, args ...any) {
	s.warnings = append(s.warnings, fmt.Sprintf(format, args...))
}

// vSchemeResult is the outcome of one APK Signature Scheme block.
type vSchemeResult struct {
	name     string // "v2", "v3", "v3.1"
	signers  []*vSchemeSigner
	errors   []string
	warnings []string
	verified bool
	lineage  *vLineage
}

func (r *vSchemeResult) errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *vSchemeResult) hasErrors() bool {
	if len(r.errors) > 0 {
		return true
	}
	for _, s := range r.signers {
		if len(s.errors) > 0 {
			return true
		}
	}
	return false
}

// vSchemeParams configures one scheme verification.
type vSchemeParams struct {
	scheme         int // vSchemeV2, vSchemeV3, vSchemeV31
	minSDK, maxSDK int
	// v2: stripping protection
	supported map[int]string
	found     map[int]bool
	// v3: rotation min SDK from the v3.1 block (0: none)
	rotationMinSDK int
}

func (p *vSchemeParams) label() string {
	switch p.scheme {
	case vSchemeV2:
		return "v2"
	case vSchemeV3:
		return "v3"
	}
	return "v3.1"
}

// parseSignersForVerify parses and checks the signers of a v2/v3 block
// (signatures over signed data, certificates, attributes) and returns the
// content digest algorithms whose values must be checked.
func parseSignersForVerify(block []byte, p *vSchemeParams) (*vSchemeResult, map[vDigestKind]bool) {
	res := &vSchemeResult{name: p.label()}
	toVerify := map[vDigestKind]bool{}
	top := &vReader{b: block}
	signers := top.sub()
	if signers.err {
		res.errorf("Malformed list of signers")
		return res, toVerify
	}
	if !signers.remaining() {
		res.errorf("No signers in APK Signature Scheme %s signature", p.label())
		return res, toVerify
	}
	for i := 0; signers.remaining(); i++ {
		s := &vSchemeSigner{index: i}
		res.signers = append(res.signers, s)
		sb := signers.sub()
		if sb.err {
			s.errorf("Malformed signer block")
			return res, toVerify
		}
		if p.scheme == vSchemeV2 && i >= 10 {
			res.errorf("APK Signature Scheme v2 only supports a maximum of 10 signers, found %d", i+1)
			return res, toVerify
		}
		if !parseSignerForVerify(sb, s, p, toVerify) {
			return res, toVerify
		}
	}
	return res, toVerify
}

// parseSignerForVerify returns false when parsing must stop (malformed
// data).
func parseSignerForVerify(sb *vReader, s *vSchemeSigner, p *vSchemeParams, toVerify map[vDigestKind]bool) bool {
	v3 := p.scheme != vSchemeV2
	signedData := sb.prefixed()
	if v3 {
		s.minSDK = int(int32(sb.u32()))
		s.maxSDK = int(int32(sb.u32()))
	}
	sigs := sb.sub()
	pubKey := sb.prefixed()
	if sb.err {
		s.errorf("Malformed signer block")
		return false
	}
	if v3 && (s.minSDK < 0 || s.minSDK > s.maxSDK) {
		s.errorf("Invalid SDK versions in APK Signature Scheme v3 signer: min %d, max %d", s.minSDK, s.maxSDK)
	}
	var supported []vSignature
	for n := 1; sigs.remaining(); n++ {
		rec := sigs.sub()
		id := rec.u32()
		sig := rec.prefixed()
		if rec.err {
			s.errorf("Malformed APK Signature Scheme %s signature record #%d", p.label(), n)
			return false
		}
		s.sigIDs = append(s.sigIDs, id)
		alg := vFindSigAlg(id)
		if alg == nil {
			s.warnf("Unknown signature algorithm: %#x", id)
			continue
		}
		supported = append(supported, vSignature{alg, sig})
	}
	if sigs.err {
		s.errorf("Malformed APK Signature Scheme %s signature record", p.label())
		return false
	}
	if len(s.sigIDs) == 0 {
		s.errorf("No signatures")
		return true
	}
	minSDK, maxSDK := p.minSDK, p.maxSDK
	if v3 {
		s.devRelease = vTargetsDevRelease(signedData)
		minSDK, maxSDK = s.minSDK, s.maxSDK
		if s.devRelease {
			minSDK++
		}
	}
	chosen, err := vSignaturesToVerify(supported, minSDK, maxSDK)
	if err != nil {
		s.errorf("No supported signatures")
		return true
	}
	for _, sig := range chosen {
		pub, err := vParsePublicKey(pubKey, sig.alg.key)
		if err != nil {
			s.errorf("Malformed public key: %v", err)
			return true
		}
		ok, err := vVerifySignature(sig.alg, pub, signedData, sig.sig)
		if err != nil {
			s.errorf("Failed to verify %s signature: %v", sig.alg.name, err)
			return true
		}
		if !ok {
			s.errorf("%s signature over signed-data did not verify", sig.alg.name)
			return true
		}
		toVerify[sig.alg.digest] = true
	}

	// The signature verified: parse the signed data.
	sd := &vReader{b: signedData}
	digests := sd.sub()
	certs := sd.sub()
	if v3 {
		smin := int(int32(sd.u32()))
		smax := int(int32(sd.u32()))
		if !sd.err && smin != s.minSDK {
			s.errorf("minSdkVersion mismatch between signed data and signer in APK Signature Scheme v3 signer: %d vs %d", s.minSDK, smin)
		}
		if !sd.err && smax != s.maxSDK {
			s.errorf("maxSdkVersion mismatch between signed data and signer in APK Signature Scheme v3 signer: %d vs %d", s.maxSDK, smax)
		}
	}
	attrs := sd.sub()
	if sd.err {
		s.errorf("Malformed signer block")
		return false
	}
	for n := 1; certs.remaining(); n++ {
		der := certs.prefixed()
		if certs.err {
			s.errorf("Malformed signer block")
			return false
		}
		c, err := vParseCertificate(der)
		if err != nil {
			s.errorf("Malformed certificate #%d: %v", n, err)
			return true
		}
		s.certs = append(s.certs, c)
	}
	if len(s.certs) == 0 {
		s.errorf("No certificates")
		return true
	}
	if !vEqualPublicKey(s.certs[0], pubKey) {
		s.errorf("Public key mismatch between certificate and signature record: <%s> vs <%s>",
			hex.EncodeToString(s.certs[0].RawSubjectPublicKeyInfo), hex.EncodeToString(pubKey))
		return true
	}
	for n := 1; digests.remaining(); n++ {
		rec := digests.sub()
		id := rec.u32()
		val := rec.prefixed()
		if rec.err {
			s.errorf("Malformed APK Signature Scheme %s digest record #%d", p.label(), n)
			return true
		}
		s.digests = append(s.digests, vDigestRecord{id, val})
	}
	if digests.err {
		s.errorf("Malformed APK Signature Scheme %s digest record", p.label())
		return true
	}
	if len(s.digests) != len(s.sigIDs) {
		s.errorf("Signature algorithms mismatch between signatures and digests records: %s vs %s", vIDList(s.sigIDs), vDigestIDList(s.digests))
		return true
	}
	for i := range s.digests {
		if s.digests[i].algID != s.sigIDs[i] {
			s.errorf("Signature algorithms mismatch between signatures and digests records: %s vs %s", vIDList(s.sigIDs), vDigestIDList(s.digests))
			return true
		}
	}
	rotationAttr := false
	for n := 1; attrs.remaining(); n++ {
		rec := attrs.prefixed()
		if attrs.err || len(rec) < 4 {
			s.errorf("Malformed additional attribute #%d", n)
			return true
		}
		id := binary.LittleEndian.Uint32(rec)
		val := rec[4:]
		switch {
		case !v3 && id == vAttrStrippingProtection:
			if len(val) < 4 {
				s.errorf("Malformed additional attribute #%d", n)
				return true
			}
			want := int(int32(binary.LittleEndian.Uint32(val)))
			if name, ok := p.supported[want]; ok && !p.found[want] {
				s.errorf("V2 signature indicates APK is signed using %s but no such signature was found. Signature stripped?", name)
			}
		case v3 && id == vAttrProofOfRotation:
			lin, err := parseLineageForVerify(val)
			switch {
			case err != nil:
				s.errorf("%v", err)
			case !lin.endsWith(s.certs[0]):
				s.errorf("Public key certificate in SigningCertificateLineage does not match the certificate of the signer")
			default:
				s.lineage = lin
			}
		case v3 && id == vAttrRotationMinSDK:
			rotationAttr = true
			if p.maxSDK >= 33 && p.scheme == vSchemeV3 && len(val) >= 4 {
				v := int(int32(binary.LittleEndian.Uint32(val)))
				if p.rotationMinSDK > 0 {
					if v != p.rotationMinSDK {
						s.errorf("The v3 signer indicates key rotation should be supported starting from SDK version %d, but the v3.1 block targets %d for rotation", v, p.rotationMinSDK)
					}
				} else {
					s.errorf("The v3 signer indicates key rotation should be supported starting from SDK version %d, but a v3.1 block was not found", v)
				}
			}
		case v3 && id == vAttrRotationOnDev:
			if p.scheme == vSchemeV3 {
				s.warnf("The rotation-targets-dev-release attribute is only supported on v3.1 signers; this attribute will be ignored by the platform in a v3.0 signer")
			}
		default:
			s.warnf("Unknown additional attribute: ID %#x", id)
		}
	}
	if p.scheme == vSchemeV3 && p.rotationMinSDK > 0 && !rotationAttr {
		s.warnf("The v3.1 block targets SDK version %d for rotation, but the v3 signer does not have the rotation-min-sdk-version attribute (stripping protection)", p.rotationMinSDK)
	}
	return true
}

// vTargetsDevRelease looks for the dev-release attribute in signed data
// without judging its structure.
func vTargetsDevRelease(signedData []byte) bool {
	r := &vReader{b: signedData}
	r.prefixed()
	r.prefixed()
	r.u32()
	r.u32()
	attrs := r.sub()
	for attrs.remaining() {
		a := attrs.prefixed()
		if len(a) >= 4 && binary.LittleEndian.Uint32(a) == vAttrRotationOnDev {
			return true
		}
	}
	return false
}

func vIDList(ids []uint32) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, id := range ids {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%d", id)
	}
	b.WriteByte(']')
	return b.String()
}

func vDigestIDList(d []vDigestRecord) string {
	ids := make([]uint32, len(d))
	for i := range d {
		ids[i] = d[i].algID
	}
	return vIDList(ids)
}

// checkContentDigestsForVerify compares each signer's digests with the
// computed ones.
func checkContentDigestsForVerify(res *vSchemeResult, actual map[vDigestKind][]byte) {
	for _, s := range res.signers {
		for _, d := range s.digests {
			alg := vFindSigAlg(d.algID)
			if alg == nil {
				continue
			}
			got, ok := actual[alg.digest]
			if !ok {
				continue
			}
			if !bytes.Equal(got, d.value) {
				res.errorf("APK integrity check failed. %s digest mismatch. Expected: <%s>, actual: <%s>",
					alg.digest, hex.EncodeToString(d.value), hex.EncodeToString(got))
			}
		}
	}
}

// checkV3RangesForVerify checks that v3 signers cover [minSDK, maxSDK]
// without holes, and merges their lineages.
func checkV3RangesForVerify(res *vSchemeResult, p *vSchemeParams) {
	byMax := map[int]*vSchemeSigner{}
	var keys []int
	for _, s := range res.signers {
		if _, ok := byMax[s.maxSDK]; !ok {
			keys = append(keys, s.maxSDK)
		}
		byMax[s.maxSDK] = s
	}
	sort.Ints(keys)
	firstMin, lastMax, lastLineage := 0, 0, 0
	var lineages []*vLineage
	for i, k := range keys {
		s := byMax[k]
		if i == 0 {
			firstMin = s.minSDK
		} else if s.minSDK != lastMax+1 && !(s.minSDK == lastMax && s.devRelease) {
			res.errorf("APK Signature Scheme v3 signers supported min/max SDK versions are not continuous")
			break
		}
		lastMax = s.maxSDK
		if s.lineage != nil {
			if len(s.lineage.certs) < lastLineage {
				res.errorf("SigningCertificateLineages targeting different platform versions using APK Signature Scheme v3 are not all a part of the same overall lineage")
				break
			}
			lastLineage = len(s.lineage.certs)
			lineages = append(lineages, s.lineage)
		}
	}
	want := p.maxSDK
	if p.rotationMinSDK > 0 {
		want = p.rotationMinSDK - 1
	}
	if firstMin > p.minSDK || lastMax < want {
		res.errorf("APK Signature Scheme v3 signers supported min/max SDK versions do not cover the entire desired range.  Found min:  %d max %d", firstMin, lastMax)
	}
	lin, ok := consolidateLineagesForVerify(lineages)
	if !ok {
		res.errorf("SigningCertificateLineages targeting different platform versions using APK Signature Scheme v3 are not all a part of the same overall lineage")
	}
	res.lineage = lin
}
