package apk

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"

	"github.com/storesign/storesign/internal/atomicfile"
	"github.com/storesign/storesign/internal/axml"
	"github.com/storesign/storesign/internal/zipx"
)

// Android API levels the verifier's rules depend on.
const (
	vSDKJellyBeanMR2 = 18
	vSDKKitKat       = 19
	vSDKN            = 24
	vSDKO            = 26
	vSDKP            = 28
	vSDKR            = 30
	vSDKV31          = 33 // Android 13: APK Signature Scheme v3.1
)

// vMaxSigners is apksig's limit on the number of v1 and v2 signers.
const vMaxSigners = 10

// vMaxManifestSize bounds the AndroidManifest.xml read into memory.
const vMaxManifestSize = 32 << 20

// ErrNoAndroidManifest is [ErrNotAPK], which [Verify] returns for an
// archive without AndroidManifest.xml; the two names match the same error.
var ErrNoAndroidManifest = ErrNotAPK

// ErrNotVerified is wrapped by the error [Verify] returns (and by
// [VerifyResult.Err]) when an APK's signatures do not verify, or it is
// not signed.
var ErrNotVerified = errors.New("apk: APK signature does not verify")

// VerifyOptions tunes [Verify]. The zero value checks the APK as
// `apksigner verify` does by default: for every Android version from the
// APK's minSdkVersion on.
type VerifyOptions struct {
	// MinSDK is the lowest Android API level the signatures must verify
	// on. Zero means the minSdkVersion of AndroidManifest.xml.
	MinSDK int
	// MaxSDK is the highest Android API level the signatures must verify
	// on. Zero means no limit.
	MaxSDK int
	// V4Signature, when not nil, is the APK's .idsig file (V4SignatureSize
	// bytes), checked as apksigner's --v4-signature-file: the outcome is
	// [VerifyResult.V4] and V4Errors. apksigner does not look for an
	// .idsig beside the APK, and neither does Verify.
	V4Signature     io.ReaderAt
	V4SignatureSize int64
	// V4SignatureBeside makes [VerifyFile] check the .idsig file beside
	// the APK (its path + ".idsig") when there is one and V4Signature is
	// nil, as if it were given: what `apksigner sign` writes is checked
	// without naming it. A folder or FIFO there is an error, as it is
	// for the APK. apksigner does not do this; the zero value doesn't
	// either. [VerifyResult.V4SignatureFile] names the file checked.
	V4SignatureBeside bool
	// Log receives debug messages; nil discards them.
	Log *slog.Logger
}

// VerifyResult is the verdict on an APK's signatures. An APK that is
// signed wrongly (or not at all) gives a result with Verified false and
// Errors saying why, which [Verify] returns together with an error
// wrapping [ErrNotVerified].
type VerifyResult struct {
	// Verified reports whether the APK verifies on every Android version
	// in [MinSDK, MaxSDK].
	Verified bool
	// V1, V2, V3 and V31 report which schemes the APK verified with
	// (JAR signing, APK Signature Scheme v2, v3 and v3.1).
	V1, V2, V3, V31 bool
	// V4 reports that the v4 signature of [VerifyOptions.V4Signature]
	// verified; V4Errors say why it did not. As in apksigner, they do not
	// change Verified.
	V4       bool
	V4Errors []string
	// V4SignatureFile is the path of the .idsig file [VerifyFile] found
	// beside the APK and checked (VerifyOptions.V4SignatureBeside), or "".
	V4SignatureFile string
	// MinSDK and MaxSDK are the range the APK was checked for.
	MinSDK, MaxSDK int
	// TargetSDK is the targetSdkVersion of AndroidManifest.xml (its
	// minSdkVersion when it has none), or 0 when the manifest could not
	// be read. From Android 11 on, an APK that targets 30 or more must
	// be signed with v2 or newer.
	TargetSDK int
	// Signers are the signers apksigner reports: the last (newest) v3.1
	// signer, else the last v3 signer, else every v2 signer, else every
	// v1 signer.
	Signers []*VerifySigner
	// V1Signers ... V31Signers are the signers of each scheme checked.
	V1Signers, V2Signers, V3Signers, V31Signers []*VerifySigner
	// Lineage is the signing certificate history (proof of rotation) of
	// the v3 signers, oldest first; nil without key rotation.
	Lineage []*x509.Certificate
	// Errors and Warnings, as apksigner prints them (signer problems are
	// prefixed with the signer).
	Errors, Warnings []string
}

// VerifySigner is one signer of one scheme.
type VerifySigner struct {
	// Scheme is "v1", "v2", "v3" or "v3.1".
	Scheme string
	// Name is the JAR signer name (e.g. "CERT") for v1; for the other
	// schemes it is "#" and the signer's 1-based index.
	Name string
	// Certificate is the signing certificate; Chain starts with it.
	Certificate *x509.Certificate
	Chain       []*x509.Certificate
	// MinSDK and MaxSDK are the API levels a v3 or v3.1 signer targets.
	MinSDK, MaxSDK int
	// DevRelease reports a v3.1 signer that targets a development release.
	DevRelease bool
	// Errors and Warnings about this signer.
	Errors, Warnings []string
}

// Err returns nil when the APK verified, else an error wrapping
// [ErrNotVerified] that quotes the first problem.
func (r *VerifyResult) Err() error {
	if r.Verified {
		return nil
	}
	if len(r.Errors) == 0 {
		return ErrNotVerified
	}
	if len(r.Errors) == 1 {
		return fmt.Errorf("%w: %s", ErrNotVerified, r.Errors[0])
	}
	return fmt.Errorf("%w: %s (and %d more errors)", ErrNotVerified, r.Errors[0], len(r.Errors)-1)
}

// VerifyFile verifies the APK at path. See [Verify]: as there, an APK
// that does not verify gives its result and an error wrapping
// [ErrNotVerified].
func VerifyFile(ctx context.Context, path string, opts VerifyOptions) (*VerifyResult, error) {
	f, size, err := atomicfile.OpenInput(path, "an APK")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	beside := ""
	if opts.V4SignatureBeside && opts.V4Signature == nil {
		// As the APK: a folder or a FIFO there is refused, without
		// blocking in open.
		sig, sigSize, err := atomicfile.OpenInput(path+".idsig", "a v4 signature (.idsig)")
		switch {
		case err == nil:
			defer sig.Close()
			beside, opts.V4Signature, opts.V4SignatureSize = sig.Name(), sig, sigSize
		case !errors.Is(err, fs.ErrNotExist):
			return nil, err
		}
	}
	res, err := Verify(ctx, f, size, opts)
	if res != nil {
		res.V4SignatureFile = beside
	}
	if err != nil {
		return res, fmt.Errorf("verifying %s: %w", path, err)
	}
	return res, nil
}

// Verify checks the signatures of the APK in r (size bytes) as apksigner
// 35 does: JAR signing (v1), APK Signature Scheme v2, v3 and v3.1, with
// the rules on which schemes Android versions in the range look at,
// stripping protection, signer limits and agreement between schemes.
// Content digests are computed in parallel, reading the file in chunks.
//
// A result is returned for any readable APK, signed or not. When the APK
// does not verify (or is not signed) the error wraps [ErrNotVerified]
// and the result, returned with it, says why (Errors, and each signer's).
// Other errors come with a nil result: input that cannot be read as an
// APK ([ErrNotZip], [ErrMalformed], [*DuplicateEntryError], [ErrNotAPK]
// when AndroidManifest.xml is missing), an unreadable v4 signature
// ([ErrV4Malformed]) or a cancelled ctx.
func Verify(ctx context.Context, r io.ReaderAt, size int64, opts VerifyOptions) (*VerifyResult, error) {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opts.MinSDK < 0 || opts.MaxSDK < 0 {
		return nil, fmt.Errorf("apk: negative SDK version in options (min %d, max %d)", opts.MinSDK, opts.MaxSDK)
	}
	a, err := readZip(r, size)
	if err != nil {
		return nil, err
	}
	// Entries end where the APK Signing Block starts, if there is one.
	limit := a.CDOffset
	if off, ok := findSigningBlock(r, a.CDOffset); ok {
		limit = off
	}
	if err := checkRecords(r, a, limit); err != nil {
		return nil, err
	}
	v := &vVerifier{ctx: ctx, r: r, a: a, log: log}
	defer v.stopPrefetch()
	res, err := v.run(opts)
	if err != nil {
		return nil, err
	}
	if opts.V4Signature != nil && res.Verified {
		if err := v.verifyV4(opts.V4Signature, opts.V4SignatureSize, size); err != nil {
			return nil, fmt.Errorf("checking the v4 signature: %w", err)
		}
	}
	return res, res.Err()
}

// vVerifier carries one verification.
type vVerifier struct {
	ctx context.Context
	r   io.ReaderAt
	a   *zipx.Archive
	log *slog.Logger

	manifest *axml.Manifest
	block    *vSigningBlock
	blockErr error
	res      *VerifyResult
	digests  map[vDigestKind][]byte // content digests computed so far
	prefetch *vPrefetch             // digests computed ahead, or nil
}

func (v *vVerifier) entry(name string) *zipx.Entry {
	for _, e := range v.a.Entries {
		if e.Name == name {
			return e
		}
	}
	return nil
}

func (v *vVerifier) androidManifest() (*axml.Manifest, error) {
	if v.manifest != nil {
		return v.manifest, nil
	}
	e := v.entry("AndroidManifest.xml")
	if e == nil {
		return nil, ErrNotAPK
	}
	if e.UncompressedSize > vMaxManifestSize {
		return nil, fmt.Errorf("apk: AndroidManifest.xml is too large (%d bytes)", e.UncompressedSize)
	}
	data, err := v.readEntry(e)
	if err != nil {
		return nil, err
	}
	m, err := axml.ParseManifest(data)
	if err != nil {
		return nil, fmt.Errorf("parsing AndroidManifest.xml: %w", err)
	}
	v.manifest = m
	return m, nil
}

func (v *vVerifier) signingBlock() (*vSigningBlock, error) {
	if v.block == nil && v.blockErr == nil {
		v.block, v.blockErr = findSigningBlockForVerify(v.r, v.a)
	}
	return v.block, v.blockErr
}

func (v *vVerifier) run(opts VerifyOptions) (*VerifyResult, error) {
	maxSDK := opts.MaxSDK
	if maxSDK == 0 {
		maxSDK = math.MaxInt32
	}
	minSDK := opts.MinSDK
	if minSDK == 0 {
		m, err := v.androidManifest()
		if err != nil {
			return nil, err
		}
		minSDK = m.MinSDKVersion
		if minSDK > maxSDK {
			return nil, fmt.Errorf("apk: minSdkVersion from the APK (%d) is above the maximum SDK version checked (%d)", minSDK, maxSDK)
		}
	} else if minSDK > maxSDK {
		return nil, fmt.Errorf("apk: minimum SDK version %d is above maximum %d", minSDK, maxSDK)
	}
	res := &VerifyResult{MinSDK: minSDK, MaxSDK: maxSDK}
	if m, err := v.androidManifest(); err == nil {
		res.TargetSDK = m.TargetSDKVersion
		if res.TargetSDK == 0 {
			res.TargetSDK = m.MinSDKVersion
		}
	}
	v.res = res
	v.log.Debug("verifying APK", "minSdk", minSDK, "maxSdk", maxSDK, "entries", len(v.a.Entries))

	supported := vSupportedSchemes(maxSDK)
	found := map[int]bool{}
	v.startPrefetch(minSDK, maxSDK)

	if maxSDK >= vSDKN {
		rotationMinSDK := 0
		if maxSDK >= vSDKV31 {
			sr, err := v.verifyScheme(&vSchemeParams{scheme: vSchemeV31, minSDK: max(minSDK, vSDKV31), maxSDK: maxSDK})
			if err != nil {
				return nil, err
			}
			if sr != nil {
				found[vSchemeV31] = true
				rotationMinSDK = math.MaxInt
				for _, s := range sr.signers {
					rotationMinSDK = min(rotationMinSDK, s.minSDK)
				}
				if len(sr.signers) == 0 {
					rotationMinSDK = 0
				}
				v.mergeScheme(sr)
				if v.hasErrors() {
					return v.finish(), nil
				}
			}
		}
		if maxSDK >= vSDKP {
			sr, err := v.verifyScheme(&vSchemeParams{scheme: vSchemeV3, minSDK: max(minSDK, vSDKP), maxSDK: maxSDK, rotationMinSDK: rotationMinSDK})
			if err != nil {
				return nil, err
			}
			if sr != nil {
				found[vSchemeV3] = true
				v.mergeScheme(sr)
			} else if found[vSchemeV31] {
				res.Errors = append(res.Errors, "APK Signature Scheme v3.1 signature found, but no v3 signature; the v3.1 block must be accompanied by a v3 block")
			}
			if v.hasErrors() {
				return v.finish(), nil
			}
		}
		if minSDK < vSDKP || len(found) == 0 {
			sr, err := v.verifyScheme(&vSchemeParams{scheme: vSchemeV2, minSDK: max(minSDK, vSDKN), maxSDK: maxSDK, supported: supported, found: found})
			if err != nil {
				return nil, err
			}
			if sr != nil {
				found[vSchemeV2] = true
				v.mergeScheme(sr)
				if v.hasErrors() {
					return v.finish(), nil
				}
			}
		}
	}

	if maxSDK >= vSDKO {
		m, err := v.androidManifest()
		if err != nil {
			return nil, err
		}
		if m.TargetSandboxVersion > 1 && len(found) == 0 {
			res.Errors = append(res.Errors, fmt.Sprintf("Missing APK Signature Scheme v2 signature required for target sandbox version %d", m.TargetSandboxVersion))
		}
	}
	if minSDK < vSDKN || len(found) == 0 {
		if err := v.verifyV1(supported, found, minSDK, maxSDK); err != nil {
			return nil, err
		}
	}
	if v.hasErrors() {
		return v.finish(), nil
	}

	// Signers of v1 and v2 must be the same.
	if res.V1 && res.V2 {
		v1c := vCertSet(res.V1Signers)
		v2c := vCertSet(res.V2Signers)
		for _, s := range res.V1Signers {
			if !v2c[string(s.Certificate.Raw)] {
				s.Errors = append(s.Errors, "Missing APK Signature Scheme v2 signature from this signer")
				break
			}
		}
		for _, s := range res.V2Signers {
			if !v1c[string(s.Certificate.Raw)] {
				s.Errors = append(s.Errors, "Missing JAR signature from this signer")
				break
			}
		}
	}
	// The v3 signer must be the v1/v2 signer, or descend from it.
	if res.V3 && (res.V1 || res.V2) {
		old := res.V2Signers
		if res.V1 {
			old = res.V1Signers
		}
		if len(old) != 1 {
			res.Errors = append(res.Errors, "APK Signature Scheme v3 signer found, but multiple v1 and/or multiple v2 signers found; rotation only supports one signer")
		}
		oldCert := old[0].Certificate
		// The lineage is the v3.1 block's when there is one, as in apksig.
		var lineage *vLineage
		if len(res.Lineage) > 0 {
			lineage = &vLineage{certs: res.Lineage}
		}
		if lineage == nil {
			if len(res.V3Signers) != 1 {
				res.Errors = append(res.Errors, "Multiple APK Signature Scheme v3 signers found, but no proof-of-rotation")
			}
			if !bytes.Equal(oldCert.Raw, res.V3Signers[0].Certificate.Raw) {
				res.Errors = append(res.Errors, "APK Signature Scheme v3 signer does not match the older v1 and/or v2 signer; the v3 signer must be the same or descend from it through the proof-of-rotation")
			}
		} else if lineage.indexOf(oldCert) != 0 {
			res.Errors = append(res.Errors, "APK Signature Scheme v3 signer does not match the older v1 and/or v2 signer; the v3 signer must be the same or descend from it through the proof-of-rotation")
		}
	}
	// Android 11 and newer refuse APKs that target Android 11+ and are
	// signed with JAR signing only (apksig checks this last, and skips it
	// when the manifest cannot be read).
	if m, err := v.androidManifest(); err == nil {
		target := m.TargetSDKVersion
		if target == 0 {
			target = m.MinSDKVersion
		}
		if target >= vSDKR && maxSDK >= target && !res.V2 && !res.V3 && !res.V31 {
			res.Errors = append(res.Errors, fmt.Sprintf("Target SDK version %d requires a minimum of signature scheme v2; the APK is not signed with this or a later signature scheme", target))
		}
	}
	return v.finish(), nil
}

// vSupportedSchemes returns the APK Signature Schemes (by apksig ID) the
// Android versions up to maxSDK know, for stripping protection.
func vSupportedSchemes(maxSDK int) map[int]string {
	switch {
	case maxSDK >= vSDKP:
		return map[int]string{vSchemeV2: "APK Signature Scheme v2", vSchemeV3: "APK Signature Scheme v3"}
	case maxSDK >= vSDKN:
		return map[int]string{vSchemeV2: "APK Signature Scheme v2"}
	}
	return map[int]string{}
}

func vCertSet(ss []*VerifySigner) map[string]bool {
	m := map[string]bool{}
	for _, s := range ss {
		if s.Certificate != nil {
			m[string(s.Certificate.Raw)] = true
		}
	}
	return m
}

func (v *vVerifier) hasErrors() bool {
	if len(v.res.Errors) > 0 {
		return true
	}
	for _, l := range [][]*VerifySigner{v.res.V1Signers, v.res.V2Signers, v.res.V3Signers, v.res.V31Signers} {
		for _, s := range l {
			if len(s.Errors) > 0 {
				return true
			}
		}
	}
	return false
}

// finish flattens signer issues into the result and decides the verdict.
func (v *vVerifier) finish() *VerifyResult {
	res := v.res
	errs := append([]string(nil), res.Errors...)
	warns := append([]string(nil), res.Warnings...)
	for _, l := range [][]*VerifySigner{res.V1Signers, res.V2Signers, res.V3Signers, res.V31Signers} {
		for _, s := range l {
			p := vSignerLabel(s)
			for _, e := range s.Errors {
				errs = append(errs, p+": "+e)
			}
			for _, w := range s.Warnings {
				warns = append(warns, p+": "+w)
			}
		}
	}
	res.Errors, res.Warnings = errs, warns
	if len(errs) > 0 {
		res.Verified = false
		v.log.Debug("APK does not verify", "errors", len(errs), "first", errs[0])
		return res
	}
	res.Verified = res.V1 || res.V2 || res.V3 || res.V31
	if !res.Verified {
		res.Errors = append(res.Errors, "APK is not signed")
	}
	v.log.Debug("APK verified", "v1", res.V1, "v2", res.V2, "v3", res.V3, "v3.1", res.V31)
	// As apksig: the newest v3.1 or v3 signer (the one for the latest
	// platforms), else every v2 signer, else every v1 signer.
	switch {
	case res.V31 && len(res.V31Signers) > 0:
		res.Signers = res.V31Signers[len(res.V31Signers)-1:]
	case res.V3 && len(res.V3Signers) > 0:
		res.Signers = res.V3Signers[len(res.V3Signers)-1:]
	case res.V2:
		res.Signers = res.V2Signers
	case res.V1:
		res.Signers = res.V1Signers
	}
	return res
}

func vSignerLabel(s *VerifySigner) string {
	switch s.Scheme {
	case "v1":
		return "JAR signer " + s.Name
	case "v2":
		return "APK Signature Scheme v2 signer " + s.Name
	case "v3":
		return "APK Signature Scheme v3 signer " + s.Name
	}
	return "APK Signature Scheme v3.1 signer " + s.Name
}

// mergeScheme adds a v2/v3/v3.1 outcome to the result.
func (v *vVerifier) mergeScheme(sr *vSchemeResult) {
	res := v.res
	var out []*VerifySigner
	for _, s := range sr.signers {
		vs := &VerifySigner{
			Scheme:     sr.name,
			Name:       fmt.Sprintf("#%d", s.index+1),
			MinSDK:     s.minSDK,
			MaxSDK:     s.maxSDK,
			DevRelease: s.devRelease,
			Errors:     s.errors,
			Warnings:   s.warnings,
		}
		if len(s.certs) > 0 {
			vs.Certificate = s.certs[0]
			vs.Chain = s.certs
		}
		out = append(out, vs)
	}
	for _, e := range sr.errors {
		res.Errors = append(res.Errors, e)
	}
	for _, w := range sr.warnings {
		res.Warnings = append(res.Warnings, w)
	}
	ok := !sr.hasErrors()
	switch sr.name {
	case "v2":
		res.V2Signers, res.V2 = out, ok
	case "v3":
		res.V3Signers, res.V3 = out, ok
		if ok && sr.lineage != nil && res.Lineage == nil {
			res.Lineage = sr.lineage.certs
		}
	default:
		res.V31Signers, res.V31 = out, ok
		if ok && sr.lineage != nil {
			res.Lineage = sr.lineage.certs
		}
	}
}

// verifyScheme verifies one APK Signature Scheme block. It returns nil
// (and no error) when the APK has no such block.
func (v *vVerifier) verifyScheme(p *vSchemeParams) (*vSchemeResult, error) {
	blk, err := v.signingBlock()
	if err != nil {
		if isVNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	id := uint32(vBlockIDV2)
	switch p.scheme {
	case vSchemeV3:
		id = vBlockIDV3
	case vSchemeV31:
		id = vBlockIDV31
	}
	val, err := blk.find(id)
	if err != nil {
		return nil, nil
	}
	sr, digestKinds := parseSignersForVerify(val, p)
	if p.scheme != vSchemeV2 && !sr.hasErrors() {
		checkV3RangesForVerify(sr, p)
	}
	if digestKinds[vVeritySHA256] {
		// The verity Merkle tree is defined over page-aligned entries and
		// APK Signing Block: apksig's verifier (its VerityTreeBuilder)
		// and Android refuse others.
		if blk.offset%vVerityBlock != 0 {
			sr.errorf("APK Signing Block is not aligned on 4k boundary: %d", blk.offset)
		} else if n := v.a.CDOffset - blk.offset; n%vVerityBlock != 0 {
			sr.errorf("APK Signing Block size is not multiple of page size: %d", n)
		}
	}
	if sr.hasErrors() {
		return sr, nil
	}
	actual, err := v.contentDigests(blk.offset, digestKinds)
	if err != nil {
		return nil, err
	}
	checkContentDigestsForVerify(sr, actual)
	v.log.Debug("checked APK Signature Scheme block", "scheme", sr.name, "signers", len(sr.signers), "ok", !sr.hasErrors())
	return sr, nil
}
