package macho

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Mach-O constants (mach-o/loader.h, mach-o/fat.h).
const (
	magic32    = 0xfeedface
	magic64    = 0xfeedfacf
	cigam32    = 0xcefaedfe
	cigam64    = 0xcffaedfe
	fatMagic   = 0xcafebabe
	fatMagic64 = 0xcafebabf

	lcSegment          = 0x1
	lcSegment64        = 0x19
	lcCodeSignature    = 0x1d
	lcEncryptionInfo   = 0x21
	lcEncryptionInfo64 = 0x2c
	lcVersionMinMacOS  = 0x24
	lcVersionMinIOS    = 0x25
	lcVersionMinTVOS   = 0x2f
	lcVersionMinWatch  = 0x30
	lcBuildVersion     = 0x32
	lcUUID             = 0x1b

	mhExecute = 0x2

	cpuTypeX86     = 7
	cpuTypeX86_64  = 0x01000007
	cpuTypeARM     = 12
	cpuTypeARM64   = 0x0100000c
	cpuTypeARM6432 = 0x0200000c

	platformMacOS        = 1
	platformIOS          = 2
	platformTVOS         = 3
	platformWatchOS      = 4
	platformMacCatalyst  = 6
	platformIOSSim       = 7
	platformTVOSSim      = 8
	platformWatchOSSim   = 9
	platformVisionOS     = 11
	platformVisionOSSim  = 12
	maxHeaderSize        = 1 << 20 // sizeofcmds larger than this is absurd
	maxFatArchs          = 19      // file(1)'s rule: more is a Java class file
	sectionTypeMask      = 0xff
	sectionZerofill      = 0x1
	sectionGBZerofill    = 0xc
	sectionTLVZerofill   = 0x12
	codeSignatureCmdSize = 16
	linkeditSlack        = 4096    // bytes __LINKEDIT may claim past the end of the image
	maxInfoPlist         = 1 << 20 // bytes of an embedded __info_plist section read
)

// file is the structure of a thin or fat binary, as far as signing needs it.
type file struct {
	fat    bool
	slices []*slice
}

// slice is one Mach-O image: the whole file when thin, one architecture
// of a fat file.
type slice struct {
	offset, size int64 // in the file
	align        uint32
	cpuType      int32
	cpuSubtype   int32
	is64         bool
	hdrSize      int    // mach_header(_64) size
	header       []byte // mach header and load commands (hdrSize+sizeofcmds bytes)
	ncmds        uint32
	sizeofcmds   uint32
	fileType     uint32 // MH_EXECUTE, MH_DYLIB, MH_BUNDLE...
	uuid         []byte // LC_UUID's 16 bytes; nil when none
	// infoPlistOff and infoPlistSize locate the __TEXT,__info_plist
	// section in the slice (an Info.plist linked into a loose binary);
	// infoPlistSize is 0 when there is none.
	infoPlistOff, infoPlistSize int64
	infoPlist                   []byte // the section's bytes, when read

	text, linkedit   *segment
	firstSectionData int64 // lowest file offset of section or segment data after the header

	sigCmd          int // offset of LC_CODE_SIGNATURE in header; -1 when none
	sigOff, sigSize uint32
	cryptID         uint32
	platform        uint32
	minOS           uint32 // xxxx.yy.zz nibbles
	hasVersion      bool
}

type segment struct {
	cmdOff           int // offset of the segment command in header
	vmSize           uint64
	fileOff, fileLen uint64
}

func isMachO(head []byte) bool {
	if len(head) < 8 {
		return false
	}
	switch binary.LittleEndian.Uint32(head) {
	case magic32, magic64:
		return true
	}
	switch binary.BigEndian.Uint32(head) {
	case fatMagic, fatMagic64:
		// Java class files share 0xcafebabe; their next word (the class
		// version) is far above any plausible architecture count.
		n := binary.BigEndian.Uint32(head[4:])
		return n > 0 && n <= maxFatArchs
	}
	return false
}

// archName names a CPU as lipo does.
func archName(cpu, sub int32) string {
	sub &= 0x00ffffff
	switch cpu {
	case cpuTypeARM64:
		switch sub {
		case 2:
			return "arm64e"
		}
		return "arm64"
	case cpuTypeARM6432:
		return "arm64_32"
	case cpuTypeARM:
		switch sub {
		case 6:
			return "armv6"
		case 9:
			return "armv7"
		case 11:
			return "armv7s"
		case 12:
			return "armv7k"
		}
		return "arm"
	case cpuTypeX86_64:
		if sub == 8 {
			return "x86_64h"
		}
		return "x86_64"
	case cpuTypeX86:
		return "i386"
	}
	return fmt.Sprintf("cpu%d.%d", cpu, sub)
}

func readAt(r io.ReaderAt, off int64, n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := r.ReadAt(b, off); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, ErrTruncated
		}
		return nil, err
	}
	return b, nil
}

// parseFile reads the fat header, if any, and each slice's header and load
// commands, at increasing offsets.
func parseFile(r io.ReaderAt, size int64) (*file, error) {
	return parseFileOpts(r, size, false)
}

// parseFileOpts is parseFile; withInfoPlist also reads each slice's
// embedded __info_plist section, right after its header so that every read
// stays at an increasing offset.
func parseFileOpts(r io.ReaderAt, size int64, withInfoPlist bool) (*file, error) {
	return parseSlices(r, size, withInfoPlist, 0)
}

// parseSlices is parseFileOpts that stops after max slices (0: all).
func parseSlices(r io.ReaderAt, size int64, withInfoPlist bool, max int) (*file, error) {
	if size < 8 {
		return nil, ErrNotMachO
	}
	head, err := readAt(r, 0, 8)
	if err != nil {
		return nil, err
	}
	if !isMachO(head) {
		switch binary.LittleEndian.Uint32(head) {
		case cigam32, cigam64:
			return nil, fmt.Errorf("%w (big-endian Mach-O is not supported)", ErrNotMachO)
		}
		return nil, ErrNotMachO
	}
	f := &file{}
	m := binary.BigEndian.Uint32(head)
	if m != fatMagic && m != fatMagic64 {
		s, err := parseSlice(r, 0, size, withInfoPlist)
		if err != nil {
			return nil, err
		}
		f.slices = []*slice{s}
		return f, nil
	}
	f.fat = true
	n := int(binary.BigEndian.Uint32(head[4:]))
	entSize := 20
	if m == fatMagic64 {
		entSize = 32
	}
	hdr, err := readAt(r, 8, n*entSize)
	if err != nil {
		return nil, err
	}
	end := int64(8 + n*entSize)
	for i := 0; i < n; i++ {
		e := hdr[i*entSize:]
		cpu := int32(binary.BigEndian.Uint32(e))
		sub := int32(binary.BigEndian.Uint32(e[4:]))
		var off, sz int64
		var align uint32
		if m == fatMagic64 {
			off = int64(binary.BigEndian.Uint64(e[8:]))
			sz = int64(binary.BigEndian.Uint64(e[16:]))
			align = binary.BigEndian.Uint32(e[24:])
		} else {
			off = int64(binary.BigEndian.Uint32(e[8:]))
			sz = int64(binary.BigEndian.Uint32(e[12:]))
			align = binary.BigEndian.Uint32(e[16:])
		}
		if off < end || sz <= 0 || off > size || sz > size-off || align > 20 {
			return nil, fmt.Errorf("%w: fat architecture %d (%s) has offset %d size %d in a file of %d bytes", ErrTruncated, i, archName(cpu, sub), off, sz, size)
		}
		end = off + sz
		s, err := parseSlice(r, off, sz, withInfoPlist)
		if err != nil {
			return nil, fmt.Errorf("architecture %s: %w", archName(cpu, sub), err)
		}
		if s.cpuType != cpu {
			return nil, fmt.Errorf("%w: fat header says %s but the slice is %s", ErrTruncated, archName(cpu, sub), archName(s.cpuType, s.cpuSubtype))
		}
		s.align = align
		f.slices = append(f.slices, s)
		if len(f.slices) == max {
			break
		}
	}
	if len(f.slices) == 0 {
		return nil, fmt.Errorf("%w: fat binary without architectures", ErrNotMachO)
	}
	return f, nil
}

func parseSlice(r io.ReaderAt, off, size int64, withInfoPlist bool) (*slice, error) {
	if size < 28 {
		return nil, ErrTruncated
	}
	h, err := readAt(r, off, 28)
	if err != nil {
		return nil, err
	}
	s := &slice{offset: off, size: size, sigCmd: -1}
	le := binary.LittleEndian
	switch le.Uint32(h) {
	case magic32:
		s.hdrSize = 28
	case magic64:
		s.hdrSize = 32
		s.is64 = true
	default:
		return nil, ErrNotMachO
	}
	s.cpuType = int32(le.Uint32(h[4:]))
	s.cpuSubtype = int32(le.Uint32(h[8:]))
	s.fileType = le.Uint32(h[12:])
	s.ncmds = le.Uint32(h[16:])
	s.sizeofcmds = le.Uint32(h[20:])
	if s.sizeofcmds > maxHeaderSize || int64(s.hdrSize)+int64(s.sizeofcmds) > size || s.ncmds > s.sizeofcmds/8 {
		return nil, fmt.Errorf("%w: load commands (%d, %d bytes) do not fit in %d bytes", ErrTruncated, s.ncmds, s.sizeofcmds, size)
	}
	s.header, err = readAt(r, off, s.hdrSize+int(s.sizeofcmds))
	if err != nil {
		return nil, err
	}
	if err := s.parseCommands(); err != nil {
		return nil, err
	}
	if withInfoPlist && s.infoPlistSize > 0 {
		if s.infoPlist, err = readAt(r, off+s.infoPlistOff, int(s.infoPlistSize)); err != nil {
			return nil, fmt.Errorf("reading the embedded Info.plist: %w", err)
		}
	}
	return s, nil
}

func (s *slice) parseCommands() error {
	le := binary.LittleEndian
	hdrEnd := int64(len(s.header))
	s.firstSectionData = s.size
	p := s.hdrSize
	for i := uint32(0); i < s.ncmds; i++ {
		if p+8 > len(s.header) {
			return fmt.Errorf("%w: load command %d runs past the header", ErrTruncated, i)
		}
		cmd := le.Uint32(s.header[p:])
		cmdSize := int(le.Uint32(s.header[p+4:]))
		if cmdSize < 8 || cmdSize%4 != 0 || cmdSize > len(s.header)-p {
			return fmt.Errorf("%w: load command %d (0x%x) has size %d", ErrTruncated, i, cmd, cmdSize)
		}
		c := s.header[p : p+cmdSize]
		switch cmd &^ 0x80000000 {
		case lcSegment, lcSegment64:
			if cmd&0x80000000 != 0 {
				break
			}
			seg, err := s.parseSegment(c, p, cmd == lcSegment64, hdrEnd)
			if err != nil {
				return err
			}
			switch name := cString(c[8:24]); name {
			case "__TEXT":
				s.text = seg
			case "__LINKEDIT":
				s.linkedit = seg
			}
		case lcCodeSignature:
			if cmdSize < 16 {
				return fmt.Errorf("%w: LC_CODE_SIGNATURE too short", ErrTruncated)
			}
			s.sigCmd = p
			s.sigOff = le.Uint32(c[8:])
			s.sigSize = le.Uint32(c[12:])
			if int64(s.sigOff)+int64(s.sigSize) > s.size || int64(s.sigOff) < hdrEnd {
				return fmt.Errorf("%w: code signature at %d (%d bytes) outside the %d-byte image", ErrTruncated, s.sigOff, s.sigSize, s.size)
			}
		case lcUUID:
			if cmdSize >= 24 {
				s.uuid = c[8:24]
			}
		case lcEncryptionInfo, lcEncryptionInfo64:
			if cmdSize >= 20 {
				s.cryptID = le.Uint32(c[16:])
			}
		case lcBuildVersion:
			if cmdSize >= 24 && !s.hasVersion {
				s.platform = le.Uint32(c[8:])
				s.minOS = le.Uint32(c[12:])
				s.hasVersion = true
			}
		case lcVersionMinIOS, lcVersionMinMacOS, lcVersionMinTVOS, lcVersionMinWatch:
			if cmdSize >= 16 && !s.hasVersion {
				s.platform = map[uint32]uint32{lcVersionMinIOS: platformIOS, lcVersionMinMacOS: platformMacOS, lcVersionMinTVOS: platformTVOS, lcVersionMinWatch: platformWatchOS}[cmd]
				s.minOS = le.Uint32(c[8:])
				s.hasVersion = true
			}
		}
		p += cmdSize
	}
	if p != len(s.header) {
		return fmt.Errorf("%w: the load commands take %d bytes but the header says %d", ErrTruncated, p-s.hdrSize, s.sizeofcmds)
	}
	if s.text == nil {
		return fmt.Errorf("%w: no __TEXT segment", ErrNotMachO)
	}
	if s.linkedit == nil {
		return fmt.Errorf("%w: no __LINKEDIT segment", ErrNotMachO)
	}
	return nil
}

func (s *slice) parseSegment(c []byte, at int, is64 bool, hdrEnd int64) (*segment, error) {
	le := binary.LittleEndian
	seg := &segment{cmdOff: at}
	var nsects uint32
	var secOff, secSize int
	if is64 {
		if len(c) < 72 {
			return nil, fmt.Errorf("%w: LC_SEGMENT_64 too short", ErrTruncated)
		}
		seg.vmSize = le.Uint64(c[32:])
		seg.fileOff = le.Uint64(c[40:])
		seg.fileLen = le.Uint64(c[48:])
		nsects = le.Uint32(c[64:])
		secOff, secSize = 72, 80
	} else {
		if len(c) < 56 {
			return nil, fmt.Errorf("%w: LC_SEGMENT too short", ErrTruncated)
		}
		seg.vmSize = uint64(le.Uint32(c[28:]))
		seg.fileOff = uint64(le.Uint32(c[32:]))
		seg.fileLen = uint64(le.Uint32(c[36:]))
		nsects = le.Uint32(c[48:])
		secOff, secSize = 56, 68
	}
	// ld rounds __LINKEDIT's file size up to 8 or 16 bytes past the
	// string table that ends the file; codesign treats the missing bytes
	// as zeros, and so does Sign.
	slack := uint64(0)
	if cString(c[8:24]) == "__LINKEDIT" {
		slack = linkeditSlack
	}
	if seg.fileOff > uint64(s.size) || seg.fileLen > uint64(s.size)-seg.fileOff+slack {
		return nil, fmt.Errorf("%w: segment %s at %d (%d bytes) outside the %d-byte image", ErrTruncated, cString(c[8:24]), seg.fileOff, seg.fileLen, s.size)
	}
	if uint64(nsects) > uint64(len(c)-secOff)/uint64(secSize) {
		return nil, fmt.Errorf("%w: segment %s claims %d sections", ErrTruncated, cString(c[8:24]), nsects)
	}
	if seg.fileLen > 0 && seg.fileOff > 0 && int64(seg.fileOff) < s.firstSectionData {
		s.firstSectionData = int64(seg.fileOff)
	}
	for i := 0; i < int(nsects); i++ {
		sec := c[secOff+i*secSize:]
		var off uint32
		var size uint64
		var flags uint32
		if cString(sec[0:16]) == "__info_plist" && cString(sec[16:32]) == "__TEXT" {
			s.noteInfoPlist(sec, is64)
		}
		if is64 {
			size = le.Uint64(sec[40:])
			off = le.Uint32(sec[48:])
			flags = le.Uint32(sec[64:])
		} else {
			size = uint64(le.Uint32(sec[36:]))
			off = le.Uint32(sec[40:])
			flags = le.Uint32(sec[56:])
		}
		switch flags & sectionTypeMask {
		case sectionZerofill, sectionGBZerofill, sectionTLVZerofill:
			continue
		}
		if off != 0 && size != 0 && int64(off) < s.firstSectionData {
			s.firstSectionData = int64(off)
		}
	}
	_ = hdrEnd
	return seg, nil
}

// noteInfoPlist records the __TEXT,__info_plist section header sec when
// its bytes lie inside the slice.
func (s *slice) noteInfoPlist(sec []byte, is64 bool) {
	le := binary.LittleEndian
	var off, size uint64
	if is64 {
		size, off = le.Uint64(sec[40:]), uint64(le.Uint32(sec[48:]))
	} else {
		size, off = uint64(le.Uint32(sec[36:])), uint64(le.Uint32(sec[40:]))
	}
	if off == 0 || size == 0 || size > maxInfoPlist || off > uint64(s.size) || size > uint64(s.size)-off {
		return
	}
	s.infoPlistOff, s.infoPlistSize = int64(off), int64(size)
}

// isExecutable reports whether the slice is a main executable
// (MH_EXECUTE), which codesign marks CS_EXECSEG_MAIN_BINARY and gives DER
// entitlements.
func (s *slice) isExecutable() bool { return s.fileType == mhExecute }

func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// arch names the slice.
func (s *slice) arch() string { return archName(s.cpuType, s.cpuSubtype) }

// pageAlign is the segment alignment of the architecture, as
// codesign_allocate rounds __LINKEDIT's vmsize to it: 16 KiB for every ARM
// architecture (armv7 included, since iOS 9), 4 KiB for Intel.
func (s *slice) pageAlign() uint64 {
	switch s.cpuType {
	case cpuTypeARM, cpuTypeARM64, cpuTypeARM6432:
		return 0x4000
	}
	return 0x1000
}

// fatAlign is the log2 alignment codesign and lipo use in a fat header.
func (s *slice) fatAlign() uint32 {
	a := uint32(12)
	switch s.cpuType {
	case cpuTypeARM, cpuTypeARM64, cpuTypeARM6432:
		a = 14
	}
	if s.align > a {
		a = s.align
	}
	return a
}

// versionString formats a xxxx.yy.zz version.
func versionString(v uint32) string {
	if v&0xff != 0 {
		return fmt.Sprintf("%d.%d.%d", v>>16, (v>>8)&0xff, v&0xff)
	}
	return fmt.Sprintf("%d.%d", v>>16, (v>>8)&0xff)
}

// needsSHA1 reports whether the slice must carry a SHA-1 CodeDirectory
// for its oldest supported OS (codesign's rule: iOS/tvOS < 11,
// watchOS < 4, macOS < 10.11.4; unknown: yes).
func (s *slice) needsSHA1() bool {
	if !s.hasVersion {
		return true
	}
	switch s.platform {
	case platformIOS, platformIOSSim, platformTVOS, platformTVOSSim:
		return s.minOS < 11<<16
	case platformWatchOS, platformWatchOSSim:
		return s.minOS < 4<<16
	case platformMacOS:
		return s.minOS < 10<<16|11<<8|4
	}
	return false
}
