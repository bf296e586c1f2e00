package macho_test

import (
	"bytes"
	"context"
	"crypto/elliptic"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	gomacho "github.com/blacktop/go-macho"
	"go.mozilla.org/pkcs7"
	"howett.net/plist"

	"github.com/storesign/storesign/internal/testenv"
	"github.com/storesign/storesign/signing/macho"
	"github.com/storesign/storesign/signing/signingtest"
)

var testApple = sync.OnceValue(func() *signingtest.Apple {
	return signingtest.NewApple(signingtest.AppleOptions{})
})

var testNow = signingtest.Epoch.Add(400 * 24 * time.Hour)

func fixedNow() time.Time { return testNow }

const (
	testIdentifier = "com.example.app"
	testTeam       = "ABCDE12345"
	testLeafCN     = "Apple Distribution: Example Corp (ABCDE12345)"
)

var testEntitlements = []byte(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>application-identifier</key>
	<string>ABCDE12345.com.example.app</string>
	<key>beta-reports-active</key>
	<true/>
	<key>com.apple.developer.team-identifier</key>
	<string>ABCDE12345</string>
	<key>get-task-allow</key>
	<false/>
	<key>keychain-access-groups</key>
	<array>
		<string>ABCDE12345.*</string>
		<string>com.apple.token</string>
	</array>
</dict>
</plist>
`)

var testInfoPlist = []byte(`<?xml version="1.0" encoding="UTF-8"?>
<plist version="1.0"><dict><key>CFBundleIdentifier</key><string>com.example.app</string></dict></plist>
`)

var testCodeResources = []byte(`<?xml version="1.0" encoding="UTF-8"?>
<plist version="1.0"><dict><key>files</key><dict/></dict></plist>
`)

// signBytes signs in with opts, filling in the test identity, identifier
// and clock when unset.
func signBytes(t testing.TB, in []byte, opts macho.SignOptions) ([]byte, *macho.SignResult) {
	t.Helper()
	if opts.Identity == nil {
		opts.Identity = testApple().Identity
	}
	if opts.Identifier == "" {
		opts.Identifier = testIdentifier
	}
	if opts.Now == nil {
		opts.Now = fixedNow
	}
	var out bytes.Buffer
	res, err := macho.Sign(context.Background(), bytes.NewReader(in), int64(len(in)), &out, opts)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	if res.Size != int64(out.Len()) {
		t.Errorf("SignResult.Size = %d, wrote %d", res.Size, out.Len())
	}
	return out.Bytes(), res
}

func verifyBytes(t testing.TB, b []byte, opts macho.VerifyOptions) *macho.Info {
	t.Helper()
	if opts.Roots == nil {
		opts.Roots = testApple().Root.Pool()
	}
	info, err := macho.Verify(context.Background(), bytes.NewReader(b), int64(len(b)), opts)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return info
}

// expect is what the independent checks look for in a signed binary.
type expect struct {
	identifier, teamID string
	hashTypes          []string // "sha1", "sha256", primary first
	execSegFlags       uint64
	info, resources    []byte
	entitlements       []byte
	derEntitlements    bool
}

// rawSlot returns the blobs of an embedded signature by slot, parsed
// here, apart from the package's parser.
func rawSlots(t testing.TB, sig []byte) map[uint32][]byte {
	t.Helper()
	be := binary.BigEndian
	if be.Uint32(sig) != 0xfade0cc0 {
		t.Fatalf("super blob magic %#x", be.Uint32(sig))
	}
	m := map[uint32][]byte{}
	for i := 0; i < int(be.Uint32(sig[8:])); i++ {
		slot, off := be.Uint32(sig[12+8*i:]), be.Uint32(sig[16+8*i:])
		m[slot] = sig[off : off+be.Uint32(sig[off+4:])]
	}
	return m
}

// slices returns the thin images of b, with their offsets.
func slices(t testing.TB, b []byte) (imgs [][]byte, offs []int) {
	t.Helper()
	if binary.BigEndian.Uint32(b) != 0xcafebabe {
		return [][]byte{b}, []int{0}
	}
	ff, err := gomacho.NewFatFile(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("go-macho: %v", err)
	}
	prevEnd := 0
	for _, a := range ff.Arches {
		if a.Offset%(1<<a.Align) != 0 || int(a.Offset) < prevEnd {
			t.Errorf("fat slice %v at %d (align 2^%d, previous ends at %d)", a.CPU, a.Offset, a.Align, prevEnd)
		}
		prevEnd = int(a.Offset + a.Size)
		imgs = append(imgs, b[a.Offset:a.Offset+a.Size])
		offs = append(offs, int(a.Offset))
	}
	if prevEnd != len(b) {
		t.Errorf("the last fat slice ends at %d, the file at %d", prevEnd, len(b))
	}
	return imgs, offs
}

// checkIndependently checks a signed binary with go-macho, page hashes
// recomputed here, openssl cms -verify and the cdhash attributes.
func checkIndependently(t *testing.T, b []byte, want expect) {
	t.Helper()
	imgs, _ := slices(t, b)
	for _, img := range imgs {
		f, err := gomacho.NewFile(bytes.NewReader(img))
		if err != nil {
			t.Fatalf("go-macho: %v", err)
		}
		cs := f.CodeSignature()
		if cs == nil {
			t.Fatal("go-macho finds no code signature")
		}
		if len(cs.Errors) > 0 {
			t.Errorf("go-macho: %v", cs.Errors)
		}
		sigOff, sigSize := int(cs.Offset), int(cs.Size)
		if sigOff%16 != 0 {
			t.Errorf("signature at %d, not 16-byte aligned", sigOff)
		}
		link := f.Segment("__LINKEDIT")
		if int(link.Offset+link.Filesz) != sigOff+sigSize || sigOff+sigSize != len(img) {
			t.Errorf("__LINKEDIT ends at %d, signature at %d+%d, image of %d bytes", link.Offset+link.Filesz, sigOff, sigSize, len(img))
		}
		if link.Memsz < link.Filesz {
			t.Errorf("__LINKEDIT vmsize %d < filesize %d", link.Memsz, link.Filesz)
		}
		text := f.Segment("__TEXT")
		raw := rawSlots(t, img[sigOff:sigOff+sigSize])

		var gotTypes []string
		var cdRaw [][]byte
		for i, cd := range cs.CodeDirectories {
			slot := uint32(0)
			if i > 0 {
				slot = 0x1000 + uint32(i-1)
			}
			r := raw[slot]
			cdRaw = append(cdRaw, r)
			var h []byte
			switch cd.Header.HashType {
			case 1:
				s := sha1.Sum(r)
				h = s[:]
				gotTypes = append(gotTypes, "sha1")
			case 2:
				s := sha256.Sum256(r)
				h = s[:]
				gotTypes = append(gotTypes, "sha256")
			default:
				t.Fatalf("hash type %d", cd.Header.HashType)
			}
			if cd.CDHash != hexs(h) {
				t.Errorf("go-macho cdhash %s, raw blob hashes to %x", cd.CDHash, h)
			}
			// The layout codesign and zsign write: fixed 88-byte header,
			// identifier, team ID, special slots, code slots.
			be := binary.BigEndian
			identOff, teamOff, hashOff := be.Uint32(r[20:]), be.Uint32(r[48:]), be.Uint32(r[16:])
			wantTeamOff := 88 + uint32(len(want.identifier)) + 1
			wantHashOff := wantTeamOff + uint32(len(want.teamID)) + 1 + uint32(len(cd.SpecialSlots))*uint32(cd.Header.HashSize)
			if identOff != 88 || teamOff != wantTeamOff || hashOff != wantHashOff || int(be.Uint32(r[4:])) != len(r) ||
				r[38] != 0 || be.Uint32(r[40:]) != 0 || be.Uint32(r[44:]) != 0 || be.Uint64(r[56:]) != 0 ||
				len(r) != int(hashOff)+len(cd.CodeSlots)*int(cd.Header.HashSize) {
				t.Errorf("CodeDirectory layout: ident %d team %d hashes %d, length %d, header %x", identOff, teamOff, hashOff, len(r), r[:88])
			}
			if cd.ID != want.identifier || cd.TeamID != want.teamID {
				t.Errorf("CD %d: identifier %q team %q, want %q %q", i, cd.ID, cd.TeamID, want.identifier, want.teamID)
			}
			if v := uint32(cd.Header.Version); v != 0x20400 {
				t.Errorf("CD version %#x", v)
			}
			if cd.Header.Flags != 0 {
				t.Errorf("CD flags %#x", cd.Header.Flags)
			}
			if cd.Header.ExecSegBase != text.Offset || cd.Header.ExecSegLimit != text.Filesz || uint64(cd.Header.ExecSegFlags) != want.execSegFlags {
				t.Errorf("exec seg %#x %#x %#x, want %#x %#x %#x", cd.Header.ExecSegBase, cd.Header.ExecSegLimit, cd.Header.ExecSegFlags, text.Offset, text.Filesz, want.execSegFlags)
			}
			if cd.Header.PageSize != 12 {
				t.Errorf("page size 2^%d", cd.Header.PageSize)
			}
			if cd.CodeLimit != uint64(sigOff) {
				t.Errorf("code limit %d, signature at %d", cd.CodeLimit, sigOff)
			}
			if n := (sigOff + 4095) / 4096; len(cd.CodeSlots) != n {
				t.Fatalf("%d code slots for %d bytes", len(cd.CodeSlots), sigOff)
			}
			for p, s := range cd.CodeSlots {
				page := img[p*4096 : min(sigOff, (p+1)*4096)]
				if !bytes.Equal(s.Hash, hashOf(int(cd.Header.HashType), page)) {
					t.Fatalf("page %d hash %x does not match the file", p, s.Hash)
				}
			}
			special := map[uint32][]byte{1: want.info, 2: raw[2], 3: want.resources}
			if want.entitlements != nil {
				special[5] = blobOf(0xfade7171, want.entitlements)
				special[7] = raw[7]
			}
			for _, s := range cd.SpecialSlots {
				d, ok := special[s.Index]
				if !ok || d == nil {
					if !allZero(s.Hash) {
						t.Errorf("special slot %d is bound but should be empty", s.Index)
					}
					continue
				}
				if !bytes.Equal(s.Hash, hashOf(int(cd.Header.HashType), d)) {
					t.Errorf("special slot %d does not match its blob", s.Index)
				}
				delete(special, s.Index)
			}
			for slot, d := range special {
				if d != nil {
					t.Errorf("special slot %d missing (CD has %d special slots)", slot, len(cd.SpecialSlots))
				}
			}
		}
		if strings.Join(gotTypes, ",") != strings.Join(want.hashTypes, ",") {
			t.Errorf("CodeDirectory hash types %v, want %v", gotTypes, want.hashTypes)
		}
		if want.entitlements != nil && cs.Entitlements != string(want.entitlements) {
			t.Errorf("go-macho entitlements %q", cs.Entitlements)
		}
		if want.derEntitlements != (len(cs.EntitlementsDER) > 0) {
			t.Errorf("DER entitlements present = %v", len(cs.EntitlementsDER) > 0)
		}
		if len(cs.Requirements) != 1 || !strings.Contains(strings.Join(strings.Fields(cs.Requirements[0].Detail), " "), `identifier "`+want.identifier+`" and anchor apple generic and certificate leaf[subject.CN] = "`+testLeafCN+`" and certificate 1[field.1.2.840.113635.100.6.2.1] /* exists */`) {
			t.Errorf("go-macho requirements %+v", cs.Requirements)
		}
		checkCMS(t, raw[0x10000], cdRaw, gotTypes)
	}
}

// checkCMS runs openssl cms -verify on the signature over the first
// CodeDirectory, checks that it fails on a tampered one, and checks the
// cdhashes attributes against the CodeDirectories.
func checkCMS(t *testing.T, wrapper []byte, cds [][]byte, types []string) {
	t.Helper()
	if wrapper == nil || binary.BigEndian.Uint32(wrapper) != 0xfade0b01 {
		t.Fatal("no CMS blob wrapper")
	}
	der := wrapper[8:]
	p7, err := pkcs7.Parse(der)
	if err != nil {
		t.Fatalf("parsing the CMS: %v", err)
	}
	if len(p7.Certificates) != 3 {
		t.Errorf("%d certificates embedded, want leaf, WWDR and root", len(p7.Certificates))
	}
	var pl []byte
	if err := p7.UnmarshalSignedAttribute(asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 9, 1}, &pl); err != nil {
		t.Fatalf("cdhashes plist attribute: %v", err)
	}
	var hashes struct {
		CDHashes [][]byte `plist:"cdhashes"`
	}
	if _, err := plist.Unmarshal(pl, &hashes); err != nil {
		t.Fatalf("cdhashes plist: %v", err)
	}
	if len(hashes.CDHashes) != len(cds) {
		t.Fatalf("%d cdhashes for %d CodeDirectories", len(hashes.CDHashes), len(cds))
	}
	var digests []asn1.RawValue
	for _, a := range p7.Signers[0].AuthenticatedAttributes {
		if a.Type.Equal(asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 9, 2}) {
			rest := a.Value.Bytes
			for len(rest) > 0 {
				var v asn1.RawValue
				rest, err = asn1.Unmarshal(rest, &v)
				if err != nil {
					t.Fatal(err)
				}
				digests = append(digests, v)
			}
		}
	}
	if len(digests) != len(cds) {
		t.Fatalf("9.2 attribute has %d digests for %d CodeDirectories", len(digests), len(cds))
	}
	for i, cd := range cds {
		full := hashOf(map[string]int{"sha1": 1, "sha256": 2}[types[i]], cd)
		if !bytes.Equal(hashes.CDHashes[i], full[:20]) {
			t.Errorf("cdhashes[%d] = %x, want %x", i, hashes.CDHashes[i], full[:20])
		}
		found := false
		for _, d := range digests {
			var v struct {
				Alg    asn1.ObjectIdentifier
				Digest []byte
			}
			if _, err := asn1.Unmarshal(d.FullBytes, &v); err != nil {
				t.Fatal(err)
			}
			found = found || bytes.Equal(v.Digest, full)
		}
		if !found {
			t.Errorf("no 9.2 digest for CodeDirectory %d", i)
		}
	}

	openssl := testenv.Tool(t, "openssl")
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	root := write("root.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: testApple().Root.Certificate.Raw}))
	sig := write("sig.der", der)
	cd := write("cd.bin", cds[0])
	run := func(content string) error {
		out, err := exec.Command(openssl, "cms", "-verify", "-inform", "DER", "-in", sig, "-binary", "-content", content,
			"-CAfile", root, "-purpose", "any", "-ignore_critical", "-out", os.DevNull).CombinedOutput()
		if err != nil {
			return errors.New(strings.TrimSpace(string(out)))
		}
		return nil
	}
	if err := run(cd); err != nil {
		t.Errorf("openssl cms -verify: %v", err)
	}
	bad := append([]byte(nil), cds[0]...)
	bad[len(bad)-1] ^= 1
	if err := run(write("bad.bin", bad)); err == nil {
		t.Error("openssl cms -verify accepts a tampered CodeDirectory")
	}
}

func hashOf(t int, b []byte) []byte {
	if t == 1 {
		h := sha1.Sum(b)
		return h[:]
	}
	h := sha256.Sum256(b)
	return h[:]
}

func blobOf(magic uint32, payload []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, magic)
	b = binary.BigEndian.AppendUint32(b, uint32(8+len(payload)))
	return append(b, payload...)
}

func allZero(b []byte) bool { return bytes.Count(b, []byte{0}) == len(b) }

func hexs(b []byte) string {
	const digits = "0123456789abcdef"
	s := make([]byte, 0, 2*len(b))
	for _, c := range b {
		s = append(s, digits[c>>4], digits[c&15])
	}
	return string(s)
}

func TestSignRoundTrip(t *testing.T) {
	full := macho.SignOptions{
		Entitlements:  testEntitlements,
		InfoPlist:     testInfoPlist,
		CodeResources: testCodeResources,
	}
	tests := []struct {
		name   string
		in     func(t *testing.T) []byte
		opts   macho.SignOptions
		want   expect
		arches []string
	}{
		{
			name: "arm64 unsigned iOS 15 main executable",
			in:   func(t *testing.T) []byte { return signingtest.IOSMachO(t, "arm64", "15.0") },
			opts: full,
			want: expect{hashTypes: []string{"sha256"}, execSegFlags: 1, info: testInfoPlist, resources: testCodeResources, entitlements: testEntitlements, derEntitlements: true},
		},
		{
			name: "arm64 linker-signed macOS dylib-like",
			in:   func(t *testing.T) []byte { return signingtest.MachO(t, "arm64") },
			want: expect{hashTypes: []string{"sha256"}, execSegFlags: 1}, // MH_EXECUTE
		},
		{
			name: "amd64 unsigned iOS 10 gets SHA-1 first",
			in:   func(t *testing.T) []byte { return signingtest.IOSMachO(t, "amd64", "10.0") },
			opts: full,
			want: expect{hashTypes: []string{"sha1", "sha256"}, execSegFlags: 1, info: testInfoPlist, resources: testCodeResources, entitlements: testEntitlements, derEntitlements: true},
		},
		{
			name: "fat iOS 12",
			in:   func(t *testing.T) []byte { return signingtest.FatIOSMachO(t, "12.0") },
			opts: macho.SignOptions{InfoPlist: testInfoPlist},
			want: expect{hashTypes: []string{"sha256"}, execSegFlags: 1, info: testInfoPlist},
		},
		{
			name: "fat iOS 9",
			in:   func(t *testing.T) []byte { return signingtest.FatIOSMachO(t, "9.0") },
			opts: full,
			want: expect{hashTypes: []string{"sha1", "sha256"}, execSegFlags: 1, info: testInfoPlist, resources: testCodeResources, entitlements: testEntitlements, derEntitlements: true},
		},
		{
			name: "explicit team ID",
			in:   func(t *testing.T) []byte { return signingtest.IOSMachO(t, "arm64", "14.0") },
			opts: macho.SignOptions{TeamID: "ZZZZZ99999", Identifier: "com.example.app.widget"},
			want: expect{hashTypes: []string{"sha256"}, execSegFlags: 1, teamID: "ZZZZZ99999", identifier: "com.example.app.widget"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in(t)
			inCopy := append([]byte(nil), in...)
			out, res := signBytes(t, in, tt.opts)
			if !bytes.Equal(in, inCopy) {
				t.Fatal("Sign modified its input")
			}
			want := tt.want
			if want.identifier == "" {
				want.identifier = testIdentifier
			}
			if want.teamID == "" {
				want.teamID = testTeam
			}
			checkIndependently(t, out, want)

			info := verifyBytes(t, out, macho.VerifyOptions{InfoPlist: tt.opts.InfoPlist, CodeResources: tt.opts.CodeResources})
			if len(info.Slices) != len(res.CDHashes) {
				t.Fatalf("Verify found %d slices, Sign wrote %d", len(info.Slices), len(res.CDHashes))
			}
			for i, s := range info.Slices {
				h := res.CDHashes[i]
				if s.Identifier != want.identifier || s.TeamID != want.teamID || s.Version != 0x20400 || s.ExecSegFlags != want.execSegFlags {
					t.Errorf("slice %s: %+v", s.Arch, s)
				}
				if !bytes.Equal(s.CDHash.Primary, h.Primary) || !bytes.Equal(s.CDHash.SHA256, h.SHA256) || !bytes.Equal(s.CDHash.SHA1, h.SHA1) {
					t.Errorf("slice %s: Verify cdhash %+v, Sign %+v", s.Arch, s.CDHash, h)
				}
				if strings.Join(s.HashTypes, ",") != strings.Join(want.hashTypes, ",") {
					t.Errorf("slice %s: hash types %v", s.Arch, s.HashTypes)
				}
				if want.hashTypes[0] == "sha1" && !bytes.Equal(h.Primary, h.SHA1) || want.hashTypes[0] == "sha256" && (h.SHA1 != nil || !bytes.Equal(h.Primary, h.SHA256[:20])) {
					t.Errorf("slice %s: primary cdhash %x (sha1 %x, sha256 %x)", s.Arch, h.Primary, h.SHA1, h.SHA256)
				}
				if want.entitlements != nil && !bytes.Equal(s.Entitlements, want.entitlements) {
					t.Errorf("slice %s: entitlements not returned", s.Arch)
				}
				if got := strings.Join(s.Authority, " | "); got != testLeafCN+" | "+testApple().WWDR.Certificate.Subject.CommonName+" | Test Apple Root CA" {
					t.Errorf("slice %s: authority %q", s.Arch, got)
				}
				if !s.SigningTime.Equal(testNow) {
					t.Errorf("slice %s: signing time %v", s.Arch, s.SigningTime)
				}
				wantReq := `designated => identifier "` + want.identifier + `" and anchor apple generic and certificate leaf[subject.CN] = "` + testLeafCN + `" and certificate 1[field.1.2.840.113635.100.6.2.1] /* exists */`
				if s.Requirements != wantReq {
					t.Errorf("slice %s: requirements %q", s.Arch, s.Requirements)
				}
			}
			if res.DesignatedRequirement == "" || !strings.HasPrefix(res.DesignatedRequirement, `identifier "`+want.identifier+`"`) {
				t.Errorf("SignResult.DesignatedRequirement = %q", res.DesignatedRequirement)
			}

			// Deterministic, and re-signing a signed binary gives the
			// same bytes as signing the unsigned one.
			again, _ := signBytes(t, in, tt.opts)
			if !bytes.Equal(again, out) {
				t.Error("signing twice gives different bytes")
			}
			re, _ := signBytes(t, out, tt.opts)
			if !bytes.Equal(re, out) {
				t.Error("re-signing the signed output changes it")
			}
		})
	}
}

// TestSignAddsLoadCommand checks the header edits for an unsigned binary.
func TestSignAddsLoadCommand(t *testing.T) {
	in := signingtest.IOSMachO(t, "arm64", "15.0")
	before, err := gomacho.NewFile(bytes.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if before.CodeSignature() != nil {
		t.Fatal("fixture is signed")
	}
	out, _ := signBytes(t, in, macho.SignOptions{})
	after, err := gomacho.NewFile(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if after.NCommands != before.NCommands+1 || after.SizeCommands != before.SizeCommands+16 {
		t.Errorf("ncmds %d -> %d, sizeofcmds %d -> %d", before.NCommands, after.NCommands, before.SizeCommands, after.SizeCommands)
	}
	if !bytes.Equal(out[32+before.SizeCommands+16:0x1000], in[32+before.SizeCommands+16:0x1000]) {
		t.Error("bytes after the new load command changed")
	}
	link := after.Segment("__LINKEDIT")
	if link.Memsz%0x4000 != 0 && link.Memsz < link.Filesz {
		t.Errorf("__LINKEDIT vmsize %#x filesize %#x", link.Memsz, link.Filesz)
	}
	// Everything before the old end of __LINKEDIT but the header is kept.
	if !bytes.Equal(out[0x1000:len(in)], in[0x1000:]) {
		t.Error("code or data changed")
	}
}

// TestSignAllowUnsigned checks that the allow-unsigned exec-seg flag
// follows get-task-allow.
func TestSignAllowUnsigned(t *testing.T) {
	ents := bytes.Replace(testEntitlements, []byte("<key>get-task-allow</key>\n\t<false/>"), []byte("<key>get-task-allow</key>\n\t<true/>"), 1)
	if bytes.Equal(ents, testEntitlements) {
		t.Fatal("replace failed")
	}
	in := signingtest.IOSMachO(t, "arm64", "15.0")
	for _, tt := range []struct {
		ents []byte
		main bool
		want uint64
	}{
		{testEntitlements, true, 0x1},
		{ents, true, 0x11},
		{ents, false, 0},
		{nil, false, 0},
	} {
		bin := in
		if !tt.main {
			bin = bytes.Clone(in)
			binary.LittleEndian.PutUint32(bin[12:], 6) // MH_DYLIB
		}
		out, _ := signBytes(t, bin, macho.SignOptions{Entitlements: tt.ents})
		info := verifyBytes(t, out, macho.VerifyOptions{})
		if got := info.Slices[0].ExecSegFlags; got != tt.want {
			t.Errorf("get-task-allow entitlements %v, main %v: exec seg flags %#x, want %#x", tt.ents != nil, tt.main, got, tt.want)
		}
	}
}

// TestSignSelfSigned signs with a self-signed identity, as the corpus's
// "Apple Distribution"-style p12 from rcodesign's tests: the designated
// requirement pins the certificate by hash.
func TestSignSelfSigned(t *testing.T) {
	id := signingtest.SelfSigned("Apple Distribution: Self (ZZZZZ99999)", nil)
	in := signingtest.IOSMachO(t, "arm64", "15.0")
	out, res := signBytes(t, in, macho.SignOptions{Identity: id})
	sum := sha1.Sum(id.Certificate.Raw)
	want := `identifier "com.example.app" and certificate root = H"` + hexs(sum[:]) + `"`
	if res.DesignatedRequirement != want {
		t.Errorf("designated requirement %q, want %q", res.DesignatedRequirement, want)
	}
	roots := x509.NewCertPool()
	roots.AddCert(id.Certificate)
	info := verifyBytes(t, out, macho.VerifyOptions{Roots: roots})
	if s := info.Slices[0]; s.TeamID != "" || len(s.Authority) != 1 {
		t.Errorf("team %q authority %q", s.TeamID, s.Authority)
	}
	// Against another root it fails.
	_, err := macho.Verify(context.Background(), bytes.NewReader(out), int64(len(out)), macho.VerifyOptions{Roots: testApple().Root.Pool()})
	if !errors.Is(err, macho.ErrBadSignature) {
		t.Errorf("verifying against the wrong root: %v", err)
	}
}

// TestSignECDSA signs with an ECDSA P-256 leaf: openssl must accept the
// ecdsa-with-SHA256 signer info.
func TestSignECDSA(t *testing.T) {
	apple := signingtest.NewApple(signingtest.AppleOptions{Key: signingtest.ECKey("macho leaf", elliptic.P256())})
	if !apple.Root.Certificate.Equal(testApple().Root.Certificate) {
		t.Skip("the test PKI is not shared")
	}
	in := signingtest.IOSMachO(t, "arm64", "15.0")
	out, _ := signBytes(t, in, macho.SignOptions{Identity: apple.Identity, Entitlements: testEntitlements})
	checkIndependently(t, out, expect{identifier: testIdentifier, teamID: testTeam, hashTypes: []string{"sha256"}, execSegFlags: 1, entitlements: testEntitlements, derEntitlements: true})
	verifyBytes(t, out, macho.VerifyOptions{})
}
