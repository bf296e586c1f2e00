package signingtest

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"time"
	"unicode/utf16"
)

// APKOptions describe a synthetic app for [APK] and [Bundle]. Zero fields
// get defaults: package com.example.app, version 1 "1.0", minSdk 21,
// targetSdk 34, one native library per ABI in NativeABIs.
type APKOptions struct {
	Package     string
	VersionCode int
	VersionName string
	MinSDK      int // 0: 21; negative: no minSdkVersion attribute
	TargetSDK   int
	// NativeABIs lists the ABIs that get a stored lib/<abi>/libgame.so;
	// nil means arm64-v8a only, an empty non-nil slice means none.
	NativeABIs []string
	// Assets is the number of extra stored asset files.
	Assets int
	// Debuggable, when not nil, is written as android:debuggable of the
	// application element: [BoolValue] as aapt2 writes true and false,
	// [ReferenceValue] as it writes @bool/name, or any other typed value.
	Debuggable *AttrValue
	// TargetSandboxVersion, when not zero, is written as
	// android:targetSandboxVersion of the manifest element.
	TargetSandboxVersion int
	// Comment is the zip archive's comment ([APK] only).
	Comment string
}

// AttrValue is the typed value of a binary XML attribute (a Res_value).
type AttrValue struct {
	// Type is the Res_value data type: 0x01 reference, 0x03 string,
	// 0x10 decimal integer, 0x11 hexadecimal integer, 0x12 boolean.
	Type uint8
	// Data is the value's data (for a string, set by the encoder).
	Data uint32
	// String is the text of a string value.
	String string
}

// BoolValue is a boolean attribute value as aapt2 encodes it (true is
// 0xFFFFFFFF).
func BoolValue(b bool) *AttrValue {
	v := &AttrValue{Type: 0x12}
	if b {
		v.Data = 0xFFFFFFFF
	}
	return v
}

// ReferenceValue is a reference to the resource id, as aapt2 encodes
// "@bool/name" (the app's resources have ids 0x7fTTEEEE).
func ReferenceValue(id uint32) *AttrValue { return &AttrValue{Type: 0x01, Data: id} }

func (o *APKOptions) defaults() {
	if o.Package == "" {
		o.Package = "com.example.app"
	}
	if o.VersionCode == 0 {
		o.VersionCode = 1
	}
	if o.VersionName == "" {
		o.VersionName = "1.0"
	}
	if o.MinSDK == 0 {
		o.MinSDK = 21
	}
	if o.TargetSDK == 0 {
		o.TargetSDK = 34
	}
	if o.NativeABIs == nil {
		o.NativeABIs = []string{"arm64-v8a"}
	}
}

// zipTime is the modification time of every synthetic entry.
var zipTime = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// APK returns a deterministic, unsigned, unaligned APK: a binary
// AndroidManifest.xml, a deflated classes.dex, stored resources.arsc,
// a stored PNG, stored native libraries and assets — the entry kinds a
// signer must treat differently.
func APK(opts APKOptions) []byte {
	opts.defaults()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(name string, data []byte, store bool) {
		h := &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: zipTime}
		if store {
			h.Method = zip.Store
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			panic(err)
		}
		w.Write(data)
	}
	add("AndroidManifest.xml", AndroidManifest(opts), false)
	add("classes.dex", pseudoFile("dex\n035\x00", "classes.dex", 24<<10), false)
	add("resources.arsc", pseudoFile("\x02\x00\x0c\x00", "resources.arsc", 6<<10), true)
	add("res/drawable/icon.png", pseudoFile("\x89PNG\r\n\x1a\n", "icon.png", 3<<10), true)
	add("res/layout/main.xml", pseudoFile("\x03\x00\x08\x00", "main.xml", 2<<10), false)
	for _, abi := range opts.NativeABIs {
		add("lib/"+abi+"/libgame.so", pseudoFile("\x7fELF", abi, 40<<10), true)
	}
	for i := range opts.Assets {
		add(fmt.Sprintf("assets/data%04d.bin", i), pseudoFile("", fmt.Sprint(i), 1<<10), true)
	}
	if opts.Comment != "" {
		if err := zw.SetComment(opts.Comment); err != nil {
			panic(err)
		}
	}
	if err := zw.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// pseudoFile returns size deterministic bytes starting with magic: half
// repetitive text (so it compresses, like real code) and half noise.
func pseudoFile(magic, seed string, size int) []byte {
	b := make([]byte, size)
	n := copy(b, magic)
	r := Reader("file " + seed)
	line := []byte("storesign sample content " + seed + "\n")
	for i := n; i < size/2; i++ {
		b[i] = line[(i-n)%len(line)]
	}
	r.Read(b[max(n, size/2):])
	return b
}

// Android resource IDs of the manifest attributes the sample uses.
const (
	attrLabel            = 0x01010001
	attrDebuggable       = 0x0101000f
	attrMinSdkVersion    = 0x0101020c
	attrVersionCode      = 0x0101021b
	attrVersionName      = 0x0101021c
	attrTargetSdkVersion = 0x01010270
	attrTargetSandbox    = 0x0101054c
)

// AndroidManifest encodes a minimal AndroidManifest.xml in Android's
// binary XML form, as aapt2 writes it into an APK:
//
//	<manifest package=… android:versionCode=… android:versionName=…>
//	  <uses-sdk android:minSdkVersion=… android:targetSdkVersion=…/>
//	  <application android:label=…/>
//	</manifest>
//
// with android:targetSandboxVersion and android:debuggable when opts
// set them.
func AndroidManifest(opts APKOptions) []byte {
	opts.defaults()
	// The resource map pairs the first strings with attribute IDs.
	type attrID struct {
		name string
		id   uint32
	}
	attrs := []attrID{
		{"versionCode", attrVersionCode}, {"versionName", attrVersionName},
		{"minSdkVersion", attrMinSdkVersion}, {"targetSdkVersion", attrTargetSdkVersion},
		{"label", attrLabel},
	}
	if opts.Debuggable != nil {
		attrs = append(attrs, attrID{"debuggable", attrDebuggable})
	}
	if opts.TargetSandboxVersion != 0 {
		attrs = append(attrs, attrID{"targetSandboxVersion", attrTargetSandbox})
	}
	var strs []string
	index := map[string]uint32{}
	str := func(s string) uint32 {
		if i, ok := index[s]; ok {
			return i
		}
		index[s] = uint32(len(strs))
		strs = append(strs, s)
		return index[s]
	}
	for _, a := range attrs {
		str(a.name)
	}
	const nsURI = "http://schemas.android.com/apk/res/android"
	android, uri := str("android"), str(nsURI)
	manifest, usesSdk, application, pkg := str("manifest"), str("uses-sdk"), str("application"), str("package")
	pkgVal, verName, label := str(opts.Package), str(opts.VersionName), str("Sample")

	const none = 0xffffffff
	type attr struct {
		ns, name, raw uint32
		typ           byte
		data          uint32
	}
	intAttr := func(name string, v int) attr {
		return attr{uri, str(name), none, 0x10, uint32(v)}
	}
	strAttr := func(ns uint32, name, raw uint32) attr {
		return attr{ns, name, raw, 0x03, raw}
	}
	var body bytes.Buffer
	le := func(v any) { binary.Write(&body, binary.LittleEndian, v) }
	node := func(typ uint16, size uint32) {
		le(typ)
		le(uint16(16))
		le(size)
		le(uint32(1)) // line number
		le(uint32(none))
	}
	start := func(name uint32, as []attr) {
		node(0x0102, uint32(16+20+20*len(as)))
		le(uint32(none))
		le(name)
		le([]uint16{20, 20, uint16(len(as)), 0, 0, 0})
		for _, a := range as {
			le([]uint32{a.ns, a.name, a.raw})
			le(uint16(8))
			le([]byte{0, a.typ})
			le(a.data)
		}
	}
	end := func(name uint32) {
		node(0x0103, 24)
		le([]uint32{none, name})
	}
	node(0x0100, 24)
	le([]uint32{android, uri})
	top := []attr{
		intAttr("versionCode", opts.VersionCode),
		strAttr(uri, str("versionName"), verName),
	}
	if opts.TargetSandboxVersion != 0 {
		top = append(top, intAttr("targetSandboxVersion", opts.TargetSandboxVersion))
	}
	start(manifest, append(top, strAttr(none, pkg, pkgVal)))
	sdk := []attr{intAttr("targetSdkVersion", opts.TargetSDK)}
	if opts.MinSDK > 0 {
		sdk = []attr{intAttr("minSdkVersion", opts.MinSDK), intAttr("targetSdkVersion", opts.TargetSDK)}
	}
	start(usesSdk, sdk)
	end(usesSdk)
	app := []attr{strAttr(uri, str("label"), label)}
	if v := opts.Debuggable; v != nil {
		a := attr{uri, str("debuggable"), none, v.Type, v.Data}
		if v.Type == 0x03 {
			a.raw = str(v.String)
			a.data = a.raw
		}
		app = append(app, a)
	}
	start(application, app)
	end(application)
	end(manifest)
	node(0x0101, 24)
	le([]uint32{android, uri})

	// String pool, UTF-16.
	var pool bytes.Buffer
	var offsets []uint32
	for _, s := range strs {
		offsets = append(offsets, uint32(pool.Len()))
		u := utf16.Encode([]rune(s))
		binary.Write(&pool, binary.LittleEndian, uint16(len(u)))
		binary.Write(&pool, binary.LittleEndian, u)
		binary.Write(&pool, binary.LittleEndian, uint16(0))
	}
	for pool.Len()%4 != 0 {
		pool.WriteByte(0)
	}
	var out bytes.Buffer
	w := func(v any) { binary.Write(&out, binary.LittleEndian, v) }
	poolSize := 28 + 4*len(strs) + pool.Len()
	mapSize := 8 + 4*len(attrs)
	w([]uint16{0x0003, 8})
	w(uint32(8 + poolSize + mapSize + body.Len()))
	w([]uint16{0x0001, 28})
	w([]uint32{uint32(poolSize), uint32(len(strs)), 0, 0, uint32(28 + 4*len(strs)), 0})
	w(offsets)
	out.Write(pool.Bytes())
	w([]uint16{0x0180, 8})
	w(uint32(mapSize))
	for _, a := range attrs {
		w(a.id)
	}
	out.Write(body.Bytes())
	return out.Bytes()
}

// Bundle returns a deterministic, unsigned Android App Bundle with the
// same content as [APK] laid out as bundletool expects: BundleConfig.pb
// and base/{manifest,dex,res,lib,assets}. (Its manifest is binary XML, not
// aapt2's protobuf form: enough for signing, which does not read it.)
func Bundle(opts APKOptions) []byte {
	opts.defaults()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(name string, data []byte) {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: zipTime})
		if err != nil {
			panic(err)
		}
		w.Write(data)
	}
	add("BundleConfig.pb", []byte("\x0a\x07\x0a\x051.1.0"))
	add("base/manifest/AndroidManifest.xml", AndroidManifest(opts))
	add("base/dex/classes.dex", pseudoFile("dex\n035\x00", "classes.dex", 24<<10))
	add("base/resources.pb", pseudoFile("", "resources.pb", 4<<10))
	add("base/res/drawable/icon.png", pseudoFile("\x89PNG\r\n\x1a\n", "icon.png", 3<<10))
	for _, abi := range opts.NativeABIs {
		add("base/lib/"+abi+"/libgame.so", pseudoFile("\x7fELF", abi, 40<<10))
	}
	for i := range opts.Assets {
		add(fmt.Sprintf("base/assets/data%04d.bin", i), pseudoFile("", fmt.Sprint(i), 1<<10))
	}
	if err := zw.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}
