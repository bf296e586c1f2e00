package cms_test

import (
	"archive/zip"
	"bytes"
	"encoding/asn1"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/storesign/storesign/internal/cms"
	"github.com/storesign/storesign/internal/testenv"
)

// appleSignature is the CMS blob and CodeDirectories of one Mach-O slice
// that Apple's codesign signed.
type appleSignature struct {
	name string
	cms  []byte
	cds  [][]byte // slot 0 first, then the alternates
}

// appleSignatures extracts the signatures of every Mach-O file in the
// Apple-signed corpus (ipa members and loose dylibs).
func appleSignatures(t testing.TB) []appleSignature {
	t.Helper()
	dir := testenv.Corpus(t, "ios", "apple")
	var out []appleSignature
	names, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, p := range names {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case strings.HasSuffix(p, ".ipa"):
			z, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range z.File {
				if f.FileInfo().IsDir() || f.UncompressedSize64 < 4096 || f.UncompressedSize64 > 64<<20 {
					continue
				}
				data := testenv.ZipFile(t, f)
				out = append(out, machoSignatures(filepath.Base(p)+"/"+f.Name, data)...)
			}
		case strings.HasSuffix(p, ".dylib"):
			out = append(out, machoSignatures(filepath.Base(p), b)...)
		}
	}
	if len(out) == 0 {
		t.Fatal("no signatures in the corpus")
	}
	return out
}

// machoSignatures returns the signatures of a thin or fat Mach-O file.
func machoSignatures(name string, b []byte) []appleSignature {
	if len(b) < 8 {
		return nil
	}
	if binary.BigEndian.Uint32(b) == 0xcafebabe {
		var out []appleSignature
		n := int(binary.BigEndian.Uint32(b[4:]))
		for i := 0; i < n && 8+20*(i+1) <= len(b); i++ {
			h := b[8+20*i:]
			off, size := int(binary.BigEndian.Uint32(h[8:])), int(binary.BigEndian.Uint32(h[12:]))
			if off+size <= len(b) {
				out = append(out, machoSignatures(name, b[off:off+size])...)
			}
		}
		return out
	}
	magic := binary.LittleEndian.Uint32(b)
	if magic != 0xfeedface && magic != 0xfeedfacf {
		return nil
	}
	off := 28
	if magic == 0xfeedfacf {
		off = 32
	}
	ncmds := int(binary.LittleEndian.Uint32(b[16:]))
	for range ncmds {
		cmd, size := binary.LittleEndian.Uint32(b[off:]), int(binary.LittleEndian.Uint32(b[off+4:]))
		if cmd == 0x1d { // LC_CODE_SIGNATURE
			doff, dsize := int(binary.LittleEndian.Uint32(b[off+8:])), int(binary.LittleEndian.Uint32(b[off+12:]))
			return superBlob(name, b[doff:doff+dsize])
		}
		off += size
	}
	return nil
}

func superBlob(name string, sb []byte) []appleSignature {
	s := appleSignature{name: name}
	count := int(binary.BigEndian.Uint32(sb[8:]))
	var alternates [][]byte
	for i := range count {
		slot, off := binary.BigEndian.Uint32(sb[12+8*i:]), int(binary.BigEndian.Uint32(sb[16+8*i:]))
		blob := sb[off : off+int(binary.BigEndian.Uint32(sb[off+4:]))]
		switch {
		case slot == 0:
			s.cds = append([][]byte{blob}, s.cds...)
		case slot >= 0x1000 && slot < 0x1005:
			alternates = append(alternates, blob)
		case slot == 0x10000 && len(blob) > 8:
			s.cms = blob[8:]
		}
	}
	s.cds = append(s.cds, alternates...)
	if s.cms == nil {
		return nil
	}
	return []appleSignature{s}
}

// TestParseAppleSignatures parses every signature Apple's codesign made
// in the corpus (2015, 2020 and 2023 Xcode, the App Store) and verifies
// each over its signed attributes as stored: the 2020 two-CodeDirectory
// signatures, whose 9.2 values are not in DER order, verify here though
// openssl cms -verify refuses them. It also pins what codesign writes.
func TestParseAppleSignatures(t *testing.T) {
	oidCDHashes := asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 9, 2}
	unsorted := 0
	for _, s := range appleSignatures(t) {
		sd, err := cms.Parse(s.cms, cms.ParseOptions{})
		if err != nil {
			t.Errorf("%s: %v", s.name, err)
			continue
		}
		if s.cms[1] != 0x80 {
			t.Errorf("%s: codesign wrote a definite length", s.name)
		}
		if sd.Content != nil || len(sd.Signers) != 1 || len(sd.Certificates) != 3 {
			t.Errorf("%s: content %v, %d signers, %d certificates", s.name, sd.Content != nil, len(sd.Signers), len(sd.Certificates))
			continue
		}
		for i := 1; i < len(sd.RawCertificates); i++ {
			if bytes.Compare(sd.RawCertificates[i-1], sd.RawCertificates[i]) > 0 {
				t.Errorf("%s: certificates not in DER order", s.name)
			}
		}
		si := sd.Signers[0]
		if si.Version != 1 || si.Issuer == nil || si.UnsignedAttributes != nil || !bytes.Equal(si.DigestAlgorithm.Parameters, []byte{5, 0}) {
			t.Errorf("%s: version %d, issuer-serial %v, unsigned %v, digest parameters %x", s.name, si.Version, si.Issuer != nil, si.UnsignedAttributes, si.DigestAlgorithm.Parameters)
		}
		if !bytes.Equal(si.SignatureAlgorithm.Parameters, []byte{5, 0}) {
			t.Errorf("%s: signature algorithm parameters %x", s.name, si.SignatureAlgorithm.Parameters)
		}
		leaf := sd.SignerCertificate(si)
		if err := sd.Verify(si, leaf, s.cds[0]); err != nil {
			t.Errorf("%s: %v", s.name, err)
		}
		if a, _ := si.Attribute(oidCDHashes); a != nil {
			for i := 1; i < len(a.Values); i++ {
				if bytes.Compare(a.Values[i-1], a.Values[i]) > 0 {
					unsorted++
				}
			}
		}
		// Another CodeDirectory does not verify.
		bad := append([]byte(nil), s.cds[0]...)
		bad[len(bad)-1] ^= 1
		if err := sd.Verify(si, leaf, bad); err == nil {
			t.Errorf("%s: verifies over a tampered CodeDirectory", s.name)
		}
	}
	if unsorted == 0 {
		t.Error("no signature with unsorted 9.2 values (permissions-2020) was checked")
	}
}
