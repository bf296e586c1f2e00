package signingtest

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Mach-O fixtures are small darwin programs built by the Go toolchain
// (CGO disabled, -ldflags=-s -trimpath -buildvcs=false, so the same Go
// version gives the same bytes), then edited: signature stripped,
// LC_BUILD_VERSION patched to iOS, slices joined into a fat binary.
//
// A build takes seconds, so each one is memoized for the life of the test
// binary and cached on disk in os.UserCacheDir()/storesign-test/macho,
// keyed by the Go version, the source and the flags.

// machOSource is the program every fixture is built from.
const machOSource = "package main\n\nimport \"os\"\n\nfunc main() { os.Stdout.WriteString(\"hello from storesign\\n\") }\n"

// machOBuilds memoizes Go-built binaries by GOARCH.
var machOBuilds sync.Map // goarch -> *machOBuild

type machOBuild struct {
	once sync.Once
	b    []byte
	err  error
	skip bool
}

// MachO returns a small darwin executable built by the Go toolchain for
// goarch ("arm64" or "amd64"), exactly as the linker wrote it: the Go
// linker signs darwin/arm64 binaries ad hoc (LC_CODE_SIGNATURE, no CMS)
// and leaves darwin/amd64 ones unsigned. LC_BUILD_VERSION says macOS
// 12.0. Callers must not modify the result.
// The test is skipped when the go command is not available.
func MachO(tb testing.TB, goarch string) []byte {
	tb.Helper()
	v, _ := machOBuilds.LoadOrStore(goarch, &machOBuild{})
	mb := v.(*machOBuild)
	mb.once.Do(func() { mb.b, mb.skip, mb.err = buildMachO(goarch) })
	if mb.skip {
		tb.Skip("the go command is not available to build Mach-O fixtures")
	}
	if mb.err != nil {
		tb.Fatal(mb.err)
	}
	return mb.b
}

// UnsignedMachO returns [MachO] for goarch with its signature removed (see
// [StripMachOSignature]), as a linker writes a binary without
// -adhoc_codesign.
func UnsignedMachO(tb testing.TB, goarch string) []byte {
	tb.Helper()
	b, err := StripMachOSignature(MachO(tb, goarch))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// IOSMachO returns an unsigned thin binary for goarch whose
// LC_BUILD_VERSION says iOS (platform 2) with minimum version minOS
// ("15.0"; below "11.0" codesign adds a SHA-1 CodeDirectory).
func IOSMachO(tb testing.TB, goarch, minOS string) []byte {
	tb.Helper()
	b, err := SetMachOBuildVersion(UnsignedMachO(tb, goarch), PlatformIOS, minOS)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// FatIOSMachO returns an unsigned fat binary of an arm64 and an x86_64
// iOS slice (see [IOSMachO]), in that order.
func FatIOSMachO(tb testing.TB, minOS string) []byte {
	tb.Helper()
	b, err := FatMachO(IOSMachO(tb, "arm64", minOS), IOSMachO(tb, "amd64", minOS))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// PlatformIOS is the LC_BUILD_VERSION platform of iOS.
const PlatformIOS = 2

func findGo() (string, bool) {
	if root := os.Getenv("GOROOT"); root != "" {
		p := filepath.Join(root, "bin", "go")
		if _, err := os.Stat(p); err == nil {
			return p, true
		}
	}
	p, err := exec.LookPath("go")
	return p, err == nil
}

func buildMachO(goarch string) (b []byte, skip bool, err error) {
	if goarch != "arm64" && goarch != "amd64" {
		return nil, false, fmt.Errorf("signingtest: no Mach-O fixture for GOARCH %q", goarch)
	}
	goTool, ok := findGo()
	if !ok {
		return nil, true, nil
	}
	ver, err := exec.Command(goTool, "env", "GOVERSION").Output()
	if err != nil {
		return nil, true, nil
	}
	flags := []string{"build", "-ldflags=-s", "-buildvcs=false", "-trimpath", "-o"}
	key := sha256.Sum256([]byte(strings.TrimSpace(string(ver)) + "\x00" + goarch + "\x00" + strings.Join(flags, " ") + "\x00" + machOSource))
	cacheFile := ""
	if d, err := os.UserCacheDir(); err == nil {
		cacheFile = filepath.Join(d, "storesign-test", "macho", "hello-"+goarch+"-"+hex.EncodeToString(key[:8]))
		if b, err := os.ReadFile(cacheFile); err == nil && len(b) > 4096 && binary.LittleEndian.Uint32(b) == machoMagic64 {
			return b, false, nil
		}
	}
	dir, err := os.MkdirTemp("", "signingtest-macho-")
	if err != nil {
		return nil, false, err
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(machOSource), 0o644); err != nil {
		return nil, false, err
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module hello\n\ngo 1.21\n"), 0o644); err != nil {
		return nil, false, err
	}
	out := filepath.Join(dir, "hello")
	cmd := exec.Command(goTool, append(flags, out, ".")...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=darwin", "GOARCH="+goarch, "CGO_ENABLED=0", "GOFLAGS=", "GOWORK=off", "GOTOOLCHAIN=local")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return nil, false, fmt.Errorf("signingtest: building a darwin/%s fixture: %v\n%s", goarch, err, msg)
	}
	b, err = os.ReadFile(out)
	if err != nil {
		return nil, false, err
	}
	if cacheFile != "" {
		// Best effort: a cache that cannot be written only costs time.
		if os.MkdirAll(filepath.Dir(cacheFile), 0o755) == nil {
			if f, err := os.CreateTemp(filepath.Dir(cacheFile), ".tmp-*"); err == nil {
				_, werr := f.Write(b)
				cerr := f.Close()
				if werr != nil || cerr != nil || os.Rename(f.Name(), cacheFile) != nil {
					os.Remove(f.Name())
				}
			}
		}
	}
	return b, false, nil
}

// Mach-O constants used by the fixture editors.
const (
	machoMagic64         = 0xfeedfacf
	machoMagic32         = 0xfeedface
	lcSegment            = 0x1
	lcSegment64          = 0x19
	lcCodeSignature      = 0x1d
	lcBuildVersion       = 0x32
	lcVersionMinIOS      = 0x25
	lcEncryptionInfo64   = 0x2c
	lcNote               = 0x31
	machoHeaderSize64    = 32
	encryptionInfo64Size = 24
)

type machoCmd struct {
	off, size int
	cmd       uint32
}

func machoCommands(b []byte) (hdr int, cmds []machoCmd, err error) {
	le := binary.LittleEndian
	if len(b) < 32 {
		return 0, nil, errors.New("signingtest: not a Mach-O")
	}
	switch le.Uint32(b) {
	case machoMagic64:
		hdr = 32
	case machoMagic32:
		hdr = 28
	default:
		return 0, nil, errors.New("signingtest: not a thin little-endian Mach-O")
	}
	n := int(le.Uint32(b[16:]))
	p := hdr
	for i := 0; i < n; i++ {
		if p+8 > len(b) {
			return 0, nil, errors.New("signingtest: truncated load commands")
		}
		c := machoCmd{off: p, cmd: le.Uint32(b[p:]), size: int(le.Uint32(b[p+4:]))}
		if c.size < 8 || p+c.size > len(b) {
			return 0, nil, errors.New("signingtest: bad load command size")
		}
		cmds = append(cmds, c)
		p += c.size
	}
	return hdr, cmds, nil
}

// segmentCmd returns the load command of the named segment.
func segmentCmd(b []byte, cmds []machoCmd, name string) (machoCmd, bool) {
	for _, c := range cmds {
		if (c.cmd == lcSegment64 || c.cmd == lcSegment) && strings.TrimRight(string(b[c.off+8:c.off+24]), "\x00") == name {
			return c, true
		}
	}
	return machoCmd{}, false
}

// StripMachOSignature returns a copy of the thin Mach-O b without its code
// signature: LC_CODE_SIGNATURE removed from the load commands (later ones
// moved up, the freed bytes zeroed), the signature cut off the end and
// __LINKEDIT shrunk to match, as a binary straight out of the linker
// without -adhoc_codesign looks. An unsigned b is returned copied.
func StripMachOSignature(b []byte) ([]byte, error) {
	le := binary.LittleEndian
	hdr, cmds, err := machoCommands(b)
	if err != nil {
		return nil, err
	}
	out := append([]byte(nil), b...)
	var sig *machoCmd
	for i := range cmds {
		if cmds[i].cmd == lcCodeSignature {
			sig = &cmds[i]
		}
	}
	if sig == nil {
		return out, nil
	}
	dataOff := int(le.Uint32(b[sig.off+8:]))
	if dataOff > len(b) {
		return nil, errors.New("signingtest: code signature past the end")
	}
	end := hdr + int(le.Uint32(b[20:]))
	copy(out[sig.off:], b[sig.off+sig.size:end])
	clear(out[end-sig.size : end])
	le.PutUint32(out[16:], le.Uint32(b[16:])-1)
	le.PutUint32(out[20:], le.Uint32(b[20:])-uint32(sig.size))
	_, cmds, err = machoCommands(out)
	if err != nil {
		return nil, err
	}
	if c, ok := segmentCmd(out, cmds, "__LINKEDIT"); ok {
		if c.cmd == lcSegment64 {
			fo := le.Uint64(out[c.off+40:])
			le.PutUint64(out[c.off+48:], uint64(dataOff)-fo)
		} else {
			fo := le.Uint32(out[c.off+32:])
			le.PutUint32(out[c.off+36:], uint32(dataOff)-fo)
		}
	}
	return out[:dataOff], nil
}

// SetMachOBuildVersion returns a copy of the thin Mach-O b whose
// LC_BUILD_VERSION says platform (2: iOS) and minimum OS minOS ("10.0").
func SetMachOBuildVersion(b []byte, platform uint32, minOS string) ([]byte, error) {
	var maj, min, patch uint32
	if _, err := fmt.Sscanf(minOS+".0.0", "%d.%d.%d", &maj, &min, &patch); err != nil {
		return nil, fmt.Errorf("signingtest: bad version %q", minOS)
	}
	v := maj<<16 | min<<8 | patch
	_, cmds, err := machoCommands(b)
	if err != nil {
		return nil, err
	}
	out := append([]byte(nil), b...)
	for _, c := range cmds {
		if c.cmd == lcBuildVersion {
			binary.LittleEndian.PutUint32(out[c.off+8:], platform)
			binary.LittleEndian.PutUint32(out[c.off+12:], v)
			binary.LittleEndian.PutUint32(out[c.off+16:], v) // sdk
			return out, nil
		}
	}
	return nil, errors.New("signingtest: no LC_BUILD_VERSION")
}

// AddMachOLoadCommand returns a copy of the thin 64-bit Mach-O b with cmd
// (a whole load command: cmd, cmdsize, payload; cmdsize a multiple of 8)
// appended to its load commands, in the free space before the first
// section. It fails when there is no room.
func AddMachOLoadCommand(b, cmd []byte) ([]byte, error) {
	le := binary.LittleEndian
	hdr, cmds, err := machoCommands(b)
	if err != nil {
		return nil, err
	}
	if len(cmd) < 8 || int(le.Uint32(cmd[4:])) != len(cmd) || len(cmd)%8 != 0 {
		return nil, errors.New("signingtest: malformed load command")
	}
	end := hdr + int(le.Uint32(b[20:]))
	if first := firstSectionOffset(b, cmds); end+len(cmd) > first {
		return nil, fmt.Errorf("signingtest: no room for a %d-byte load command (%d bytes free)", len(cmd), first-end)
	}
	out := append([]byte(nil), b...)
	copy(out[end:], cmd)
	le.PutUint32(out[16:], le.Uint32(b[16:])+1)
	le.PutUint32(out[20:], le.Uint32(b[20:])+uint32(len(cmd)))
	return out, nil
}

// firstSectionOffset returns the lowest file offset of section data.
func firstSectionOffset(b []byte, cmds []machoCmd) int {
	le := binary.LittleEndian
	first := len(b)
	for _, c := range cmds {
		if c.cmd != lcSegment64 {
			continue
		}
		n := int(le.Uint32(b[c.off+64:]))
		for i := 0; i < n && c.off+72+80*(i+1) <= c.off+c.size; i++ {
			s := b[c.off+72+80*i:]
			off := int(le.Uint32(s[48:]))
			typ := le.Uint32(s[64:]) & 0xff
			if off != 0 && le.Uint64(s[40:]) != 0 && typ != 0x1 && typ != 0xc && typ != 0x12 && off < first {
				first = off
			}
		}
	}
	return first
}

// EncryptMachO returns a copy of the unsigned thin 64-bit Mach-O b marked
// as FairPlay-encrypted, as the App Store delivers binaries: an
// LC_ENCRYPTION_INFO_64 with cryptid 1 over __TEXT after the header.
// (Nothing is really encrypted.)
func EncryptMachO(b []byte) ([]byte, error) {
	le := binary.LittleEndian
	cmd := make([]byte, encryptionInfo64Size)
	le.PutUint32(cmd, lcEncryptionInfo64)
	le.PutUint32(cmd[4:], encryptionInfo64Size)
	le.PutUint32(cmd[8:], 0x4000) // cryptoff
	le.PutUint32(cmd[12:], 0x4000)
	le.PutUint32(cmd[16:], 1) // cryptid
	return AddMachOLoadCommand(b, cmd)
}

// FillMachOHeader returns a copy of the thin 64-bit Mach-O b whose free
// header space (between the load commands and the first section) is
// taken by an LC_NOTE padding command, leaving free bytes free (a
// multiple of 8): with free < 16 there is no room to add
// LC_CODE_SIGNATURE.
func FillMachOHeader(b []byte, free int) ([]byte, error) {
	hdr, cmds, err := machoCommands(b)
	if err != nil {
		return nil, err
	}
	end := hdr + int(binary.LittleEndian.Uint32(b[20:]))
	n := firstSectionOffset(b, cmds) - end - free
	n &^= 7
	if n < 40 {
		return nil, fmt.Errorf("signingtest: only %d bytes free in the header", n)
	}
	cmd := make([]byte, n)
	binary.LittleEndian.PutUint32(cmd, lcNote)
	binary.LittleEndian.PutUint32(cmd[4:], uint32(n))
	copy(cmd[8:], "padding")
	return AddMachOLoadCommand(b, cmd)
}

// PadMachO returns a copy of the unsigned thin 64-bit Mach-O b grown by n
// bytes of deterministic pseudo-random data at the end of __LINKEDIT
// (file and VM sizes grown to match), to make large binaries for
// benchmarks. The data does not compress.
func PadMachO(b []byte, n int) ([]byte, error) {
	le := binary.LittleEndian
	_, cmds, err := machoCommands(b)
	if err != nil {
		return nil, err
	}
	for _, c := range cmds {
		if c.cmd == lcCodeSignature {
			return nil, errors.New("signingtest: PadMachO needs an unsigned binary")
		}
	}
	c, ok := segmentCmd(b, cmds, "__LINKEDIT")
	if !ok || c.cmd != lcSegment64 {
		return nil, errors.New("signingtest: no __LINKEDIT segment")
	}
	if int(le.Uint64(b[c.off+40:])+le.Uint64(b[c.off+48:])) != len(b) {
		return nil, errors.New("signingtest: __LINKEDIT does not end the file")
	}
	out := make([]byte, len(b), len(b)+n)
	copy(out, b)
	out = out[:len(b)+n]
	fillMachO(out[len(b):], "pad")
	le.PutUint64(out[c.off+48:], le.Uint64(b[c.off+48:])+uint64(n))
	vm := (le.Uint64(out[c.off+48:]) + 0x3fff) &^ 0x3fff
	if vm > le.Uint64(b[c.off+32:]) {
		le.PutUint64(out[c.off+32:], vm)
	}
	return out, nil
}

// fillMachO fills b with fast deterministic pseudo-random bytes.
func fillMachO(b []byte, seed string) {
	h := sha256.Sum256([]byte(seed))
	r := rand.New(rand.NewPCG(binary.LittleEndian.Uint64(h[:]), binary.LittleEndian.Uint64(h[8:])))
	for len(b) >= 8 {
		binary.LittleEndian.PutUint64(b, r.Uint64())
		b = b[8:]
	}
	for i := range b {
		b[i] = byte(r.Uint32())
	}
}

// FatMachO joins thin Mach-O images into a fat (universal) binary, each
// slice aligned to 2^14 bytes as lipo does for ARM.
func FatMachO(slices ...[]byte) ([]byte, error) {
	be := binary.BigEndian
	const align = 14
	hdr := make([]byte, 8+20*len(slices))
	be.PutUint32(hdr, 0xcafebabe)
	be.PutUint32(hdr[4:], uint32(len(slices)))
	var out bytes.Buffer
	out.Write(hdr)
	for i, s := range slices {
		if len(s) < 12 {
			return nil, errors.New("signingtest: slice too short")
		}
		off := (out.Len() + 1<<align - 1) &^ (1<<align - 1)
		out.Write(make([]byte, off-out.Len()))
		e := out.Bytes()[8+20*i:]
		be.PutUint32(e, binary.LittleEndian.Uint32(s[4:]))
		be.PutUint32(e[4:], binary.LittleEndian.Uint32(s[8:]))
		be.PutUint32(e[8:], uint32(off))
		be.PutUint32(e[12:], uint32(len(s)))
		be.PutUint32(e[16:], align)
		out.Write(s)
	}
	return out.Bytes(), nil
}

// MinimalMachO returns a small synthetic unsigned arm64 iOS executable
// (minimum iOS minOS, e.g. "15.0"): a Mach-O header, __PAGEZERO, a 16 KiB
// __TEXT with one section of deterministic bytes, a 64-byte __LINKEDIT,
// LC_BUILD_VERSION and room for more load commands. It needs no
// toolchain, so it suits examples and fuzz seeds; it does not run.
func MinimalMachO(minOS string) []byte {
	le := binary.LittleEndian
	const textSize, linkSize = 0x4000, 0x40
	b := make([]byte, textSize+linkSize)
	le.PutUint32(b, machoMagic64)
	le.PutUint32(b[4:], 0x0100000c) // CPU_TYPE_ARM64
	le.PutUint32(b[12:], 2)         // MH_EXECUTE
	le.PutUint32(b[24:], 0x200085)  // MH_NOUNDEFS|MH_DYLDLINK|MH_TWOLEVEL|MH_PIE
	p := machoHeaderSize64
	seg := func(name string, vmaddr, vmsize, off, size uint64, nsect int) []byte {
		c := b[p:]
		le.PutUint32(c, lcSegment64)
		le.PutUint32(c[4:], uint32(72+80*nsect))
		copy(c[8:], name)
		le.PutUint64(c[24:], vmaddr)
		le.PutUint64(c[32:], vmsize)
		le.PutUint64(c[40:], off)
		le.PutUint64(c[48:], size)
		if size > 0 {
			le.PutUint32(c[56:], 5) // r-x
			le.PutUint32(c[60:], 5)
		}
		le.PutUint32(c[64:], uint32(nsect))
		p += 72 + 80*nsect
		return c
	}
	seg("__PAGEZERO", 0, 0x100000000, 0, 0, 0)
	text := seg("__TEXT", 0x100000000, textSize, 0, textSize, 1)
	s := text[72:]
	copy(s, "__text")
	copy(s[16:], "__TEXT")
	le.PutUint64(s[32:], 0x100000000+0x1000)
	le.PutUint64(s[40:], textSize-0x1000)
	le.PutUint32(s[48:], 0x1000)
	le.PutUint32(s[52:], 2)          // align 2^2
	le.PutUint32(s[64:], 0x80000400) // S_ATTR_PURE_INSTRUCTIONS|S_ATTR_SOME_INSTRUCTIONS
	seg("__LINKEDIT", 0x100000000+textSize, 0x4000, textSize, linkSize, 0)
	bv := b[p:]
	le.PutUint32(bv, lcBuildVersion)
	le.PutUint32(bv[4:], 24)
	le.PutUint32(bv[8:], PlatformIOS)
	var maj, min uint32
	fmt.Sscanf(minOS, "%d.%d", &maj, &min)
	le.PutUint32(bv[12:], maj<<16|min<<8)
	le.PutUint32(bv[16:], maj<<16|min<<8)
	p += 24
	le.PutUint32(b[16:], 4)
	le.PutUint32(b[20:], uint32(p-machoHeaderSize64))
	fillMachO(b[0x1000:textSize], "minimal text")
	fillMachO(b[textSize:], "minimal linkedit")
	return b
}
