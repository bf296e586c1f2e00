package macho

import (
	"bytes"
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"

	"github.com/storesign/storesign/internal/plistx"
)

// Signature is a binary's code signature as it is found, read but not
// verified: what re-signing keeps from it and what a comparison with
// codesign's output looks at.
type Signature struct {
	Slices []SignedSlice
}

// SignedSlice is the code signature of one architecture slice.
type SignedSlice struct {
	Arch string
	// Offset is the slice's offset in the file; HeaderSize the size of
	// its Mach-O header and load commands.
	Offset     int64
	HeaderSize int
	// Reserved is the size of the signature's room in __LINKEDIT
	// (LC_CODE_SIGNATURE's datasize); Used is the super blob's length.
	Reserved, Used int64
	// LinkeditFileSize and LinkeditVMSize are __LINKEDIT's sizes.
	LinkeditFileSize, LinkeditVMSize uint64
	// CodeDirectories are the raw CodeDirectory blobs, primary first.
	CodeDirectories [][]byte
	// Requirements is the raw requirement set blob (magic 0xfade0c01);
	// Designated its designated requirement in text form ("" when none).
	Requirements []byte
	Designated   string
	// Entitlements and EntitlementsDER are the payloads of the
	// entitlements blobs; nil when absent.
	Entitlements, EntitlementsDER []byte
	// CMS is the signature blob's payload; empty for ad-hoc signatures.
	CMS []byte
	// Identifier, TeamID, Version, Flags, HashTypes, PageSize and
	// ExecSegFlags are the primary CodeDirectory's.
	Identifier   string
	TeamID       string
	Version      uint32
	Flags        uint32
	HashTypes    []string
	PageSize     int
	ExecSegFlags uint64
	// InfoPlist is the Info.plist linked into the binary
	// (__TEXT,__info_plist); nil when none.
	InfoPlist []byte
}

// ReadSignature reads the code signature of every slice of the binary in
// r without verifying it. It returns [ErrNotSigned] when no slice has one.
// It reads the headers, each embedded Info.plist and each signature: for a
// stream that restarts on a backward read, about the whole binary.
func ReadSignature(r io.ReaderAt, size int64) (*Signature, error) {
	f, err := parseFileOpts(r, size, true)
	if err != nil {
		return nil, err
	}
	sig := &Signature{}
	for _, s := range f.slices {
		ss, err := readSlice(r, s)
		if err != nil {
			if f.fat {
				return nil, fmt.Errorf("architecture %s: %w", s.arch(), err)
			}
			return nil, err
		}
		sig.Slices = append(sig.Slices, *ss)
	}
	return sig, nil
}

// readSignatureBlobs reads slice s's code signature and returns it raw
// and split into its blobs; ErrNotSigned when it has none.
func readSignatureBlobs(r io.ReaderAt, s *slice) ([]byte, []slotBlob, error) {
	if s.sigCmd < 0 {
		return nil, nil, ErrNotSigned
	}
	if s.sigSize > maxSigRead {
		return nil, nil, badf("code signature of %d bytes", s.sigSize)
	}
	raw, err := readAt(r, s.offset+int64(s.sigOff), int(s.sigSize))
	if err != nil {
		return nil, nil, err
	}
	blobs, err := parseSuperBlob(raw)
	if err != nil {
		return nil, nil, err
	}
	return raw, blobs, nil
}

func readSlice(r io.ReaderAt, s *slice) (*SignedSlice, error) {
	raw, blobs, err := readSignatureBlobs(r, s)
	if err != nil {
		return nil, err
	}
	ss := &SignedSlice{
		Arch:             s.arch(),
		Offset:           s.offset,
		HeaderSize:       len(s.header),
		Reserved:         int64(s.sigSize),
		Used:             int64(binary.BigEndian.Uint32(raw[4:])),
		LinkeditFileSize: s.linkedit.fileLen,
		LinkeditVMSize:   s.linkedit.vmSize,
		InfoPlist:        s.infoPlist,
	}
	var cds []*parsedCD // by slot: the primary (slot 0) first
	var slots []uint32
	for _, b := range blobs {
		switch {
		case b.slot == slotCodeDirectory || b.slot >= slotAlternateCD && b.slot < slotAlternateCD+5:
			cd, err := parseCodeDirectory(b.data)
			if err != nil {
				return nil, err
			}
			i := len(slots)
			for i > 0 && slots[i-1] > b.slot {
				i--
			}
			slots = slices.Insert(slots, i, b.slot)
			cds = slices.Insert(cds, i, cd)
		case b.slot == slotRequirements:
			ss.Requirements = b.data
			ss.Designated, _ = designatedFromSet(b.data)
		case b.slot == slotEntitlements:
			ss.Entitlements = b.data[8:]
		case b.slot == slotEntitlementsDER:
			ss.EntitlementsDER = b.data[8:]
		case b.slot == slotSignature:
			ss.CMS = b.data[8:]
		}
	}
	if len(cds) == 0 || slots[0] != slotCodeDirectory {
		return nil, badf("no CodeDirectory in slot 0")
	}
	for _, cd := range cds {
		ss.CodeDirectories = append(ss.CodeDirectories, cd.raw)
		ss.HashTypes = append(ss.HashTypes, hashName(cd.hashType))
	}
	primary := cds[0]
	ss.Identifier, ss.TeamID = primary.identifier, primary.teamID
	ss.Version, ss.Flags = primary.version, primary.flags
	ss.PageSize = 1 << primary.pageShift
	if primary.pageShift == 0 {
		ss.PageSize = 0
	}
	ss.ExecSegFlags = primary.execSegFlags
	return ss, nil
}

// DefaultIdentifier returns the code signing identifier codesign gives a
// binary that is not a bundle's main executable (a loose dylib or tool),
// named name: the CFBundleIdentifier of the Info.plist linked into it
// when there is one; else the file name without its extension, followed,
// when that has no dot, by "-" and the hex of the binary's identification
// ("UUID" and its LC_UUID, or the SHA-1 of its load commands without one;
// of the arm64 slice of a fat binary, else the first).
func DefaultIdentifier(r io.ReaderAt, size int64, name string) (string, error) {
	f, err := parseFileOpts(r, size, true)
	if err != nil {
		return "", err
	}
	s := f.slices[0]
	for _, c := range f.slices {
		if c.cpuType == cpuTypeARM64 && c.cpuSubtype&0xffffff == 0 {
			s = c
			break
		}
	}
	if s.infoPlist != nil {
		var info struct {
			ID string `plist:"CFBundleIdentifier"`
		}
		if _, err := plistx.Unmarshal(s.infoPlist, &info); err == nil && info.ID != "" {
			return info.ID, nil
		}
	}
	base := path.Base(name)
	if i := strings.LastIndexByte(base, '.'); i > 0 {
		base = base[:i]
	}
	if strings.Contains(base, ".") {
		return base, nil
	}
	var id []byte
	if s.uuid != nil {
		id = append([]byte("UUID"), s.uuid...)
	} else {
		h := sha1.Sum(s.header[s.hdrSize:])
		id = h[:]
	}
	return base + "-" + hex.EncodeToString(id), nil
}

// HashTypes returns the CodeDirectory hash types Sign writes for the
// binary in r, as codesign chooses them from its minimum OS versions:
// "sha1" and "sha256" when any slice supports an OS older than iOS/tvOS
// 11, watchOS 4 or macOS 10.11.4 (or says nothing), else "sha256". A
// bundle's CodeResources seals its files with the same types. Only the
// headers are read.
func HashTypes(r io.ReaderAt, size int64) ([]string, error) {
	h, err := ReadHeader(r, size)
	if err != nil {
		return nil, err
	}
	return h.HashTypes, nil
}

// Header describes a binary from its headers alone.
type Header struct {
	// Slices is the number of architectures (1 for a thin binary).
	Slices int
	// Signed reports whether every slice has a code signature.
	Signed bool
	// Encrypted reports whether a slice is FairPlay-encrypted.
	Encrypted bool
	// HashTypes are the CodeDirectory hash types Sign writes (see
	// [HashTypes]).
	HashTypes []string
}

// ReadHeader reads the headers and load commands of the binary in r, at
// increasing offsets.
func ReadHeader(r io.ReaderAt, size int64) (*Header, error) {
	f, err := parseFile(r, size)
	if err != nil {
		return nil, err
	}
	h := &Header{Slices: len(f.slices), Signed: true, HashTypes: []string{"sha256"}}
	for _, s := range f.slices {
		h.Signed = h.Signed && s.sigCmd >= 0
		h.Encrypted = h.Encrypted || s.cryptID != 0
		if s.needsSHA1() {
			h.HashTypes = []string{"sha1", "sha256"}
		}
	}
	return h, nil
}

// Entitlements returns the XML entitlements the first slice of the binary
// in r was signed with: nil when it is not signed or was signed without
// them. It reads the headers and that slice's signature only, at
// increasing offsets, so a stream stops at the first slice's end.
func Entitlements(r io.ReaderAt, size int64) ([]byte, error) {
	s, err := firstSlice(r, size)
	if err != nil {
		return nil, err
	}
	_, blobs, err := readSignatureBlobs(r, s)
	if errors.Is(err, ErrNotSigned) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	for _, b := range blobs {
		if b.slot == slotEntitlements && len(b.data) >= 8 {
			return bytes.Clone(b.data[8:]), nil
		}
	}
	return nil, nil
}

// firstSlice parses the fat header, if any, and the first slice only.
func firstSlice(r io.ReaderAt, size int64) (*slice, error) {
	f, err := parseSlices(r, size, false, 1)
	if err != nil {
		return nil, err
	}
	return f.slices[0], nil
}
