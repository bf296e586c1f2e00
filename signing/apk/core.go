package apk

import (
	"bytes"
	"context"
	"crypto"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"slices"
	"sync"

	"github.com/storesign/storesign/internal/zipx"
	"github.com/storesign/storesign/signing"
)

// Entries apksig drops from the input (and would regenerate for a source
// stamp or pin list, which storesign does not write).
const (
	stampEntryName   = "stamp-cert-sha256"
	pinListEntryName = "pinlist.meta"
)

// sign writes the signed APK. It follows apksig's ApkSigner.sign step by
// step so that the bytes come out the same.
func (c *config) sign(ctx context.Context, dst io.Writer, src io.ReaderAt, arch *archive) (*Result, error) {
	// The content digests: one per hash the signers use (two when a key
	// was rotated to a stronger one).
	hashes := c.contentHashes()
	var chunkHash crypto.Hash
	if len(hashes) > 0 {
		chunkHash = hashes[0]
	}
	p := newPipeline(ctx, dst, chunkHash, c.v4)
	if len(hashes) > 1 {
		p.hash2 = hashes[1]
	}
	p.verity = c.anyVerity()
	defer p.close()
	res := &Result{
		V1: c.v1, V2: c.v2, V3: c.v3, V4: c.v4,
		MinSDKVersion: c.minSDK,
		Signer:        c.id.Certificate,
		Chain:         c.id.Chain,
		V31:           len(c.v31) > 0,
	}
	// The newest v3 signer comes first.
	if v3 := slices.Concat(c.v31, c.v30); c.opts.Lineage != nil && len(v3) > 0 {
		res.RotatedSigner = v3[0].id.Certificate
	}
	if !c.opts.AlignmentPreserved {
		res.LibPageAlignment = c.libAlign
	}
	sfName, blockName, mfName := c.v1EntryNames()

	// Entries in the order of their local headers.
	sorted := slices.Clone(arch.Entries)
	slices.SortStableFunc(sorted, func(a, b *zipx.Entry) int {
		switch {
		case a.HeaderOffset < b.HeaderOffset:
			return -1
		case a.HeaderOffset > b.HeaderOffset:
			return 1
		}
		return 0
	})

	var (
		jarManifest   []byte // the JAR manifest written, for a source stamp
		inOff, outOff int64
		outCD         = make(map[string][]byte, len(sorted))
		lastDate      = -1
		lastTime      = -1
		sourceMF      *record
		digests       []v1Digest
		digestSlots   []*v1Digest
	)
	copyRaw := func(off, n int64) error {
		if err := p.copyFrom(src, off, n, nil); err != nil {
			return err
		}
		outOff += n
		return nil
	}
	// copyRecord copies rec from off to its end; the data of a stored
	// entry is fed to eh (its JAR digest) by the chunk jobs as it goes.
	copyRecord := func(rec *record, off int64, eh *entryHash) error {
		n := rec.start + rec.size - off
		if err := p.copyFrom(src, off, n, eh); err != nil {
			return err
		}
		outOff += n
		return nil
	}
	for _, e := range sorted {
		if e.Name == stampEntryName || e.Name == pinListEntryName {
			continue
		}
		output := digestNeeded(e.Name)
		if c.v1 && (e.Name == sfName || e.Name == blockName || e.Name == mfName || c.isCoSignerFile(e.Name)) {
			output = false
		}
		if e.HeaderOffset > inOff {
			if err := copyRaw(inOff, e.HeaderOffset-inOff); err != nil {
				return nil, err
			}
			inOff = e.HeaderOffset
		}
		rec, err := readRecord(src, e, arch.lfhEnd)
		if err != nil {
			return nil, err
		}
		inOff += rec.size
		if c.v1 && e.Name == mfName {
			sourceMF = rec
		}
		if !output {
			continue
		}
		if d, t := int(e.ModDate), int(e.ModTime); lastDate == -1 || d > lastDate || (d == lastDate && t > lastTime) {
			lastDate, lastTime = d, t
		}
		var eh *entryHash
		if c.v1 && !rec.compressed {
			// Stored data is hashed from the chunks it is copied in.
			slot := &v1Digest{name: e.Name}
			digestSlots = append(digestSlots, slot)
			eh = newEntryHash(c.v1Hash, slot, rec.start+rec.dataStart, rec.dataSize)
		} else if c.v1 {
			slot := &v1Digest{name: e.Name}
			digestSlots = append(digestSlots, slot)
			h := c.v1Hash
			p.run(func() {
				sum, err := rec.digest(src, h, &p.scratch)
				if err != nil {
					p.fail(err)
					return
				}
				slot.sum = sum
			})
		}
		outStart := outOff
		hdr, realigned := c.outputHeader(rec, outStart)
		if realigned {
			res.Realigned++
			if _, err := p.Write(hdr); err != nil {
				return nil, err
			}
			outOff += int64(len(hdr))
			if err := copyRecord(rec, rec.start+rec.dataStart, eh); err != nil {
				return nil, err
			}
		} else if err := copyRecord(rec, rec.start, eh); err != nil {
			return nil, err
		}
		if eh != nil && eh.pieces == 0 {
			eh.finish() // empty entry
		}
		cd := e.Raw
		if outStart != rec.start {
			if cd, err = zipx.WithHeaderOffset(e.Raw, outStart); err != nil {
				return nil, ErrZip64
			}
		}
		outCD[e.Name] = cd
	}
	if inOff < arch.lfhEnd {
		if err := copyRaw(inOff, arch.lfhEnd-inOff); err != nil {
			return nil, err
		}
	}

	// The central directory keeps the input's order.
	var cdRecords [][]byte
	for _, e := range arch.Entries {
		if r, ok := outCD[e.Name]; ok {
			cdRecords = append(cdRecords, r)
		}
	}
	if lastDate == -1 {
		lastDate, lastTime = 0x3a21, 0 // 1 January 2009, as apksig
	}

	// The source stamp's certificate digest entry, before the JAR
	// signature, which lists it.
	if c.stamp != nil {
		if err := c.stamp.checkInput(src, arch, c.opts.StampOverwrite); err != nil {
			return nil, err
		}
		local, central := c.stamp.entry(outOff, uint16(lastTime), uint16(lastDate))
		if _, err := p.Write(local); err != nil {
			return nil, err
		}
		outOff += int64(len(local))
		cdRecords = append(cdRecords, central)
		if c.v1 {
			h := c.v1Hash.New()
			h.Write(c.stamp.certDigest)
			digestSlots = append(digestSlots, &v1Digest{name: stampEntryName, sum: h.Sum(nil)})
		}
	}

	if c.v1 {
		var source []byte
		if sourceMF != nil {
			var err error
			if source, err = sourceMF.readAll(src, maxManifestSize); err != nil {
				return nil, err
			}
		}
		// Wait for the entry digests (and the chunk hashes queued so
		// far, which is harmless).
		p.drainFeeds()
		p.wg.Wait()
		if err := p.failed(); err != nil {
			return nil, err
		}
		digests = make([]v1Digest, len(digestSlots))
		for i, s := range digestSlots {
			digests[i] = *s
		}
		mf, sf, block, err := c.v1Files(source, digests)
		if err != nil {
			return nil, err
		}
		jarManifest = mf
		type file struct {
			name string
			data []byte
		}
		// Each signer's .SF (the same for all) and block, then the
		// manifest, as apksig's V1SchemeSigner orders them.
		files := []file{{sfName, sf}, {blockName, block}}
		for _, s := range c.coSigners {
			b, err := c.signSF(s.id, s.hash, sf)
			if err != nil {
				return nil, err
			}
			files = append(files, file{"META-INF/" + s.name + ".SF", sf}, file{"META-INF/" + s.name + "." + s.v1Block, b})
		}
		files = append(files, file{mfName, mf})
		// Compressing the manifest and the .SF file (a few hundred KiB
		// each for a large APK) takes a while: one core each.
		comps := make([][]byte, len(files))
		var wg sync.WaitGroup
		for i, f := range files {
			wg.Go(func() { comps[i] = zipx.Deflate(f.data, 9) })
		}
		wg.Wait()
		for i, f := range files {
			comp := comps[i]
			h := zipx.FileHeader{
				Name:    f.name,
				Method:  zipx.Deflated,
				ModTime: uint16(lastTime), ModDate: uint16(lastDate),
				CRC32:            crc32.ChecksumIEEE(f.data),
				CompressedSize:   uint32(len(comp)),
				UncompressedSize: uint32(len(f.data)),
			}
			cdRecords = append(cdRecords, h.CentralHeader(outOff))
			lh := h.LocalHeader()
			if _, err := p.Write(lh); err != nil {
				return nil, err
			}
			if _, err := p.Write(comp); err != nil {
				return nil, err
			}
			outOff += int64(len(lh) + len(comp))
		}
		res.V1Name = c.v1Name
		res.V1Digest = c.v1Hash
	}
	res.Entries = len(cdRecords)

	cd := bytes.Join(cdRecords, nil)
	eocd, err := zipx.EOCDWith(arch.EOCD, len(cdRecords), int64(len(cd)), outOff)
	if err != nil {
		return nil, ErrZip64
	}

	var tail [][]byte                         // signing block, central directory, end record
	var contentDigests map[crypto.Hash][]byte // for v4
	if c.v2 || c.v3 || c.stamp != nil {
		endRecord := arch.EOCD
		if c.opts.AlignFileSize {
			if endRecord, err = alignFileSize(endRecord, len(cd)); err != nil {
				return nil, err
			}
		}
		if pad := (pageAlignment - outOff%pageAlignment) % pageAlignment; pad > 0 {
			if err := p.zeros(pad); err != nil {
				return nil, err
			}
			outOff += pad
		}
		if err := p.finish(); err != nil {
			return nil, err
		}
		if eocd, err = zipx.EOCDWith(endRecord, len(cdRecords), int64(len(cd)), outOff); err != nil {
			return nil, ErrZip64
		}
		digests := make(map[crypto.Hash][]byte, len(hashes))
		for i, h := range hashes {
			chunks := make([][]byte, 0, len(p.chunks)+2)
			for _, ch := range p.chunks {
				if i == 0 {
					chunks = append(chunks, ch.digest)
				} else {
					chunks = append(chunks, ch.digest2)
				}
			}
			chunks = append(chunks, chunkDigests(h, cd)...)
			chunks = append(chunks, chunkDigests(h, eocd)...)
			digests[h] = topDigest(h, chunks)
		}
		if p.verity {
			digests[verityKey] = c.verityDigest(p.chunks, cd, eocd, outOff)
		}
		contentDigests = digests
		block, err := c.signingBlock(digests, jarManifest)
		if err != nil {
			return nil, err
		}
		if len(block)%pageAlignment != 0 {
			panic("apk: internal error: APK Signing Block not a multiple of 4096 bytes")
		}
		if eocd, err = zipx.EOCDWith(endRecord, len(cdRecords), int64(len(cd)), outOff+int64(len(block))); err != nil {
			return nil, ErrZip64
		}
		tail = [][]byte{block, cd, eocd}
	} else {
		tail = [][]byte{cd, eocd}
	}
	p.hash, p.hash2, p.verity = 0, 0, false
	for _, b := range tail {
		if _, err := p.Write(b); err != nil {
			return nil, err
		}
	}
	if err := p.finish(); err != nil {
		return nil, err
	}
	res.Size = p.written
	if c.v4 {
		var leaves [][]byte
		for _, ch := range p.chunks {
			leaves = append(leaves, ch.leaves...)
		}
		idsig, err := c.v4Signature(leaves, res.Size, contentDigests)
		if err != nil {
			return nil, err
		}
		if _, err := c.opts.V4Signature.Write(idsig); err != nil {
			return nil, fmt.Errorf("writing the v4 signature: %w", err)
		}
	}
	return res, nil
}

// alignFileSize returns the end of central directory record eocd (with
// its comment) grown by zero bytes of comment so that the APK ends on a
// 4096-byte boundary, as apksig does for --align-file-size: the entries
// and the APK Signing Block both end on one, so only the central
// directory (cdSize bytes) and the end record count.
func alignFileSize(eocd []byte, cdSize int) ([]byte, error) {
	pad := (pageAlignment - (cdSize+len(eocd))%pageAlignment) % pageAlignment
	if pad == 0 {
		return eocd, nil
	}
	n := int(binary.LittleEndian.Uint16(eocd[20:])) + pad
	if n > 0xffff {
		return nil, fmt.Errorf("apk: the zip comment is too long to align the file size (%d bytes)", n-pad)
	}
	b := make([]byte, len(eocd)+pad)
	copy(b, eocd)
	binary.LittleEndian.PutUint16(b[20:], uint16(n))
	return b, nil
}

// outputHeader decides, as apksig's outputInputJarEntryLfhRecord does,
// whether rec can be copied as it is to output offset out, or needs a new
// local header whose extra field aligns its data. It returns the new
// header (fixed part, name, extra) and true in the second case.
func (c *config) outputHeader(rec *record, out int64) ([]byte, bool) {
	preserved := c.opts.AlignmentPreserved
	if rec.start == out && preserved {
		return nil, false
	}
	align := int64(rec.alignment(c.libAlign))
	if align <= 1 || (rec.start%align == out%align && preserved) {
		return nil, false
	}
	if (rec.start+rec.dataStart)%align != 0 && preserved {
		return nil, false
	}
	nameLen := int64(len(rec.e.Name))
	extra := zipx.AlignExtraLikeApksigner35(rec.extra, out+zipx.LocalHeaderLen+nameLen, int(align))
	hdr := make([]byte, 0, zipx.LocalHeaderLen+nameLen+int64(len(extra)))
	hdr = append(hdr, rec.head...)
	hdr = append(hdr, extra...)
	binary.LittleEndian.PutUint16(hdr[28:], uint16(len(extra)))
	return hdr, true
}

// signingBlock signs the content digests (by hash) with v2 and v3, and
// with the source stamp key, and returns the APK Signing Block.
func (c *config) signingBlock(digests map[crypto.Hash][]byte, jarManifest []byte) ([]byte, error) {
	certs := make([][]byte, 0, 1+len(c.id.Chain))
	for _, cert := range c.id.Certificates() {
		certs = append(certs, cert.Raw)
	}
	pub := c.id.Certificate.RawSubjectPublicKeyInfo
	var pairs []idValue
	if c.v2 {
		var attrs []byte
		if c.v3 {
			var e enc
			e.u32(8).u32(attrStrippingProtection).u32(3)
			attrs = e.Bytes()
		}
		sd := schemeV2SignedData(c.digestPairs(c.alg, digests), certs, attrs)
		sigs, err := c.signaturePairs(c.id, c.alg, sd)
		if err != nil {
			return nil, err
		}
		signers := [][]byte{schemeV2Signer(sd, sigs, pub)}
		for _, s := range c.coSigners {
			var certs [][]byte
			for _, cert := range s.id.Certificates() {
				certs = append(certs, cert.Raw)
			}
			sd := schemeV2SignedData(c.digestPairs(s.alg, digests), certs, attrs)
			sigs, err := c.signaturePairs(s.id, s.alg, sd)
			if err != nil {
				return nil, err
			}
			signers = append(signers, schemeV2Signer(sd, sigs, s.id.Certificate.RawSubjectPublicKeyInfo))
		}
		pairs = append(pairs, idValue{blockIDSchemeV2, lpSeq(lpSeq(signers...))})
	}
	if c.v3 && len(c.v31) > 0 {
		b, err := c.v3Block(blockIDSchemeV31, c.v31, digests)
		if err != nil {
			return nil, err
		}
		pairs = append(pairs, idValue{blockIDSchemeV31, b})
	}
	if c.v3 {
		b, err := c.v3Block(blockIDSchemeV3, c.v30, digests)
		if err != nil {
			return nil, err
		}
		pairs = append(pairs, idValue{blockIDSchemeV3, b})
	}
	if c.stamp != nil {
		d := stampDigests{manifest: jarManifest}
		verity := func(alg schemeAlg) []byte {
			if _, ok := c.verityAlg(alg); ok {
				return digests[verityKey]
			}
			return nil
		}
		if c.v2 {
			d.v2, d.v2Hash, d.v2Verity = digests[c.alg.hash], c.alg.hash, verity(c.alg)
		}
		if c.v3 {
			alg := c.v30[0].alg
			d.v3, d.v3Hash, d.v3Verity = digests[alg.hash], alg.hash, verity(alg)
		}
		b, err := c.stamp.block(c, d)
		if err != nil {
			return nil, err
		}
		pairs = append(pairs, idValue{blockIDSourceStampV2, b})
	}
	return buildSigningBlock(pairs), nil
}

// verityDigest is the VERITY_CHUNKED_SHA256 content digest, as apksig's
// VerityTreeBuilder computes it: the root of the salted Merkle tree over
// the entries (size bytes, a multiple of 4096, whose salted leaves the
// chunks hold), the central directory and the end record (pointing at
// the APK Signing Block), then that data's size.
func (c *config) verityDigest(chunks []*chunkResult, cd, eocd []byte, size int64) []byte {
	var leaves [][]byte
	for _, ch := range chunks {
		leaves = append(leaves, ch.vleaves...)
	}
	leaves = append(leaves, merkleLeaves(slices.Concat(cd, eocd), veritySalt())...)
	_, root := merkleTree(leaves, veritySalt())
	return binary.LittleEndian.AppendUint64(root, uint64(size+int64(len(cd)+len(eocd))))
}

// verityAlg returns, with VerityEnabled, the verity variant apksig adds
// to a signer's signature algorithm: for RSA PKCS#1 v1.5 and ECDSA over
// SHA-256 only. The variant signs the same way and takes the
// VERITY_CHUNKED_SHA256 content digest.
func (c *config) verityAlg(alg schemeAlg) (uint32, bool) {
	if !c.opts.VerityEnabled {
		return 0, false
	}
	switch alg.id {
	case algRSASHA256.id:
		return 0x0421, true
	case algECDSASHA256.id:
		return 0x0423, true
	}
	return 0, false
}

// anyVerity reports whether a v2 or v3 signer gets a verity variant,
// whose content digest must then be computed: with VerityEnabled, not
// for keys signing over SHA-512 only (RSA above 3072 bits, ECDSA above
// P-256).
func (c *config) anyVerity() bool {
	var algs []schemeAlg
	if c.v2 {
		algs = append(algs, c.alg)
		for _, s := range c.coSigners {
			algs = append(algs, s.alg)
		}
	}
	if c.v3 {
		for _, s := range slices.Concat(c.v30, c.v31) {
			algs = append(algs, s.alg)
		}
	}
	return slices.ContainsFunc(algs, func(alg schemeAlg) bool {
		_, ok := c.verityAlg(alg)
		return ok
	})
}

// veritySalt returns the salt of the VERITY_CHUNKED_SHA256 Merkle tree:
// eight zero bytes, as apksig uses.
func veritySalt() []byte { return make([]byte, 8) }

// verityKey is the key of the VERITY_CHUNKED_SHA256 content digest in the
// content digests by hash (no crypto.Hash has this value).
const verityKey crypto.Hash = 1 << 20

// digestPairs returns a signer's content digests as its signed data
// lists them: its algorithm's, then with VerityEnabled the verity
// variant's.
func (c *config) digestPairs(alg schemeAlg, digests map[crypto.Hash][]byte) [][]byte {
	pairs := [][]byte{idBytes(alg.id, digests[alg.hash])}
	if v, ok := c.verityAlg(alg); ok {
		pairs = append(pairs, idBytes(v, digests[verityKey]))
	}
	return pairs
}

// signaturePairs signs a signer's signed data once per algorithm of
// digestPairs, as apksig does (RSA signatures come out the same).
func (c *config) signaturePairs(id *signing.Identity, alg schemeAlg, data []byte) ([][]byte, error) {
	sig, err := schemeSign(c, id, alg, data)
	if err != nil {
		return nil, err
	}
	pairs := [][]byte{idBytes(alg.id, sig)}
	if v, ok := c.verityAlg(alg); ok {
		if sig, err = schemeSign(c, id, alg, data); err != nil {
			return nil, err
		}
		pairs = append(pairs, idBytes(v, sig))
	}
	return pairs, nil
}

// schemeSign signs a v2/v3 signer's signed data with id's key.
func schemeSign(c *config, id *signing.Identity, alg schemeAlg, data []byte) ([]byte, error) {
	d := alg.hash.New()
	d.Write(data)
	sig, err := id.Signer.Sign(c.rand, d.Sum(nil), alg.hash)
	if err != nil {
		return nil, fmt.Errorf("signing: %w", err)
	}
	return sig, nil
}
