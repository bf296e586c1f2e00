package ipa

import (
	"archive/zip"
	"bufio"
	"bytes"
	"cmp"
	"compress/flate"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"howett.net/plist"

	"github.com/storesign/storesign/internal/plistx"
	"github.com/storesign/storesign/signing/macho"
	"github.com/storesign/storesign/signing/provision"
)

// signPlan is what Resign decided for one bundle before writing.
type signPlan struct {
	newID    string
	info     []byte // final Info.plist
	changed  bool   // info differs from the input
	profile  *provision.Profile
	ents     []byte
	report   *BundleReport
	resource []resource
	seal     sealHashes // the hash types of its signature and CodeResources
	warnings []string
}

// resigner holds the state of one Resign call.
type resigner struct {
	opts  Options
	now   time.Time
	log   *slog.Logger
	sign  signFunc
	a     *archive
	team  string
	plans map[*bundle]*signPlan
	rep   *Report

	zw      *zip.Writer
	written []writtenFile
	hashed  map[*entry]chan struct{}
	seals   map[string]nestedSeal // by zip path of a signed bundle or loose binary
	known   map[string]knownEntry // entries copied raw, for ResignFile's check
	// deflater is the compressor of the entry being written; indexes
	// holds the block index of each signed binary, for ResignFile's check.
	deflater     *parallelDeflater
	indexes      map[string]blockIndex
	pendingIndex []pendingIndex

	// chunks pools the buffers of the binaries' readAheads.
	chunks sync.Pool
	// dirsDone holds the folder entries written.
	dirsDone map[string]bool
	// lateApp is set when the app's executable is signed on its lane with
	// its entitlements fitted there (see mainLane); laneOK caches
	// laneEligible, with the lane's provisional offset.
	lateApp bool
	laneOK  *bool
	prov    int64
	// late holds the other bundles whose executables are read once:
	// signed in memory, their entitlements fitted from their own
	// signature (see signInMemory).
	late map[*bundle]bool
	// headers caches exeHeader.
	headers map[*entry]*macho.Header
	// scratch, when not 0, is where signAside keeps a signed binary in
	// the output file (see scratchAt); copyBuf is writeSigned's buffer.
	scratch int64
	copyBuf []byte
	// at, when not nil, is the output file, written from offset 0: the
	// app's executable then gets a lane of its own (see mainLane).
	at   laneFile
	lane *mainLane
	// With at: lw writes the zip writer's stream, flush flushes it, and
	// srcFile, when the input is a file, is where large entries copied raw
	// are copied from by the kernel (see copyData).
	lw      *laneWriter
	flush   func() error
	srcFile *os.File
	zeros   []byte // 1 MiB of zero bytes, for copyData
	// win reads the data of the entries copied raw (see copyEntry).
	win *window
	// kernelCopied counts the bytes copyData had the kernel copy.
	kernelCopied int64
	// startLane starts the lane, if the app's executable gets one, once
	// its plan is made.
	startLane func()
	// reused is set once a binary is signed with page hashes taken from
	// its input's signature (see reuse).
	reused atomic.Bool
	// gate, with a lane, keeps it a core (see cpuGate).
	gate *cpuGate
}

// signAhead is how many 1 MiB chunks of a binary are inflated ahead of
// its signing.
const signAhead = 4

type pendingIndex struct {
	name string
	d    *parallelDeflater
}

// blockIndexes returns the block index of every signed binary; call it
// after the zip writer is closed.
func (r *resigner) blockIndexes() map[string]blockIndex {
	for _, p := range r.pendingIndex {
		r.indexes[p.name] = p.d.index
	}
	return r.indexes
}

// writtenBinaries returns the hashes of the binaries written with a
// block index (see blockIndexes), computed as they were written.
func (r *resigner) writtenBinaries() map[string]fileSum {
	m := map[string]fileSum{}
	for _, w := range r.written {
		if _, ok := r.indexes[w.name]; ok {
			m[w.name] = w.sum
		}
	}
	return m
}

// knownEntry is an entry copied raw from the input, with the hashes the
// hash pass computed from the input's bytes.
type knownEntry struct {
	crc         uint32
	size, csize uint64
	sum         fileSum
	target      string
}

type writtenFile struct {
	name    string
	sum     fileSum
	symlink bool
	target  string
}

// Resign re-signs the IPA read from src (size bytes) and writes the result
// to dst. See the package documentation for what changes.
func Resign(ctx context.Context, src io.ReaderAt, size int64, dst io.Writer, opts Options) (*Report, error) {
	r, err := resignStream(ctx, src, size, dst, nil, opts)
	if err != nil {
		return nil, err
	}
	return r.rep, nil
}

// resignStream writes to dst, or, when at is not nil, to at from offset
// 0, which lets the app's executable be written beside the rest (see
// mainLane).
func resignStream(ctx context.Context, src io.ReaderAt, size int64, dst io.Writer, at laneFile, opts Options) (*resigner, error) {
	r := &resigner{opts: opts, log: opts.Log, sign: opts.sign, plans: map[*bundle]*signPlan{}, seals: map[string]nestedSeal{}, at: at}
	if f, ok := src.(*os.File); ok && at != nil {
		r.srcFile = f
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.sign == nil {
		r.sign = macho.Sign
	}
	r.now = time.Now()
	if opts.Now != nil {
		r.now = opts.Now()
	}
	if err := opts.check(); err != nil {
		return nil, err
	}
	if err := r.checkIdentity(); err != nil {
		return nil, err
	}
	if l := opts.CompressionLevel; l < 0 || l > flate.BestCompression {
		return nil, fmt.Errorf("ipa: compression level %d: want 0 (store) to 9", l)
	}
	a, err := scan(src, size)
	if err != nil {
		return nil, err
	}
	r.a = a
	r.drop()
	// The files copied as they are are hashed from the start, beside the
	// planning (which inflates every bundle executable to read the
	// entitlements it was signed with).
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	// A failing lane stops everything; its error is the one reported.
	r.startLane = func() {
		if r.lane == nil {
			r.lane = r.startMain(ctx, cancel)
		}
		if r.lane == nil {
			r.gate.openAll()
		}
	}
	if runtime.GOMAXPROCS(0) > 1 && r.laneEligible() {
		r.gate = newCPUGate(runtime.GOMAXPROCS(0) - 1)
		defer r.gate.openAll()
	}
	wait := r.hashAll(ctx)
	err = r.plan(ctx)
	if err == nil {
		r.log.Debug("planned", "bundles", len(r.a.bundles), "elapsed", time.Since(start))
		err = r.writeEntries(ctx, dst)
	}
	if err != nil {
		cancel()
		r.gate.openAll()
	}
	if l := r.lane; l != nil {
		l.wait()
		if l.err != nil && (err == nil || errors.Is(err, context.Canceled)) {
			err = l.err
		}
	}
	if werr := wait(); err == nil {
		err = werr
	}
	if err != nil {
		return nil, err
	}
	r.log.Debug("written", "elapsed", time.Since(start), "copied-in-kernel", r.kernelCopied)
	return r, nil
}

func (r *resigner) checkIdentity() error {
	id := r.opts.Identity
	if id == nil || id.Signer == nil || id.Certificate == nil {
		return errors.New("ipa: no signing identity with a private key")
	}
	if len(r.opts.Profiles) == 0 {
		return errors.New("ipa: no provisioning profile: pass the App Store profile of the app (and of each extension)")
	}
	c := id.Certificate
	if !r.opts.AllowExpiredUnsafe {
		if r.now.After(c.NotAfter) {
			return fmt.Errorf("%w: %q expired on %s: renew it in the Apple Developer portal", ErrCertificateExpired, c.Subject.CommonName, c.NotAfter.UTC().Format(time.DateOnly))
		}
		if r.now.Before(c.NotBefore) {
			return fmt.Errorf("%w: %q is not valid before %s: check the clock", ErrCertificateExpired, c.Subject.CommonName, c.NotBefore.UTC().Format(time.RFC3339))
		}
	}
	if ou := c.Subject.OrganizationalUnit; len(ou) > 0 {
		r.team = ou[0]
	}
	// Fail before writing anything when the intermediate is missing.
	chain := r.opts.Chain
	if chain == nil {
		chain = id.Chain
	}
	if string(c.RawIssuer) != string(c.RawSubject) && !slices.ContainsFunc(chain, func(ca *x509.Certificate) bool {
		return string(ca.RawSubject) == string(c.RawIssuer) && c.CheckSignatureFrom(ca) == nil
	}) {
		return macho.ErrIncompleteChain
	}
	return nil
}

// drop marks what DropWatch and DropPlugins remove.
func (r *resigner) drop() {
	app := r.a.app
	var prefixes []string
	if r.opts.DropWatch {
		prefixes = append(prefixes, app.dir+"/Watch", app.dir+"/com.apple.WatchPlaceholder")
	}
	if r.opts.DropPlugins {
		prefixes = append(prefixes, app.dir+"/PlugIns", app.dir+"/Extensions")
	}
	if len(prefixes) == 0 {
		return
	}
	under := func(name string) bool {
		for _, p := range prefixes {
			if name == p || strings.HasPrefix(name, p+"/") {
				return true
			}
		}
		return false
	}
	for _, e := range r.a.entries {
		if under(e.name) {
			e.dropped = true
		}
	}
	r.a.bundles = slices.DeleteFunc(r.a.bundles, func(b *bundle) bool { return under(b.dir) })
	for _, b := range r.a.bundles {
		b.children = slices.DeleteFunc(b.children, func(c *bundle) bool { return under(c.dir) })
	}
}

// renameID applies the --bundle-id prefix rewrite to id.
func (r *resigner) renameID(id string) string {
	old, nu := r.a.app.bundleID, r.opts.BundleID
	if nu == "" || nu == old {
		return id
	}
	if id == old {
		return nu
	}
	if strings.HasPrefix(id, old+".") {
		return nu + id[len(old):]
	}
	return id
}

// plan decides every bundle's ID, Info.plist, profile and entitlements, and
// checks everything that can be checked before writing a byte.
func (r *resigner) plan(ctx context.Context) error {
	app := r.a.app
	if r.opts.Entitlements != nil {
		if err := checkEntitlements(r.opts.Entitlements); err != nil {
			return err
		}
	}
	if r.opts.BundleID != "" {
		if err := checkBundleID(r.opts.BundleID, "the new bundle ID", true); err != nil {
			return err
		}
	}
	if err := r.prepare(); err != nil {
		return err
	}
	rep := &Report{}
	r.rep = rep
	// The app is planned first when that needs no entitlements read from
	// its executable, so that its lane starts while the others' are read.
	early := r.opts.Entitlements != nil || r.lateApp
	if early {
		if err := r.planBundle(app); err != nil {
			return err
		}
		r.startLane()
	}
	if err := r.readAllOrigEnts(ctx); err != nil {
		return err
	}
	for _, b := range r.a.bundles {
		if b == app && early {
			continue
		}
		if err := r.planBundle(b); err != nil {
			return err
		}
	}
	// Warnings in bundle order, whatever the order of planning.
	for _, b := range r.a.bundles {
		rep.Warnings = append(rep.Warnings, r.plans[b].warnings...)
	}
	ap := r.plans[app]
	rep.BundleID = ap.newID
	var info map[string]any
	plistx.Unmarshal(ap.info, &info)
	rep.Name, _ = info["CFBundleDisplayName"].(string)
	if rep.Name == "" {
		rep.Name, _ = info["CFBundleName"].(string)
	}
	rep.Version, _ = info["CFBundleShortVersionString"].(string)
	rep.Build, _ = info["CFBundleVersion"].(string)
	return nil
}

// planBundle decides what b becomes: its Info.plist, identifier,
// profile and entitlements.
func (r *resigner) planBundle(b *bundle) error {
	app := r.a.app
	p := &signPlan{}
	r.plans[b] = p
	if b.appleSigned {
		p.info, p.newID = b.infoRaw, b.bundleID
		return nil
	}
	info := b.info
	changed := false
	set := func(m map[string]any, k string, v string) {
		if v == "" {
			return
		}
		if old, ok := m[k].(string); ok && old == v {
			return
		}
		m[k] = v
		changed = true
	}
	if b.kind != kindFramework {
		set(info, "CFBundleIdentifier", r.renameID(b.bundleID))
		if s, ok := info["WKCompanionAppBundleIdentifier"].(string); ok {
			set(info, "WKCompanionAppBundleIdentifier", r.renameID(s))
		}
		if s, ok := info["WKAppBundleIdentifier"].(string); ok {
			set(info, "WKAppBundleIdentifier", r.renameID(s))
		}
		if ext, ok := info["NSExtension"].(map[string]any); ok {
			if attrs, ok := ext["NSExtensionAttributes"].(map[string]any); ok {
				if s, ok := attrs["WKAppBundleIdentifier"].(string); ok {
					set(attrs, "WKAppBundleIdentifier", r.renameID(s))
				}
			}
		}
		set(info, "CFBundleShortVersionString", r.opts.ShortVersion)
		set(info, "CFBundleVersion", r.opts.BundleVersion)
	}
	if b == app {
		set(info, "CFBundleDisplayName", r.opts.DisplayName)
	}
	p.newID, _ = info["CFBundleIdentifier"].(string)
	if b.kind != kindFramework {
		if err := checkBundleID(p.newID, "CFBundleIdentifier of "+b.infoEntry.name, false); err != nil {
			return err
		}
	}
	p.info, p.changed = b.infoRaw, changed
	if changed {
		out, err := encodeInfo(info, b.infoFormat)
		if err != nil {
			return fmt.Errorf("encoding %s: %w", b.infoEntry.name, err)
		}
		p.info = out
	}
	br := &BundleReport{Path: b.dir, Kind: b.kind.String(), BundleID: p.newID, Identifier: p.newID, TeamID: r.team}
	p.report = br
	hdr, err := r.exeHeader(b.exeEntry)
	if err != nil {
		return err
	}
	if hdr.Encrypted {
		return fmt.Errorf("%s: %w", b.exeEntry.name, macho.ErrEncrypted)
	}
	p.seal = sealHashesOf(hdr.HashTypes)
	if b.kind == kindFramework {
		return nil
	}
	if !b.kind.embedsProfile() {
		// A test bundle, XPC service or loadable bundle keeps the
		// entitlements it was signed with, fitted to the profile of
		// its ID; Xcode embeds no profile in it.
		if err := r.readOrigEnts(b); err != nil {
			return err
		}
		if b.origEnts == nil {
			return nil
		}
		prof, err := provision.Match(r.opts.Profiles, p.newID)
		if err != nil {
			p.warnings = append(p.warnings, fmt.Sprintf("%s: its entitlements are dropped: %v", b.dir, err))
			return nil
		}
		ents, changes, err := fitEntitlements(b.origEnts, prof, p.newID, fitOptions{path: b.dir, drop: r.opts.DropUngrantedEntitlements, rename: r.renameID})
		if err != nil {
			return err
		}
		p.ents, br.EntitlementChanges = ents, changes
		br.Entitlements = string(p.ents)
		return nil
	}
	prof, err := provision.Match(r.opts.Profiles, p.newID)
	if err != nil {
		return err
	}
	if err := r.checkProfile(prof, p.newID); err != nil {
		return err
	}
	p.profile = prof
	br.Profile = profileReport(prof)
	if b == app && r.opts.Entitlements != nil {
		ents, warn, err := overrideEntitlements(r.opts.Entitlements, prof)
		if err != nil {
			return err
		}
		if warn != "" {
			p.warnings = append(p.warnings, warn)
		}
		p.ents = ents
	} else if b == app && r.lateApp {
		// Fitted on the app's lane, from the signature at the end of
		// its executable (see mainLane).
	} else if r.late[b] {
		// Fitted as it is signed, from the signature at the end of its
		// executable (see signInMemory).
	} else {
		if err := r.readOrigEnts(b); err != nil {
			return err
		}
		ents, changes, err := fitEntitlements(b.origEnts, prof, p.newID, fitOptions{path: b.dir, drop: r.opts.DropUngrantedEntitlements, rename: r.renameID})
		if err != nil {
			return err
		}
		p.ents, br.EntitlementChanges = ents, changes
	}
	br.Entitlements = string(p.ents)
	if prof.Kind == provision.Development {
		p.warnings = append(p.warnings, fmt.Sprintf("%s is signed with the development profile %q (%s): the build cannot be uploaded to the App Store", p.newID, prof.Name, prof.UUID))
	}
	return nil
}

func (r *resigner) checkProfile(p *provision.Profile, bundleID string) error {
	if !r.opts.AllowExpiredUnsafe {
		if err := p.CheckValid(r.now); err != nil {
			return err
		}
	}
	if err := p.CheckCertificate(r.opts.Identity.Certificate); err != nil {
		return err
	}
	if r.team != "" && p.TeamID != "" && p.TeamID != r.team {
		return fmt.Errorf("%w: profile %q (%s) for %s is team %s, the certificate %q is team %s", ErrTeamMismatch, p.Name, p.UUID, bundleID, p.TeamID, r.opts.Identity.Certificate.Subject.CommonName, r.team)
	}
	return nil
}

// exeHeader reads the load commands of a bundle's executable: whether it
// is FairPlay-encrypted, signed and thin, and the hash types its signature
// (and so its bundle's CodeResources) will use.
func (r *resigner) exeHeader(e *entry) (*macho.Header, error) {
	if h, ok := r.headers[e]; ok {
		return h, nil
	}
	// Only the load commands are read: stream, do not inflate it all.
	ra, size, done, err := openEntryStream(r.a.src, e.f)
	if err != nil {
		return nil, err
	}
	defer done()
	head := make([]byte, 8)
	if n, _ := ra.ReadAt(head, 0); n < 4 || !macho.IsMachO(head) {
		return nil, fmt.Errorf("%s: %w", e.name, macho.ErrNotMachO)
	}
	h, err := macho.ReadHeader(ra, size)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", e.name, err)
	}
	if r.headers == nil {
		r.headers = map[*entry]*macho.Header{}
	}
	r.headers[e] = h
	return h, nil
}

// replaced reports whether e is rewritten from scratch by the bundle that
// holds it (signature files, the profile, Info.plist, executables).
func (r *resigner) replaced(e *entry) bool {
	b := e.bundle
	if b == nil {
		return false
	}
	rel := strings.TrimPrefix(e.name, b.dir+"/")
	if rel == "_CodeSignature" || strings.HasPrefix(rel, "_CodeSignature/") {
		return true
	}
	return e == b.exeEntry || e == b.infoEntry || (rel == "embedded.mobileprovision" && b.kind.embedsProfile())
}

// hashAll hashes, in parallel, every file of the app that is copied as is,
// and finds the Mach-O files among them. Each entry's channel is closed
// when its result is ready.
func (r *resigner) hashAll(ctx context.Context) (wait func() error) {
	var todo []*entry
	r.hashed = map[*entry]chan struct{}{}
	for _, e := range r.a.entries {
		if e.bundle == nil || e.dropped || e.dir || r.replaced(e) {
			continue
		}
		todo = append(todo, e)
		r.hashed[e] = make(chan struct{})
	}
	return hashEntries(ctx, r.a, todo, r.hashed, detectSkip, r.gate)
}

// hashEntries computes SHA-1 and SHA-256 of the content of each entry of
// a on every core. With detectSkip, Mach-O files are flagged instead of
// hashed; with detectHash they are flagged and hashed. Each entry's
// channel in done is closed when its result is ready (or when ctx is
// done). The returned function waits for the workers and returns the
// first error. Neighbouring small entries go to a worker together, which
// reads their data through its window (see window) with one read.
func hashEntries(ctx context.Context, a *archive, todo []*entry, done map[*entry]chan struct{}, detect detectMode, gate *cpuGate) func() error {
	var (
		mu    sync.Mutex
		first error
		wg    sync.WaitGroup
		next  = make(chan []*entry)
	)
	fail := func(err error) {
		mu.Lock()
		if first == nil {
			first = err
		}
		mu.Unlock()
	}
	for range max(runtime.GOMAXPROCS(0), 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 256<<10)
			win := newWindow(a.src, a.size)
			for batch := range next {
				for _, e := range batch {
					if ctx.Err() == nil {
						leave := gate.enter()
						err := hashEntry(a, e, buf, win, detect)
						leave()
						if err != nil {
							e.hashErr = err
							fail(err)
						}
					}
					close(done[e])
				}
			}
		}()
	}
	go func() {
		defer close(next)
		for i := 0; i < len(todo); {
			j := i + 1
			if from := todo[i].data; from >= 0 {
				for j < len(todo) && j-i < maxBatch {
					e := todo[j]
					if e.data < from || e.data+int64(e.f.CompressedSize64)-from > windowSize {
						break
					}
					j++
				}
			}
			next <- todo[i:j]
			i = j
		}
	}()
	return func() error {
		wg.Wait()
		if first == nil && ctx.Err() != nil {
			return ctx.Err()
		}
		return first
	}
}

// maxBatch bounds the entries a hashing worker takes at once.
const maxBatch = 64

type detectMode int

const (
	detectNone detectMode = iota
	detectSkip
	detectHash
)

// hashEntry hashes e's content (see hashEntries), reading its data
// through win when it fits (nil: through archive/zip).
func hashEntry(a *archive, e *entry, buf []byte, win *window, detect detectMode) error {
	if e.symlink {
		return nil // its target was read by scan
	}
	rc := a.openWindow(e, win)
	if rc == nil {
		var err error
		if rc, err = e.f.Open(); err != nil {
			return fmt.Errorf("opening %s: %w", e.name, err)
		}
	}
	defer rc.Close()
	h1, h2 := sha1.New(), sha256.New()
	first := true
	for {
		n, err := readChunk(rc, buf)
		if n > 0 {
			if first && detect != detectNone && n >= 8 && macho.IsMachO(buf[:n]) && !strings.Contains(e.name, ".dSYM/") {
				e.isMachO = true
				if detect == detectSkip {
					return nil
				}
			}
			first = false
			h1.Write(buf[:n])
			h2.Write(buf[:n])
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("reading %s: %w", e.name, err)
		}
	}
	e.sum = fileSum{h1.Sum(nil), h2.Sum(nil)}
	return nil
}

// readChunk fills buf from r as io.ReadFull does, but returns io.EOF
// only at the end of r: an io.ErrUnexpectedEOF is r's own (data that
// ends before the size the zip gives, a deflate stream cut short), never
// a last chunk shorter than buf.
func readChunk(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		k, err := r.Read(buf[n:])
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func (r *resigner) writeEntries(ctx context.Context, dst io.Writer) (err error) {
	r.startLane() // unless planning started it
	lane := r.lane
	var lw *laneWriter
	if r.at != nil {
		lw = &laneWriter{f: r.at}
		dst = lw
	}
	// archive/zip buffers 4 KiB, a system call each when dst is a file.
	bw := bufio.NewWriterSize(dst, 1<<20)
	zw := zip.NewWriter(bw)
	flush := func() error {
		if err := zw.Flush(); err != nil {
			return err
		}
		return bw.Flush()
	}
	r.lw, r.flush = lw, flush
	pool := &deflatePools{}
	level := r.opts.CompressionLevel
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		r.deflater = newParallelDeflater(w, level, pool)
		return r.deflater, nil
	})
	r.zw = zw
	app := r.a.app
	firstApp := len(r.a.entries)
	for _, e := range r.a.entries {
		if e.bundle != nil || e.name == app.dir {
			firstApp = min(firstApp, e.index)
		}
	}
	// Entries before the app (Payload/, ...), then the bundles innermost
	// first, then the rest (SwiftSupport/, Symbols/, metadata).
	for _, e := range r.a.entries[:firstApp] {
		if e.bundle == nil && !e.dropped {
			if err := r.copyRaw(e); err != nil {
				return err
			}
		}
	}
	if e := r.a.byName[app.dir]; e != nil && e.index >= firstApp {
		if err := r.copyRaw(e); err != nil {
			return err
		}
	}
	for _, b := range r.a.bundles {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := r.writeBundle(ctx, b); err != nil {
			return err
		}
	}
	for _, e := range r.a.entries[firstApp:] {
		if e.bundle == nil && !e.dropped && e.name != app.dir {
			if err := r.copyRaw(e); err != nil {
				return err
			}
		}
	}
	if lane != nil {
		// The app's executable comes last (see mainLane).
		if err := lane.place(ctx, zw, flush, lw, r.at); err != nil {
			return err
		}
		res, err := lane.finish(r.at)
		if err != nil {
			return err
		}
		r.recordSigned(app, res)
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if lane != nil || r.scratch > 0 {
		// Cut off the provisional place and the scratch one.
		if err := r.at.Truncate(lw.pos); err != nil {
			return fmt.Errorf("writing: %w", err)
		}
	}
	return nil
}

// remember records what the hash pass found for an entry copied raw, so
// that ResignFile's verification of the output can trust it when the
// output entry has the same CRC-32 and sizes (see knownEntry).
func (r *resigner) remember(e *entry, sum fileSum, target string) {
	if r.known == nil {
		r.known = map[string]knownEntry{}
	}
	r.known[e.name] = knownEntry{crc: e.f.CRC32, size: e.f.UncompressedSize64, csize: e.f.CompressedSize64, sum: sum, target: target}
}

// copyRaw copies e without recompressing it, cleaning its directory
// entry or missing Unix mode (see copyEntry).
func (r *resigner) copyRaw(e *entry) error {
	if e.dir {
		if r.dirsDone[e.name] {
			return nil
		}
		if r.dirsDone == nil {
			r.dirsDone = map[string]bool{}
		}
		r.dirsDone[e.name] = true
	}
	return r.copyEntry(e)
}

// parentDirs writes the input's folder entries above name that are not
// written yet, outermost first: bundles are written innermost first, and a
// nested bundle's folder entry (its parent's) must still come before its
// files.
func (r *resigner) parentDirs(name string) error {
	var dirs []*entry
	for p := path.Dir(name); p != "." && p != "/"; p = path.Dir(p) {
		if e := r.a.byName[p]; e != nil && e.dir && !e.dropped && !r.dirsDone[p] {
			dirs = append(dirs, e)
		}
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := r.copyRaw(dirs[i]); err != nil {
			return err
		}
	}
	return nil
}

// header returns a header for a rewritten entry, keeping the original's
// mode and time when there is one.
func (r *resigner) header(name string, like *entry, mode uint32) *zip.FileHeader {
	h := &zip.FileHeader{Name: name, Method: zip.Deflate}
	if like != nil {
		h.Modified = like.f.Modified
		// A like without a Unix mode (a zsign or Windows archive) gets
		// mode instead of its MS-DOS attributes.
		h.CreatorVersion, h.ExternalAttrs = modeFor(&like.f.FileHeader, mode)
	} else {
		h.Modified = r.now.UTC().Truncate(time.Second)
		h.CreatorVersion = 3 << 8
		h.ExternalAttrs = mode << 16
	}
	return h
}

func (r *resigner) writeNew(name string, like *entry, data []byte) error {
	w, err := r.zw.CreateHeader(r.header(name, like, 0o100644))
	if err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	if _, err := w.Write(data); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	s1, s2 := sha1.Sum(data), sha256.Sum256(data)
	r.written = append(r.written, writtenFile{name: name, sum: fileSum{s1[:], s2[:]}})
	return nil
}

func (r *resigner) writeBundle(ctx context.Context, b *bundle) error {
	if b.appleSigned {
		return r.keepBundle(b)
	}
	p := r.plans[b]
	var sigDir *entry
	own := slices.Clone(b.own)
	slices.SortFunc(own, func(x, y *entry) int { return x.index - y.index })
	for _, e := range own {
		if e.dropped {
			continue
		}
		if e == b.infoEntry || !r.replaced(e) {
			if err := r.parentDirs(e.name); err != nil {
				return err
			}
		}
		switch {
		case e == b.infoEntry:
			if !p.changed {
				if err := r.copyRaw(e); err != nil {
					return err
				}
				s1, s2 := sha1.Sum(p.info), sha256.Sum256(p.info)
				r.written = append(r.written, writtenFile{name: e.name, sum: fileSum{s1[:], s2[:]}})
				r.remember(e, fileSum{s1[:], s2[:]}, "")
			} else if err := r.writeNew(e.name, e, p.info); err != nil {
				return err
			}
		case r.replaced(e):
			// written below, or removed; the _CodeSignature/ folder
			// entry is kept, written before CodeResources.
			if e.dir && e.name == b.path("_CodeSignature") {
				sigDir = e
			}
		case e.dir:
			if err := r.copyRaw(e); err != nil {
				return err
			}
		default:
			<-r.hashed[e]
			if e.isMachO {
				if err := r.signLoose(ctx, b, e); err != nil {
					return err
				}
				continue
			}
			if err := r.copyRaw(e); err != nil {
				return err
			}
			if e.hashErr != nil {
				return e.hashErr
			}
			if e.sum.sha1 == nil && !e.symlink {
				if err := ctx.Err(); err != nil {
					return err
				}
				panic("ipa: internal error: " + e.name + " was not hashed")
			}
			r.written = append(r.written, writtenFile{name: e.name, sum: e.sum, symlink: e.symlink, target: e.target})
			r.remember(e, e.sum, e.target)
		}
	}
	if p.profile != nil {
		if err := r.writeNew(b.path("embedded.mobileprovision"), r.a.byName[b.path("embedded.mobileprovision")], p.profile.Raw); err != nil {
			return err
		}
	}
	cr := buildCodeResources(r.resources(b), p.seal)
	if sigDir != nil {
		if err := r.copyRaw(sigDir); err != nil {
			return err
		}
	}
	if err := r.writeNew(b.path("_CodeSignature/CodeResources"), r.a.byName[b.path("_CodeSignature/CodeResources")], cr); err != nil {
		return err
	}
	if r.lane != nil && b.exeEntry == r.lane.e {
		// Signed on its lane, placed last (see writeEntries).
		r.lane.giveCR(cr)
		return nil
	}
	so := macho.SignOptions{
		Identifier:    p.newID,
		Entitlements:  p.ents,
		InfoPlist:     p.info,
		CodeResources: cr,
	}
	var fitErr error
	if r.late[b] {
		so.EntitlementsLater = func(signed []byte) ([]byte, error) {
			b.origEnts = signed
			ents, changes, err := fitEntitlements(signed, p.profile, p.newID, fitOptions{path: b.dir, drop: r.opts.DropUngrantedEntitlements, rename: r.renameID})
			if err != nil {
				fitErr = err
				return nil, err
			}
			p.ents, p.report.EntitlementChanges, p.report.Entitlements = ents, changes, string(ents)
			return ents, nil
		}
	}
	res, err := r.signBinary(ctx, b.exeEntry, so)
	if fitErr != nil {
		// As Resign reports it, having fitted them before writing.
		return fitErr
	}
	if err != nil {
		return err
	}
	r.recordSigned(b, res)
	return nil
}

// recordSigned records the signature of bundle b's executable.
func (r *resigner) recordSigned(b *bundle, res *signed) {
	p := r.plans[b]
	fillReport(p.report, res.SignResult)
	r.seals[b.dir] = sealOf(res.SignResult)
	r.rep.Bundles = append(r.rep.Bundles, *p.report)
	r.log.Info("signed", "bundle", b.dir, "id", p.newID)
}

// resources lists what b's CodeResources seals: every file written for
// the bundle but its main executable and its own signature. Xcode's iOS
// rules have no "nested" rule, so the files of nested bundles (their
// executables and CodeResources included) and loose dylibs are sealed by
// file hash, in files and files2, as Xcode does for iOS.
func (r *resigner) resources(b *bundle) []resource {
	var res []resource
	for _, w := range r.written {
		if !strings.HasPrefix(w.name, b.dir+"/") {
			continue
		}
		rel := w.name[len(b.dir)+1:]
		if rel == b.exe || strings.HasPrefix(rel, "_CodeSignature/") {
			continue
		}
		res = append(res, resource{rel: rel, sum: w.sum, symlink: w.symlink, target: w.target})
	}
	return res
}

// sealOf returns how a parent's CodeResources seals the code signed as res.
func sealOf(res *macho.SignResult) nestedSeal {
	return nestedSeal{cdhash: primaryCDHash(res.CDHashes), requirement: res.DesignatedRequirement}
}

// primaryCDHash picks the cdhash a parent seals for a (possibly fat)
// binary: the arm64 slice's when there is one, else the first slice's.
func primaryCDHash(hs []macho.CDHash) []byte {
	for _, h := range hs {
		if h.Arch == "arm64" {
			return h.Primary
		}
	}
	if len(hs) == 0 {
		return nil
	}
	return hs[0].Primary
}

func fillReport(br *BundleReport, res *macho.SignResult) {
	br.Requirement = res.DesignatedRequirement
	for _, h := range res.CDHashes {
		br.CDHashes = append(br.CDHashes, hex.EncodeToString(h.Primary))
		br.Archs = append(br.Archs, h.Arch)
	}
}

func (r *resigner) signLoose(ctx context.Context, b *bundle, e *entry) error {
	res, err := r.signBinary(ctx, e, macho.SignOptions{})
	if err != nil {
		return err
	}
	id := res.identifier
	br := BundleReport{Path: e.name, Kind: "dylib", Identifier: id, TeamID: r.team}
	fillReport(&br, res.SignResult)
	r.seals[e.name] = sealOf(res.SignResult)
	r.rep.Bundles = append(r.rep.Bundles, br)
	return nil
}

// signBinary signs entry e's Mach-O into a new zip entry of the same name,
// hashing what it writes for the parent's CodeResources.
func (r *resigner) signBinary(ctx context.Context, e *entry, so macho.SignOptions) (*signed, error) {
	ra, size, done, err := r.openBinary(e, false)
	if err != nil {
		return nil, err
	}
	defer done()
	if so.Identifier == "" {
		// A loose binary gets the identifier codesign gives it (the one
		// Xcode's signature carries too): whatever the input's signature
		// says, the same input always gives the same identifier.
		id, err := macho.DefaultIdentifier(ra, size, e.name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", e.name, err)
		}
		so.Identifier = id
	}
	so = r.signOptions(so)
	if so.EntitlementsLater != nil {
		return r.signInMemory(ctx, e, ra, size, so)
	}
	w, err := r.zw.CreateHeader(r.header(e.name, e, 0o100755))
	if err != nil {
		return nil, fmt.Errorf("writing %s: %w", e.name, err)
	}
	if e == r.a.app.exeEntry {
		// No CodeResources seals the app's own executable: skip hashing it.
		res, err := r.sign(ctx, ra, size, w, so)
		if err != nil {
			return nil, fmt.Errorf("signing %s: %w", e.name, err)
		}
		r.keepIndex(e)
		return &signed{res, so.Identifier}, nil
	}
	h1, h2 := sha1.New(), sha256.New()
	res, err := r.sign(ctx, ra, size, io.MultiWriter(w, h1, h2), so)
	if err != nil {
		return nil, fmt.Errorf("signing %s: %w", e.name, err)
	}
	r.written = append(r.written, writtenFile{name: e.name, sum: fileSum{h1.Sum(nil), h2.Sum(nil)}})
	r.keepIndex(e)
	return &signed{res, so.Identifier}, nil
}

// signInMemory signs e, read once (see findLate): its entitlements are
// decided by so.EntitlementsLater once its code is read, and its final
// header comes last, so the signed binary is made in memory, its header
// put in place, and then written as a new zip entry of the same name,
// hashed for the parent's CodeResources as it is written.
func (r *resigner) signInMemory(ctx context.Context, e *entry, ra io.ReaderAt, size int64, so macho.SignOptions) (*signed, error) {
	var header []byte
	so.HeaderLater = func(h []byte) error {
		header = h
		return nil
	}
	if off, ok := r.scratchAt(); ok {
		return r.signAside(ctx, e, ra, size, so, off, &header)
	}
	// The signature usually takes the room of the one it replaces.
	buf := bytes.NewBuffer(make([]byte, 0, size+64<<10))
	res, err := r.signReusing(ctx, e, ra, size, so, r.reuse(e), func() io.Writer {
		buf.Reset()
		return buf
	})
	if err != nil {
		return nil, fmt.Errorf("signing %s: %w", e.name, err)
	}
	out := buf.Bytes()
	if len(header) > len(out) {
		return nil, fmt.Errorf("signing %s: internal error: a header of %d bytes for %d bytes", e.name, len(header), len(out))
	}
	copy(out, header)
	return r.writeSigned(e, res, so.Identifier, bytes.NewReader(out), int64(len(out)))
}

// writeSigned writes the n bytes of e signed (as res, with identifier
// id) read from src as a new zip entry of e's name, hashing them for the
// parent's CodeResources.
func (r *resigner) writeSigned(e *entry, res *macho.SignResult, id string, src io.ReaderAt, n int64) (*signed, error) {
	w, err := r.zw.CreateHeader(r.header(e.name, e, 0o100755))
	if err != nil {
		return nil, fmt.Errorf("writing %s: %w", e.name, err)
	}
	if r.copyBuf == nil {
		r.copyBuf = make([]byte, 1<<20)
	}
	buf := r.copyBuf
	h1, h2 := sha1.New(), sha256.New()
	for off := int64(0); off < n; {
		k := min(n-off, int64(len(buf)))
		if _, err := src.ReadAt(buf[:k], off); err != nil {
			return nil, fmt.Errorf("writing %s: %w", e.name, err)
		}
		// SHA-1 beside the writing and SHA-256.
		done := make(chan struct{})
		go func() {
			h1.Write(buf[:k])
			close(done)
		}()
		h2.Write(buf[:k])
		_, err := w.Write(buf[:k])
		<-done
		if err != nil {
			return nil, fmt.Errorf("writing %s: %w", e.name, err)
		}
		off += k
	}
	r.written = append(r.written, writtenFile{name: e.name, sum: fileSum{h1.Sum(nil), h2.Sum(nil)}})
	r.keepIndex(e)
	return &signed{res, id}, nil
}

// signAside is signInMemory with the signed binary kept aside in the
// output file, at off, past any end the archive can reach (see
// scratchAt), instead of memory: in the page cache, not the process's.
// The region is cut off at the end (see writeEntries).
func (r *resigner) signAside(ctx context.Context, e *entry, ra io.ReaderAt, size int64, so macho.SignOptions, off int64, header *[]byte) (*signed, error) {
	var bw *bufio.Writer
	var cw *countWriter
	res, err := r.signReusing(ctx, e, ra, size, so, r.reuse(e), func() io.Writer {
		cw = &countWriter{}
		bw = bufio.NewWriterSize(io.MultiWriter(io.NewOffsetWriter(r.at, off), cw), 1<<20)
		return bw
	})
	if err == nil {
		err = bw.Flush()
	}
	if err == nil && len(*header) > 0 {
		if int64(len(*header)) > cw.n {
			return nil, fmt.Errorf("signing %s: internal error: a header of %d bytes for %d bytes", e.name, len(*header), cw.n)
		}
		_, err = r.at.WriteAt(*header, off)
	}
	if err != nil {
		return nil, fmt.Errorf("signing %s: %w", e.name, err)
	}
	return r.writeSigned(e, res, so.Identifier, io.NewSectionReader(r.at, off, cw.n), cw.n)
}

// countWriter counts the bytes written to it.
type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

// scratchAt returns where in the output file signAside keeps a signed
// binary: past the lane's provisional place and what the app's
// executable can take there. Only when ResignFile writes a file that
// takes a write that far; decided in findLate, before anything is
// written.
func (r *resigner) scratchAt() (int64, bool) {
	return r.scratch, r.scratch > 0
}

// findScratch decides scratchAt; it must run before anything is
// written.
func (r *resigner) findScratch() {
	if r.at == nil {
		return
	}
	// The signature the app's executable gains is small, unless its
	// entitlements are huge (up to 64 MiB read from its own signature,
	// written twice, as XML and DER): sparse room costs nothing, and the
	// lane stops short of it (see laneTarget).
	off := r.provisional()
	if e := r.a.app.exeEntry; e != nil {
		off += alignUp(2*int64(e.f.UncompressedSize64)+1<<30, 1<<20)
	}
	if _, err := r.at.WriteAt([]byte{0}, off+2*lateMaxSize); err != nil || r.at.Truncate(0) != nil {
		r.log.Debug("signing in memory: the output file does not take the scratch offset", "offset", off, "err", err)
		return
	}
	r.scratch = off
}

// reuse reports whether the pages of e that do not change keep the
// hashes its own signature gives them (macho's
// ReusePageHashesUnchecked), instead of being hashed again: when
// ResignFile writes a file (and so checks every page hash of its output,
// and signs again hashing them all when one is wrong) and e is signed.
// Only binaries signed where a second attempt is possible are: the app's
// executable on its lane, and those signed in memory.
func (r *resigner) reuse(e *entry) bool {
	if r.at == nil || r.opts.hashAllPages {
		return false
	}
	h := r.headers[e]
	return h != nil && h.Signed
}

// signReusing signs e with r.sign, to the writer out returns, with
// reuse reusing its page hashes (see reuse); when its signature has none
// to reuse, it signs again, to a writer out returns anew, hashing them
// all.
func (r *resigner) signReusing(ctx context.Context, e *entry, ra io.ReaderAt, size int64, so macho.SignOptions, reuse bool, out func() io.Writer) (*macho.SignResult, error) {
	so.ReusePageHashesUnchecked = reuse
	res, err := r.sign(ctx, ra, size, out(), so)
	if so.ReusePageHashesUnchecked && errors.Is(err, macho.ErrNoPageHashes) {
		r.log.Debug("hashing every page", "binary", e.name, "reason", err)
		so.ReusePageHashesUnchecked = false
		res, err = r.sign(ctx, ra, size, out(), so)
	}
	if err == nil && so.ReusePageHashesUnchecked {
		r.reused.Store(true)
	}
	return res, err
}

// openBinary opens a binary to sign, inflated a few MiB ahead of its
// reading (see readAhead), through the gate (see cpuGate) unless it is
// the lane's.
func (r *resigner) openBinary(e *entry, lane bool) (io.ReaderAt, int64, func(), error) {
	ra, size, done, err := openEntry(r.a.src, e.f)
	if err != nil {
		return nil, 0, nil, err
	}
	if er, ok := ra.(*entryReaderAt); ok {
		er.ahead, er.pool = signAhead, &r.chunks
		if !lane {
			er.gate = r.gate
		}
	}
	return ra, size, done, nil
}

// signOptions completes so with what every signature of the run shares.
func (r *resigner) signOptions(so macho.SignOptions) macho.SignOptions {
	so.Identity = r.opts.Identity
	so.Chain = r.opts.Chain
	so.TeamID = r.team
	so.Log = r.log
	now := r.now
	so.Now = func() time.Time { return now }
	return so
}

// keepIndex remembers the block index of the binary just written. The
// zip writer closes the entry's compressor when the next entry starts, so
// the index is complete by the time ResignFile verifies the output.
func (r *resigner) keepIndex(e *entry) {
	if r.deflater == nil {
		return
	}
	if r.indexes == nil {
		r.indexes = map[string]blockIndex{}
	}
	d := r.deflater
	r.indexes[e.name] = nil
	r.pendingIndex = append(r.pendingIndex, pendingIndex{e.name, d})
}

// signed is what signBinary did.
type signed struct {
	*macho.SignResult
	identifier string
}

// encodeInfo encodes an edited Info.plist in the form it was found in, as
// Apple's tools lay it out (binary as current Xcode writes it, XML as
// CoreFoundation does); an OpenStep plist is written as XML.
func encodeInfo(info map[string]any, format int) ([]byte, error) {
	if format == plist.BinaryFormat {
		return plistx.MarshalBinary(info)
	}
	return plistx.MarshalXML(info)
}

// prepare decides whether the app's executable is read once (lateApp)
// and finds the bundles Apple signed.
func (r *resigner) prepare() error {
	// The app's executable, when it gets a lane of its own and is signed
	// and thin, is read once: its entitlements are fitted on the lane.
	if r.opts.Entitlements == nil && r.laneEligible() {
		h, err := r.exeHeader(r.a.app.exeEntry)
		if err != nil {
			return err
		}
		r.lateApp = h.Slices == 1 && h.Signed && !h.Encrypted
	}
	if err := r.findAppleSigned(); err != nil {
		return err
	}
	r.findLate()
	return nil
}

// lateMaxSize is the size up to which the executable of an extension
// (or of any other bundle with a profile but the app) is signed in
// memory and read once (see signInMemory).
const lateMaxSize = 32 << 20

// findLate marks the bundles but the app whose executables are read
// once, when ResignFile writes a file: the executables of extensions and
// other bundles with a profile that are signed already, thin and at most
// lateMaxSize bytes. Their entitlements are fitted as they are signed,
// from their own signature, instead of in a pass of their own before
// anything is written; Resign, which writes a stream, keeps that pass,
// so that nothing is written before every bundle's entitlements check
// out.
func (r *resigner) findLate() {
	if r.at == nil {
		return
	}
	defer func() {
		if len(r.late) > 0 {
			r.findScratch()
		}
	}()
	for _, b := range r.a.bundles {
		e := b.exeEntry
		if b == r.a.app || b.appleSigned || !b.kind.embedsProfile() || e == nil || e.dropped || e.f.UncompressedSize64 > lateMaxSize {
			continue
		}
		// A header that does not read is reported by planBundle.
		if h, err := r.exeHeader(e); err == nil && h.Slices == 1 && h.Signed && !h.Encrypted {
			if r.late == nil {
				r.late = map[*bundle]bool{}
			}
			r.late[b] = true
		}
	}
}

// readAllOrigEnts reads the entitlements every bundle's executable was
// signed with, on every core: a deflated executable is inflated up to its
// (first slice's) signature, so the largest one bounds the wait.
func (r *resigner) readAllOrigEnts(ctx context.Context) error {
	var todo []*bundle
	for _, b := range r.a.bundles {
		if b.kind != kindFramework && !b.appleSigned && !r.late[b] && !(b == r.a.app && (r.opts.Entitlements != nil || r.lateApp)) {
			todo = append(todo, b)
		}
	}
	// The largest first, so that the others fill the other cores.
	slices.SortStableFunc(todo, func(x, y *bundle) int {
		return cmp.Compare(y.exeEntry.f.UncompressedSize64, x.exeEntry.f.UncompressedSize64)
	})
	next := make(chan *bundle)
	errs := make(chan error, len(todo))
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(todo)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range next {
				if ctx.Err() != nil {
					errs <- ctx.Err()
					continue
				}
				errs <- r.readOrigEnts(b)
			}
		}()
	}
	for _, b := range todo {
		next <- b
	}
	close(next)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// findAppleSigned marks the frameworks, XPC services and loadable bundles
// that Apple itself signed (designated requirement "anchor apple", not
// "anchor apple generic"), and every bundle inside them: Xcode leaves
// them as they are. Only the signatures of bundles with a com.apple. ID
// and an executable of at most smallEntry bytes are read: Apple's code
// has Apple's IDs and is small, and the others are not read twice.
func (r *resigner) findAppleSigned() error {
	for _, b := range r.a.bundles {
		switch b.kind {
		case kindFramework, kindXPC, kindBundle:
		default:
			continue
		}
		if !strings.HasPrefix(b.bundleID, "com.apple.") || b.exeEntry.f.UncompressedSize64 > smallEntry {
			continue
		}
		ra, size, done, err := openEntry(r.a.src, b.exeEntry.f)
		if err != nil {
			return err
		}
		sig, err := macho.ReadSignature(ra, size)
		done()
		if err == nil && isAppleDesignated(sig.Slices[0].Designated) {
			b.appleSigned = true
		}
	}
	for _, b := range r.a.bundles {
		for p := b.parent; p != nil && !b.appleSigned; p = p.parent {
			b.appleSigned = p.appleSigned
		}
	}
	return nil
}

// isAppleDesignated reports whether a designated requirement is the one
// of code Apple signs itself.
func isAppleDesignated(dr string) bool {
	return strings.Contains(dr, "anchor apple") && !strings.Contains(dr, "anchor apple generic")
}

// keepBundle copies an Apple-signed bundle as it is, hashing its files
// for the parent's seal.
func (r *resigner) keepBundle(b *bundle) error {
	own := slices.Clone(b.own)
	slices.SortFunc(own, func(x, y *entry) int { return x.index - y.index })
	buf := make([]byte, 256<<10)
	for _, e := range own {
		if e.dropped {
			continue
		}
		if err := r.parentDirs(e.name); err != nil {
			return err
		}
		if err := r.copyRaw(e); err != nil {
			return err
		}
		if e.dir {
			continue
		}
		if ch, ok := r.hashed[e]; ok {
			<-ch
			if e.hashErr != nil {
				return e.hashErr
			}
		}
		if e.sum.sha1 == nil && !e.symlink {
			// Not hashed by the hash pass: its executable, Info.plist,
			// signature, and Mach-O files.
			if err := hashEntry(r.a, e, buf, nil, detectNone); err != nil {
				return err
			}
		}
		r.written = append(r.written, writtenFile{name: e.name, sum: e.sum, symlink: e.symlink, target: e.target})
		r.remember(e, e.sum, e.target)
	}
	br := BundleReport{Path: b.dir, Kind: b.kind.String(), BundleID: b.bundleID, Identifier: b.bundleID, AppleSigned: true}
	r.rep.Bundles = append(r.rep.Bundles, br)
	r.log.Info("left as Apple signed it", "bundle", b.dir)
	return nil
}
