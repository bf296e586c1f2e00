package macho

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"time"
)

const chunkSize = 1 << 20 // bytes read, written and hashed at a time

// signParams is what every slice of one binary shares.
type signParams struct {
	opts         SignOptions
	certs        []*x509.Certificate
	teamID       string
	requirements []byte
	entBlob      []byte // nil when no entitlements
	entDERBlob   []byte
	// entExecFlags are the exec-segment flags the entitlements call for
	// on a main executable.
	entExecFlags uint64
	now          time.Time
	log          *slog.Logger
	// codeResources is special slot 3; pending while it is to come from
	// opts.CodeResourcesLater (it is then an empty placeholder).
	codeResources []byte
	pending       bool
}

// slicePlan is how one slice is rewritten.
type slicePlan struct {
	s         *slice
	header    []byte // patched mach header and load commands
	codeLimit int64  // offset of the signature in the slice: the bytes hashed
	sigSize   int64  // bytes reserved for the signature
	hashTypes []uint8
	nPages    int
	outOffset int64
}

func (p *slicePlan) outSize() int64 { return p.codeLimit + p.sigSize }

func sign(ctx context.Context, src io.ReaderAt, size int64, dst io.Writer, opts SignOptions) (*SignResult, error) {
	params, err := newSignParams(opts)
	if err != nil {
		return nil, err
	}
	// The Info.plist linked into a loose binary is hashed in special slot
	// 1 when the caller gives none.
	f, err := parseFileOpts(src, size, opts.InfoPlist == nil)
	if err != nil {
		return nil, err
	}
	late := opts.EntitlementsLater != nil && opts.Entitlements == nil
	if late && (f.fat || f.slices[0].sigCmd < 0 || opts.HeaderLater == nil) {
		return nil, ErrNotLate
	}
	var plans []*slicePlan
	for _, s := range f.slices {
		if s.cryptID != 0 {
			return nil, ErrEncrypted
		}
		plan := params.plan
		if late {
			plan = params.planLate
		}
		p, err := plan(s)
		if err != nil {
			if f.fat {
				return nil, fmt.Errorf("architecture %s: %w", s.arch(), err)
			}
			return nil, err
		}
		plans = append(plans, p)
	}

	var hdr []byte
	if f.fat {
		hdr = fatHeader(plans) // sets each plan's outOffset
	}
	if opts.Layout != nil && !late {
		last := plans[len(plans)-1]
		opts.Layout(last.outOffset + last.outSize())
	}
	cw := &countWriter{w: dst}
	if f.fat {
		if last := plans[len(plans)-1]; last.outOffset+last.outSize() > 0xffffffff {
			return nil, fmt.Errorf("%w: a fat binary over 4 GiB is not supported", ErrTruncated)
		}
		if _, err := cw.Write(hdr); err != nil {
			return nil, fmt.Errorf("writing: %w", err)
		}
	}
	res := &SignResult{}
	res.DesignatedRequirement, res.DesignatedRequirementBlob = designatedFromSet(params.requirements)
	for _, p := range plans {
		if pad := p.outOffset - cw.n; pad > 0 {
			if err := writeZeros(cw, pad); err != nil {
				return nil, fmt.Errorf("writing: %w", err)
			}
		}
		h, err := params.signSlice(ctx, src, cw, p)
		if err != nil {
			if f.fat {
				return nil, fmt.Errorf("architecture %s: %w", p.s.arch(), err)
			}
			return nil, err
		}
		res.CDHashes = append(res.CDHashes, h)
	}
	res.Size = cw.n
	return res, nil
}

func newSignParams(opts SignOptions) (*signParams, error) {
	id := opts.Identity
	if id == nil || id.Certificate == nil {
		return nil, errors.New("macho: no signing identity")
	}
	if id.Signer == nil {
		return nil, errors.New("macho: the signing identity has no private key")
	}
	if opts.Identifier == "" {
		return nil, errors.New("macho: no code signing identifier")
	}
	if strings.IndexByte(opts.Identifier, 0) >= 0 || strings.IndexByte(opts.TeamID, 0) >= 0 {
		return nil, errors.New("macho: identifier or team ID contains a NUL byte")
	}
	p := &signParams{opts: opts, log: opts.Log, codeResources: opts.CodeResources}
	if p.codeResources == nil && opts.CodeResourcesLater != nil {
		p.codeResources, p.pending = []byte{}, true
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	chain := opts.Chain
	if chain == nil {
		chain = id.Chain
	}
	leaf := id.Certificate
	p.certs = []*x509.Certificate{leaf}
	for _, c := range chain {
		if c != nil && !c.Equal(leaf) {
			p.certs = append(p.certs, c)
		}
	}
	if !isSelfSigned(leaf) && issuerOf(leaf, p.certs[1:]) == nil {
		return nil, ErrIncompleteChain
	}
	p.teamID = opts.TeamID
	if p.teamID == "" && len(leaf.Subject.OrganizationalUnit) > 0 {
		p.teamID = leaf.Subject.OrganizationalUnit[0]
	}
	if opts.Requirements != nil {
		if _, err := decompileRequirementSet(opts.Requirements); err != nil {
			return nil, fmt.Errorf("macho: the requirements given: %w", err)
		}
		p.requirements = opts.Requirements
	} else {
		_, dr := designatedRequirement(opts.Identifier, leaf)
		p.requirements = requirementSet(dr)
	}
	if err := p.setEntitlements(opts.Entitlements); err != nil {
		return nil, err
	}
	p.now = time.Now()
	if opts.Now != nil {
		p.now = opts.Now()
	}
	return p, nil
}

// setEntitlements sets the entitlements blobs from the XML plist xml;
// nil: none.
func (p *signParams) setEntitlements(xml []byte) error {
	p.entBlob, p.entDERBlob, p.entExecFlags = nil, nil, 0
	if xml == nil {
		return nil
	}
	ents, err := parseEntitlements(xml)
	if err != nil {
		return fmt.Errorf("macho: %w", err)
	}
	der, err := entitlementsDER(ents)
	if err != nil {
		return fmt.Errorf("macho: %w", err)
	}
	p.entBlob = blob(magicEntitlements, xml)
	p.entDERBlob = blob(magicEntitlementsDER, der)
	p.entExecFlags = entitlementExecFlags(ents)
	return nil
}

// issuerOf returns the certificate in pool that signed cert.
func issuerOf(cert *x509.Certificate, pool []*x509.Certificate) *x509.Certificate {
	for _, c := range pool {
		if string(c.RawSubject) == string(cert.RawIssuer) && cert.CheckSignatureFrom(c) == nil {
			return c
		}
	}
	return nil
}

func designatedFromSet(set []byte) (string, []byte) {
	be := binary.BigEndian
	if len(set) < 12 {
		return "", nil
	}
	n := int(be.Uint32(set[8:]))
	for i := 0; i < n && 20+8*i <= len(set); i++ {
		if be.Uint32(set[12+8*i:]) != requirementDesignated {
			continue
		}
		off := be.Uint32(set[16+8*i:])
		if uint64(off)+8 > uint64(len(set)) {
			return "", nil
		}
		l := be.Uint32(set[off+4:])
		if uint64(off)+uint64(l) > uint64(len(set)) {
			return "", nil
		}
		b := set[off : off+l]
		text, err := decompileRequirement(b)
		if err != nil {
			return "", nil
		}
		return text, append([]byte(nil), b...)
	}
	return "", nil
}

func alignUp(v, a int64) int64 { return (v + a - 1) &^ (a - 1) }

// specialSlots returns the special slot contents to hash for slice s,
// slot 1 first. Slot 1 is the bundle's Info.plist, or the one linked into
// a loose binary (__TEXT,__info_plist), as codesign hashes it. The DER
// entitlements go to main executables only, as codesign writes them.
func (p *signParams) specialSlots(s *slice) [][]byte {
	info := p.opts.InfoPlist
	if info == nil {
		info = s.infoPlist
	}
	var der []byte
	if s.isExecutable() {
		der = p.entDERBlob
	}
	slots := [][]byte{info, p.requirements, p.codeResources, nil, p.entBlob, nil, der}
	n := len(slots)
	for n > 0 && slots[n-1] == nil {
		n--
	}
	return slots[:n]
}

// pieces returns the blobs of slice s's signature besides its
// CodeDirectories and CMS, in slot order.
func (p *signParams) pieces(s *slice) []slotBlob {
	b := []slotBlob{{slotRequirements, p.requirements}}
	if p.entBlob != nil {
		b = append(b, slotBlob{slotEntitlements, p.entBlob})
		if s.isExecutable() {
			b = append(b, slotBlob{slotEntitlementsDER, p.entDERBlob})
		}
	}
	return b
}

// execSegFlags returns the CodeDirectory's exec-segment flags for slice s:
// codesign marks a main executable (MH_EXECUTE) and adds the flags its
// entitlements call for; other code gets none.
func (p *signParams) execSegFlags(s *slice) uint64 {
	if !s.isExecutable() {
		return 0
	}
	return execSegMainBin | p.entExecFlags
}

// entitlementExecFlags maps entitlements to the exec-segment flags
// codesign derives from them (cs_blobs.h CS_EXECSEG_*).
func entitlementExecFlags(ents map[string]any) uint64 {
	var f uint64
	for _, e := range []struct {
		key  string
		flag uint64
	}{
		{"get-task-allow", execSegAllowUns},
		{"run-unsigned-code", execSegAllowUns},
		{"com.apple.private.cs.debugger", execSegDebugger},
		{"dynamic-codesigning", execSegJIT},
		{"com.apple.private.skip-library-validation", execSegSkipLV},
		{"com.apple.private.amfi.can-load-cdhash", execSegCanLoadCDHash},
		{"com.apple.private.amfi.can-execute-cdhash", execSegCanExecCDHash},
	} {
		if v, ok := ents[e.key].(bool); ok && v {
			f |= e.flag
		}
	}
	return f
}

// codesignCMSReserve is the room codesign reserves for the CMS signature
// (SecCodeSigner's default cmssize, doubled since Xcode 12).
const codesignCMSReserve = 18000

// codesignReserve returns the bytes codesign reserves for a signature of
// the given pieces and CodeDirectory sizes: its size estimate counts a
// CodeDirectory 8 bytes larger than version 0x20400 writes (the 0x20500
// fields), one index entry per blob and codesignCMSReserve bytes of CMS,
// rounded up to 16 bytes. Checked against every signature of the Apple
// corpus (deviceagent-2023: app, xctest, frameworks, dylibs; one and two
// CodeDirectories).
func codesignReserve(pieces []slotBlob, cdSizes []int) int64 {
	n := int64(12 + 8*(len(pieces)+len(cdSizes)+1) + codesignCMSReserve)
	for _, b := range pieces {
		n += int64(len(b.data))
	}
	for _, c := range cdSizes {
		n += int64(c) + 8
	}
	return alignUp(n, 16)
}

// plan decides the layout of a signed slice.
func (p *signParams) plan(s *slice) (*slicePlan, error) {
	le := binary.LittleEndian
	pl := &slicePlan{s: s}
	link := s.linkedit
	linkEnd := int64(link.fileOff + link.fileLen)
	var sigOff int64
	if s.sigCmd >= 0 {
		sigOff = alignUp(int64(s.sigOff), 16)
		if int64(s.sigOff) < int64(link.fileOff) {
			return nil, fmt.Errorf("%w: the code signature is not in __LINKEDIT", ErrTruncated)
		}
	} else {
		if linkEnd < s.size || linkEnd > s.size+linkeditSlack {
			return nil, fmt.Errorf("%w: __LINKEDIT ends at %d but the image has %d bytes", ErrTruncated, linkEnd, s.size)
		}
		sigOff = alignUp(linkEnd, 16)
	}
	pl.codeLimit = sigOff
	pl.nPages = int((sigOff + pageSize - 1) / pageSize)
	pl.hashTypes = []uint8{hashTypeSHA256}
	if s.needsSHA1() {
		pl.hashTypes = []uint8{hashTypeSHA1, hashTypeSHA256}
	}

	// Reserve the signature as codesign does (see codesignReserve), or
	// more when our own worst case needs it (an unusually long chain).
	special := p.specialSlots(s)
	pieces := p.pieces(s)
	total := int64(12 + 8*len(pieces))
	for _, b := range pieces {
		total += 8 + int64(len(b.data))
	}
	in := cmsInput{certs: p.certs, time: p.now}
	var cdSizes []int
	for _, t := range pl.hashTypes {
		n := cdSize(p.opts.Identifier, p.teamID, len(special), pl.nPages, t)
		cdSizes = append(cdSizes, n)
		total += 8 + int64(n)
		in.cds = append(in.cds, make([]byte, n))
		in.cdTypes = append(in.cdTypes, t)
	}
	in.primaryCD = in.cds[0]
	cms, err := buildCMS(in, true)
	if err != nil {
		return nil, err
	}
	total += 8 + 8 + int64(len(cms))
	pl.sigSize = max(codesignReserve(pieces, cdSizes), alignUp(total, 16))

	// Patch the header.
	h := append([]byte(nil), s.header...)
	cmd := s.sigCmd
	if cmd < 0 {
		end := len(h)
		if int64(end)+codeSignatureCmdSize > s.firstSectionData {
			return nil, ErrNoRoom
		}
		h = append(h, make([]byte, codeSignatureCmdSize)...)
		le.PutUint32(h[end:], lcCodeSignature)
		le.PutUint32(h[end+4:], codeSignatureCmdSize)
		le.PutUint32(h[16:], s.ncmds+1)
		le.PutUint32(h[20:], s.sizeofcmds+codeSignatureCmdSize)
		cmd = end
	}
	if sigOff+pl.sigSize > 0xffffffff {
		return nil, fmt.Errorf("%w: the image is too large to sign", ErrTruncated)
	}
	le.PutUint32(h[cmd+8:], uint32(sigOff))
	le.PutUint32(h[cmd+12:], uint32(pl.sigSize))
	// codesign_allocate sets __LINKEDIT's vmsize to its new file size
	// rounded up to the segment alignment.
	newLen := uint64(sigOff + pl.sigSize - int64(link.fileOff))
	vm := uint64(alignUp(int64(newLen), int64(s.pageAlign())))
	c := link.cmdOff
	if s.is64 {
		le.PutUint64(h[c+32:], vm)
		le.PutUint64(h[c+48:], newLen)
	} else {
		if vm > 0xffffffff {
			return nil, fmt.Errorf("%w: __LINKEDIT too large", ErrTruncated)
		}
		le.PutUint32(h[c+28:], uint32(vm))
		le.PutUint32(h[c+36:], uint32(newLen))
	}
	pl.header = h
	return pl, nil
}

// planLate is plan for a signature whose entitlements are decided once the
// code is read (SignOptions.EntitlementsLater): the header is written as
// found, and the signature's size is decided by decideLate.
func (p *signParams) planLate(s *slice) (*slicePlan, error) {
	pl := &slicePlan{s: s, header: s.header}
	pl.codeLimit = alignUp(int64(s.sigOff), 16)
	if int64(s.sigOff) < int64(s.linkedit.fileOff) {
		return nil, fmt.Errorf("%w: the code signature is not in __LINKEDIT", ErrTruncated)
	}
	pl.nPages = int((pl.codeLimit + pageSize - 1) / pageSize)
	pl.hashTypes = []uint8{hashTypeSHA256}
	if s.needsSHA1() {
		pl.hashTypes = []uint8{hashTypeSHA1, hashTypeSHA256}
	}
	return pl, nil
}

// decideLate takes the input's own signature (blobs, read where the code
// ends), asks for the entitlements, lays the signature out as plan does
// and rehashes the pages that hold the final header.
func (p *signParams) decideLate(src io.ReaderAt, pl *slicePlan, pages [][]byte, blobs []slotBlob) error {
	s := pl.s
	var signed []byte
	for _, b := range blobs { // a damaged old signature has none
		if b.slot == slotEntitlements && len(b.data) >= 8 {
			signed = bytes.Clone(b.data[8:])
		}
	}
	ents, err := p.opts.EntitlementsLater(signed)
	if err != nil {
		return err
	}
	if err := p.setEntitlements(ents); err != nil {
		return err
	}
	full, err := p.plan(s)
	if err != nil {
		return err
	}
	if full.codeLimit != pl.codeLimit {
		return fmt.Errorf("macho: internal error: late code limit %d, planned %d", full.codeLimit, pl.codeLimit)
	}
	pl.header, pl.sigSize = full.header, full.sigSize
	// The pages holding the header were hashed with the header as found.
	n := min(int64(pl.nPages), (int64(len(pl.header))+pageSize-1)/pageSize)
	head, err := hashPages(context.Background(), src, s.offset, s.size, min(n*pageSize, pl.codeLimit), pl.header, nil, pl.hashTypes, pageShift, nil)
	if err != nil {
		return err
	}
	for j := range pl.hashTypes {
		copy(pages[j], head[j])
	}
	if p.opts.Layout != nil {
		p.opts.Layout(pl.outSize())
	}
	return p.opts.HeaderLater(bytes.Clone(pl.header))
}

func fatHeader(plans []*slicePlan) []byte {
	be := binary.BigEndian
	hdr := make([]byte, 8+20*len(plans))
	be.PutUint32(hdr, fatMagic)
	be.PutUint32(hdr[4:], uint32(len(plans)))
	off := int64(len(hdr))
	for i, p := range plans {
		a := p.s.fatAlign()
		off = alignUp(off, 1<<a)
		p.outOffset = off
		e := hdr[8+20*i:]
		be.PutUint32(e, uint32(p.s.cpuType))
		be.PutUint32(e[4:], uint32(p.s.cpuSubtype))
		be.PutUint32(e[8:], uint32(off))
		be.PutUint32(e[12:], uint32(p.outSize()))
		be.PutUint32(e[16:], a)
		off += p.outSize()
	}
	return hdr
}

// signSlice streams the slice's code to w while hashing its pages, then
// writes the signature.
func (p *signParams) signSlice(ctx context.Context, src io.ReaderAt, w io.Writer, pl *slicePlan) (CDHash, error) {
	s := pl.s
	reuse := p.opts.ReusePageHashesUnchecked
	if reuse && s.sigCmd < 0 {
		return CDHash{}, fmt.Errorf("%w: the binary is not signed", ErrNoPageHashes)
	}
	pages, err := streamPages(ctx, src, w, pl, reuse)
	if err != nil {
		return CDHash{}, err
	}
	// The input's own signature, where its code ends, read once.
	var old []slotBlob
	if pl.sigSize == 0 || reuse {
		if _, old, err = readSignatureBlobs(src, s); err != nil && !errors.Is(err, ErrBadSignature) {
			return CDHash{}, err
		}
	}
	if pl.sigSize == 0 { // planLate
		if err := p.decideLate(src, pl, pages, old); err != nil {
			return CDHash{}, err
		}
	}
	if reuse {
		if err := reusePageHashes(old, pl, pages); err != nil {
			return CDHash{}, err
		}
	}
	if p.pending {
		cr, err := p.opts.CodeResourcesLater(ctx)
		if err != nil {
			return CDHash{}, err
		}
		if cr == nil {
			return CDHash{}, errors.New("macho: CodeResourcesLater returned nothing")
		}
		p.codeResources, p.pending = cr, false
	}
	special := p.specialSlots(s)
	var cds [][]byte
	res := CDHash{Arch: s.arch()}
	execFlags := p.execSegFlags(s)
	for i, t := range pl.hashTypes {
		cd := &codeDirectory{
			hashType:     t,
			identifier:   p.opts.Identifier,
			teamID:       p.teamID,
			codeLimit:    pl.codeLimit,
			pages:        pages[i],
			execSegBase:  s.text.fileOff,
			execSegLimit: s.text.fileLen,
			execSegFlags: execFlags,
		}
		for _, sp := range special {
			if sp == nil {
				cd.special = append(cd.special, nil)
			} else {
				cd.special = append(cd.special, sum(t, sp))
			}
		}
		b := cd.marshal()
		cds = append(cds, b)
		h := sum(t, b)
		if t == hashTypeSHA1 {
			res.SHA1 = h
		} else {
			res.SHA256 = h
		}
		if i == 0 {
			res.Primary = h[:20]
		}
	}
	blobs := append([]slotBlob{{slotCodeDirectory, cds[0]}}, p.pieces(s)...)
	for i := 1; i < len(cds); i++ {
		blobs = append(blobs, slotBlob{uint32(slotAlternateCD + i - 1), cds[i]})
	}
	cms, err := buildCMS(cmsInput{primaryCD: cds[0], cds: cds, cdTypes: pl.hashTypes, certs: p.certs, signer: p.opts.Identity.Signer, time: p.now}, false)
	if err != nil {
		return CDHash{}, err
	}
	blobs = append(blobs, slotBlob{slotSignature, blob(magicBlobWrapper, cms)})
	sb := superBlob(blobs)
	if int64(len(sb)) > pl.sigSize {
		return CDHash{}, fmt.Errorf("macho: internal error: signature of %d bytes exceeds the %d reserved", len(sb), pl.sigSize)
	}
	if _, err := w.Write(sb); err != nil {
		return CDHash{}, fmt.Errorf("writing: %w", err)
	}
	if err := writeZeros(w, pl.sigSize-int64(len(sb))); err != nil {
		return CDHash{}, fmt.Errorf("writing: %w", err)
	}
	p.log.Debug("signed Mach-O slice", "arch", res.Arch, "identifier", p.opts.Identifier, "pages", pl.nPages, "cdhash", fmt.Sprintf("%x", res.Primary))
	return res, nil
}

// streamPages copies the slice's first codeLimit bytes to w, with the
// patched header, and returns the page hashes for each hash type. With
// reuse, only the chunks that hold the header and the last one are
// hashed (see reusedChunk).
func streamPages(ctx context.Context, src io.ReaderAt, w io.Writer, pl *slicePlan, reuse bool) ([][]byte, error) {
	var hashChunk func(off, n int64) bool
	if reuse {
		hashChunk = func(off, n int64) bool { return !pl.reusedChunk(off, n) }
	}
	return hashPages(ctx, src, pl.s.offset, pl.s.size, pl.codeLimit, pl.header, w, pl.hashTypes, pageShift, hashChunk)
}

// reusedChunk reports whether the chunk of n bytes at off (see hashPages)
// takes its page hashes from the input's signature
// (SignOptions.ReusePageHashesUnchecked): every chunk but those holding
// the header, as found or as written, and the last one, where the code
// limit may have moved.
func (pl *slicePlan) reusedChunk(off, n int64) bool {
	return off >= int64(max(len(pl.header), len(pl.s.header))) && off+n < pl.codeLimit
}

// reusePageHashes fills in the page hashes of the chunks streamPages did
// not hash with those of the input's own CodeDirectories (blobs, from
// its signature): ErrNoPageHashes when one of the hash types, or one of
// those pages, is missing from them.
func reusePageHashes(blobs []slotBlob, pl *slicePlan, pages [][]byte) error {
	chunk := int64(max(chunkSize, pageSize))
	for j, t := range pl.hashTypes {
		var cd *parsedCD
		for _, b := range blobs {
			if b.slot != slotCodeDirectory && (b.slot < slotAlternateCD || b.slot >= slotAlternateCD+5) {
				continue
			}
			if c, err := parseCodeDirectory(b.data); err == nil && c.hashType == t {
				cd = c
				break
			}
		}
		if cd == nil || cd.pageShift != pageShift {
			return fmt.Errorf("%w: no %s CodeDirectory of %d-byte pages", ErrNoPageHashes, hashName(t), pageSize)
		}
		hs := hashSize(t)
		for off := int64(0); off < pl.codeLimit; off += chunk {
			n := min(chunk, pl.codeLimit-off)
			if !pl.reusedChunk(off, n) {
				continue
			}
			first, end := int(off>>pageShift), int((off+n)>>pageShift) // whole pages: n is a multiple of the page size
			if end > cd.nCode || int64(end)<<pageShift > cd.codeLimit {
				return fmt.Errorf("%w: the %s CodeDirectory covers %d pages", ErrNoPageHashes, hashName(t), cd.nCode)
			}
			copy(pages[j][first*hs:end*hs], cd.raw[cd.hashOff+first*hs:cd.hashOff+end*hs])
		}
	}
	return nil
}

// hashPages reads limit bytes of the image at base (of size bytes; zeros
// past its end), overlays header at its start, copies them to w when not
// nil, and returns the hashes of each 1<<shift-byte page for each hash
// type. Reads and writes are sequential; hashing runs on every core.
//
// hashChunk, when not nil, says which chunks (of max(chunkSize, page
// size) bytes, the last one shorter) to hash; the hashes of the others
// are left zero.
func hashPages(ctx context.Context, src io.ReaderAt, base, size, limit int64, header []byte, w io.Writer, types []uint8, shift uint8, hashChunk func(off, n int64) bool) ([][]byte, error) {
	psize := 1 << shift
	chunk := int64(max(chunkSize, psize))
	workers := runtime.GOMAXPROCS(0)
	bufs := make(chan []byte, workers+1)
	for i := 0; i < cap(bufs); i++ {
		bufs <- nil
	}
	// Each chunk's hashes go to their own slice, allocated as the chunk
	// is read: memory follows the bytes really read, not the sizes the
	// headers claim.
	var parts [][][]byte // chunk, hash type
	var wg sync.WaitGroup
	defer wg.Wait()
	for off := int64(0); off < limit; off += chunk {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n := min(chunk, limit-off)
		buf := <-bufs
		if buf == nil {
			buf = make([]byte, chunk)
		}
		buf = buf[:n]
		avail := min(n, max(0, size-off))
		if avail > 0 {
			if m, err := src.ReadAt(buf[:avail], base+off); int64(m) < avail {
				bufs <- buf
				if err == nil || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
					return nil, ErrTruncated
				}
				return nil, fmt.Errorf("reading: %w", err)
			}
		}
		clear(buf[avail:])
		if off < int64(len(header)) {
			copy(buf, header[off:])
		}
		if w != nil {
			if _, err := w.Write(buf); err != nil {
				bufs <- buf
				return nil, fmt.Errorf("writing: %w", err)
			}
		}
		pages := (len(buf) + psize - 1) / psize
		part := make([][]byte, len(types))
		if hashChunk != nil && !hashChunk(off, n) {
			for j, t := range types {
				part[j] = make([]byte, pages*hashSize(t))
			}
			parts = append(parts, part)
			bufs <- buf
			continue
		}
		for j, t := range types {
			part[j] = make([]byte, 0, pages*hashSize(t))
		}
		parts = append(parts, part)
		wg.Add(1)
		go func(buf []byte, part [][]byte) {
			defer wg.Done()
			for j, t := range types {
				h := newHash(t)
				for i := 0; i*psize < len(buf); i++ {
					h.Reset()
					h.Write(buf[i*psize : min(len(buf), (i+1)*psize)])
					part[j] = h.Sum(part[j]) // within capacity: no allocation
				}
			}
			bufs <- buf
		}(buf, part)
	}
	wg.Wait()
	out := make([][]byte, len(types))
	for j, t := range types {
		nPages := int((limit + int64(psize) - 1) / int64(psize))
		out[j] = make([]byte, 0, nPages*hashSize(t))
		for _, part := range parts {
			out[j] = append(out[j], part[j]...)
		}
	}
	return out, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}

func writeZeros(w io.Writer, n int64) error {
	zeros := make([]byte, min(n, 4096))
	for n > 0 {
		k := min(n, int64(len(zeros)))
		if _, err := w.Write(zeros[:k]); err != nil {
			return err
		}
		n -= k
	}
	return nil
}
