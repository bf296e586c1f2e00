package ipa

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/storesign/storesign/signing/macho"
	"github.com/storesign/storesign/signing/signingtest"
)

// corrupt returns the synthetic IPA with its files changed by fn.
func corrupt(opts signingtest.IPAOptions, fn func([]signingtest.IPAFile) []signingtest.IPAFile) []byte {
	var buf bytes.Buffer
	if err := signingtest.WriteZip(&buf, fn(signingtest.IPAFiles(opts)), signingtest.Epoch); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

func setFile(name string, data []byte) func([]signingtest.IPAFile) []signingtest.IPAFile {
	return func(fs []signingtest.IPAFile) []signingtest.IPAFile {
		for i := range fs {
			if fs[i].Name == name {
				fs[i].Data = data
			}
		}
		return fs
	}
}

// absurdZip claims a 1 TiB entry.
func absurdZip() []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	files := signingtest.IPAFiles(signingtest.IPAOptions{Minimal: true})
	for _, f := range files {
		w, _ := zw.Create(f.Name)
		w.Write(f.Data)
	}
	h := &zip.FileHeader{Name: "Payload/Example.app/huge.bin", Method: zip.Store, CompressedSize64: 4, UncompressedSize64: 1 << 40}
	w, _ := zw.CreateRaw(h)
	w.Write([]byte("huge"))
	zw.Close()
	return buf.Bytes()
}

func TestBadInput(t *testing.T) {
	f := newFixture(t)
	min := signingtest.IPAOptions{Minimal: true}
	tests := []struct {
		name string
		in   []byte
		want error
		msg  string
	}{
		{"not a zip", []byte("hello, this is not a zip file at all"), ErrNotIPA, "not a valid zip"},
		{"empty", nil, ErrIncomplete, "the file is empty: download it again"},
		{"no payload", corrupt(min, func(fs []signingtest.IPAFile) []signingtest.IPAFile {
			for i := range fs {
				fs[i].Name = "x/" + fs[i].Name
			}
			return fs
		}), ErrNotIPA, "no Payload/*.app folder"},
		{"two apps", corrupt(min, func(fs []signingtest.IPAFile) []signingtest.IPAFile {
			return append(fs, signingtest.IPAFile{Name: "Payload/Other.app/Info.plist", Data: []byte("x")})
		}), ErrNotIPA, "several apps"},
		{"no Info.plist", corrupt(min, func(fs []signingtest.IPAFile) []signingtest.IPAFile {
			return fs[3:] // drops Payload/, the app folder and its Info.plist
		}), ErrNotIPA, "has no Info.plist"},
		{"bad Info.plist", corrupt(min, setFile("Payload/Example.app/Info.plist", []byte("<plist><dict><key>x</key>"))), ErrBadPlist, "Payload/Example.app/Info.plist"},
		{"missing executable", corrupt(min, func(fs []signingtest.IPAFile) []signingtest.IPAFile {
			for i := range fs {
				if fs[i].Name == "Payload/Example.app/Example" {
					fs[i].Name = "Payload/Example.app/Other"
				}
			}
			return fs
		}), ErrNotIPA, `the main executable "Example" named by CFBundleExecutable is missing`},
		{"encrypted", signingtest.IPA(signingtest.IPAOptions{Minimal: true, Encrypted: true}), macho.ErrEncrypted, "Payload/Example.app/Example"},
		{"truncated", corrupt(min, func(fs []signingtest.IPAFile) []signingtest.IPAFile {
			for i := range fs {
				if fs[i].Name == "Payload/Example.app/Example" {
					fs[i].Data = fs[i].Data[:300]
				}
			}
			return fs
		}), macho.ErrTruncated, "Payload/Example.app/Example"},
		{"not Mach-O", corrupt(min, setFile("Payload/Example.app/Example", []byte("#!/bin/sh\necho hi\n"))), macho.ErrNotMachO, "Payload/Example.app/Example"},
		{"dot dot", corrupt(min, func(fs []signingtest.IPAFile) []signingtest.IPAFile {
			return append(fs, signingtest.IPAFile{Name: "Payload/Example.app/../../../etc/passwd", Data: []byte("x")})
		}), ErrUnsafePath, "../"},
		{"absolute", corrupt(min, func(fs []signingtest.IPAFile) []signingtest.IPAFile {
			return append(fs, signingtest.IPAFile{Name: "/etc/passwd", Data: []byte("x")})
		}), ErrUnsafePath, "/etc/passwd"},
		{"absurd size", absurdZip(), ErrAbsurdSize, "huge.bin"},
		{"Info.plist nested a million deep", corrupt(min, setFile("Payload/Example.app/Info.plist", []byte(strings.Repeat("<array>", 1<<20)))), ErrBadPlist, "nesting depth"},
		{"symlink to another app's folder", corrupt(min, func(fs []signingtest.IPAFile) []signingtest.IPAFile {
			return append(fs, signingtest.IPAFile{Name: "Payload/Example.app/other", Data: []byte("../Other.app/secret"), Symlink: true})
		}), ErrUnsafePath, "points outside the app"},
		{"escaping symlink", corrupt(min, func(fs []signingtest.IPAFile) []signingtest.IPAFile {
			return append(fs, signingtest.IPAFile{Name: "Payload/Example.app/evil", Data: []byte("../../../../etc/passwd"), Symlink: true})
		}), ErrUnsafePath, "points outside the app"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			_, err := Resign(context.Background(), bytes.NewReader(tt.in), int64(len(tt.in)), &out, f.opts())
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("err = %q, want it to mention %q", err, tt.msg)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("err has several lines: %q", err)
			}
			if out.Len() != 0 {
				t.Errorf("%d bytes written", out.Len())
			}
			// Inspect fails the same way for archive-level problems.
			if errors.Is(err, ErrNotIPA) || errors.Is(err, ErrUnsafePath) || errors.Is(err, ErrAbsurdSize) {
				if _, err := Inspect(context.Background(), bytes.NewReader(tt.in), int64(len(tt.in)), VerifyOptions{}); !errors.Is(err, tt.want) {
					t.Errorf("Inspect: %v", err)
				}
			}
		})
	}
}

// TestVerifyDetectsTampering changes one thing in a signed IPA at a time.
func TestVerifyDetectsTampering(t *testing.T) {
	f := newFixture(t)
	signed, _ := resign(t, signingtest.IPA(signingtest.IPAOptions{}), f.opts())
	app := "Payload/Example.app/"
	tests := []struct {
		name, entry string
		edit        func([]byte) []byte
		add         bool
		want        string
	}{
		{"resource", app + "Assets.car", func(b []byte) []byte { return append(b, 0) }, false, "Assets.car: modified after signing"},
		{"framework resource", app + "Frameworks/Kit.framework/Resources/strings.json", func(b []byte) []byte { return []byte("{}") }, false, "Resources/strings.json: modified after signing"},
		{"symlink", app + "data/current.json", func(b []byte) []byte { return []byte("../Info.plist") }, false, `symlink to "../Info.plist"`},
		{"Info.plist", app + "PlugIns/Share.appex/Info.plist", func(b []byte) []byte {
			return bytes.Replace(b, []byte("<string>1.0</string>"), []byte("<string>1.1</string>"), 1)
		}, false, "Share: macho: the code signature is invalid"},
		{"binary", app + "Example", func(b []byte) []byte { b = bytes.Clone(b); b[0x1010] ^= 1; return b }, false, "Example"},
		{"added file", app + "new.txt", nil, true, "new.txt is not sealed"},
		{"removed file", app + "data/config.json", nil, false, "data/config.json is sealed by _CodeSignature/CodeResources but missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			zr, _ := zip.NewReader(bytes.NewReader(signed), int64(len(signed)))
			var buf bytes.Buffer
			zw := zip.NewWriter(&buf)
			for _, zf := range zr.File {
				if zf.Name == tt.entry && tt.edit == nil && !tt.add {
					continue
				}
				h := zf.FileHeader
				w, _ := zw.CreateHeader(&h)
				data := readZip(t, zf)
				if zf.Name == tt.entry && tt.edit != nil {
					data = tt.edit(data)
				}
				w.Write(data)
			}
			if tt.add {
				w, _ := zw.Create(tt.entry)
				w.Write([]byte("new"))
			}
			zw.Close()
			b := buf.Bytes()
			_, err := Verify(context.Background(), bytes.NewReader(b), int64(len(b)), f.vopts())
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want ErrInvalid mentioning %q", err, tt.want)
			}
		})
	}
}
