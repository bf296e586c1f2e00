package macho

import (
	"encoding/binary"
	"fmt"
	"os"
	"testing"
)

func TestZZDump(t *testing.T) {
	path := os.Getenv("DUMP")
	if path == "" {
		t.Skip()
	}
	b, _ := os.ReadFile(path)
	f, err := parseFile(bytesReaderAt(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range f.slices {
		fmt.Printf("slice %s off %d size %d sigoff %d sigsize %d linkedit off %d len %d vm %d text %d/%d platform %d minos %x\n", s.arch(), s.offset, s.size, s.sigOff, s.sigSize, s.linkedit.fileOff, s.linkedit.fileLen, s.linkedit.vmSize, s.text.fileOff, s.text.fileLen, s.platform, s.minOS)
		if s.sigCmd < 0 {
			continue
		}
		sig := b[s.offset+int64(s.sigOff) : s.offset+int64(s.sigOff)+int64(s.sigSize)]
		blobs, err := parseSuperBlob(sig)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Printf(" superblob len %d\n", binary.BigEndian.Uint32(sig[4:]))
		for _, bl := range blobs {
			m := binary.BigEndian.Uint32(bl.data)
			fmt.Printf("  slot %#x magic %#x len %d\n", bl.slot, m, len(bl.data))
			if m == magicCodeDirectory {
				cd, _ := parseCodeDirectory(bl.data)
				fmt.Printf("   cd v%#x flags %#x hashOff %d nSpecial %d nCode %d limit %d type %d pageshift %d platform %d ident %q team %q execseg %d %d %#x spare2 %x scatter %x\n", cd.version, cd.flags, cd.hashOff, cd.nSpecial, cd.nCode, cd.codeLimit, cd.hashType, cd.pageShift, bl.data[38], cd.identifier, cd.teamID, cd.execSegBase, cd.execSegLimit, cd.execSegFlags, bl.data[40:44], bl.data[44:48])
				for i := 1; i <= cd.nSpecial; i++ {
					fmt.Printf("   special %d %x\n", i, cd.specialHash(i))
				}
			}
			if m == magicEntitlements {
				fmt.Printf("%s\n", bl.data[8:])
			}
			if m == magicRequirements {
				s, _ := decompileRequirementSet(bl.data)
				fmt.Printf("   %s\n   %x\n", s, bl.data)
			}
			if m == magicBlobWrapper && os.Getenv("CMS") != "" {
				os.WriteFile(os.Getenv("CMS"), bl.data[8:], 0o644)
			}
		}
	}
}

type bytesReaderAt []byte

func (b bytesReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(b)) {
		return 0, fmt.Errorf("EOF")
	}
	n := copy(p, b[off:])
	if n < len(p) {
		return n, fmt.Errorf("EOF")
	}
	return n, nil
}
