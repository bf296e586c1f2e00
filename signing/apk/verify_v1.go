package apk

import (
	"bufio"
	"bytes"
	"compress/flate"
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"fmt"
	"io"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/storesign/storesign/internal/cms"
	"github.com/storesign/storesign/internal/zipx"
)

// vMaxJarMeta bounds the size of META-INF signature files read into
// memory.
const vMaxJarMeta = 64 << 20

// vJarSigner is one JAR signer (a .SF file and its signature block).
type vJarSigner struct {
	name      string // "CERT.RSA"
	block, sf *zipx.Entry
	info      *VerifySigner
	sfBytes   []byte
	ignored   bool
	sfNames   map[string]bool
}

func (s *vJarSigner) errorf(format string, args ...any) {
	s.info.Errors = append(s.info.Errors, fmt.Sprintf(format, args...))
}

func (s *vJarSigner) warnf(format string, args ...any) {
	s.info.Warnings = append(s.info.Warnings, fmt.Sprintf(format, args...))
}

// verifyV1 checks the JAR signature as apksig's V1SchemeVerifier does.
func (v *vVerifier) verifyV1(supported map[int]string, found map[int]bool, minSDK, maxSDK int) error {
	res := v.res
	errorf := func(format string, args ...any) {
		res.Errors = append(res.Errors, fmt.Sprintf(format, args...))
	}
	names := map[string]bool{}
	var manifestEntry *zipx.Entry
	sfs := map[string]*zipx.Entry{}
	var blocks []*zipx.Entry
	for _, e := range v.a.Entries {
		names[e.Name] = true
		if !strings.HasPrefix(e.Name, "META-INF/") {
			continue
		}
		switch {
		case manifestEntry == nil && e.Name == "META-INF/MANIFEST.MF":
			manifestEntry = e
		case strings.HasSuffix(e.Name, ".SF"):
			sfs[e.Name] = e
		case strings.HasSuffix(e.Name, ".RSA"), strings.HasSuffix(e.Name, ".DSA"), strings.HasSuffix(e.Name, ".EC"):
			blocks = append(blocks, e)
		}
	}
	if manifestEntry == nil {
		errorf("Missing META-INF/MANIFEST.MF")
		return nil
	}
	mfBytes, err := v.readEntry(manifestEntry)
	if err != nil {
		return err
	}
	mfMain, mfSections := vParseMF(mfBytes)
	sections := map[string]*vMFSection{}
	for i, s := range mfSections {
		if !s.named {
			errorf("Malformed META-INF/MANIFEST.MF: individual section #%d does not have a name", i+1)
			continue
		}
		if _, dup := sections[s.name]; dup {
			errorf("Duplicate section in META-INF/MANIFEST.MF: %s", s.name)
			continue
		}
		sections[s.name] = s
		if !names[s.name] {
			errorf("%s entry referenced by META-INF/MANIFEST.MF not found in the APK", s.name)
		}
	}
	if len(res.Errors) > 0 {
		return nil
	}

	var signers []*vJarSigner
	for _, b := range blocks {
		sfName := b.Name[:strings.LastIndexByte(b.Name, '.')] + ".SF"
		sf := sfs[sfName]
		if sf == nil {
			res.Warnings = append(res.Warnings, fmt.Sprintf("Missing JAR signature file %s for signature block %s", sfName, b.Name))
			continue
		}
		name := strings.TrimPrefix(b.Name, "META-INF/")
		signers = append(signers, &vJarSigner{name: name, block: b, sf: sf, info: &VerifySigner{Scheme: "v1", Name: name}})
	}
	if len(signers) == 0 {
		errorf("No JAR signatures")
		return nil
	}
	if len(signers) > vMaxSigners {
		errorf("APK Signature Scheme v1 only supports a maximum of %d signers, found %d", vMaxSigners, len(signers))
		return nil
	}

	for _, s := range signers {
		if err := v.verifySigBlock(s, minSDK, maxSDK); err != nil {
			return err
		}
		if len(s.info.Errors) > 0 {
			res.V1Signers = append(res.V1Signers, s.info)
		}
	}
	if v.hasErrors() {
		return nil
	}

	var remaining []*vJarSigner
	for _, s := range signers {
		s.verifySFAgainstManifest(mfBytes, mfMain, sections, supported, found, minSDK, maxSDK)
		switch {
		case s.ignored:
			res.Warnings = append(res.Warnings, vPrefixed("JAR signer "+s.name+" ignored", s.info.Errors)...)
		case len(s.info.Errors) > 0:
			res.V1Signers = append(res.V1Signers, s.info)
		default:
			remaining = append(remaining, s)
		}
	}
	if v.hasErrors() {
		return nil
	}
	if len(remaining) == 0 {
		errorf("No JAR signatures")
		return nil
	}
	signers = remaining

	apkSigners, err := v.verifyJarEntries(sections, signers, minSDK, maxSDK)
	if err != nil {
		return err
	}
	if len(res.Errors) > 0 {
		return nil
	}
	sigNames := map[string]bool{manifestEntry.Name: true}
	for _, s := range apkSigners {
		sigNames[s.block.Name] = true
		sigNames[s.sf.Name] = true
	}
	for _, e := range v.a.Entries {
		if strings.HasPrefix(e.Name, "META-INF/") && !strings.HasSuffix(e.Name, "/") && !sigNames[e.Name] {
			res.Warnings = append(res.Warnings, fmt.Sprintf("%s not protected by signature. Unauthorized modifications to this JAR entry will not be detected. Delete or move the entry outside of META-INF/.", e.Name))
		}
	}
	used := map[*vJarSigner]bool{}
	for _, s := range apkSigners {
		used[s] = true
	}
	for _, s := range signers {
		if used[s] {
			res.V1Signers = append(res.V1Signers, s.info)
		} else {
			res.Warnings = append(res.Warnings, fmt.Sprintf("JAR signer %s is ignored: it does not sign every entry", s.name))
		}
	}
	res.V1 = true
	return nil
}

func vPrefixed(p string, msgs []string) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = p + ": " + m
	}
	return out
}

// readEntry returns an entry's uncompressed bytes.
func (v *vVerifier) readEntry(e *zipx.Entry) ([]byte, error) {
	if e.UncompressedSize > vMaxJarMeta {
		return nil, fmt.Errorf("reading %s: entry is too large (%d bytes)", e.Name, e.UncompressedSize)
	}
	rc, err := v.openEntry(e)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", e.Name, err)
	}
	return b, nil
}

// openEntry returns an entry's uncompressed data as apksig reads it:
// stored entries as they are, any other method inflated, and the size
// checked (not the CRC-32).
func (v *vVerifier) openEntry(e *zipx.Entry) (io.ReadCloser, error) {
	l, err := e.Local(v.r, v.a.CDOffset)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", e.Name, err)
	}
	raw := io.NewSectionReader(v.r, l.DataOffset, l.DataSize)
	if e.Method == zipx.Store {
		if e.CompressedSize != e.UncompressedSize {
			return nil, fmt.Errorf("reading %s: stored entry with different compressed (%d) and uncompressed (%d) sizes", e.Name, e.CompressedSize, e.UncompressedSize)
		}
		return io.NopCloser(raw), nil
	}
	// flate reads a byte at a time: buffer the file in large reads.
	br := bufio.NewReaderSize(raw, int(min(l.DataSize+1, 256<<10)))
	return &vSizeReader{rc: flate.NewReader(br), name: e.Name, want: e.UncompressedSize}, nil
}

// vSizeReader checks that an inflated entry has its declared size.
type vSizeReader struct {
	rc   io.ReadCloser
	name string
	want int64
	n    int64
}

func (s *vSizeReader) Read(p []byte) (int, error) {
	n, err := s.rc.Read(p)
	s.n += int64(n)
	if s.n > s.want {
		return n, fmt.Errorf("entry %s is longer than its declared size %d", s.name, s.want)
	}
	if err == io.EOF && s.n != s.want {
		return n, fmt.Errorf("entry %s is shorter (%d bytes) than its declared size %d", s.name, s.n, s.want)
	}
	return n, err
}

func (s *vSizeReader) Close() error { return s.rc.Close() }

// verifySigBlock checks the signature block against the .SF file.
func (v *vVerifier) verifySigBlock(s *vJarSigner, minSDK, maxSDK int) error {
	blockBytes, err := v.readEntry(s.block)
	if err != nil {
		return err
	}
	if s.sfBytes, err = v.readEntry(s.sf); err != nil {
		return err
	}
	p7, err := vParsePKCS7(blockBytes)
	if err != nil {
		s.errorf("Failed to parse JAR signature %s: %v", s.block.Name, err)
		return nil
	}
	if len(p7.signers) == 0 {
		s.errorf("JAR signature %s contains no signers", s.block.Name)
		return nil
	}
	try := p7.signers
	if minSDK < vSDKN {
		// Before Android N only the first SignerInfo is tried.
		try = try[:1]
	}
	var cert *x509.Certificate
	for i := range try {
		c, err := s.verifySignerInfo(p7, try[i], minSDK, maxSDK)
		if len(s.info.Errors) > 0 {
			return nil
		}
		if err != nil {
			s.errorf("Failed to verify JAR signature %s against %s: %v", s.block.Name, s.sf.Name, err)
			return nil
		}
		if c != nil && cert == nil {
			cert = c
		}
	}
	if cert == nil {
		s.errorf("JAR signature %s did not verify against %s", s.block.Name, s.sf.Name)
		return nil
	}
	s.info.Certificate = cert
	s.info.Chain = p7.chain(cert)
	return nil
}

// verifySignerInfo returns the signing certificate when the SignerInfo
// verifies against the .SF file, nil when it does not, and an error when
// it cannot be checked (which fails the signer).
func (s *vJarSigner) verifySignerInfo(p7 *vPKCS7, si *cms.SignerInfo, minSDK, maxSDK int) (*x509.Certificate, error) {
	digestOID := si.DigestAlgorithm.Algorithm.String()
	sigOID := si.SignatureAlgorithm.Algorithm.String()
	if gaps := vUncovered(minSDK, maxSDK, vJarSigAlgLevels(digestOID, sigOID)); len(gaps) > 0 {
		var levels []string
		for _, g := range gaps {
			switch {
			case g.lo == g.hi:
				levels = append(levels, strconv.Itoa(g.lo))
			case g.hi == vSDKUnbounded:
				levels = append(levels, strconv.Itoa(g.lo)+"+")
			default:
				levels = append(levels, fmt.Sprintf("%d-%d", g.lo, g.hi))
			}
		}
		s.errorf("JAR signature %s uses digest algorithm %s and signature algorithm %s which is not supported on API Level(s) %s for which this APK is being verified",
			s.block.Name, digestOID, sigOID, strings.Join(levels, ", "))
		return nil, nil
	}
	cert := p7.findCert(si)
	if cert == nil {
		return nil, fmt.Errorf("signing certificate referenced in SignerInfo not found in SignedData")
	}
	if len(cert.UnhandledCriticalExtensions) > 0 {
		return nil, fmt.Errorf("signing certificate has unsupported critical extensions")
	}
	for _, ext := range cert.Extensions {
		if ext.Id.Equal(vOIDKeyUsage) && cert.KeyUsage&(x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment) == 0 {
			return nil, fmt.Errorf("signing certificate not authorized for use in digital signatures: keyUsage extension missing digitalSignature and nonRepudiation")
		}
	}
	h, keyType := vJCASignature(digestOID, sigOID)
	if h == 0 {
		return nil, fmt.Errorf("unsupported signature algorithm %s with %s", digestOID, sigOID)
	}
	signed := s.sfBytes
	if si.SignedAttributes != nil {
		if minSDK < vSDKKitKat {
			return nil, fmt.Errorf("APKs with Signed Attributes broken on platforms with API Level < %d", vSDKKitKat)
		}
		attrs := map[string][][]byte{}
		for _, a := range si.SignedAttributes {
			if _, dup := attrs[a.Type.String()]; dup {
				return nil, fmt.Errorf("duplicate signed attribute: %v", a.Type)
			}
			attrs[a.Type.String()] = a.Values
		}
		single := func(oid asn1.ObjectIdentifier) ([]byte, error) {
			vals := attrs[oid.String()]
			if len(vals) == 0 {
				return nil, nil
			}
			if len(vals) > 1 {
				return nil, fmt.Errorf("attribute %v has multiple values", oid)
			}
			return vals[0], nil
		}
		if maxSDK >= vSDKN {
			ct, err := single(vOIDContentType)
			if err != nil {
				return nil, err
			}
			if ct == nil {
				return nil, fmt.Errorf("no Content Type in signed attributes")
			}
			var oid asn1.ObjectIdentifier
			if _, err := asn1.Unmarshal(ct, &oid); err != nil {
				return nil, fmt.Errorf("failed to decode OBJECT IDENTIFIER")
			}
			if !oid.Equal(p7.contentType) {
				return nil, nil
			}
		}
		md, err := single(vOIDMessageDigest)
		if err != nil {
			return nil, err
		}
		if md == nil {
			return nil, fmt.Errorf("no content digest in signed attributes")
		}
		var want []byte
		if _, err := asn1.Unmarshal(md, &want); err != nil {
			return nil, fmt.Errorf("failed to decode OCTET STRING")
		}
		dh := vNewJarHash(vDigestHash(digestOID))
		if dh == nil {
			return nil, fmt.Errorf("unsupported digest algorithm %s", digestOID)
		}
		dh.Write(s.sfBytes)
		if !bytes.Equal(dh.Sum(nil), want) {
			return nil, nil
		}
		signed = si.SignedAttributesDER()
	}
	ok, err := vVerifyJarSignature(cert.PublicKey, h, keyType, signed, si.Signature)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, nil
	}
	return cert, nil
}

// vNamedDigest is one expected digest of a manifest or .SF section.
type vNamedDigest struct {
	alg    crypto.Hash
	name   string
	digest []byte
}

func vCanonicalDigest(name string) (crypto.Hash, string) {
	switch strings.ToUpper(name) {
	case "MD5":
		return crypto.MD5, "MD5"
	case "SHA", "SHA1", "SHA-1":
		return crypto.SHA1, "SHA-1"
	case "SHA-256":
		return crypto.SHA256, "SHA-256"
	case "SHA-384":
		return crypto.SHA384, "SHA-384"
	case "SHA-512":
		return crypto.SHA512, "SHA-512"
	}
	return 0, ""
}

// vDigestsToVerify returns the digests Android versions in [minSDK,
// maxSDK] check for a section, as apksig's getDigestsToVerify.
func vDigestsToVerify(attrs *vMFSection, suffix string, minSDK, maxSDK int) []vNamedDigest {
	var out []vNamedDigest
	if minSDK < vSDKJellyBeanMR2 {
		algs, ok := attrs.get("Digest-Algorithms")
		if !ok {
			algs = "SHA SHA1"
		}
		for _, alg := range strings.Fields(algs) {
			val, ok := attrs.get(alg + suffix)
			if !ok {
				continue
			}
			h, name := vCanonicalDigest(alg)
			if h == 0 {
				continue
			}
			if (h == crypto.SHA384 || h == crypto.SHA512) && minSDK < 9 {
				continue
			}
			out = append(out, vNamedDigest{h, name, vB64(val)})
			break
		}
		if len(out) == 0 {
			return out
		}
	}
	if maxSDK >= vSDKJellyBeanMR2 {
		for _, c := range []struct {
			h    crypto.Hash
			name string
			attr string
		}{{crypto.SHA512, "SHA-512", "SHA-512"}, {crypto.SHA384, "SHA-384", "SHA-384"}, {crypto.SHA256, "SHA-256", "SHA-256"}, {crypto.SHA1, "SHA-1", "SHA1"}} {
			val, ok := attrs.get(c.attr + suffix)
			if !ok {
				continue
			}
			d := vB64(val)
			dup := false
			for _, o := range out {
				if o.name == c.name && bytes.Equal(o.digest, d) {
					dup = true
				}
			}
			if !dup {
				out = append(out, vNamedDigest{c.h, c.name, d})
			}
			break
		}
	}
	return out
}

// vB64 decodes base64 as Java's basic decoder; bad input gives a digest
// that matches nothing.
func vB64(s string) []byte {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return []byte("invalid base64: " + s)
	}
	return b
}

func vDigestOf(h crypto.Hash, data []byte) []byte {
	d := vNewJarHash(h)
	d.Write(data)
	return d.Sum(nil)
}

func (s *vJarSigner) verifySFAgainstManifest(mfBytes []byte, mfMain *vMFSection, sections map[string]*vMFSection, supported map[int]string, found map[int]bool, minSDK, maxSDK int) {
	sfMain, sfSections := vParseMF(s.sfBytes)
	if _, ok := sfMain.get("Signature-Version"); !ok {
		s.errorf("%s has no Signature-Version attribute", s.sf.Name)
		s.ignored = true
		return
	}
	if maxSDK >= vSDKN {
		s.checkStripped(sfMain, supported, found)
		if len(s.info.Errors) > 0 {
			return
		}
	}
	createdBy, _ := sfMain.get("Created-By")
	signtool := strings.Contains(createdBy, "signtool")
	suffix := "-Digest-Manifest"
	if signtool {
		suffix = "-Digest"
	}
	manifestVerified := false
	if exp := vDigestsToVerify(sfMain, suffix, minSDK, maxSDK); len(exp) == 0 {
		s.warnf("%s does not contain a digest of META-INF/MANIFEST.MF", s.sf.Name)
	} else {
		manifestVerified = true
		for _, d := range exp {
			if !bytes.Equal(vDigestOf(d.alg, mfBytes), d.digest) {
				s.warnf("%s digest of META-INF/MANIFEST.MF does not match the digest in %s", d.name, s.sf.Name)
				manifestVerified = false
			}
		}
	}
	if !signtool {
		mainRaw := mfBytes[mfMain.start : mfMain.start+mfMain.size]
		for _, d := range vDigestsToVerify(sfMain, "-Digest-Manifest-Main-Attributes", minSDK, maxSDK) {
			if !bytes.Equal(vDigestOf(d.alg, mainRaw), d.digest) {
				s.errorf("%s digest of META-INF/MANIFEST.MF main section does not match the digest in %s", d.name, s.sf.Name)
			}
		}
	}
	if len(s.info.Errors) > 0 {
		return
	}
	s.sfNames = map[string]bool{}
	for i, sec := range sfSections {
		if !sec.named {
			s.errorf("Malformed %s: individual section #%d does not have a name", s.sf.Name, i+1)
			s.ignored = true
			return
		}
		if s.sfNames[sec.name] {
			s.errorf("Duplicate section for %s in %s", sec.name, s.sf.Name)
			s.ignored = true
			return
		}
		s.sfNames[sec.name] = true
		if manifestVerified {
			continue
		}
		ms := sections[sec.name]
		if ms == nil {
			s.errorf("No digest of %s in %s", sec.name, s.sf.Name)
			s.ignored = true
			continue
		}
		exp := vDigestsToVerify(sec, "-Digest", minSDK, maxSDK)
		if len(exp) == 0 {
			s.errorf("No digest of %s in %s", sec.name, s.sf.Name)
			continue
		}
		raw := mfBytes[ms.start : ms.start+ms.size]
		if signtool && len(raw) >= 2 && raw[len(raw)-1] == '\n' && raw[len(raw)-2] == '\n' {
			raw = raw[:len(raw)-1]
		}
		for _, d := range exp {
			if !bytes.Equal(vDigestOf(d.alg, raw), d.digest) {
				s.errorf("%s digest of the META-INF/MANIFEST.MF section for %s does not match the digest in %s", d.name, sec.name, s.sf.Name)
			}
		}
	}
}

// checkStripped enforces X-Android-APK-Signed: the schemes the .SF says
// the APK was also signed with must be there.
func (s *vJarSigner) checkStripped(main *vMFSection, supported map[int]string, found map[int]bool) {
	val, ok := main.get("X-Android-APK-Signed")
	if !ok {
		if len(found) > 0 {
			s.warnf("JAR signature %s does not protect against APK Signature Scheme v2+ stripping (no X-Android-APK-Signed attribute)", s.sf.Name)
		}
		return
	}
	if len(supported) == 0 {
		return
	}
	want := map[int]bool{}
	for _, tok := range strings.Split(val, ",") {
		tok = strings.TrimSpace(tok)
		if tok == "" {
			continue
		}
		id, err := strconv.Atoi(tok)
		if err != nil {
			continue
		}
		if _, ok := supported[id]; ok {
			want[id] = true
		} else {
			s.warnf("JAR signature %s references unknown APK signature scheme ID: %d", s.sf.Name, id)
		}
	}
	ids := make([]int, 0, len(want))
	for id := range want {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	for _, id := range ids {
		if !found[id] {
			s.errorf("JAR signature %s indicates the APK is signed using %s but no such signature was found. Signature stripped?", s.sf.Name, supported[id])
		}
	}
}

// vEntryDigests is the outcome of hashing one entry.
type vEntryDigests struct {
	got [][]byte
	err error
}

// verifyJarEntries checks every entry outside META-INF/ against the
// manifest and the signers, hashing entries in parallel. It returns the
// signers that sign the entries.
func (v *vVerifier) verifyJarEntries(sections map[string]*vMFSection, signers []*vJarSigner, minSDK, maxSDK int) ([]*vJarSigner, error) {
	res := v.res
	entries := append([]*zipx.Entry(nil), v.a.Entries...)
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].HeaderOffset < entries[j].HeaderOffset })

	type job struct {
		e   *zipx.Entry
		exp []vNamedDigest
		out *vEntryDigests
	}
	var jobs []job
	var first []*vJarSigner
	firstName := ""
	for _, e := range entries {
		if strings.HasPrefix(e.Name, "META-INF/") || strings.HasSuffix(e.Name, "/") {
			continue
		}
		sec := sections[e.Name]
		if sec == nil {
			res.Errors = append(res.Errors, fmt.Sprintf("No JAR manifest entry for %s: the entry is not signed", e.Name))
			continue
		}
		var es []*vJarSigner
		for _, s := range signers {
			if s.sfNames[e.Name] {
				es = append(es, s)
			}
		}
		if len(es) == 0 {
			res.Errors = append(res.Errors, fmt.Sprintf("Entry %s is not signed by any JAR signer", e.Name))
			continue
		}
		if first == nil {
			first, firstName = es, e.Name
		} else if !vSameSigners(first, es) {
			res.Errors = append(res.Errors, fmt.Sprintf("Entries %s and %s are signed by different JAR signers (%s vs %s)", firstName, e.Name, vSignerNames(first), vSignerNames(es)))
			continue
		}
		exp := vDigestsToVerify(sec, "-Digest", minSDK, maxSDK)
		if len(exp) == 0 {
			res.Errors = append(res.Errors, fmt.Sprintf("No JAR manifest digest for %s: the entry is not signed", e.Name))
			continue
		}
		jobs = append(jobs, job{e: e, exp: exp, out: &vEntryDigests{}})
	}

	// Take the digests prefetched with the content digest, and hash the
	// other entries on every core.
	var todo []job
	for _, j := range jobs {
		if vAllSHA256(j.exp) {
			if d := v.prefetchedEntry(j.e); d != nil {
				j.out.got = make([][]byte, len(j.exp))
				for i := range j.exp {
					j.out.got[i] = d
				}
				continue
			}
		}
		todo = append(todo, j)
	}
	work := make(chan job)
	var wg sync.WaitGroup
	for w := 0; w < min(runtime.GOMAXPROCS(0), max(1, len(todo))); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 64<<10)
			for j := range work {
				j.out.got, j.out.err = v.hashEntry(j.e, j.exp, buf)
			}
		}()
	}
	for _, j := range todo {
		if err := v.ctx.Err(); err != nil {
			close(work)
			wg.Wait()
			return nil, err
		}
		work <- j
	}
	close(work)
	wg.Wait()
	for _, j := range jobs {
		if j.out.err != nil {
			return nil, j.out.err
		}
		for i, d := range j.exp {
			if !bytes.Equal(j.out.got[i], d.digest) {
				res.Errors = append(res.Errors, fmt.Sprintf("%s digest of %s does not match the digest specified in META-INF/MANIFEST.MF. Expected: <%s>, actual: <%s>",
					d.name, j.e.Name, base64.StdEncoding.EncodeToString(d.digest), base64.StdEncoding.EncodeToString(j.out.got[i])))
			}
		}
	}
	if first == nil {
		res.Errors = append(res.Errors, "No JAR entries covered by JAR signatures")
	}
	return first, nil
}

func (v *vVerifier) hashEntry(e *zipx.Entry, exp []vNamedDigest, buf []byte) ([][]byte, error) {
	rc, err := v.openEntry(e)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	ws := make([]io.Writer, len(exp))
	hs := make([]interface{ Sum([]byte) []byte }, len(exp))
	for i, d := range exp {
		h := vNewJarHash(d.alg)
		ws[i], hs[i] = h, h
	}
	if _, err := io.CopyBuffer(io.MultiWriter(ws...), rc, buf); err != nil {
		return nil, fmt.Errorf("reading %s: %w", e.Name, err)
	}
	out := make([][]byte, len(exp))
	for i, h := range hs {
		out[i] = h.Sum(nil)
	}
	return out, nil
}

// vAllSHA256 reports whether every digest to check is SHA-256.
func vAllSHA256(ds []vNamedDigest) bool {
	for _, d := range ds {
		if d.alg != crypto.SHA256 {
			return false
		}
	}
	return true
}

func vSameSigners(a, b []*vJarSigner) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func vSignerNames(ss []*vJarSigner) string {
	var n []string
	for _, s := range ss {
		n = append(n, s.name)
	}
	return "[" + strings.Join(n, ", ") + "]"
}
