package macho

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"time"

	"github.com/storesign/storesign/internal/plistx"
)

// maxSigRead bounds the code signature Verify reads into memory.
const maxSigRead = 64 << 20

func verify(ctx context.Context, r io.ReaderAt, size int64, opts VerifyOptions) (*Info, error) {
	f, err := parseFileOpts(r, size, opts.InfoPlist == nil)
	if err != nil {
		return nil, err
	}
	info := &Info{}
	var first error
	for _, s := range f.slices {
		si, err := verifySlice(ctx, r, s, opts)
		if err != nil && f.fat {
			err = fmt.Errorf("architecture %s: %w", s.arch(), err)
		}
		if si == nil {
			// Nothing to describe: a signature that cannot be read, or
			// code that does not match it.
			return nil, err
		}
		info.Slices = append(info.Slices, *si)
		var expired *ExpiredError
		if first == nil || err != nil && errors.As(first, &expired) && !errors.As(err, &expired) {
			// The first error, unless a later one is worse than out of date.
			first = err
		}
	}
	return info, first
}

func badf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrBadSignature}, args...)...)
}

func verifySlice(ctx context.Context, r io.ReaderAt, s *slice, opts VerifyOptions) (*SliceInfo, error) {
	si := &SliceInfo{Arch: s.arch(), Offset: s.offset, Size: s.size, Platform: s.platform}
	if s.hasVersion {
		si.MinOS = versionString(s.minOS)
	}
	_, blobs, err := readSignatureBlobs(r, s)
	if err != nil {
		return nil, err
	}
	var cds []*parsedCD
	var reqs, ent, entDER, cms []byte
	for _, b := range blobs {
		switch {
		case b.slot == slotCodeDirectory || b.slot >= slotAlternateCD && b.slot < slotAlternateCD+5:
			cd, err := parseCodeDirectory(b.data)
			if err != nil {
				return nil, err
			}
			if b.slot == slotCodeDirectory {
				cds = append([]*parsedCD{cd}, cds...)
			} else {
				cds = append(cds, cd)
			}
		case b.slot == slotRequirements:
			reqs = b.data
		case b.slot == slotEntitlements:
			ent = b.data
		case b.slot == slotEntitlementsDER:
			entDER = b.data
		case b.slot == slotSignature:
			cms = b.data
		}
	}
	if len(cds) == 0 || cds[0].raw == nil {
		return nil, badf("no CodeDirectory")
	}
	if cms == nil || len(cms) <= 8 {
		return nil, badf("no CMS signature (ad-hoc signed): sign it with a certificate")
	}
	primary := cds[0]
	si.Identifier = primary.identifier
	si.TeamID = primary.teamID
	si.Version = primary.version
	si.Flags = primary.flags
	si.PageSize = 1 << primary.pageShift
	si.CodeLimit = primary.codeLimit
	si.ExecSegBase, si.ExecSegLimit, si.ExecSegFlags = primary.execSegBase, primary.execSegLimit, primary.execSegFlags
	si.SpecialSlots = primary.nSpecial
	si.CDHash.Arch = si.Arch

	// Page hashes.
	for _, cd := range cds {
		si.HashTypes = append(si.HashTypes, hashName(cd.hashType))
		h := sum(cd.hashType, cd.raw)
		switch cd.hashType {
		case hashTypeSHA1:
			si.CDHash.SHA1 = h
		case hashTypeSHA256:
			si.CDHash.SHA256 = h
		}
		if cd == primary {
			si.CDHash.Primary = h[:20]
		}
		if cd.identifier != primary.identifier || cd.codeLimit != primary.codeLimit {
			return nil, badf("the CodeDirectories disagree on the identifier or code limit")
		}
		if cd.codeLimit > int64(s.sigOff) {
			return nil, badf("code limit %d runs into the signature at %d", cd.codeLimit, s.sigOff)
		}
		shift := cd.pageShift
		if shift == 0 {
			return nil, badf("CodeDirectory without pages")
		}
		want := int((cd.codeLimit + 1<<shift - 1) >> shift)
		if cd.nCode != want {
			return nil, badf("%s CodeDirectory has %d page hashes for %d bytes", hashName(cd.hashType), cd.nCode, cd.codeLimit)
		}
	}
	// Read the pages once when every CodeDirectory has the same page
	// size (they always do), hashing them for every hash type.
	sameShift := true
	var types []uint8
	for _, cd := range cds {
		sameShift = sameShift && cd.pageShift == primary.pageShift
		types = append(types, cd.hashType)
	}
	var all [][]byte
	if sameShift {
		if all, err = hashPages(ctx, r, s.offset, s.size, primary.codeLimit, nil, nil, types, primary.pageShift, nil); err != nil {
			return nil, err
		}
	}
	for k, cd := range cds {
		var pages []byte
		if sameShift {
			pages = all[k]
		} else {
			p, err := hashPages(ctx, r, s.offset, s.size, cd.codeLimit, nil, nil, []uint8{cd.hashType}, cd.pageShift, nil)
			if err != nil {
				return nil, err
			}
			pages = p[0]
		}
		for i := 0; i < cd.nCode; i++ {
			if !bytes.Equal(pages[i*cd.hashSize:(i+1)*cd.hashSize], cd.pageHash(i)) {
				return nil, badf("page %d (offset %d) does not match its %s hash", i, int64(i)<<cd.pageShift, hashName(cd.hashType))
			}
		}
		// Special slots. A loose binary's linked-in Info.plist is bound
		// to slot 1 as codesign binds it.
		info, infoName := opts.InfoPlist, "Info.plist"
		if info == nil && s.infoPlist != nil {
			info, infoName = s.infoPlist, "the Info.plist linked into the binary (__TEXT,__info_plist)"
			if got := cd.specialHash(slotInfo); got == nil || allZero(got) {
				return nil, badf("%s is not bound to the signature (special slot 1 is empty): re-sign the binary", infoName)
			}
		}
		checks := []struct {
			slot int
			data []byte
			must bool
			name string
		}{
			{slotInfo, info, info != nil, infoName},
			{slotRequirements, reqs, true, "requirements"},
			{slotResources, opts.CodeResources, opts.CodeResources != nil, "CodeResources"},
			{slotEntitlements, ent, true, "entitlements"},
			{slotEntitlementsDER, entDER, true, "DER entitlements"},
		}
		for _, c := range checks {
			if !c.must {
				continue
			}
			got := cd.specialHash(c.slot)
			if c.data == nil {
				if got != nil && !allZero(got) {
					return nil, badf("special slot %d (%s) is hashed but the blob is missing", c.slot, c.name)
				}
				continue
			}
			if got == nil {
				return nil, badf("%s is present but not in the CodeDirectory's special slots", c.name)
			}
			if !bytes.Equal(got, sum(cd.hashType, c.data)) {
				return nil, badf("%s does not match special slot %d", c.name, c.slot)
			}
		}
	}
	if reqs != nil {
		if si.Requirements, err = decompileRequirementSet(reqs); err != nil {
			return nil, err
		}
	}
	if ent != nil {
		si.Entitlements = ent[8:]
	}
	if entDER != nil {
		si.EntitlementsDER = entDER[8:]
	}
	if err := checkEntitlementsAgree(si.Entitlements, si.EntitlementsDER); err != nil {
		return nil, err
	}
	si.Deviations = deviations(s, primary, cds, si)
	if opts.Strict && len(si.Deviations) > 0 {
		return nil, badf("not what codesign writes: %s", strings.Join(si.Deviations, "; "))
	}

	// CMS.
	p7, err := parseSignature(cms[8:])
	if err != nil {
		return nil, badf("parsing the CMS signature: %v", err)
	}
	p7.Content = primary.raw
	if len(p7.Signers) != 1 {
		return nil, badf("the CMS signature has %d signers", len(p7.Signers))
	}
	var st time.Time
	if err := p7.UnmarshalSignedAttribute(oidSigningTime, &st); err == nil {
		si.SigningTime = st
	}
	now := si.SigningTime
	if opts.Now != nil {
		now = opts.Now()
	} else if now.IsZero() {
		now = time.Now()
	}
	// From here on the signature is described whatever its chain: a
	// failing check returns si with the error, as codesign -dvvv displays
	// a signature it does not accept.
	si.Authority = authority(p7)
	si.Certificate = p7.GetOnlySigner()
	var expired *ExpiredError
	switch apple := embeddedAppleRoot(p7.Certificates, opts.appleRootSHA256); {
	case opts.Roots != nil:
		acceptAppleExtensions(p7.Certificates)
		expired, err = checkChain(p7, opts.Roots, now, si.SigningTime)
		if err == nil {
			si.Anchor = AnchorRoots
		}
	case apple != nil && !sha1Signed(p7.Certificates):
		// Signed as codesign signs, with Apple Root CA embedded: the chain
		// must lead to it. (Apple's SHA-1 certificates of before 2016, WWDR
		// G1, are left unchecked: crypto/x509 no longer verifies SHA-1.)
		acceptAppleExtensions(p7.Certificates)
		roots := x509.NewCertPool()
		roots.AddCert(apple)
		if expired, err = checkChain(p7, roots, now, si.SigningTime); err != nil {
			return si, badf("the certificate chain does not lead to Apple Root CA: %v", err)
		}
		si.Anchor = AnchorApple
	default:
		err = p7.Verify()
	}
	if err != nil {
		return si, badf("checking the CMS signature: %v", err)
	}
	if err := checkCDHashAttributes(p7, cds); err != nil {
		return si, err
	}
	if expired != nil {
		return si, expired
	}
	return si, nil
}

// checkChain checks that p7's signer chains to roots at now. A chain that
// holds but for a certificate out of date at now is checked again at the
// signing time (without one, within that certificate's validity): when it
// holds then, the signature is sound and only out of date, reported as an
// *ExpiredError.
func checkChain(p7 *signature, roots *x509.CertPool, now, signed time.Time) (*ExpiredError, error) {
	err := p7.VerifyWithChainAtTime(roots, now)
	var ci x509.CertificateInvalidError
	if err == nil || !errors.As(err, &ci) || ci.Reason != x509.Expired || ci.Cert == nil {
		return nil, err
	}
	at := signed
	if at.IsZero() {
		at = ci.Cert.NotAfter
		if now.Before(ci.Cert.NotBefore) {
			at = ci.Cert.NotBefore
		}
	}
	if at.Equal(now) || p7.VerifyWithChainAtTime(roots, at) != nil {
		return nil, err
	}
	leaf := p7.GetOnlySigner()
	return &ExpiredError{Certificate: ci.Cert, Leaf: leaf != nil && leaf.Equal(ci.Cert), Now: now}, nil
}

// appleCriticalExtensions are the extensions Apple marks critical in its
// code signing certificates (iPhone/Apple Development and Distribution,
// Developer ID...): codesign's policy understands them, crypto/x509 does
// not, so they are taken off the certificates' unhandled lists.
var appleCriticalExtensions = asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 6, 1}

func acceptAppleExtensions(certs []*x509.Certificate) {
	for _, c := range certs {
		kept := c.UnhandledCriticalExtensions[:0]
		for _, oid := range c.UnhandledCriticalExtensions {
			if len(oid) == len(appleCriticalExtensions)+1 && oid[:len(appleCriticalExtensions)].Equal(appleCriticalExtensions) {
				continue
			}
			kept = append(kept, oid)
		}
		c.UnhandledCriticalExtensions = kept
	}
}

// checkEntitlementsAgree checks that the XML and DER entitlements, when
// both are present and readable, say the same: the kernel reads the DER
// form, people and tools the XML one.
func checkEntitlementsAgree(xml, der []byte) error {
	if xml == nil || der == nil {
		return nil
	}
	x, err := parseEntitlements(xml)
	if err != nil {
		return nil // not ours to judge: codesign accepts more than we parse
	}
	d, err := decodeEntitlementsDER(der)
	if err != nil {
		return nil
	}
	if !reflect.DeepEqual(normalizeEntitlements(x), normalizeEntitlements(d)) {
		return badf("the DER entitlements differ from the XML entitlements")
	}
	return nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// checkCDHashAttributes checks Apple's two cdhashes attributes against
// the CodeDirectories.
func checkCDHashAttributes(p7 *signature, cds []*parsedCD) error {
	var plistData []byte
	if err := p7.UnmarshalSignedAttribute(oidCDHashesPlist, &plistData); err != nil {
		// Signatures made before iOS 11 carry one CodeDirectory and no
		// cdhashes attributes: the message digest covers it alone.
		if len(cds) == 1 && !hasAttribute(p7, oidCDHashes) {
			return nil
		}
		return badf("no cdhashes plist attribute for %d CodeDirectories: %v", len(cds), err)
	}
	var pl struct {
		CDHashes [][]byte `plist:"cdhashes"`
	}
	if _, err := plistx.Unmarshal(plistData, &pl); err != nil {
		return badf("parsing the cdhashes plist attribute: %v", err)
	}
	if len(pl.CDHashes) != len(cds) {
		return badf("the cdhashes attribute lists %d hashes for %d CodeDirectories", len(pl.CDHashes), len(cds))
	}
	for i, cd := range cds {
		h := sum(cd.hashType, cd.raw)[:20]
		if !bytes.Equal(pl.CDHashes[i], h) {
			return badf("cdhashes attribute entry %d does not match the %s CodeDirectory", i, hashName(cd.hashType))
		}
	}
	// 1.2.840.113635.100.9.2 is optional for old signatures.
	for _, a := range p7.Signers[0].AuthenticatedAttributes {
		if !a.Type.Equal(oidCDHashes) {
			continue
		}
		rest := a.Value.Bytes
		got := map[string][]byte{}
		for len(rest) > 0 {
			var v struct {
				Alg    asn1.ObjectIdentifier
				Digest []byte
			}
			var err error
			if rest, err = asn1.Unmarshal(rest, &v); err != nil {
				return badf("parsing the cdhashes attribute: %v", err)
			}
			got[v.Alg.String()] = v.Digest
		}
		for _, cd := range cds {
			oid := oidSHA256
			if cd.hashType == hashTypeSHA1 {
				oid = oidSHA1
			}
			if d, ok := got[oid.String()]; !ok || !bytes.Equal(d, sum(cd.hashType, cd.raw)) {
				return badf("the cdhashes attribute does not match the %s CodeDirectory", hashName(cd.hashType))
			}
		}
	}
	return nil
}

func hasAttribute(p7 *signature, oid asn1.ObjectIdentifier) bool {
	for _, a := range p7.Signers[0].AuthenticatedAttributes {
		if a.Type.Equal(oid) {
			return true
		}
	}
	return false
}

// authority lists the common names of the certificates from the signer up.
func authority(p7 *signature) []string {
	leaf := p7.GetOnlySigner()
	if leaf == nil {
		return nil
	}
	var out []string
	seen := map[*x509.Certificate]bool{}
	for c := leaf; c != nil && !seen[c] && len(out) < 10; {
		seen[c] = true
		out = append(out, c.Subject.CommonName)
		if isSelfSigned(c) {
			break
		}
		c = issuerOf(c, p7.Certificates)
	}
	return out
}

// appleRootCASHA256 is the SHA-256 fingerprint of Apple Root CA (2006),
// the root of every Apple code signing certificate, as Apple publishes it
// and codesign embeds it.
const appleRootCASHA256 = "b0b1730ecbc7ff4505142c49f1295e6eda6bcaed7e2c68c5be91b5a11001f024"

// sha1Signed reports whether a certificate that is not self-signed is
// signed with SHA-1.
func sha1Signed(certs []*x509.Certificate) bool {
	for _, c := range certs {
		switch c.SignatureAlgorithm {
		case x509.SHA1WithRSA, x509.ECDSAWithSHA1, x509.DSAWithSHA1:
			if !isSelfSigned(c) {
				return true
			}
		}
	}
	return false
}

// embeddedAppleRoot returns the embedded certificate that is Apple Root
// CA (pin: a hex SHA-256 fingerprint to use instead, for tests), or nil.
func embeddedAppleRoot(certs []*x509.Certificate, pin string) *x509.Certificate {
	if pin == "" {
		pin = appleRootCASHA256
	}
	for _, c := range certs {
		sum := sha256.Sum256(c.Raw)
		if hex.EncodeToString(sum[:]) == pin {
			return c
		}
	}
	return nil
}

// deviations lists how a slice's signature differs from what current
// codesign writes for the same binary: an old CodeDirectory version,
// missing DER entitlements, exec-segment flags that do not follow the
// file type and entitlements, hash types that do not follow the minimum
// OS, trailing empty special slots.
func deviations(s *slice, primary *parsedCD, cds []*parsedCD, si *SliceInfo) []string {
	var d []string
	if primary.version < cdVersion {
		d = append(d, fmt.Sprintf("CodeDirectory version %#x is older than %#x (iOS 15 requires DER entitlements and exec-segment fields)", primary.version, cdVersion))
	}
	if s.isExecutable() && si.Entitlements != nil && si.EntitlementsDER == nil {
		d = append(d, "a main executable with entitlements but no DER entitlements")
	}
	if !s.isExecutable() && si.EntitlementsDER != nil {
		d = append(d, "DER entitlements on a binary that is not a main executable")
	}
	if primary.version >= cdVersion {
		want := uint64(0)
		if s.isExecutable() {
			want = execSegMainBin
			if si.Entitlements != nil {
				if ents, err := parseEntitlements(si.Entitlements); err == nil {
					want |= entitlementExecFlags(ents)
				}
			}
		}
		if primary.execSegFlags != want {
			d = append(d, fmt.Sprintf("exec-segment flags %#x where the file type and entitlements call for %#x", primary.execSegFlags, want))
		}
	}
	types := make([]string, len(cds))
	for i, cd := range cds {
		types[i] = hashName(cd.hashType)
	}
	want := []string{"sha256"}
	if s.needsSHA1() {
		want = []string{"sha1", "sha256"}
	}
	if strings.Join(types, ",") != strings.Join(want, ",") {
		d = append(d, fmt.Sprintf("hash types %s where the minimum OS calls for %s", strings.Join(types, ", "), strings.Join(want, ", ")))
	}
	if n := primary.nSpecial; n > 0 {
		if h := primary.specialHash(n); h != nil && allZero(h) {
			d = append(d, fmt.Sprintf("special slot %d, the last, is empty", n))
		}
	}
	return d
}
