package macho

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
)

// Code signing blob magics and slots (cs_blobs.h).
const (
	magicRequirement     = 0xfade0c00
	magicRequirements    = 0xfade0c01
	magicCodeDirectory   = 0xfade0c02
	magicEmbeddedSig     = 0xfade0cc0
	magicEntitlements    = 0xfade7171
	magicEntitlementsDER = 0xfade7172
	magicBlobWrapper     = 0xfade0b01

	slotCodeDirectory   = 0
	slotInfo            = 1
	slotRequirements    = 2
	slotResources       = 3
	slotEntitlements    = 5
	slotEntitlementsDER = 7
	slotAlternateCD     = 0x1000
	slotSignature       = 0x10000

	hashTypeSHA1   = 1
	hashTypeSHA256 = 2

	pageShift = 12
	pageSize  = 1 << pageShift

	cdVersion            = 0x20400
	cdHeaderSize         = 88
	execSegMainBin       = 0x1
	execSegAllowUns      = 0x10
	execSegDebugger      = 0x20
	execSegJIT           = 0x40
	execSegSkipLV        = 0x80
	execSegCanLoadCDHash = 0x100
	execSegCanExecCDHash = 0x200

	requirementDesignated = 3
)

func hashSize(t uint8) int {
	if t == hashTypeSHA1 {
		return sha1.Size
	}
	return sha256.Size
}

func newHash(t uint8) hash.Hash {
	if t == hashTypeSHA1 {
		return sha1.New()
	}
	return sha256.New()
}

func sum(t uint8, b []byte) []byte {
	h := newHash(t)
	h.Write(b)
	return h.Sum(nil)
}

func hashName(t uint8) string {
	switch t {
	case hashTypeSHA1:
		return "sha1"
	case hashTypeSHA256:
		return "sha256"
	}
	return fmt.Sprintf("hash%d", t)
}

// blob wraps payload in a generic blob: magic, length, payload.
func blob(magic uint32, payload []byte) []byte {
	b := make([]byte, 8, 8+len(payload))
	binary.BigEndian.PutUint32(b, magic)
	binary.BigEndian.PutUint32(b[4:], uint32(8+len(payload)))
	return append(b, payload...)
}

// codeDirectory is the content of a CodeDirectory, version 0x20400.
type codeDirectory struct {
	hashType     uint8
	flags        uint32
	identifier   string
	teamID       string
	special      [][]byte // special[i] is slot i+1; nil is zeros
	codeLimit    int64
	pages        []byte // concatenated page hashes
	execSegBase  uint64
	execSegLimit uint64
	execSegFlags uint64
}

func cdSize(identifier, teamID string, nSpecial, nPages int, hashType uint8) int {
	n := cdHeaderSize + len(identifier) + 1 + (nSpecial+nPages)*hashSize(hashType)
	if teamID != "" {
		n += len(teamID) + 1
	}
	return n
}

func (cd *codeDirectory) marshal() []byte {
	hs := hashSize(cd.hashType)
	nSpecial := len(cd.special)
	nPages := len(cd.pages) / hs
	size := cdSize(cd.identifier, cd.teamID, nSpecial, nPages, cd.hashType)
	b := make([]byte, cdHeaderSize, size)
	be := binary.BigEndian
	identOff := cdHeaderSize
	teamOff := 0
	hashOff := identOff + len(cd.identifier) + 1
	if cd.teamID != "" {
		teamOff = hashOff
		hashOff += len(cd.teamID) + 1
	}
	hashOff += nSpecial * hs
	be.PutUint32(b[0:], magicCodeDirectory)
	be.PutUint32(b[4:], uint32(size))
	be.PutUint32(b[8:], cdVersion)
	be.PutUint32(b[12:], cd.flags)
	be.PutUint32(b[16:], uint32(hashOff))
	be.PutUint32(b[20:], uint32(identOff))
	be.PutUint32(b[24:], uint32(nSpecial))
	be.PutUint32(b[28:], uint32(nPages))
	if cd.codeLimit <= 0xffffffff {
		be.PutUint32(b[32:], uint32(cd.codeLimit))
	} else {
		be.PutUint64(b[56:], uint64(cd.codeLimit))
	}
	b[36] = byte(hs)
	b[37] = cd.hashType
	b[38] = 0 // platform
	b[39] = pageShift
	// 40: spare2, 44: scatterOffset
	be.PutUint32(b[48:], uint32(teamOff))
	// 52: spare3, 56: codeLimit64
	be.PutUint64(b[64:], cd.execSegBase)
	be.PutUint64(b[72:], cd.execSegLimit)
	be.PutUint64(b[80:], cd.execSegFlags)
	b = append(b, cd.identifier...)
	b = append(b, 0)
	if cd.teamID != "" {
		b = append(b, cd.teamID...)
		b = append(b, 0)
	}
	for i := nSpecial - 1; i >= 0; i-- {
		if cd.special[i] == nil {
			b = append(b, make([]byte, hs)...)
		} else {
			b = append(b, cd.special[i]...)
		}
	}
	b = append(b, cd.pages...)
	if len(b) != size {
		panic("macho: internal error: CodeDirectory size")
	}
	return b
}

// parsedCD is a CodeDirectory read back from a signature.
type parsedCD struct {
	raw          []byte
	version      uint32
	flags        uint32
	hashType     uint8
	hashSize     int
	pageShift    uint8
	nSpecial     int
	nCode        int
	hashOff      int
	codeLimit    int64
	identifier   string
	teamID       string
	execSegBase  uint64
	execSegLimit uint64
	execSegFlags uint64
}

func (cd *parsedCD) specialHash(slot int) []byte {
	if slot < 1 || slot > cd.nSpecial {
		return nil
	}
	o := cd.hashOff - slot*cd.hashSize
	return cd.raw[o : o+cd.hashSize]
}

func (cd *parsedCD) pageHash(i int) []byte {
	o := cd.hashOff + i*cd.hashSize
	return cd.raw[o : o+cd.hashSize]
}

func parseCodeDirectory(b []byte) (*parsedCD, error) {
	be := binary.BigEndian
	if len(b) < 44 || be.Uint32(b) != magicCodeDirectory || int(be.Uint32(b[4:])) != len(b) {
		return nil, fmt.Errorf("%w: malformed CodeDirectory", ErrBadSignature)
	}
	cd := &parsedCD{raw: b}
	cd.version = be.Uint32(b[8:])
	cd.flags = be.Uint32(b[12:])
	cd.hashOff = int(be.Uint32(b[16:]))
	identOff := int(be.Uint32(b[20:]))
	cd.nSpecial = int(be.Uint32(b[24:]))
	cd.nCode = int(be.Uint32(b[28:]))
	cd.codeLimit = int64(be.Uint32(b[32:]))
	cd.hashSize = int(b[36])
	cd.hashType = b[37]
	cd.pageShift = b[39]
	if cd.hashType != hashTypeSHA1 && cd.hashType != hashTypeSHA256 || cd.hashSize != hashSize(cd.hashType) {
		return nil, fmt.Errorf("%w: unsupported CodeDirectory hash type %d", ErrBadSignature, cd.hashType)
	}
	if cd.pageShift != 0 && (cd.pageShift < 9 || cd.pageShift > 16) {
		return nil, fmt.Errorf("%w: CodeDirectory page size 2^%d", ErrBadSignature, cd.pageShift)
	}
	if cd.nSpecial > 64 || cd.nCode > len(b) || cd.hashOff < cd.nSpecial*cd.hashSize || cd.hashOff > len(b) || cd.nCode*cd.hashSize > len(b)-cd.hashOff {
		return nil, fmt.Errorf("%w: CodeDirectory hash slots out of range", ErrBadSignature)
	}
	var err error
	if cd.identifier, err = blobString(b, identOff); err != nil {
		return nil, err
	}
	if cd.version >= 0x20200 && len(b) >= 52 {
		if teamOff := int(be.Uint32(b[48:])); teamOff != 0 {
			if cd.teamID, err = blobString(b, teamOff); err != nil {
				return nil, err
			}
		}
	}
	if cd.version >= 0x20300 && len(b) >= 64 {
		if l := be.Uint64(b[56:]); l != 0 {
			cd.codeLimit = int64(l)
		}
	}
	if cd.version >= 0x20400 && len(b) >= 88 {
		cd.execSegBase = be.Uint64(b[64:])
		cd.execSegLimit = be.Uint64(b[72:])
		cd.execSegFlags = be.Uint64(b[80:])
	}
	if cd.codeLimit < 0 {
		return nil, fmt.Errorf("%w: negative code limit", ErrBadSignature)
	}
	return cd, nil
}

func blobString(b []byte, off int) (string, error) {
	if off <= 0 || off >= len(b) {
		return "", fmt.Errorf("%w: string offset %d out of range", ErrBadSignature, off)
	}
	i := bytes.IndexByte(b[off:], 0)
	if i < 0 {
		return "", fmt.Errorf("%w: unterminated string", ErrBadSignature)
	}
	return string(b[off : off+i]), nil
}

// superBlob assembles an embedded signature from (slot, blob) pairs given
// in slot order.
type slotBlob struct {
	slot uint32
	data []byte
}

func superBlob(blobs []slotBlob) []byte {
	hdr := 12 + 8*len(blobs)
	total := hdr
	for _, b := range blobs {
		total += len(b.data)
	}
	out := make([]byte, hdr, total)
	be := binary.BigEndian
	be.PutUint32(out, magicEmbeddedSig)
	be.PutUint32(out[4:], uint32(total))
	be.PutUint32(out[8:], uint32(len(blobs)))
	off := hdr
	for i, b := range blobs {
		be.PutUint32(out[12+8*i:], b.slot)
		be.PutUint32(out[16+8*i:], uint32(off))
		off += len(b.data)
		out = append(out, b.data...)
	}
	return out
}

// parseSuperBlob returns the blobs of an embedded signature, each with its
// own magic and length, in index order.
func parseSuperBlob(b []byte) ([]slotBlob, error) {
	be := binary.BigEndian
	if len(b) < 12 || be.Uint32(b) != magicEmbeddedSig {
		return nil, fmt.Errorf("%w: the signature is not an embedded signature super blob", ErrBadSignature)
	}
	length := be.Uint32(b[4:])
	count := be.Uint32(b[8:])
	if length < 12 || int64(length) > int64(len(b)) || uint64(count) > uint64(length-12)/8 {
		return nil, fmt.Errorf("%w: super blob length %d, %d entries", ErrBadSignature, length, count)
	}
	b = b[:length]
	var out []slotBlob
	for i := 0; i < int(count); i++ {
		slot := be.Uint32(b[12+8*i:])
		off := be.Uint32(b[16+8*i:])
		if off < 12 || uint64(off)+8 > uint64(length) {
			return nil, fmt.Errorf("%w: blob %d offset %d out of range", ErrBadSignature, i, off)
		}
		l := be.Uint32(b[off+4:])
		if l < 8 || uint64(off)+uint64(l) > uint64(length) {
			return nil, fmt.Errorf("%w: blob %d length %d out of range", ErrBadSignature, i, l)
		}
		out = append(out, slotBlob{slot: slot, data: b[off : off+l]})
	}
	return out, nil
}
