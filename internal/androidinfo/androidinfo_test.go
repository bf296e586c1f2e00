package androidinfo

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/storesign/storesign/internal/atomicfile"
	"github.com/storesign/storesign/signing/signingtest"
)

// pb encodes a length-delimited protocol buffer field.
func pb(num int, data []byte) []byte {
	b := binary.AppendUvarint(nil, uint64(num)<<3|2)
	b = binary.AppendUvarint(b, uint64(len(data)))
	return append(b, data...)
}

// pv encodes a varint field.
func pv(num int, v uint64) []byte {
	b := binary.AppendUvarint(nil, uint64(num)<<3)
	return binary.AppendUvarint(b, v)
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// protoAttrBytes is an XmlAttribute; prim, when >= 0, is its compiled int.
func protoAttrBytes(ns, name, value string, prim int64) []byte {
	b := cat(pb(xmlAttrNamespace, []byte(ns)), pb(xmlAttrName, []byte(name)), pb(xmlAttrValue, []byte(value)))
	if prim >= 0 {
		b = append(b, pb(xmlAttrCompiled, pb(itemPrim, pv(primIntDecimal, uint64(prim))))...)
	}
	return b
}

// protoManifest is aapt2's XmlNode for <manifest package=pkg
// android:versionCode=code android:versionName=name>.
func protoManifest(pkg string, code int64, name string) []byte {
	el := cat(
		pb(xmlElementName, []byte("manifest")),
		pb(xmlElementAttr, protoAttrBytes("", "package", pkg, -1)),
		pb(xmlElementAttr, protoAttrBytes(androidNS, "versionCode", "", code)),
		pb(xmlElementAttr, protoAttrBytes(androidNS, "versionName", name, -1)),
		pb(xmlElementAttr, append(protoAttrBytes(androidNS, "compileSdkVersion", "34", -1), pv(xmlAttrResourceID, 0x01010572)...)),
	)
	return pb(xmlNodeElement, el)
}

func zipOf(t testing.TB, files map[string][]byte, order ...string) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range order {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(files[n])
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRead(t *testing.T) {
	proto := zipOf(t, map[string][]byte{
		BundleConfig:   []byte("\x0a\x07\x0a\x051.1.0"),
		BundleManifest: protoManifest("com.example.proto", 4242, "4.2"),
	}, BundleConfig, BundleManifest)
	tests := []struct {
		name string
		data []byte
		want Info
	}{
		{"apk", signingtest.APK(signingtest.APKOptions{Package: "com.example.a", VersionCode: 7, VersionName: "7.0"}), Info{KindAPK, "com.example.a", 7, "7.0"}},
		{"aab-binary-xml", signingtest.Bundle(signingtest.APKOptions{Package: "com.example.b", VersionCode: 99}), Info{KindAAB, "com.example.b", 99, "1.0"}},
		{"aab-proto", proto, Info{KindAAB, "com.example.proto", 4242, "4.2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Read(bytes.NewReader(tt.data), int64(len(tt.data)))
			if err != nil {
				t.Fatal(err)
			}
			if *got != tt.want {
				t.Errorf("Read = %+v, want %+v", *got, tt.want)
			}
		})
	}
}

func TestProtoVersionCodeMajor(t *testing.T) {
	el := cat(
		pb(xmlElementName, []byte("manifest")),
		pb(xmlElementAttr, protoAttrBytes("", "package", "com.example.big", -1)),
		pb(xmlElementAttr, protoAttrBytes(androidNS, "versionCode", "5", -1)),
		pb(xmlElementAttr, protoAttrBytes(androidNS, "versionCodeMajor", "0x2", -1)),
	)
	var info Info
	if err := parseProto(pb(xmlNodeElement, el), &info); err != nil {
		t.Fatal(err)
	}
	if info.VersionCode != 2<<32|5 {
		t.Errorf("VersionCode = %#x, want 0x200000005", info.VersionCode)
	}
}

func TestReadErrors(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		is   error
	}{
		{"not-zip", []byte("hello, this is not a zip archive at all"), nil},
		{"no-manifest", zipOf(t, map[string][]byte{"a.txt": []byte("x")}, "a.txt"), ErrNotAndroid},
		{"garbage-manifest", zipOf(t, map[string][]byte{APKManifest: []byte("\x03\x00\x08\x00garbage")}, APKManifest), ErrMalformed},
		{"proto-not-manifest", zipOf(t, map[string][]byte{BundleManifest: pb(xmlNodeElement, pb(xmlElementName, []byte("application")))}, BundleManifest), ErrMalformed},
		{"proto-no-package", zipOf(t, map[string][]byte{BundleManifest: pb(xmlNodeElement, pb(xmlElementName, []byte("manifest")))}, BundleManifest), ErrMalformed},
		{"proto-bad-code", zipOf(t, map[string][]byte{BundleManifest: pb(xmlNodeElement, cat(
			pb(xmlElementName, []byte("manifest")),
			pb(xmlElementAttr, protoAttrBytes("", "package", "p", -1)),
			pb(xmlElementAttr, protoAttrBytes(androidNS, "versionCode", "abc", -1))))}, BundleManifest), ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read(bytes.NewReader(tt.data), int64(len(tt.data)))
			if err == nil {
				t.Fatal("Read succeeded")
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v does not match %v", err, tt.is)
			}
		})
	}
}

func FuzzParseManifest(f *testing.F) {
	f.Add(protoManifest("com.example.proto", 4242, "4.2"))
	f.Add(signingtest.AndroidManifest(signingtest.APKOptions{}))
	f.Add([]byte{0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, data []byte) {
		var info Info
		if parseManifest(data, &info) == nil && info.Package == "" {
			t.Error("parsed a manifest without a package")
		}
	})
}

// TestFuzzSeeds checks that the fuzzer's seeds in testdata parse, so that
// the fuzzer starts from valid manifests of both forms.
func TestFuzzSeeds(t *testing.T) {
	for name, want := range map[string]Info{
		"binary-xml": {Package: "com.example.seed", VersionCode: 12, VersionName: "1.0"},
		"proto":      {Package: "com.example.proto", VersionCode: 42, VersionName: "4.2"},
	} {
		b, err := os.ReadFile(filepath.Join("testdata", "fuzz", "FuzzParseManifest", name))
		if err != nil {
			t.Fatal(err)
		}
		_, lit, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
		s, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lit, "[]byte("), ")"))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var got Info
		if err := parseManifest([]byte(s), &got); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got != want {
			t.Errorf("%s: %+v, want %+v", name, got, want)
		}
	}
}

// TestProtoUncompiledAttrs reads an XmlNode whose versionCode is a plain
// string value (no compiled item), with a namespace declaration and a
// child element around the attributes.
func TestProtoUncompiledAttrs(t *testing.T) {
	el := cat(
		pb(1, cat(pb(1, []byte("android")), pb(2, []byte(androidNS)))), // namespace_declaration
		pb(xmlElementName, []byte("manifest")),
		pb(xmlElementAttr, append(protoAttrBytes("", "package", "com.example.game", -1), pv(xmlAttrResourceID, 0x9b)...)),
		pb(xmlElementAttr, protoAttrBytes(androidNS, "versionCode", "231", -1)),
		pb(xmlElementAttr, protoAttrBytes(androidNS, "versionName", "2.3.1", -1)),
		pb(5, pb(1, pb(xmlElementName, []byte("application")))), // child
	)
	node := pb(xmlNodeElement, el)
	info := &Info{}
	if err := parseManifest(node, info); err != nil {
		t.Fatal(err)
	}
	if want := (Info{Package: "com.example.game", VersionCode: 231, VersionName: "2.3.1"}); *info != want {
		t.Errorf("info = %+v, want %+v", *info, want)
	}
	for name, bad := range map[string][]byte{
		"truncated":    node[:len(node)-3],
		"not manifest": pb(xmlNodeElement, cat(pb(xmlElementName, []byte("application")), pb(xmlElementAttr, protoAttrBytes("", "package", "x", -1)))),
		"empty":        nil,
		"garbage":      {0xff, 0xff, 0xff},
	} {
		if err := parseManifest(bad, &Info{}); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestReadFile reads a build from a file, and refuses what is not one.
func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.apk")
	if err := os.WriteFile(path, signingtest.APK(signingtest.APKOptions{Package: "com.example.f", VersionCode: 12}), 0o644); err != nil {
		t.Fatal(err)
	}
	info, err := ReadFile(path)
	if err != nil || info.Package != "com.example.f" || info.VersionCode != 12 {
		t.Fatalf("ReadFile = %+v, %v", info, err)
	}
	if _, err := ReadFile(filepath.Join(dir, "missing.apk")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v, want fs.ErrNotExist", err)
	}
	var nr *atomicfile.NotRegularError
	if _, err := ReadFile(dir); !errors.As(err, &nr) {
		t.Errorf("a folder: %v, want atomicfile.NotRegularError", err)
	}
}
