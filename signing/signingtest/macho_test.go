package signingtest

import (
	"bytes"
	"debug/macho"
	"encoding/binary"
	"testing"
)

func loadCmds(t *testing.T, f *macho.File) map[uint32][]byte {
	t.Helper()
	m := map[uint32][]byte{}
	for _, l := range f.Loads {
		raw := l.Raw()
		m[binary.LittleEndian.Uint32(raw)] = raw
	}
	return m
}

func TestMachOFixtures(t *testing.T) {
	for _, arch := range []string{"arm64", "amd64"} {
		t.Run(arch, func(t *testing.T) {
			signed := MachO(t, arch)
			if !bytes.Equal(signed, MachO(t, arch)) {
				t.Fatal("MachO is not memoized")
			}
			f, err := macho.NewFile(bytes.NewReader(signed))
			if err != nil {
				t.Fatal(err)
			}
			_, hasSig := loadCmds(t, f)[lcCodeSignature]
			if want := arch == "arm64"; hasSig != want {
				t.Errorf("linker output has LC_CODE_SIGNATURE = %v, want %v", hasSig, want)
			}

			ios := IOSMachO(t, arch, "10.3")
			f, err = macho.NewFile(bytes.NewReader(ios))
			if err != nil {
				t.Fatal(err)
			}
			cmds := loadCmds(t, f)
			if _, ok := cmds[lcCodeSignature]; ok {
				t.Error("IOSMachO still has LC_CODE_SIGNATURE")
			}
			bv := cmds[lcBuildVersion]
			if p, v := binary.LittleEndian.Uint32(bv[8:]), binary.LittleEndian.Uint32(bv[12:]); p != PlatformIOS || v != 10<<16|3<<8 {
				t.Errorf("build version platform %d minos %#x", p, v)
			}
			le := f.Segment("__LINKEDIT")
			if int(le.Offset+le.Filesz) != len(ios) {
				t.Errorf("__LINKEDIT ends at %d, file has %d bytes", le.Offset+le.Filesz, len(ios))
			}
			if n := f.Ncmd; int(n) != len(f.Loads) {
				t.Errorf("ncmds %d, %d loads", n, len(f.Loads))
			}

			enc, err := EncryptMachO(ios)
			if err != nil {
				t.Fatal(err)
			}
			f, err = macho.NewFile(bytes.NewReader(enc))
			if err != nil {
				t.Fatal(err)
			}
			if c := loadCmds(t, f)[lcEncryptionInfo64]; c == nil || binary.LittleEndian.Uint32(c[16:]) != 1 {
				t.Error("EncryptMachO: no LC_ENCRYPTION_INFO_64 with cryptid 1")
			}

			full, err := FillMachOHeader(ios, 8)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := AddMachOLoadCommand(full, make16()); err == nil {
				t.Error("AddMachOLoadCommand found room in a full header")
			}

			padded, err := PadMachO(ios, 1<<20+3)
			if err != nil {
				t.Fatal(err)
			}
			f, err = macho.NewFile(bytes.NewReader(padded))
			if err != nil {
				t.Fatal(err)
			}
			le = f.Segment("__LINKEDIT")
			if int(le.Offset+le.Filesz) != len(padded) || len(padded) != len(ios)+1<<20+3 {
				t.Errorf("padded: __LINKEDIT ends at %d, file has %d bytes", le.Offset+le.Filesz, len(padded))
			}
		})
	}
}

func make16() []byte {
	b := make([]byte, 16)
	binary.LittleEndian.PutUint32(b, lcCodeSignature)
	binary.LittleEndian.PutUint32(b[4:], 16)
	return b
}

func TestFatIOSMachO(t *testing.T) {
	fat := FatIOSMachO(t, "15.0")
	ff, err := macho.NewFatFile(bytes.NewReader(fat))
	if err != nil {
		t.Fatal(err)
	}
	if len(ff.Arches) != 2 || ff.Arches[0].Cpu != macho.CpuArm64 || ff.Arches[1].Cpu != macho.CpuAmd64 {
		t.Fatalf("arches %+v", ff.Arches)
	}
	for _, a := range ff.Arches {
		if a.Offset%(1<<14) != 0 {
			t.Errorf("slice %v at %d, not 16 KiB aligned", a.Cpu, a.Offset)
		}
	}
}

func TestMinimalMachO(t *testing.T) {
	b := MinimalMachO("12.0")
	f, err := macho.NewFile(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if f.Cpu != macho.CpuArm64 || f.Segment("__TEXT") == nil || f.Segment("__LINKEDIT") == nil || f.Section("__text") == nil {
		t.Errorf("%+v", f.FileHeader)
	}
	if !bytes.Equal(b, MinimalMachO("12.0")) {
		t.Error("not deterministic")
	}
}
