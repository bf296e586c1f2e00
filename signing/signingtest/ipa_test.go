package signingtest

import (
	"archive/zip"
	"bytes"
	"debug/macho"
	"io/fs"
	"testing"
)

func TestIOSBinary(t *testing.T) {
	for _, archs := range [][]string{nil, {"arm64", "x86_64"}, {"arm64", "arm64e"}} {
		b := IOSBinary(IOSBinaryOptions{Archs: archs, CodeSize: 50000})
		var files []*macho.File
		if len(archs) > 1 {
			ff, err := macho.NewFatFile(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("%v: %v", archs, err)
			}
			for _, a := range ff.Arches {
				if a.Offset%(1<<14) != 0 {
					t.Errorf("%v: slice at %d", archs, a.Offset)
				}
				files = append(files, a.File)
			}
		} else {
			f, err := macho.NewFile(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, f)
		}
		for _, f := range files {
			if f.Segment("__TEXT") == nil || f.Segment("__LINKEDIT") == nil || f.Section("__text") == nil {
				t.Errorf("%v: missing segments", archs)
			}
			if s := f.Section("__text"); s.Size != 50000 {
				t.Errorf("__text is %d bytes", s.Size)
			}
		}
	}
	if !bytes.Equal(IOSBinary(IOSBinaryOptions{Seed: "x"}), IOSBinary(IOSBinaryOptions{Seed: "x"})) {
		t.Error("not deterministic")
	}
}

func TestIPA(t *testing.T) {
	b := IPA(IPAOptions{})
	if !bytes.Equal(b, IPA(IPAOptions{})) {
		t.Error("not deterministic")
	}
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, f := range zr.File {
		seen[f.Name] = true
		if f.Name == "Payload/Example.app/data/current.json" && f.Mode()&fs.ModeSymlink == 0 {
			t.Errorf("%s is not a symlink: %v", f.Name, f.Mode())
		}
	}
	for _, want := range []string{"Payload/Example.app/Example", "Payload/Example.app/Frameworks/Kit.framework/Kit", "Payload/Example.app/PlugIns/Share.appex/Share", "Payload/Example.app/Watch/ExampleWatch.app/PlugIns/ExampleWatch Extension.appex/Info.plist"} {
		if !seen[want] {
			t.Errorf("%s missing", want)
		}
	}
}
