package ipa

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	gomacho "github.com/blacktop/go-macho"
	"github.com/blacktop/go-macho/pkg/codesign/types"

	"github.com/storesign/storesign/internal/testenv"
	"github.com/storesign/storesign/signing/macho"
	"github.com/storesign/storesign/signing/signingtest"
)

// TestIndependentChecks re-checks every signed binary of a re-signed IPA
// with code that is not ours: page hashes recomputed from blacktop/go-macho's
// parse of the CodeDirectories, and each CMS signature verified by
// `openssl cms -verify` over the CodeDirectory against the test root.
func TestIndependentChecks(t *testing.T) {
	openssl := testenv.Tool(t, "openssl")
	f := newFixture(t)
	in := signingtest.IPA(signingtest.IPAOptions{MainArchs: []string{"arm64", "x86_64"}})
	out, _ := resign(t, in, f.opts())
	dir := t.TempDir()
	rootPEM := filepath.Join(dir, "root.pem")
	if err := os.WriteFile(rootPEM, signingtest.CertPEM(f.apple.Root.Certificate), 0o600); err != nil {
		t.Fatal(err)
	}
	n := 0
	for name, zf := range zipFiles(t, out) {
		if zf.Mode().IsDir() {
			continue
		}
		data := readZip(t, zf)
		if !macho.IsMachO(data) {
			continue
		}
		n++
		t.Run(strings.TrimPrefix(name, "Payload/"), func(t *testing.T) {
			for i, sl := range slicesOf(t, data) {
				checkSlice(t, openssl, rootPEM, dir, i, sl)
			}
		})
	}
	if n != 6 {
		t.Errorf("checked %d binaries, want 6", n)
	}
}

// slicesOf returns the architecture slices of a thin or fat binary.
func slicesOf(t *testing.T, data []byte) [][]byte {
	if binary.BigEndian.Uint32(data) != 0xcafebabe {
		return [][]byte{data}
	}
	ff, err := gomacho.NewFatFile(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("go-macho: %v", err)
	}
	var out [][]byte
	for _, a := range ff.Arches {
		if a.Offset%(1<<a.Align) != 0 {
			t.Errorf("slice %v at %d is not aligned to 2^%d", a.CPU, a.Offset, a.Align)
		}
		out = append(out, data[a.Offset:a.Offset+a.Size])
	}
	return out
}

func checkSlice(t *testing.T, openssl, rootPEM, dir string, idx int, sl []byte) {
	f, err := gomacho.NewFile(bytes.NewReader(sl))
	if err != nil {
		t.Fatalf("go-macho: %v", err)
	}
	cs := f.CodeSignature()
	if cs == nil {
		t.Fatal("go-macho finds no code signature")
	}
	if len(cs.CodeDirectories) == 0 {
		t.Fatal("no CodeDirectory")
	}
	for _, cd := range cs.CodeDirectories {
		ps := 1 << cd.Header.PageSize
		limit := int(cd.CodeLimit)
		if limit != int(cs.Offset) {
			t.Errorf("code limit %d, signature at %d", limit, cs.Offset)
		}
		if want := (limit + ps - 1) / ps; len(cd.CodeSlots) != want {
			t.Fatalf("%d code slots, want %d", len(cd.CodeSlots), want)
		}
		for i, slot := range cd.CodeSlots {
			page := sl[i*ps : min((i+1)*ps, limit)]
			var sum []byte
			switch cd.Header.HashType {
			case types.HASHTYPE_SHA1:
				s := sha1.Sum(page)
				sum = s[:]
			case types.HASHTYPE_SHA256:
				s := sha256.Sum256(page)
				sum = s[:]
			default:
				t.Fatalf("hash type %v", cd.Header.HashType)
			}
			if !bytes.Equal(sum[:len(slot.Hash)], slot.Hash) {
				t.Fatalf("%v page %d: hash %x, recomputed %x", cd.Header.HashType, i, slot.Hash, sum)
			}
		}
	}
	// The CMS blob signs the first CodeDirectory.
	sig := sl[cs.Offset : cs.Offset+cs.Size]
	var cd, cms []byte
	count := binary.BigEndian.Uint32(sig[8:])
	for i := range count {
		typ := binary.BigEndian.Uint32(sig[12+8*i:])
		off := binary.BigEndian.Uint32(sig[16+8*i:])
		n := binary.BigEndian.Uint32(sig[off+4:])
		switch typ {
		case 0:
			cd = sig[off : off+n]
		case 0x10000:
			cms = sig[off+8 : off+n]
		}
	}
	if cd == nil || len(cms) == 0 {
		t.Fatal("no CodeDirectory or CMS blob")
	}
	cdFile := filepath.Join(dir, "cd.bin")
	cmsFile := filepath.Join(dir, "cms.der")
	os.WriteFile(cdFile, cd, 0o600)
	os.WriteFile(cmsFile, cms, 0o600)
	cmd := exec.Command(openssl, "cms", "-verify", "-binary", "-inform", "DER", "-in", cmsFile, "-content", cdFile,
		"-CAfile", rootPEM, "-purpose", "any", "-ignore_critical", "-out", os.DevNull)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("slice %d: openssl cms -verify: %v\n%s", idx, err, msg)
	}
}
