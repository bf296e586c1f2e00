package macho_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/storesign/storesign/signing/macho"
	"github.com/storesign/storesign/signing/signingtest"
)

// corrupt returns a copy of b changed by edit.
func corrupt(b []byte, edit func([]byte) []byte) []byte {
	return edit(append([]byte(nil), b...))
}

// loadCmd returns the offset of the first load command cmd of the thin
// 64-bit image b.
func loadCmd(t *testing.T, b []byte, cmd uint32) int {
	t.Helper()
	le := binary.LittleEndian
	p := 32
	for i := 0; i < int(le.Uint32(b[16:])); i++ {
		if le.Uint32(b[p:]) == cmd {
			return p
		}
		p += int(le.Uint32(b[p+4:]))
	}
	t.Fatalf("no load command %#x", cmd)
	return 0
}

// sizedReader fails the test when asked for more than limit bytes at
// once: absurd sizes must not turn into huge reads or allocations.
type sizedReader struct {
	r     io.ReaderAt
	limit int
	t     *testing.T
}

func (s sizedReader) ReadAt(p []byte, off int64) (int, error) {
	if len(p) > s.limit {
		s.t.Errorf("read of %d bytes at %d", len(p), off)
	}
	return s.r.ReadAt(p, off)
}

func TestBadInput(t *testing.T) {
	ios := signingtest.IOSMachO(t, "arm64", "15.0")
	signed, _ := signBytes(t, ios, macho.SignOptions{InfoPlist: testInfoPlist})
	fat := signingtest.FatIOSMachO(t, "15.0")
	enc, err := signingtest.EncryptMachO(ios)
	if err != nil {
		t.Fatal(err)
	}
	full, err := signingtest.FillMachOHeader(ios, 8)
	if err != nil {
		t.Fatal(err)
	}
	le, be := binary.LittleEndian, binary.BigEndian
	sigCmd := loadCmd(t, signed, 0x1d)

	tests := []struct {
		name     string
		in       []byte
		sign     error // nil: Sign succeeds
		verify   error
		contains string
	}{
		{name: "empty", in: nil, sign: macho.ErrNotMachO, verify: macho.ErrNotMachO},
		{name: "garbage", in: []byte(strings.Repeat("not a binary ", 100)), sign: macho.ErrNotMachO, verify: macho.ErrNotMachO},
		{name: "java class", in: []byte{0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 0x34, 0, 1, 2, 3}, sign: macho.ErrNotMachO, verify: macho.ErrNotMachO},
		{name: "big-endian", in: corrupt(ios, func(b []byte) []byte { be.PutUint32(b, 0xfeedfacf); return b }), sign: macho.ErrNotMachO, verify: macho.ErrNotMachO, contains: "big-endian"},
		{name: "header only", in: ios[:32], sign: macho.ErrTruncated, verify: macho.ErrTruncated},
		{name: "truncated load commands", in: ios[:1000], sign: macho.ErrTruncated, verify: macho.ErrTruncated},
		{name: "truncated code", in: ios[:len(ios)/2], sign: macho.ErrTruncated, verify: macho.ErrTruncated},
		{name: "truncated signature", in: signed[:len(signed)-100], sign: macho.ErrTruncated, verify: macho.ErrTruncated},
		{name: "truncated fat", in: fat[:len(fat)-5000], sign: macho.ErrTruncated, verify: macho.ErrTruncated, contains: "fat architecture 1"},
		{name: "huge sizeofcmds", in: corrupt(ios, func(b []byte) []byte { le.PutUint32(b[20:], 0xfffffff0); return b }), sign: macho.ErrTruncated, verify: macho.ErrTruncated},
		{name: "huge ncmds", in: corrupt(ios, func(b []byte) []byte { le.PutUint32(b[16:], 0x7fffffff); return b }), sign: macho.ErrTruncated, verify: macho.ErrTruncated},
		{name: "sizeofcmds disagrees", in: corrupt(ios, func(b []byte) []byte { le.PutUint32(b[20:], le.Uint32(b[20:])+8); return b }), sign: macho.ErrTruncated, verify: macho.ErrTruncated, contains: "header says"},
		{name: "zero cmdsize", in: corrupt(ios, func(b []byte) []byte { le.PutUint32(b[36:], 0); return b }), sign: macho.ErrTruncated, verify: macho.ErrTruncated},
		{name: "segment past the end", in: corrupt(ios, func(b []byte) []byte { le.PutUint64(b[32+72+40:], 1<<60); return b }), sign: macho.ErrTruncated, verify: macho.ErrTruncated},
		{name: "signature past the end", in: corrupt(signed, func(b []byte) []byte { le.PutUint32(b[sigCmd+12:], 0xfffffff0); return b }), sign: macho.ErrTruncated, verify: macho.ErrTruncated},
		{name: "fat absurd offset", in: corrupt(fat, func(b []byte) []byte { be.PutUint32(b[8+8:], 0xfffff000); return b }), sign: macho.ErrTruncated, verify: macho.ErrTruncated},
		{name: "fat absurd count", in: corrupt(fat, func(b []byte) []byte { be.PutUint32(b[4:], 5); return b }), sign: macho.ErrTruncated, verify: macho.ErrTruncated},
		{name: "fat wrong cpu", in: corrupt(fat, func(b []byte) []byte { be.PutUint32(b[8:], 7); return b }), sign: macho.ErrTruncated, verify: macho.ErrTruncated, contains: "fat header says i386"},
		{name: "encrypted", in: enc, sign: macho.ErrEncrypted, verify: macho.ErrNotSigned},
		{name: "no room", in: full, sign: macho.ErrNoRoom, verify: macho.ErrNotSigned},
		{name: "unsigned", in: ios, verify: macho.ErrNotSigned},
		{name: "ad hoc (Go linker)", in: signingtest.MachO(t, "arm64"), verify: macho.ErrBadSignature, contains: "ad-hoc"},
		{name: "tampered code", in: corrupt(signed, func(b []byte) []byte { b[0x5000] ^= 1; return b }), verify: macho.ErrBadSignature, contains: "page 5 (offset 20480)"},
		{name: "tampered header", in: corrupt(signed, func(b []byte) []byte { b[12] ^= 1; return b }), verify: macho.ErrBadSignature, contains: "page 0"},
		{name: "tampered CodeDirectory", in: corrupt(signed, func(b []byte) []byte {
			off := le.Uint32(b[sigCmd+8:])
			cd := off + be.Uint32(b[off+16:])
			b[cd+90] ^= 1 // in the identifier
			return b
		}), verify: macho.ErrBadSignature, contains: "CMS"},
		{name: "tampered requirements", in: corrupt(signed, func(b []byte) []byte {
			off := le.Uint32(b[sigCmd+8:])
			req := off + be.Uint32(b[off+24:])
			b[req+48] ^= 1 // in the identifier
			return b
		}), verify: macho.ErrBadSignature, contains: "requirements"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			r := sizedReader{bytes.NewReader(tt.in), 64 << 20, t}
			var out bytes.Buffer
			_, err := macho.Sign(ctx, r, int64(len(tt.in)), &out, macho.SignOptions{Identity: testApple().Identity, Identifier: testIdentifier})
			switch {
			case tt.sign == nil && err != nil:
				t.Errorf("Sign: %v", err)
			case tt.sign != nil && !errors.Is(err, tt.sign):
				t.Errorf("Sign: got %v, want %v", err, tt.sign)
			case tt.sign != nil && out.Len() != 0:
				t.Errorf("Sign failed but wrote %d bytes", out.Len())
			}
			if tt.sign != nil && tt.contains != "" && !strings.Contains(err.Error(), tt.contains) {
				t.Errorf("Sign: %q does not say %q", err, tt.contains)
			}
			if err != nil {
				t.Logf("Sign: %v", err)
			}
			_, err = macho.Verify(ctx, r, int64(len(tt.in)), macho.VerifyOptions{Roots: testApple().Root.Pool(), InfoPlist: testInfoPlist})
			if !errors.Is(err, tt.verify) {
				t.Errorf("Verify: got %v, want %v", err, tt.verify)
			} else if tt.sign == nil && tt.contains != "" && !strings.Contains(err.Error(), tt.contains) {
				t.Errorf("Verify: %q does not say %q", err, tt.contains)
			}
			t.Logf("Verify: %v", err)
			if enc, err := macho.IsEncrypted(r, int64(len(tt.in))); err == nil && enc != (tt.sign == macho.ErrEncrypted) {
				t.Errorf("IsEncrypted = %v", enc)
			}
		})
	}
}

func TestVerifyInfoPlistMismatch(t *testing.T) {
	ios := signingtest.IOSMachO(t, "arm64", "15.0")
	signed, _ := signBytes(t, ios, macho.SignOptions{InfoPlist: testInfoPlist, CodeResources: testCodeResources})
	for _, opts := range []macho.VerifyOptions{
		{InfoPlist: []byte("other")},
		{CodeResources: []byte("other")},
	} {
		_, err := macho.Verify(context.Background(), bytes.NewReader(signed), int64(len(signed)), opts)
		if !errors.Is(err, macho.ErrBadSignature) {
			t.Errorf("got %v", err)
		}
	}
	// Not signed with one: an Info.plist given to Verify must be bound.
	plain, _ := signBytes(t, ios, macho.SignOptions{})
	_, err := macho.Verify(context.Background(), bytes.NewReader(plain), int64(len(plain)), macho.VerifyOptions{InfoPlist: testInfoPlist})
	if !errors.Is(err, macho.ErrBadSignature) {
		t.Errorf("Info.plist not bound: got %v", err)
	}
}

func TestSignOptionsErrors(t *testing.T) {
	ios := signingtest.IOSMachO(t, "arm64", "15.0")
	id := testApple().Identity
	for _, tt := range []struct {
		name string
		opts macho.SignOptions
		want string
	}{
		{"no identity", macho.SignOptions{Identifier: "x"}, "no signing identity"},
		{"no identifier", macho.SignOptions{Identity: id}, "no code signing identifier"},
		{"NUL", macho.SignOptions{Identity: id, Identifier: "a\x00b"}, "NUL"},
		{"bad entitlements", macho.SignOptions{Identity: id, Identifier: "x", Entitlements: []byte("<plist><array/></plist>")}, "not a dictionary"},
		{"real in entitlements", macho.SignOptions{Identity: id, Identifier: "x", Entitlements: []byte("<plist><dict><key>a</key><real>1.5</real></dict></plist>")}, "cannot be encoded"},
		{"bad requirements", macho.SignOptions{Identity: id, Identifier: "x", Requirements: []byte{0xfa, 0xde, 0x0c, 0x01, 0, 0, 0, 12, 0, 0, 0, 9}}, "requirement"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			_, err := macho.Sign(context.Background(), bytes.NewReader(ios), int64(len(ios)), &out, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want %q", err, tt.want)
			}
			if out.Len() != 0 {
				t.Errorf("wrote %d bytes", out.Len())
			}
		})
	}
}
