package apk

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"

	"github.com/storesign/storesign/signing"
)

// Android API levels of key rotation (apksig's V3SchemeConstants).
const (
	// sdkP is Android 9, the first release with APK Signature Scheme v3
	// and key rotation.
	sdkP = 28
	// sdkV31 is Android 13, the first release that reads v3.1 blocks.
	sdkV31 = 33
	// sdkDevRelease and sdkProdRelease: a signer targeting the
	// development release (API level sdkDevRelease) is written with
	// sdkProdRelease and the dev-release attribute, as apksig 35 does.
	sdkDevRelease  = 34
	sdkProdRelease = 33
	// maxSDKAny is the maxSdkVersion of the newest v3 signer.
	maxSDKAny = 0x7fffffff
)

// DefaultRotationMinSDKVersion is the API level from which an APK signed
// with a rotated key presents the new key when Options.RotationMinSDKVersion
// is zero: Android 13, as apksigner 35 (older releases see the original
// key, through v3.0).
const DefaultRotationMinSDKVersion = 33

// IDs of the v3.1 block and of the v3 signer attributes.
const (
	blockIDSchemeV31         = 0x1b93ad61
	attrProofOfRotation      = 0x3ba06f8c
	attrRotationMinSDK       = 0x559f8b02
	attrRotationOnDevRelease = 0xc2a6b3ba
)

// v3Signer is one signer of a v3.0 or v3.1 block.
type v3Signer struct {
	id             *signing.Identity
	alg            schemeAlg
	minSDK, maxSDK int
	lineage        *Lineage // nil: no proof-of-rotation attribute
	devRelease     bool
}

// planSigners decides, as apksig 35's DefaultApkSignerEngine does, which
// signer signs v1 and v2 (the identity returned) and which ones sign the
// v3.0 and v3.1 blocks, with their SDK ranges and lineages.
func (c *config) planSigners(id *signing.Identity, minSDK int) (*signing.Identity, error) {
	opts := c.opts
	signers := append([]*signing.Identity{id}, opts.NextIdentities...)
	for i, s := range signers {
		if s == nil || s.Signer == nil || s.Certificate == nil {
			return nil, fmt.Errorf("apk: signer #%d needs a private key and its certificate", i+1)
		}
	}
	lin := opts.Lineage
	if lin == nil {
		if len(signers) > 1 {
			// Several signers of v1 and v2 (newConfig adds them): v3
			// takes one signer, so apksig refuses unless v3 is off, by
			// default too.
			if c.v3 {
				return nil, ErrSignersWithoutLineage
			}
			if c.v4 {
				return nil, errors.New("apk: v4 signing takes one signer (or a lineage)")
			}
			return id, nil
		}
		if opts.RotationMinSDKVersion != 0 || opts.RotationTargetsDevRelease {
			return nil, errors.New("apk: the rotation options need a signing certificate lineage")
		}
		if c.v3 {
			alg, err := lineageAlg(id.Certificate.PublicKey)
			if err != nil {
				return nil, err
			}
			c.v30 = []*v3Signer{{id: id, alg: alg, minSDK: sdkN, maxSDK: maxSDKAny}}
		}
		return id, nil
	}
	// Sort the signers as the lineage (apksig's sortSignerConfigs).
	var sorted []*signing.Identity
	for _, cert := range lin.Certificates() {
		for _, s := range signers {
			if bytes.Equal(s.Certificate.Raw, cert.Raw) {
				sorted = append(sorted, s)
				break
			}
		}
	}
	if len(sorted) != len(signers) {
		for _, s := range signers {
			if !lin.Contains(s.Certificate) {
				return nil, fmt.Errorf("apk: the signer %s is not in the signing certificate lineage", s.Certificate.Subject)
			}
		}
		return nil, errors.New("apk: a signer is given twice")
	}
	rotMin := opts.RotationMinSDKVersion
	if rotMin == 0 {
		rotMin = DefaultRotationMinSDKVersion
	}
	if rotMin < sdkP {
		return nil, fmt.Errorf("apk: rotation min SDK version %d: key rotation needs Android 9 (API level %d) or later", rotMin, sdkP)
	}
	if rotMin < sdkV31 {
		rotMin = sdkP
	}
	if opts.RotationTargetsDevRelease && rotMin < sdkV31 {
		return nil, fmt.Errorf("apk: rotation can only target a development release for rotation min SDK version %d or later", sdkV31)
	}
	// The newest signer targets rotMin with the lineage; the others are
	// the original signers.
	original := sorted[:len(sorted)-1]
	rotated := sorted[len(sorted)-1]
	if !c.v3 && len(original) > 1 {
		return nil, errors.New("apk: several signers of the lineage without APK Signature Scheme v3: sign with one signer, or enable v3")
	}
	oldest := rotated
	if len(original) > 0 {
		oldest = original[0]
	}
	if c.v3 && (c.v1 || c.v2) {
		if sub, err := lin.Sub(oldest.Certificate); err != nil || sub.Len() != 1 {
			return nil, fmt.Errorf("apk: %s signing needs the oldest signer of the lineage (%s): give it as a signer too", c.oldSchemes(), lin.Certificates()[0].Subject)
		}
	} else if !c.v3 {
		if len(original) == 0 {
			return nil, errors.New("apk: without APK Signature Scheme v3 the lineage's rotated signer cannot sign: give the original signer")
		}
		return original[0], nil
	}
	if !c.v3 {
		return oldest, nil
	}

	// processV3Configs: from the newest signer back, until the signers
	// cover every release from Android 9 or the APK's minSdkVersion.
	minRequired := max(sdkP, minSDK)
	if len(original) == 0 && rotMin > minRequired {
		return nil, fmt.Errorf("apk: the rotated signer alone does not cover Android %d to %d: give the original signer too, or a rotation min SDK version of %d", minRequired, rotMin-1, minRequired)
	}
	type raw struct {
		id         *signing.Identity
		minSDK     int
		lineage    *Lineage
		devRelease bool
	}
	raws := make([]raw, 0, len(sorted))
	for _, s := range original {
		raws = append(raws, raw{id: s})
	}
	raws = append(raws, raw{id: rotated, minSDK: rotMin, lineage: lin, devRelease: opts.RotationTargetsDevRelease})
	var processed []*v3Signer
	current := maxSDKAny
	for i := len(raws) - 1; i >= 0; i-- {
		r := raws[i]
		alg, err := lineageAlg(r.id.Certificate.PublicKey)
		if err != nil {
			return nil, err
		}
		s := &v3Signer{id: r.id, alg: alg, minSDK: r.minSDK, lineage: r.lineage, devRelease: r.devRelease}
		if i == len(raws)-1 {
			s.maxSDK = maxSDKAny
		} else if prev := processed[len(processed)-1]; prev.devRelease {
			s.maxSDK = prev.minSDK
		} else {
			s.maxSDK = current - 1
		}
		switch s.minSDK {
		case sdkDevRelease:
			s.minSDK, s.devRelease = sdkProdRelease, true
		case 0:
			s.minSDK = sdkN // the classic algorithms' minimum
		}
		if s.lineage != nil && !s.lineage.endsWith(s.id.Certificate) {
			if s.lineage, err = s.lineage.Sub(s.id.Certificate); err != nil {
				return nil, err
			}
		}
		processed = append(processed, s)
		current = s.minSDK
		if s.devRelease && current < minRequired || !s.devRelease && current <= minRequired {
			break
		}
	}
	if current > sdkP && current > minSDK {
		return nil, errors.New("apk: the signers' key algorithms are not supported on every Android version the APK targets")
	}
	// processV31SignerConfigs: one signer stays in v3.0, the ones
	// targeting Android 13 or later above it go to v3.1.
	if len(processed) == 1 {
		c.v30 = processed
		return oldest, nil
	}
	lowest := slices.MinFunc(processed, func(a, b *v3Signer) int { return a.minSDK - b.minSDK }).minSDK
	for _, s := range processed {
		if s.minSDK >= sdkV31 && (s.minSDK > lowest || s.devRelease) {
			c.v31 = append(c.v31, s)
			if c.v31MinSDK == 0 || s.minSDK < c.v31MinSDK {
				c.v31MinSDK = s.minSDK
			}
		} else {
			c.v30 = append(c.v30, s)
		}
	}
	return oldest, nil
}

// oldSchemes names the schemes that sign with the original signer.
func (c *config) oldSchemes() string {
	switch {
	case c.v1 && c.v2:
		return "v1 and v2"
	case c.v1:
		return "v1"
	}
	return "v2"
}

// endsWith reports whether cert is the newest certificate of l.
func (l *Lineage) endsWith(cert *x509.Certificate) bool {
	return len(l.nodes) > 0 && bytes.Equal(l.nodes[len(l.nodes)-1].cert.Raw, cert.Raw)
}

// v3Block encodes a v3.0 (blockID blockIDSchemeV3) or v3.1 block signed
// by signers over the content digest.
func (c *config) v3Block(blockID uint32, signers []*v3Signer, digests map[crypto.Hash][]byte) ([]byte, error) {
	var blocks [][]byte
	for _, s := range signers {
		var attrs enc
		if s.lineage != nil {
			l := s.lineage.encode()
			attrs.u32(uint32(4 + len(l))).u32(attrProofOfRotation)
			attrs.Write(l)
		}
		if s.devRelease && blockID == blockIDSchemeV31 {
			attrs.u32(4).u32(attrRotationOnDevRelease)
		}
		if c.v31MinSDK != 0 && blockID == blockIDSchemeV3 {
			attrs.u32(8).u32(attrRotationMinSDK).u32(uint32(c.v31MinSDK))
		}
		certs := make([][]byte, 0, 1+len(s.id.Chain))
		for _, cert := range s.id.Certificates() {
			certs = append(certs, cert.Raw)
		}
		sd := schemeV3SignedData(c.digestPairs(s.alg, digests), certs, uint32(s.minSDK), uint32(s.maxSDK), attrs.Bytes())
		sigs, err := c.signaturePairs(s.id, s.alg, sd)
		if err != nil {
			return nil, err
		}
		blocks = append(blocks, schemeV3Signer(sd, uint32(s.minSDK), uint32(s.maxSDK), sigs, s.id.Certificate.RawSubjectPublicKeyInfo))
	}
	return lpSeq(lpSeq(blocks...)), nil
}

// contentHashes are the hashes of the chunked content digests the v2 and
// v3 signers sign, each once, in the order they appear.
func (c *config) contentHashes() []crypto.Hash {
	var hs []crypto.Hash
	add := func(h crypto.Hash) {
		if !slices.Contains(hs, h) {
			hs = append(hs, h)
		}
	}
	if c.v2 {
		add(c.alg.hash)
		for _, s := range c.coSigners {
			add(s.alg.hash)
		}
	}
	if c.v3 {
		for _, s := range slices.Concat(c.v30, c.v31) {
			add(s.alg.hash)
		}
	}
	return hs
}
