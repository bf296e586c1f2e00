package axml

import (
	"archive/zip"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/storesign/storesign/internal/testenv"
)

// doc builds binary XML for tests.
type doc struct {
	utf8    bool
	strs    []string
	resIDs  []uint32 // resource map, for the first len(resIDs) strings
	nodes   [][]byte
	noPool  bool
	trailer []byte
}

type attr struct {
	ns, name string
	resID    uint32
	typ      uint8
	data     uint32
	str      string // for typeString
}

func (d *doc) idx(s string) uint32 {
	if s == "" {
		return 0xFFFFFFFF
	}
	for i, x := range d.strs {
		if x == s {
			return uint32(i)
		}
	}
	d.strs = append(d.strs, s)
	return uint32(len(d.strs) - 1)
}

// attrName returns the index of an attribute name, keeping names with
// resource IDs at the front as aapt does.
func (d *doc) attrName(name string, resID uint32) uint32 {
	if resID == 0 {
		return d.idx(name)
	}
	for i, id := range d.resIDs {
		if id == resID {
			return uint32(i)
		}
	}
	// insert at position len(resIDs): only valid before other strings
	// are interned, so tests declare attributes first.
	if len(d.strs) != len(d.resIDs) {
		panic("declare resource attributes first")
	}
	d.strs = append(d.strs, name)
	d.resIDs = append(d.resIDs, resID)
	return uint32(len(d.strs) - 1)
}

func (d *doc) start(ns, name string, attrs ...attr) {
	le := binary.LittleEndian
	var b []byte
	b = le.AppendUint16(b, chunkStartElement)
	b = le.AppendUint16(b, 16)
	b = le.AppendUint32(b, 0) // size, patched
	b = le.AppendUint32(b, 1)
	b = le.AppendUint32(b, 0xFFFFFFFF)
	b = le.AppendUint32(b, d.idx(ns))
	b = le.AppendUint32(b, d.idx(name))
	b = le.AppendUint16(b, 20)
	b = le.AppendUint16(b, 20)
	b = le.AppendUint16(b, uint16(len(attrs)))
	b = le.AppendUint16(b, 0)
	b = le.AppendUint16(b, 0)
	b = le.AppendUint16(b, 0)
	for _, a := range attrs {
		b = le.AppendUint32(b, d.idx(a.ns))
		b = le.AppendUint32(b, d.attrName(a.name, a.resID))
		data := a.data
		raw := uint32(0xFFFFFFFF)
		if a.typ == typeString {
			data = d.idx(a.str)
			raw = data
		}
		b = le.AppendUint32(b, raw)
		b = le.AppendUint16(b, 8)
		b = append(b, 0, a.typ)
		b = le.AppendUint32(b, data)
	}
	le.PutUint32(b[4:], uint32(len(b)))
	d.nodes = append(d.nodes, b)
}

func (d *doc) end(ns, name string) {
	le := binary.LittleEndian
	var b []byte
	b = le.AppendUint16(b, chunkEndElement)
	b = le.AppendUint16(b, 16)
	b = le.AppendUint32(b, 24)
	b = le.AppendUint32(b, 1)
	b = le.AppendUint32(b, 0xFFFFFFFF)
	b = le.AppendUint32(b, d.idx(ns))
	b = le.AppendUint32(b, d.idx(name))
	d.nodes = append(d.nodes, b)
}

func (d *doc) bytes() []byte {
	le := binary.LittleEndian
	// string pool
	var data []byte
	var offs []byte
	for _, s := range d.strs {
		offs = le.AppendUint32(offs, uint32(len(data)))
		if d.utf8 {
			n16 := len(utf16.Encode([]rune(s)))
			data = appendLen8(data, n16)
			data = appendLen8(data, len(s))
			data = append(data, s...)
			data = append(data, 0)
		} else {
			u := utf16.Encode([]rune(s))
			if len(u) > 0x7fff {
				data = le.AppendUint16(data, uint16(len(u)>>16)|0x8000)
			}
			data = le.AppendUint16(data, uint16(len(u)))
			for _, c := range u {
				data = le.AppendUint16(data, c)
			}
			data = le.AppendUint16(data, 0)
		}
	}
	for len(data)%4 != 0 {
		data = append(data, 0)
	}
	var pool []byte
	pool = le.AppendUint16(pool, chunkStringPool)
	pool = le.AppendUint16(pool, 28)
	pool = le.AppendUint32(pool, uint32(28+len(offs)+len(data)))
	pool = le.AppendUint32(pool, uint32(len(d.strs)))
	pool = le.AppendUint32(pool, 0)
	flags := uint32(0)
	if d.utf8 {
		flags = 0x100
	}
	pool = le.AppendUint32(pool, flags)
	pool = le.AppendUint32(pool, uint32(28+len(offs)))
	pool = le.AppendUint32(pool, 0)
	pool = append(pool, offs...)
	pool = append(pool, data...)

	var body []byte
	if !d.noPool {
		body = append(body, pool...)
	}
	if len(d.resIDs) > 0 {
		body = le.AppendUint16(body, chunkResourceMap)
		body = le.AppendUint16(body, 8)
		body = le.AppendUint32(body, uint32(8+4*len(d.resIDs)))
		for _, id := range d.resIDs {
			body = le.AppendUint32(body, id)
		}
	}
	for _, n := range d.nodes {
		body = append(body, n...)
	}
	body = append(body, d.trailer...)
	var out []byte
	out = le.AppendUint16(out, chunkXML)
	out = le.AppendUint16(out, 8)
	out = le.AppendUint32(out, uint32(8+len(body)))
	return append(out, body...)
}

func appendLen8(b []byte, n int) []byte {
	if n > 0x7f {
		return append(b, byte(n>>8)|0x80, byte(n))
	}
	return append(b, byte(n))
}

const androidNS = "http://schemas.android.com/apk/res/android"

func intAttr(name string, id uint32, v int) attr {
	return attr{ns: androidNS, name: name, resID: id, typ: typeIntDec, data: uint32(int32(v))}
}

func strAttr(name string, id uint32, v string) attr {
	ns := androidNS
	if id == 0 {
		ns = ""
	}
	return attr{ns: ns, name: name, resID: id, typ: typeString, str: v}
}

// manifest builds a typical manifest; uses are the uses-sdk attributes.
func manifest(utf8 bool, top []attr, uses []attr, app []attr) []byte {
	d := &doc{utf8: utf8}
	// Resource attributes first, as aapt2 orders them.
	d.attrName("minSdkVersion", attrMinSDKVersion)
	for _, list := range [][]attr{top, uses, app} {
		for _, a := range list {
			if a.resID != 0 {
				d.attrName(a.name, a.resID)
			}
		}
	}
	d.start("", "manifest", top...)
	if uses != nil {
		d.start("", "uses-sdk", uses...)
		d.end("", "uses-sdk")
	}
	d.start("", "application", app...)
	d.start("", "activity", intAttr("minSdkVersion", attrMinSDKVersion, 99))
	d.end("", "activity")
	d.end("", "application")
	d.end("", "manifest")
	return d.bytes()
}

func TestParseManifest(t *testing.T) {
	top := []attr{
		intAttr("versionCode", attrVersionCode, 42),
		strAttr("versionName", attrVersionName, "1.2.3"),
		strAttr("package", 0, "com.example.app"),
	}
	tests := []struct {
		name string
		data []byte
		want Manifest
	}{
		{"utf16", manifest(false, top, []attr{intAttr("minSdkVersion", attrMinSDKVersion, 21), intAttr("targetSdkVersion", attrTargetSDKVersion, 34)}, nil),
			Manifest{Package: "com.example.app", VersionCode: 42, VersionName: "1.2.3", MinSDKVersion: 21, TargetSDKVersion: 34, TargetSandboxVersion: 1}},
		{"utf8", manifest(true, top, []attr{intAttr("minSdkVersion", attrMinSDKVersion, 24)}, []attr{{ns: androidNS, name: "debuggable", resID: attrDebuggable, typ: typeBoolean, data: 0xFFFFFFFF}}),
			Manifest{Package: "com.example.app", VersionCode: 42, VersionName: "1.2.3", MinSDKVersion: 24, Debuggable: true, TargetSandboxVersion: 1}},
		{"no uses-sdk", manifest(false, top, nil, nil),
			Manifest{Package: "com.example.app", VersionCode: 42, VersionName: "1.2.3", MinSDKVersion: 1, TargetSandboxVersion: 1}},
		{"uses-sdk without min", manifest(false, nil, []attr{intAttr("maxSdkVersion", attrMaxSDKVersion, 28)}, nil),
			Manifest{MinSDKVersion: 1, MaxSDKVersion: 28, TargetSandboxVersion: 1}},
		{"codename", manifest(true, nil, []attr{strAttr("minSdkVersion", attrMinSDKVersion, "Q")}, nil),
			Manifest{MinSDKVersion: 27, TargetSandboxVersion: 1}},
		{"codename N", manifest(true, nil, []attr{strAttr("minSdkVersion", attrMinSDKVersion, "N")}, nil),
			Manifest{MinSDKVersion: 23, TargetSandboxVersion: 1}},
		{"sandbox and major", manifest(false, []attr{
			intAttr("versionCode", attrVersionCode, -1),
			intAttr("versionCodeMajor", attrVersionCodeMajor, 2),
			intAttr("targetSandboxVersion", attrTargetSandboxVersion, 2),
		}, nil, []attr{strAttr("debuggable", attrDebuggable, "TRUE")}),
			Manifest{VersionCode: 2<<32 | 0xFFFFFFFF, MinSDKVersion: 1, TargetSandboxVersion: 2, Debuggable: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseManifest(tt.data)
			if err != nil {
				t.Fatal(err)
			}
			if *m != tt.want {
				t.Errorf("got %+v\nwant %+v", *m, tt.want)
			}
		})
	}
}

// TestDebuggable checks android:debuggable read as apksig reads it.
func TestDebuggable(t *testing.T) {
	dbg := func(typ uint8, data uint32, str string) []attr {
		return []attr{{ns: androidNS, name: "debuggable", resID: attrDebuggable, typ: typ, data: data, str: str}}
	}
	tests := []struct {
		name string
		app  []attr
		want bool
		err  error // nil, or what the error wraps
	}{
		{"absent", nil, false, nil},
		{"boolean true", dbg(typeBoolean, 0xFFFFFFFF, ""), true, nil},
		{"boolean true as 1", dbg(typeBoolean, 1, ""), true, nil},
		{"boolean false", dbg(typeBoolean, 0, ""), false, nil},
		{"string true", dbg(typeString, 0, "true"), true, nil},
		{"string TRUE", dbg(typeString, 0, "TRUE"), true, nil},
		{"string 1", dbg(typeString, 0, "1"), true, nil},
		{"string True", dbg(typeString, 0, "True"), false, nil},
		{"int 1", dbg(typeIntDec, 1, ""), true, nil},
		{"int 2", dbg(typeIntDec, 2, ""), false, nil},
		{"int -1", dbg(typeIntDec, 0xFFFFFFFF, ""), false, nil},
		{"hex 1", dbg(typeIntHex, 1, ""), false, nil},
		{"reference", dbg(typeReference, 0x7f010000, ""), false, ErrUnsupportedValue},
		{"attribute reference", dbg(0x02, 0x7f010000, ""), false, ErrUnsupportedValue},
		{"float", dbg(0x04, 0x3f800000, ""), false, ErrUnsupportedValue},
		{"no namespace", []attr{{name: "debuggable", resID: attrDebuggable, typ: typeBoolean, data: 1}}, true, nil},
		{"no resource id", []attr{{ns: androidNS, name: "debuggable", typ: typeBoolean, data: 1}}, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := manifest(false, nil, nil, tt.app)
			got, err := Debuggable(data)
			if tt.err == nil && err != nil || tt.err != nil && !errors.Is(err, tt.err) {
				t.Fatalf("Debuggable: %v, want error %v", err, tt.err)
			}
			if got != tt.want {
				t.Errorf("Debuggable = %v, want %v", got, tt.want)
			}
			// ParseManifest reads the same, and a value that cannot tell
			// is no error for it.
			m, err := ParseManifest(data)
			if err != nil {
				t.Fatalf("ParseManifest: %v", err)
			}
			if m.Debuggable != tt.want {
				t.Errorf("Manifest.Debuggable = %v, want %v", m.Debuggable, tt.want)
			}
		})
	}
}

func TestParseManifestErrors(t *testing.T) {
	good := manifest(false, nil, []attr{intAttr("minSdkVersion", attrMinSDKVersion, 21)}, nil)
	noPool := &doc{noPool: true}
	noPool.start("", "manifest")
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrMalformed},
		{"text xml", []byte("<?xml version=\"1.0\"?><manifest/>"), ErrMalformed},
		{"truncated", good[:len(good)-10], ErrMalformed},
		{"no string pool", noPool.bytes(), ErrMalformed},
		{"reference minSdk", manifest(false, nil, []attr{{ns: androidNS, name: "minSdkVersion", resID: attrMinSDKVersion, typ: typeReference, data: 0x7f010000}}, nil), ErrUnsupportedValue},
		{"bad string index", corrupt(good, func(b []byte) {
			// the first element's name index
			i := strings.Index(string(b), "\x02\x01\x10\x00")
			binary.LittleEndian.PutUint32(b[i+20:], 1000)
		}), ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseManifest(tt.data)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
	var ce *CodenameError
	_, err := ParseManifest(manifest(true, nil, []attr{strAttr("minSdkVersion", attrMinSDKVersion, "qq")}, nil))
	if !errors.As(err, &ce) || ce.Codename != "qq" {
		t.Errorf("lowercase codename: got %v", err)
	}
}

func corrupt(b []byte, f func([]byte)) []byte {
	c := append([]byte(nil), b...)
	f(c)
	return c
}

func TestSDKForCodename(t *testing.T) {
	for name, want := range map[string]int{"A": 1, "B": 1, "C": 2, "Cupcake": 2, "F": 7, "O": 25, "P": 26, "Q": 27, "Z": 36, "Baklava": 34, "CANARY": 9999} {
		got, err := SDKForCodename(name)
		if err != nil || got != want {
			t.Errorf("SDKForCodename(%q) = %d, %v; want %d", name, got, err, want)
		}
	}
}

// TestCorpusManifests parses the manifests of the APKs in the shared corpus
// (made by aapt and aapt2).
func TestCorpusManifests(t *testing.T) {
	dir := testenv.Corpus(t, "android", "verify")
	files, _ := filepath.Glob(filepath.Join(dir, "*.apk"))
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data := readManifest(t, f)
			if data == nil {
				t.Skip("no manifest")
			}
			m, err := ParseManifest(data)
			if strings.HasPrefix(filepath.Base(f), "invalid_manifest") {
				if err == nil {
					t.Errorf("invalid manifest parsed: %+v", m)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.Package == "" {
				t.Errorf("no package: %+v", m)
			}
			t.Logf("%+v", m)
		})
	}
}

func readManifest(t testing.TB, apk string) []byte {
	zr, err := zip.OpenReader(apk)
	if err != nil {
		return nil
	}
	defer zr.Close()
	for _, f := range zr.File {
		if f.Name == "AndroidManifest.xml" {
			rc, err := f.Open()
			if err != nil {
				return nil
			}
			defer rc.Close()
			b, _ := io.ReadAll(rc)
			return b
		}
	}
	return nil
}

func FuzzParseManifest(f *testing.F) {
	f.Add(manifest(false, []attr{strAttr("package", 0, "a.b")}, []attr{intAttr("minSdkVersion", attrMinSDKVersion, 21)}, nil))
	f.Add(manifest(true, []attr{intAttr("versionCode", attrVersionCode, 1)}, []attr{strAttr("minSdkVersion", attrMinSDKVersion, "Q")}, nil))
	if dir := os.Getenv("STORESIGN_CORPUS"); dir != "" {
		files, _ := filepath.Glob(filepath.Join(dir, "android", "verify", "*.apk"))
		for _, p := range files[:min(len(files), 5)] {
			if b := readManifest(f, p); b != nil {
				f.Add(b)
			}
		}
	}
	f.Add(manifest(false, nil, nil, []attr{{ns: androidNS, name: "debuggable", resID: attrDebuggable, typ: typeReference, data: 0x7f010000}}))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseManifest(data)
		if err == nil && m.MinSDKVersion < 1 && m.MinSDKVersion != int(int32(m.MinSDKVersion)) {
			t.Fatalf("odd min SDK %d", m.MinSDKVersion)
		}
		// Debuggable reads less of the document: where the whole parses,
		// it answers, and agrees unless it cannot tell.
		d, derr := Debuggable(data)
		if err == nil && (derr == nil && d != m.Debuggable || derr != nil && (m.Debuggable || !errors.Is(derr, ErrUnsupportedValue))) {
			t.Fatalf("Debuggable = %v, %v; ParseManifest says %v", d, derr, m.Debuggable)
		}
	})
}
