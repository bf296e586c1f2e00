package ipa

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/storesign/storesign/internal/atomicfile"
	"github.com/storesign/storesign/internal/plistx"
	"github.com/storesign/storesign/signing/macho"
	"github.com/storesign/storesign/signing/provision"
)

// VerifyOptions tune [Verify] and [Inspect]. The zero value checks every
// signature, seal and profile at the current time, without checking the
// certificate chain against a root.
type VerifyOptions struct {
	// Roots, when not nil, must hold the root each signature's chain ends
	// in (Apple Root CA for a real app).
	Roots *x509.CertPool
	// AllowExpired accepts expired profiles and certificates.
	AllowExpired bool
	// Strict fails an IPA any of whose signatures current codesign would
	// not have written (BundleReport.Deviations).
	Strict bool
	// Now is the time expiry is checked at; nil: time.Now.
	Now func() time.Time
	// Log receives progress; nil discards it.
	Log *slog.Logger

	// known lists entries whose content hashes are already known (set by
	// ResignFile for the entries it copied raw).
	known map[string]knownEntry
	// indexes gives random access to the binaries ResignFile wrote;
	// written holds the hashes it computed of them as it wrote them.
	indexes map[string]blockIndex
	written map[string]fileSum
}

// Verify checks every bundle and loose binary of the IPA read from src:
// its code signature (every page hash, special slot and the CMS
// signature), its CodeResources seal (recomputed from the archive), its
// embedded provisioning profile (bundle ID, team, certificate, expiry) and
// its entitlements. It returns the report of what it found, and an error
// wrapping [ErrInvalid] naming the first problem when anything is wrong.
func Verify(ctx context.Context, src io.ReaderAt, size int64, opts VerifyOptions) (*Report, error) {
	rep, err := Inspect(ctx, src, size, opts)
	if err != nil {
		return rep, err
	}
	for _, b := range rep.Bundles {
		if len(b.Problems) > 0 {
			return rep, fmt.Errorf("%w: %s: %s", ErrInvalid, b.Path, b.Problems[0])
		}
		if opts.Strict && len(b.Deviations) > 0 {
			return rep, fmt.Errorf("%w: %s: not what codesign writes: %s", ErrInvalid, b.Path, b.Deviations[0])
		}
	}
	return rep, nil
}

// VerifyFile runs [Verify] on the IPA at name.
func VerifyFile(ctx context.Context, name string, opts VerifyOptions) (*Report, error) {
	return withFile(name, func(f *os.File, size int64) (*Report, error) { return Verify(ctx, f, size, opts) })
}

// InspectFile runs [Inspect] on the IPA at name.
func InspectFile(ctx context.Context, name string, opts VerifyOptions) (*Report, error) {
	return withFile(name, func(f *os.File, size int64) (*Report, error) { return Inspect(ctx, f, size, opts) })
}

func withFile(name string, fn func(*os.File, int64) (*Report, error)) (*Report, error) {
	f, size, err := atomicfile.OpenInput(name, "an IPA")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return fn(f, size)
}

// Inspect describes the IPA read from src as [Verify] does, but records
// what is wrong in each bundle's Problems instead of failing. It fails
// only for input that is not an IPA.
func Inspect(ctx context.Context, src io.ReaderAt, size int64, opts VerifyOptions) (*Report, error) {
	a, err := scan(src, size)
	if err != nil {
		return nil, err
	}
	v := &verifier{a: a, opts: opts, seals: map[string]nestedSeal{}, now: time.Now()}
	if opts.Now != nil {
		v.now = opts.Now()
	}
	v.log = opts.Log
	if v.log == nil {
		v.log = slog.New(slog.DiscardHandler)
	}
	return v.run(ctx)
}

// exeResult is the verification of a bundle's main executable, and its
// CodeResources, read and parsed meanwhile: sealed is closed once seal
// is set (nil when crErr says why), done once the rest is.
type exeResult struct {
	sealed chan struct{}
	seal   *sealFile
	done   chan struct{}
	crErr  string
	mi     *macho.Info
	err    error
}

func newExeResult() *exeResult {
	return &exeResult{sealed: make(chan struct{}), done: make(chan struct{})}
}

func (v *verifier) verifyExe(ctx context.Context, b *bundle, res *exeResult) {
	defer close(res.done)
	var cr []byte
	crEntry := v.a.byName[b.path("_CodeSignature/CodeResources")]
	if crEntry == nil {
		res.crErr = "not signed: _CodeSignature/CodeResources is missing"
		close(res.sealed)
	} else if raw, err := readAll(crEntry.f, maxCodeResources); err != nil {
		res.crErr = err.Error()
		close(res.sealed)
	} else {
		// Parse it while the executable is verified.
		cr = raw
		go func() {
			res.seal = parseSeal(raw)
			close(res.sealed)
		}()
	}
	mo := macho.VerifyOptions{InfoPlist: b.infoRaw, CodeResources: cr}
	if e := b.exeEntry; v.hashedWithExe(e) {
		// Read it once: hash it for the parent's seal, then verify it.
		data, err := readAll(e.f, smallEntry)
		if err != nil {
			res.err = err
			return
		}
		s1, s2 := sha1.Sum(data), sha256.Sum256(data)
		e.sum, e.isMachO = fileSum{s1[:], s2[:]}, macho.IsMachO(data)
		mo.Roots, mo.Now = v.opts.Roots, v.verifyNow()
		res.mi, res.err = macho.Verify(ctx, bytes.NewReader(data), int64(len(data)), mo)
		return
	}
	res.mi, res.err = v.verifyBinary(ctx, b.exeEntry, mo)
}

// hashedWithExe reports whether e is the executable of a nested bundle
// small enough to be read into memory once, hashed and verified together.
func (v *verifier) hashedWithExe(e *entry) bool {
	if e.bundle == nil || e.f.UncompressedSize64 > smallEntry || e == v.a.app.exeEntry || v.ownBinary(e) != nil {
		return false
	}
	for _, b := range v.a.bundles {
		if b.exeEntry == e {
			return true
		}
	}
	return false
}

// verifyNow is the time signatures are checked at.
func (v *verifier) verifyNow() func() time.Time {
	if v.opts.AllowExpired {
		return nil
	}
	now := v.now
	return func() time.Time { return now }
}

type verifier struct {
	// sound counts the signatures that verify (out of date at most),
	// unchecked lists those of them whose chain was not checked against
	// a root (Anchor ""), by the last name of their authority.
	sound     int
	unchecked []string
	exes      map[*bundle]*exeResult
	a         *archive
	opts      VerifyOptions
	now       time.Time
	log       *slog.Logger
	seals     map[string]nestedSeal
	rep       *Report
}

func (v *verifier) run(ctx context.Context) (*Report, error) {
	a := v.a
	rep := &Report{BundleID: a.app.bundleID}
	v.rep = rep
	info := a.app.info
	rep.Name, _ = info["CFBundleDisplayName"].(string)
	if rep.Name == "" {
		rep.Name, _ = info["CFBundleName"].(string)
	}
	rep.Version, _ = info["CFBundleShortVersionString"].(string)
	rep.Build, _ = info["CFBundleVersion"].(string)

	// Hash every file of the app but its main executable (which no
	// CodeResources seals), in parallel, flagging Mach-O files.
	var todo []*entry
	done := map[*entry]chan struct{}{}
	for _, e := range a.entries {
		if e.bundle == nil || e.dir || e == a.app.exeEntry || v.hashedWithExe(e) {
			continue
		}
		if v.ownBinary(e) != nil {
			// Hashed as it is verified.
			e.isMachO = true
			continue
		}
		if k, ok := v.opts.known[e.name]; ok && k.crc == e.f.CRC32 && k.size == e.f.UncompressedSize64 && k.csize == e.f.CompressedSize64 {
			e.sum, e.target = k.sum, k.target
			continue
		}
		todo = append(todo, e)
		done[e] = make(chan struct{})
	}
	// Meanwhile, verify the bundles' executables (the largest files).
	wait := hashEntries(ctx, a, todo, done, detectHash, nil)
	// The executables are verified concurrently: the largest one (the
	// app's, last) is inflated on one core while the others use the rest,
	// and while the bundles whose executables are verified are checked
	// (the app's seal among them).
	v.exes = make(map[*bundle]*exeResult, len(a.bundles))
	for _, b := range a.bundles {
		v.exes[b] = newExeResult()
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Add(1)
	go func() {
		defer wg.Done()
		sem := make(chan struct{}, max(runtime.GOMAXPROCS(0), 1))
		for i := len(a.bundles) - 1; i >= 0; i-- {
			b := a.bundles[i]
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-sem; wg.Done() }()
				v.verifyExe(ctx, b, v.exes[b])
			}()
		}
	}()
	if err := wait(); err != nil {
		return nil, err
	}
	for _, b := range a.bundles {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		v.bundle(ctx, b)
	}
	if w := v.chainWarning(); w != "" {
		rep.Warnings = append(rep.Warnings, w)
	}
	return rep, nil
}

func (v *verifier) bundle(ctx context.Context, b *bundle) {
	br := BundleReport{Path: b.dir, Kind: b.kind.String(), BundleID: b.bundleID}
	problem := func(format string, args ...any) {
		br.Problems = append(br.Problems, fmt.Sprintf(format, args...))
	}
	// Loose Mach-O files of this bundle first, as they were signed. (Its
	// executable may still be being verified: not a field of it is read.)
	for _, e := range b.own {
		if e != b.exeEntry && !isExeOfChild(b, e) && e.isMachO {
			v.loose(ctx, e)
		}
	}
	res := v.exes[b]
	// The seal is checked while the executable may still be verified:
	// it needs the hashes of the bundle's files and nested code, not of
	// its executable.
	<-res.sealed
	var sealProblems []string
	if res.seal != nil {
		sealProblems = v.checkSeal(b, res.seal)
	}
	<-res.done
	mi, err := res.mi, res.err
	if res.crErr != "" {
		problem("%s", res.crErr)
	}
	sound := v.describe(&br, b.dir, b.exe+": ", mi, err)
	for _, p := range sealProblems {
		problem("%s", p)
	}
	if b.kind.embedsProfile() {
		if !sound {
			mi = nil // what a signature that does not verify says is not checked further
		}
		v.checkProfile(b, &br, mi)
	}
	v.rep.Bundles = append(v.rep.Bundles, br)
}

// describe fills br in from what macho.Verify returned for the code at
// path, whatever its chain (as codesign -dvvv displays a signature), and
// records err as a problem, prefixed by prefix unless it is only an
// out-of-date certificate. It reports whether the signature is sound, out
// of date at most: its cdhash is then the nested code's for the parent's
// seal.
func (v *verifier) describe(br *BundleReport, path, prefix string, mi *macho.Info, err error) bool {
	if mi != nil {
		fillInfo(br, mi)
	}
	var expired *macho.ExpiredError
	switch {
	case err == nil:
	case errors.As(err, &expired):
		// Worded as checkProfile words an out-of-date signing certificate.
		br.Problems = append(br.Problems, strings.TrimPrefix(expired.Error(), "macho: "))
	default:
		br.Problems = append(br.Problems, prefix+err.Error())
		return false
	}
	if mi == nil {
		return false
	}
	v.seals[path] = sealOfInfo(mi)
	v.sound++
	if br.Anchor == "" {
		top := ""
		if a := br.Authority; len(a) > 0 {
			top = a[len(a)-1]
		}
		v.unchecked = append(v.unchecked, top)
	}
	return true
}

// chainWarning says, when some sound signatures' chains were not checked
// against a root, what that means; "" when every one was.
func (v *verifier) chainWarning() string {
	if len(v.unchecked) == 0 {
		return ""
	}
	which := "every signature"
	if len(v.unchecked) < v.sound {
		which = fmt.Sprintf("%d of %d signatures", len(v.unchecked), v.sound)
	}
	top := ""
	if t := v.unchecked[0]; t != "" {
		top = fmt.Sprintf("; its top certificate is %q", t)
	}
	return fmt.Sprintf("the certificate chain of %s was not checked against Apple's roots (it does not reach an embedded Apple Root CA, "+
		"or uses SHA-1 certificates, as before 2016, which are not checked%s): a device refuses an app whose chain does not reach "+
		"Apple Root CA unless the chain's root is installed and trusted there, and App Store Connect refuses it", which, top)
}

func (v *verifier) verifyBinary(ctx context.Context, e *entry, mo macho.VerifyOptions) (*macho.Info, error) {
	mo.Roots, mo.Now = v.opts.Roots, v.verifyNow()
	if br := v.ownBinary(e); br != nil {
		// Our own output: inflate it on every core, block by block, and
		// hash it for the parent's seal in the same pass.
		defer br.close()
		mi, err := macho.Verify(ctx, br, br.size, mo)
		var expired *macho.ExpiredError
		if err != nil && !errors.As(err, &expired) {
			return mi, err
		}
		sum, ferr := br.finish()
		if ferr != nil {
			return nil, ferr
		}
		if sum.sha1 != nil {
			e.sum = sum
		} else if w, ok := v.opts.written[e.name]; ok {
			// Hashed as it was written: what was read back, every
			// byte of which finish checked against the CRC-32 the zip
			// writer computed of what was written, is the same.
			e.sum = w
		}
		return mi, err
	}
	ra, size, done, err := openEntry(v.a.src, e.f)
	if err != nil {
		return nil, err
	}
	defer done()
	return macho.Verify(ctx, ra, size, mo)
}

// ownBinary returns a reader of e when it is a binary ResignFile has just
// written with its block index, or nil. Such binaries are verified and
// hashed in one pass (see blockReaderAt).
func (v *verifier) ownBinary(e *entry) *blockReaderAt {
	idx, ok := v.opts.indexes[e.name]
	if !ok {
		return nil
	}
	_, known := v.opts.written[e.name]
	return newBlockReaderAt(v.a.src, e.f, idx, e != v.a.app.exeEntry && !known, &v.a.inflaters)
}

func (v *verifier) loose(ctx context.Context, e *entry) {
	br := BundleReport{Path: e.name, Kind: "dylib"}
	mi, err := v.verifyBinary(ctx, e, macho.VerifyOptions{})
	v.describe(&br, e.name, "", mi, err)
	v.rep.Bundles = append(v.rep.Bundles, br)
}

func fillInfo(br *BundleReport, mi *macho.Info) {
	for i, s := range mi.Slices {
		if i == 0 {
			br.Identifier, br.TeamID, br.Authority, br.Anchor = s.Identifier, s.TeamID, s.Authority, s.Anchor
			br.Certificate = s.Certificate
			br.Entitlements = string(s.Entitlements)
			br.Requirement = strings.TrimPrefix(designated(s.Requirements), "designated => ")
			if !s.SigningTime.IsZero() {
				t := s.SigningTime
				br.SigningTime = &t
			}
		}
		br.CDHashes = append(br.CDHashes, hex.EncodeToString(s.CDHash.Primary))
		br.Archs = append(br.Archs, s.Arch)
		for _, d := range s.Deviations {
			br.Deviations = append(br.Deviations, s.Arch+": "+d)
		}
	}
}

func designated(reqs string) string {
	for _, l := range strings.Split(reqs, "\n") {
		if strings.HasPrefix(l, "designated => ") {
			return l
		}
	}
	return ""
}

func sealOfInfo(mi *macho.Info) nestedSeal {
	var hs []macho.CDHash
	for _, s := range mi.Slices {
		h := s.CDHash
		h.Arch = s.Arch
		hs = append(hs, h)
	}
	req := ""
	if len(mi.Slices) > 0 {
		req = strings.TrimPrefix(designated(mi.Slices[0].Requirements), "designated => ")
	}
	return nestedSeal{cdhash: primaryCDHash(hs), requirement: req}
}

func isExeOfChild(b *bundle, e *entry) bool {
	for _, c := range b.children {
		if c.exeEntry == e {
			return true
		}
	}
	return false
}

// checkSeal recomputes b's CodeResources files2 from the archive and
// returns what differs. Nested code is accepted sealed either by file
// hashes (as Xcode does for iOS) or by cdhash and requirement (as it does
// for macOS-style "nested" rules).
// sealFile is a bundle's CodeResources, parsed for checkSeal.
type sealFile struct {
	cr      codeResources
	rules2  []rule
	problem string // when it cannot be used
}

// parseSeal parses a CodeResources file. It runs beside the verification
// of the executables: the app's, with thousands of files, takes a while.
func parseSeal(raw []byte) *sealFile {
	sf := &sealFile{}
	if _, err := plistx.Unmarshal(raw, &sf.cr); err != nil {
		sf.problem = fmt.Sprintf("_CodeSignature/CodeResources: %v", err)
		return sf
	}
	if sf.cr.Files2 == nil {
		sf.problem = "_CodeSignature/CodeResources has no files2 (a signature older than iOS 9 accepts)"
		return sf
	}
	var err error
	if sf.rules2, err = parseRules(sf.cr.Rules2); err != nil {
		sf.problem = fmt.Sprintf("_CodeSignature/CodeResources: rules2: %v", err)
	}
	return sf
}

func (v *verifier) checkSeal(b *bundle, sf *sealFile) []string {
	if sf.problem != "" {
		return []string{sf.problem}
	}
	cr, rules2 := sf.cr, sf.rules2
	var problems []string
	seen := map[string]bool{}
	isNested := func(rel string) bool {
		d, ok := cr.Files2[rel].(map[string]any)
		if !ok {
			return false
		}
		_, ok = d["cdhash"]
		return ok
	}
	// Nested bundles sealed as a whole.
	var whole []string
	for _, c := range b.children {
		rel := c.dir[len(b.dir)+1:]
		if !isNested(rel) {
			continue
		}
		whole = append(whole, c.dir+"/")
		seen[rel] = true
		s, ok := v.seals[c.dir]
		if p := checkNested(cr.Files2[rel], s, ok); p != "" {
			problems = append(problems, rel+": "+p)
		}
	}
	for _, e := range v.a.entries {
		if e.dropped || e.dir || !strings.HasPrefix(e.name, b.dir+"/") {
			continue
		}
		if slices.ContainsFunc(whole, func(p string) bool { return strings.HasPrefix(e.name, p) }) {
			continue
		}
		rel := e.name[len(b.dir)+1:]
		if rel == b.exe || rel == "_CodeSignature" || strings.HasPrefix(rel, "_CodeSignature/") {
			continue
		}
		m, ok := match(rules2, rel)
		if !ok || m.omit {
			continue
		}
		val, ok := cr.Files2[rel]
		seen[rel] = true
		if !ok {
			problems = append(problems, fmt.Sprintf("%s is not sealed by _CodeSignature/CodeResources (added after signing)", rel))
			continue
		}
		var p string
		switch {
		case e.isMachO && isNested(rel):
			s, ok := v.seals[e.name]
			p = checkNested(val, s, ok)
		case e.symlink:
			_, _, target, _, err := files2Entry(val)
			switch {
			case err != nil:
				p = err.Error()
			case target != e.target:
				p = fmt.Sprintf("symlink to %q, sealed as %q", e.target, target)
			}
		default:
			h1, h2, _, _, err := files2Entry(val)
			switch {
			case err != nil:
				p = err.Error()
			case h2 != nil && !bytes.Equal(h2, e.sum.sha256), h2 == nil && !bytes.Equal(h1, e.sum.sha1):
				p = "modified after signing (its hash does not match the seal)"
			}
		}
		if p != "" {
			problems = append(problems, rel+": "+p)
		}
	}
	var missing []string
	for rel, val := range cr.Files2 {
		if seen[rel] {
			continue
		}
		if d, ok := val.(map[string]any); ok {
			if opt, _ := d["optional"].(bool); opt {
				continue
			}
		}
		missing = append(missing, rel)
	}
	slices.Sort(missing)
	for _, rel := range missing {
		problems = append(problems, fmt.Sprintf("%s is sealed by _CodeSignature/CodeResources but missing", rel))
	}
	return problems
}

func checkNested(val any, s nestedSeal, known bool) string {
	d, _ := val.(map[string]any)
	h, _ := d["cdhash"].([]byte)
	if !known {
		return "" // its own signature is reported broken
	}
	if !bytes.Equal(h, s.cdhash) {
		return "the nested code's cdhash does not match its seal (modified after signing)"
	}
	return ""
}

// checkProfile checks b's embedded profile against its signature.
func (v *verifier) checkProfile(b *bundle, br *BundleReport, mi *macho.Info) {
	problem := func(format string, args ...any) {
		// Once: describe may have said the signing certificate is out
		// of date already.
		if p := fmt.Sprintf(format, args...); !slices.Contains(br.Problems, p) {
			br.Problems = append(br.Problems, p)
		}
	}
	e := v.a.byName[b.path("embedded.mobileprovision")]
	if e == nil {
		problem("no embedded.mobileprovision: the app will not install")
		return
	}
	raw, err := readAll(e.f, maxPlistSize)
	if err != nil {
		problem("%v", err)
		return
	}
	p, err := provision.Parse(raw)
	if err != nil {
		problem("embedded.mobileprovision: %v", err)
		return
	}
	br.Profile = profileReport(p)
	if p.Score(b.bundleID) == 0 {
		problem("embedded.mobileprovision %q is for %s, not %s", p.Name, p.ApplicationIdentifier, b.bundleID)
	}
	if !v.opts.AllowExpired {
		if err := p.CheckValid(v.now); err != nil {
			problem("embedded.mobileprovision: %v", err)
		}
	}
	if mi == nil || len(mi.Slices) == 0 {
		return
	}
	s := mi.Slices[0]
	if s.TeamID != "" && p.TeamID != "" && s.TeamID != p.TeamID {
		problem("signed by team %s but the profile is team %s", s.TeamID, p.TeamID)
	}
	if len(s.Authority) > 0 {
		var leaf *x509.Certificate
		for _, c := range p.DeveloperCertificates {
			if c.Subject.CommonName == s.Authority[0] {
				leaf = c
				break
			}
		}
		if leaf == nil {
			problem("the signing certificate %q is not in the embedded profile %q", s.Authority[0], p.Name)
		} else {
			exp := leaf.NotAfter
			br.CertificateExpires = &exp
			if !v.opts.AllowExpired && (v.now.After(leaf.NotAfter) || v.now.Before(leaf.NotBefore)) {
				problem("the signing certificate %q is valid from %s to %s only", s.Authority[0], leaf.NotBefore.UTC().Format(time.DateOnly), leaf.NotAfter.UTC().Format(time.DateOnly))
			}
		}
	}
	var ents map[string]any
	if len(s.Entitlements) == 0 {
		problem("no entitlements signed into %s", b.exe)
		return
	}
	if _, err := plistx.Unmarshal(s.Entitlements, &ents); err != nil {
		problem("entitlements: %v", err)
		return
	}
	if msg := appIDProblem(ents, p, b.bundleID); msg != "" {
		problem("%s", msg)
	}
	if gta, _ := ents["get-task-allow"].(bool); gta && p.Kind != provision.Development {
		problem("get-task-allow is set with the %s profile %q: App Store and Ad Hoc builds must not allow debugging", p.Kind, p.Name)
	}
	for _, k := range slices.Sorted(maps.Keys(ents)) {
		if _, ok := p.Entitlements[k]; !ok && k != "application-identifier" && k != "com.apple.developer.team-identifier" {
			problem("entitlement %s is not granted by the profile %q", k, p.Name)
		}
	}
}

// appIDProblem checks the signed application-identifier entitlement
// against the profile p of the bundle bundleID: it is the bundle's
// (prefix.bundleID), or a wildcard profile's own value as the profile
// grants it ("TEAMID.*"): Xcode signs test runners (.xctrunner) so, and
// iOS installs them, the value matching the profile's pattern. It returns
// "" when it is either.
func appIDProblem(ents map[string]any, p *provision.Profile, bundleID string) string {
	want := p.AppIDPrefix + "." + bundleID
	got, _ := ents["application-identifier"].(string)
	if got == want || p.IsWildcard() && got == p.ApplicationIdentifier {
		return ""
	}
	return fmt.Sprintf("entitlement application-identifier is %q, want %q", got, want)
}
