package macho

import (
	"bytes"
	"context"
	"crypto"
	"crypto/elliptic"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"math/big"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/storesign/storesign/signing"
	"github.com/storesign/storesign/signing/signingtest"
)

// fuzzPKI is an ECDSA root, WWDR-like intermediate and leaf: RSA key
// derivation is too slow in coverage-instrumented fuzz workers.
type fuzzPKI struct {
	root *x509.Certificate
	id   *signing.Identity
}

var fuzzApple = sync.OnceValue(func() *fuzzPKI {
	mk := func(tmpl, parent *x509.Certificate, pub any, key crypto.Signer) *x509.Certificate {
		der, err := x509.CreateCertificate(signingtest.Reader(tmpl.Subject.CommonName), tmpl, parent, pub, key)
		if err != nil {
			panic(err)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			panic(err)
		}
		return c
	}
	ca := func(cn string, serial int64) *x509.Certificate {
		return &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn, OrganizationalUnit: []string{"ABCDE12345"}},
			NotBefore: signingtest.Epoch, NotAfter: signingtest.Epoch.AddDate(30, 0, 0), IsCA: true, BasicConstraintsValid: true,
			KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	}
	rk, ik, lk := signingtest.ECKey("fuzz root", elliptic.P256()), signingtest.ECKey("fuzz wwdr", elliptic.P256()), signingtest.ECKey("fuzz leaf", elliptic.P256())
	root := mk(ca("Fuzz Root", 1), ca("Fuzz Root", 1), rk.Public(), rk)
	it := ca("Fuzz WWDR", 2)
	it.ExtraExtensions = []pkix.Extension{{Id: oidAppleWWDR, Value: []byte{5, 0}}}
	inter := mk(it, root, ik.Public(), rk)
	lt := ca("Apple Distribution: Fuzz (ABCDE12345)", 3)
	lt.IsCA = false
	leaf := mk(lt, inter, lk.Public(), ik)
	id, err := signing.NewIdentity(lk, leaf, inter, root)
	if err != nil {
		panic(err)
	}
	return &fuzzPKI{root: root, id: id}
})

func (p *fuzzPKI) pool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(p.root)
	return pool
}

// tinyMachO is a minimal 64-bit arm64 iOS image: __TEXT with one section
// and a small __LINKEDIT, 4 KiB + 64 bytes, unsigned.
func tinyMachO() []byte {
	le := binary.LittleEndian
	b := make([]byte, 0x1040)
	le.PutUint32(b, magic64)
	le.PutUint32(b[4:], cpuTypeARM64)
	le.PutUint32(b[12:], 2) // MH_EXECUTE
	p := 32
	seg := func(name string, off, size uint64, nsect int) int {
		c := b[p:]
		le.PutUint32(c, lcSegment64)
		le.PutUint32(c[4:], uint32(72+80*nsect))
		copy(c[8:], name)
		le.PutUint64(c[24:], 0x100000000+off)
		le.PutUint64(c[32:], (size+0x3fff)&^0x3fff)
		le.PutUint64(c[40:], off)
		le.PutUint64(c[48:], size)
		le.PutUint32(c[64:], uint32(nsect))
		at := p
		p += 72 + 80*nsect
		return at
	}
	t := seg("__TEXT", 0, 0x1000, 1)
	s := b[t+72:]
	copy(s, "__text")
	copy(s[16:], "__TEXT")
	le.PutUint64(s[40:], 0x100)
	le.PutUint32(s[48:], 0x800)
	seg("__LINKEDIT", 0x1000, 0x40, 0)
	le.PutUint32(b[p:], lcBuildVersion)
	le.PutUint32(b[p+4:], 24)
	le.PutUint32(b[p+8:], platformIOS)
	le.PutUint32(b[p+12:], 15<<16)
	p += 24
	le.PutUint32(b[16:], 3)
	le.PutUint32(b[20:], uint32(p-32))
	for i := 0x800; i < 0x900; i++ {
		b[i] = byte(i)
	}
	return b
}

func fuzzSign(b []byte, ents []byte) ([]byte, error) {
	var out bytes.Buffer
	_, err := sign(context.Background(), bytes.NewReader(b), int64(len(b)), &out, SignOptions{
		Identity: fuzzApple().id, Identifier: "com.example.fuzz", Entitlements: ents,
		InfoPlist: []byte("info"), Now: func() time.Time { return signingtest.Epoch },
	})
	return out.Bytes(), err
}

func fuzzSeeds(f *testing.F) (signed []byte) {
	tiny := tinyMachO()
	signed, err := fuzzSign(tiny, []byte(`<plist><dict><key>a</key><true/></dict></plist>`))
	if err != nil {
		f.Fatal(err)
	}
	return signed
}

// FuzzMachO parses, verifies and signs arbitrary input: no panic, and
// whatever Sign accepts, Verify accepts once signed.
func FuzzMachO(f *testing.F) {
	tiny := tinyMachO()
	signed := fuzzSeeds(f)
	f.Add(tiny)
	f.Add(signed)
	fat := append([]byte{0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 1, 1, 0, 0, 12, 0, 0, 0, 0, 0, 0, 0x40, 0, 0, 0, 0x10, 0x40, 0, 0, 0, 14}, make([]byte, 0x4000-28)...)
	f.Add(append(fat, tiny...))
	f.Fuzz(func(t *testing.T, b []byte) {
		ctx := context.Background()
		r := bytes.NewReader(b)
		if _, err := IsEncrypted(r, int64(len(b))); err != nil {
			return
		}
		Verify(ctx, r, int64(len(b)), VerifyOptions{})
		out, err := fuzzSign(b, nil)
		if err != nil {
			return
		}
		if _, err := Verify(ctx, bytes.NewReader(out), int64(len(out)), VerifyOptions{InfoPlist: []byte("info"), Roots: fuzzApple().pool()}); err != nil {
			t.Fatalf("Verify rejects what Sign wrote: %v", err)
		}
	})
}

// FuzzSignature parses arbitrary code signature super blobs the way
// Verify does.
func FuzzSignature(f *testing.F) {
	signed := fuzzSeeds(f)
	s, err := parseFile(bytes.NewReader(signed), int64(len(signed)))
	if err != nil {
		f.Fatal(err)
	}
	sl := s.slices[0]
	f.Add(signed[sl.sigOff : sl.sigOff+sl.sigSize])
	f.Fuzz(func(t *testing.T, b []byte) {
		blobs, err := parseSuperBlob(b)
		if err != nil {
			return
		}
		for _, bl := range blobs {
			switch bl.slot {
			case slotCodeDirectory, slotAlternateCD:
				cd, err := parseCodeDirectory(bl.data)
				if err != nil {
					continue
				}
				for i := 1; i <= cd.nSpecial; i++ {
					cd.specialHash(i)
				}
				for i := 0; i < cd.nCode; i++ {
					cd.pageHash(i)
				}
			case slotRequirements:
				decompileRequirementSet(bl.data)
			case slotEntitlementsDER:
				if len(bl.data) >= 8 {
					decodeEntitlementsDER(bl.data[8:])
				}
			}
		}
	})
}

// FuzzRequirement decompiles arbitrary requirement blobs and sets.
func FuzzRequirement(f *testing.F) {
	leaf := fuzzApple().id.Certificate
	_, dr := designatedRequirement("com.example.app", leaf)
	f.Add(dr)
	f.Add(requirementSet(dr))
	_, self := designatedRequirement("x", fuzzApple().root)
	f.Add(self)
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) >= 4 && binary.BigEndian.Uint32(b) == magicRequirements {
			decompileRequirementSet(b)
			return
		}
		decompileRequirement(b)
	})
}

// FuzzEntitlements encodes arbitrary entitlements plists as DER and
// decodes them back; and decodes arbitrary DER, which must re-encode to
// the same bytes (the form is canonical).
func FuzzEntitlements(f *testing.F) {
	f.Add([]byte(`<plist><dict><key>application-identifier</key><string>T.com.x</string><key>get-task-allow</key><false/><key>k</key><array><string>a</string><integer>-5</integer><integer>300</integer></array><key>d</key><dict/></dict></plist>`))
	if der, err := entitlementsDER(map[string]any{"a": []any{true, uint64(1) << 63, "é"}, "b": map[string]any{"c": int64(-1)}}); err == nil {
		f.Add(der)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, err := decodeEntitlementsDER(b); err == nil {
			again, err := entitlementsDER(m)
			if err != nil {
				t.Fatalf("re-encoding decoded DER: %v", err)
			}
			if !bytes.Equal(again, b) {
				t.Fatalf("DER is not canonical:\n%x\n%x", b, again)
			}
		}
		m, err := parseEntitlements(b)
		if err != nil {
			return
		}
		der, err := entitlementsDER(m)
		if err != nil {
			return
		}
		back, err := decodeEntitlementsDER(der)
		if err != nil {
			t.Fatalf("decoding what we encoded: %v", err)
		}
		if !reflect.DeepEqual(normalizeEntitlements(m), normalizeEntitlements(back)) {
			t.Fatalf("round trip:\n%#v\n%#v", m, back)
		}
	})
}

// FuzzVerifySignature overwrites bytes of a valid signed binary's code
// signature and verifies it: the whole Verify path (super blob,
// CodeDirectories, requirements, entitlements, CMS, cdhashes attributes)
// sees damaged input in a valid Mach-O. It must never panic nor accept
// a changed signature whose CodeDirectory changed.
func FuzzVerifySignature(f *testing.F) {
	signed := fuzzSeeds(f)
	s, err := parseFile(bytes.NewReader(signed), int64(len(signed)))
	if err != nil {
		f.Fatal(err)
	}
	sl := s.slices[0]
	f.Add(uint16(0), []byte{0})
	f.Add(uint16(20), []byte{0xff, 0xff})
	f.Add(uint16(100), []byte("com.example.fuzz"))
	f.Fuzz(func(t *testing.T, pos uint16, data []byte) {
		b := append([]byte(nil), signed...)
		at := int(sl.sigOff) + int(pos)
		if at >= len(b) {
			return
		}
		copy(b[at:], data)
		info, err := Verify(context.Background(), bytes.NewReader(b), int64(len(b)), VerifyOptions{InfoPlist: []byte("info"), Roots: fuzzApple().pool()})
		if err == nil && info.Slices[0].Identifier != "com.example.fuzz" {
			t.Fatalf("accepted a signature for %q", info.Slices[0].Identifier)
		}
	})
}

// FuzzSignHeader overwrites bytes of a valid binary's header and load
// commands, then signs: Sign must fail cleanly or write what Verify
// accepts.
func FuzzSignHeader(f *testing.F) {
	tiny := tinyMachO()
	f.Add(uint16(20), []byte{0xff})
	f.Add(uint16(32+48), []byte{0, 0, 1})
	f.Add(uint16(32+72+80+64), []byte{9})
	f.Fuzz(func(t *testing.T, pos uint16, data []byte) {
		b := append([]byte(nil), tiny...)
		if int(pos) >= 0x400 {
			return
		}
		copy(b[pos:], data)
		out, err := fuzzSign(b, nil)
		if err != nil {
			return
		}
		if _, err := Verify(context.Background(), bytes.NewReader(out), int64(len(out)), VerifyOptions{InfoPlist: []byte("info"), Roots: fuzzApple().pool()}); err != nil {
			t.Fatalf("Verify rejects what Sign wrote: %v", err)
		}
	})
}

// FuzzSignFat is FuzzSignHeader for a fat binary: the bytes overwritten
// are in the fat header or in the second slice's header.
func FuzzSignFat(f *testing.F) {
	arm := tinyMachO()
	x86 := tinyMachO()
	binary.LittleEndian.PutUint32(x86[4:], cpuTypeX86_64)
	fat, err := signingtest.FatMachO(arm, x86)
	if err != nil {
		f.Fatal(err)
	}
	second := int(binary.BigEndian.Uint32(fat[8+20+8:]))
	f.Add(false, uint16(8+20+8), []byte{0xff})
	f.Add(true, uint16(20), []byte{0xff})
	f.Add(false, uint16(4), []byte{3})
	f.Fuzz(func(t *testing.T, inSlice bool, pos uint16, data []byte) {
		b := append([]byte(nil), fat...)
		at := int(pos) % 0x400
		if inSlice {
			at += second
		}
		copy(b[at:], data)
		out, err := fuzzSign(b, nil)
		if err != nil {
			return
		}
		if _, err := Verify(context.Background(), bytes.NewReader(out), int64(len(out)), VerifyOptions{InfoPlist: []byte("info"), Roots: fuzzApple().pool()}); err != nil {
			t.Fatalf("Verify rejects what Sign wrote: %v", err)
		}
	})
}
