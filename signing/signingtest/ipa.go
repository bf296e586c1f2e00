package signingtest

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"io/fs"
	"time"

	"howett.net/plist"
)

// IOSBinaryOptions describe a synthetic iOS Mach-O binary made by
// [IOSBinary]: the load commands codesign needs (__TEXT with a __text
// section, __LINKEDIT, LC_BUILD_VERSION for iOS) and room after them for
// LC_CODE_SIGNATURE, with deterministic code bytes. It is not runnable.
type IOSBinaryOptions struct {
	// Archs are the architecture slices: "arm64" (default), "arm64e",
	// "x86_64". More than one makes a fat binary.
	Archs []string
	// CodeSize is the size of the __text section per slice (default 20000).
	CodeSize int
	// MinOS is the minimum iOS version as "major.minor" (default "14.0";
	// below "11.0" makes codesign add a SHA-1 CodeDirectory).
	MinOS string
	// Dylib makes an MH_DYLIB instead of an MH_EXECUTE.
	Dylib bool
	// Encrypted adds LC_ENCRYPTION_INFO_64 with cryptid 1 (FairPlay).
	Encrypted bool
	// Seed varies the code bytes.
	Seed string
}

// IOSBinary returns the binary opts describe.
func IOSBinary(opts IOSBinaryOptions) []byte {
	archs := opts.Archs
	if len(archs) == 0 {
		archs = []string{"arm64"}
	}
	if len(archs) == 1 {
		return thinIOS(archs[0], opts)
	}
	type sl struct {
		cpu, sub uint32
		data     []byte
	}
	var slices []sl
	for _, a := range archs {
		cpu, sub := cpuOf(a)
		slices = append(slices, sl{cpu, sub, thinIOS(a, opts)})
	}
	const align = 14
	var out bytes.Buffer
	be := binary.BigEndian
	hdr := be.AppendUint32(nil, 0xcafebabe)
	hdr = be.AppendUint32(hdr, uint32(len(slices)))
	off := uint32(1 << align)
	for _, s := range slices {
		hdr = be.AppendUint32(hdr, s.cpu)
		hdr = be.AppendUint32(hdr, s.sub)
		hdr = be.AppendUint32(hdr, off)
		hdr = be.AppendUint32(hdr, uint32(len(s.data)))
		hdr = be.AppendUint32(hdr, align)
		off += uint32(len(s.data))
		off = (off + 1<<align - 1) &^ (1<<align - 1)
	}
	out.Write(hdr)
	for _, s := range slices {
		pad := (out.Len() + 1<<align - 1) &^ (1<<align - 1)
		out.Write(make([]byte, pad-out.Len()))
		out.Write(s.data)
	}
	return out.Bytes()
}

func cpuOf(arch string) (cpu, sub uint32) {
	switch arch {
	case "arm64":
		return 0x0100000c, 0
	case "arm64e":
		return 0x0100000c, 2
	case "x86_64":
		return 0x01000007, 3
	}
	panic("signingtest: unsupported arch " + arch)
}

func thinIOS(arch string, opts IOSBinaryOptions) []byte {
	cpu, sub := cpuOf(arch)
	codeSize := opts.CodeSize
	if codeSize <= 0 {
		codeSize = 20000
	}
	page := 0x4000
	if arch == "x86_64" {
		page = 0x1000
	}
	minOS := uint32(14 << 16)
	if opts.MinOS != "" {
		var maj, mnr uint32
		fmt.Sscanf(opts.MinOS, "%d.%d", &maj, &mnr)
		minOS = maj<<16 | mnr<<8
	}
	const textOff = 0x1000 // leaves room for LC_CODE_SIGNATURE
	textSize := (textOff + codeSize + page - 1) &^ (page - 1)
	linkSize := 0x200
	le := binary.LittleEndian
	var cmds []byte
	ncmds := 0
	seg := func(name string, vmaddr, vmsize, fileoff, filesize uint64, prot uint32, sects [][]byte) {
		c := le.AppendUint32(nil, 0x19)
		c = le.AppendUint32(c, uint32(72+80*len(sects)))
		var n [16]byte
		copy(n[:], name)
		c = append(c, n[:]...)
		c = le.AppendUint64(c, vmaddr)
		c = le.AppendUint64(c, vmsize)
		c = le.AppendUint64(c, fileoff)
		c = le.AppendUint64(c, filesize)
		c = le.AppendUint32(c, prot)
		c = le.AppendUint32(c, prot)
		c = le.AppendUint32(c, uint32(len(sects)))
		c = le.AppendUint32(c, 0)
		for _, s := range sects {
			c = append(c, s...)
		}
		cmds = append(cmds, c...)
		ncmds++
	}
	base := uint64(0x100000000)
	if opts.Dylib {
		base = 0
	} else {
		seg("__PAGEZERO", 0, base, 0, 0, 0, nil)
	}
	var sect []byte
	var sn, gn [16]byte
	copy(sn[:], "__text")
	copy(gn[:], "__TEXT")
	sect = append(sect, sn[:]...)
	sect = append(sect, gn[:]...)
	sect = le.AppendUint64(sect, base+textOff)
	sect = le.AppendUint64(sect, uint64(codeSize))
	sect = le.AppendUint32(sect, textOff)
	sect = le.AppendUint32(sect, 2)
	sect = le.AppendUint32(sect, 0)
	sect = le.AppendUint32(sect, 0)
	sect = le.AppendUint32(sect, 0x80000400)
	sect = append(sect, make([]byte, 12)...)
	seg("__TEXT", base, uint64(textSize), 0, uint64(textSize), 5, [][]byte{sect})
	seg("__LINKEDIT", base+uint64(textSize), uint64(page), uint64(textSize), uint64(linkSize), 1, nil)
	bv := le.AppendUint32(nil, 0x32)
	bv = le.AppendUint32(bv, 24)
	bv = le.AppendUint32(bv, 2) // iOS
	bv = le.AppendUint32(bv, minOS)
	bv = le.AppendUint32(bv, 17<<16)
	bv = le.AppendUint32(bv, 0)
	cmds = append(cmds, bv...)
	ncmds++
	if opts.Encrypted {
		ec := le.AppendUint32(nil, 0x2c)
		ec = le.AppendUint32(ec, 24)
		ec = le.AppendUint32(ec, uint32(page))
		ec = le.AppendUint32(ec, uint32(textSize-page))
		ec = le.AppendUint32(ec, 1)
		ec = le.AppendUint32(ec, 0)
		cmds = append(cmds, ec...)
		ncmds++
	}
	ftype := uint32(2)
	if opts.Dylib {
		ftype = 6
	}
	out := make([]byte, textSize+linkSize)
	h := le.AppendUint32(nil, 0xfeedfacf)
	h = le.AppendUint32(h, cpu)
	h = le.AppendUint32(h, sub)
	h = le.AppendUint32(h, ftype)
	h = le.AppendUint32(h, uint32(ncmds))
	h = le.AppendUint32(h, uint32(len(cmds)))
	h = le.AppendUint32(h, 0x00200085)
	h = le.AppendUint32(h, 0)
	copy(out, h)
	copy(out[32:], cmds)
	io.ReadFull(Reader("ios code "+arch+"/"+opts.Seed), out[textOff:textOff+codeSize])
	io.ReadFull(Reader("ios linkedit "+arch+"/"+opts.Seed), out[textSize:])
	return out
}

// IPAFile is one entry of a synthetic IPA.
type IPAFile struct {
	Name    string // path in the zip; a trailing slash makes a folder
	Data    []byte // content; a symlink's target
	Mode    fs.FileMode
	Symlink bool
	Store   bool // stored instead of deflated
}

// IPAOptions describe a synthetic IPA made by [IPA]. The zero value is an
// app "Example" (com.example.app, binary Info.plist, arm64 executable)
// with a framework, a loose dylib, a share extension, a watch app with its
// extension, resources (lproj folders, a symlink) and a stale signature.
type IPAOptions struct {
	BundleID string // default com.example.app
	// Minimal leaves out the framework, the dylib, the extension and the
	// watch app.
	Minimal bool
	// MainArchs are the main executable's architectures (default arm64).
	MainArchs []string
	// MainCodeSize is the main executable's code size per slice.
	MainCodeSize int
	// Encrypted marks the main executable FairPlay-encrypted.
	Encrypted bool
	// AppClip adds an App Clip (AppClips/Clip.app, <BundleID>.Clip).
	AppClip bool
	// Extra files are added inside the app folder (names relative to it).
	Extra []IPAFile
	// Info holds keys added to (or replacing those of) the app's
	// Info.plist.
	Info map[string]any
	// Modified is every entry's time (default Epoch).
	Modified time.Time
}

// IPA returns the zip bytes of the IPA opts describe.
func IPA(opts IPAOptions) []byte {
	var buf bytes.Buffer
	if err := WriteIPA(&buf, opts); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// IPAFiles returns the entries of the IPA opts describe, in zip order.
func IPAFiles(opts IPAOptions) []IPAFile {
	id := opts.BundleID
	if id == "" {
		id = "com.example.app"
	}
	app := "Payload/Example.app/"
	info := func(format int, m map[string]any) []byte {
		b, err := plist.MarshalIndent(m, format, "\t")
		if err != nil {
			panic(err)
		}
		return b
	}
	bundleInfo := func(id, exe, pkg string, extra map[string]any) map[string]any {
		m := map[string]any{
			"CFBundleIdentifier":            id,
			"CFBundleExecutable":            exe,
			"CFBundleName":                  exe,
			"CFBundlePackageType":           pkg,
			"CFBundleShortVersionString":    "1.0",
			"CFBundleVersion":               "1",
			"CFBundleInfoDictionaryVersion": "6.0",
			"CFBundleSupportedPlatforms":    []string{"iPhoneOS"},
			"MinimumOSVersion":              "14.0",
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	files := []IPAFile{
		{Name: "Payload/"},
		{Name: app},
		{Name: app + "Info.plist", Data: info(plist.BinaryFormat, bundleInfo(id, "Example", "APPL", withKeys(map[string]any{"CFBundleDisplayName": "Example"}, opts.Info)))},
		{Name: app + "Example", Data: IOSBinary(IOSBinaryOptions{Archs: opts.MainArchs, CodeSize: opts.MainCodeSize, Encrypted: opts.Encrypted, Seed: "main"}), Mode: 0o755},
		{Name: app + "PkgInfo", Data: []byte("APPL????")},
		{Name: app + "embedded.mobileprovision", Data: []byte("stale profile")},
		{Name: app + "_CodeSignature/"},
		{Name: app + "_CodeSignature/CodeResources", Data: []byte("stale")},
		{Name: app + "Assets.car", Data: pseudo("assets", 50000)},
		{Name: app + "AppIcon60x60@2x.png", Data: pseudo("icon", 3000), Store: true},
		{Name: app + "en.lproj/"},
		{Name: app + "en.lproj/Localizable.strings", Data: []byte("\"hello\" = \"Hello\";\n")},
		{Name: app + "en.lproj/locversion.plist", Data: []byte("<plist/>")},
		{Name: app + "Base.lproj/"},
		{Name: app + "Base.lproj/Main.storyboardc/Info.plist", Data: info(plist.BinaryFormat, map[string]any{"UIViewControllerIdentifiersToNibNames": map[string]any{}})},
		{Name: app + "data/config.json", Data: []byte(`{"env":"prod"}`)},
		{Name: app + "data/current.json", Data: []byte("config.json"), Symlink: true},
	}
	if !opts.Minimal {
		fw := app + "Frameworks/Kit.framework/"
		wa := app + "Watch/ExampleWatch.app/"
		we := wa + "PlugIns/ExampleWatch Extension.appex/"
		ext := app + "PlugIns/Share.appex/"
		files = append(files,
			IPAFile{Name: app + "Frameworks/"},
			IPAFile{Name: fw},
			IPAFile{Name: fw + "Info.plist", Data: info(plist.XMLFormat, bundleInfo("com.example.Kit", "Kit", "FMWK", nil))},
			IPAFile{Name: fw + "Kit", Data: IOSBinary(IOSBinaryOptions{Dylib: true, Seed: "kit", CodeSize: 9000}), Mode: 0o755},
			IPAFile{Name: fw + "Resources/strings.json", Data: []byte(`{"a":1}`)},
			IPAFile{Name: fw + "_CodeSignature/CodeResources", Data: []byte("stale")},
			IPAFile{Name: app + "Frameworks/libswiftCore.dylib", Data: IOSBinary(IOSBinaryOptions{Dylib: true, Seed: "swift", Archs: []string{"arm64", "arm64e"}, MinOS: "10.0"}), Mode: 0o755},
			IPAFile{Name: ext + "Info.plist", Data: info(plist.XMLFormat, bundleInfo(id+".share", "Share", "XPC!", map[string]any{
				"NSExtension": map[string]any{"NSExtensionPointIdentifier": "com.apple.share-services", "NSExtensionPrincipalClass": "ShareViewController"},
			}))},
			IPAFile{Name: ext + "Share", Data: IOSBinary(IOSBinaryOptions{Seed: "share"}), Mode: 0o755},
			IPAFile{Name: ext + "embedded.mobileprovision", Data: []byte("stale")},
			IPAFile{Name: ext + "en.lproj/InfoPlist.strings", Data: []byte("\"CFBundleDisplayName\" = \"Share\";\n")},
			IPAFile{Name: wa + "Info.plist", Data: info(plist.BinaryFormat, bundleInfo(id+".watchkitapp", "ExampleWatch", "APPL", map[string]any{
				"WKCompanionAppBundleIdentifier": id, "WKWatchKitApp": true, "CFBundleSupportedPlatforms": []string{"WatchOS"},
			}))},
			IPAFile{Name: wa + "ExampleWatch", Data: IOSBinary(IOSBinaryOptions{Seed: "watch"}), Mode: 0o755},
			IPAFile{Name: wa + "Interface.plist", Data: []byte("<plist/>")},
			IPAFile{Name: we + "Info.plist", Data: info(plist.XMLFormat, bundleInfo(id+".watchkitapp.watchkitextension", "ExampleWatch Extension", "XPC!", map[string]any{
				"NSExtension": map[string]any{"NSExtensionPointIdentifier": "com.apple.watchkit", "NSExtensionAttributes": map[string]any{"WKAppBundleIdentifier": id + ".watchkitapp"}},
			}))},
			IPAFile{Name: we + "ExampleWatch Extension", Data: IOSBinary(IOSBinaryOptions{Seed: "watchext"}), Mode: 0o755},
		)
	}
	if opts.AppClip {
		clip := app + "AppClips/Clip.app/"
		files = append(files,
			IPAFile{Name: clip + "Info.plist", Data: info(plist.BinaryFormat, bundleInfo(id+".Clip", "Clip", "APPL", map[string]any{
				"NSAppClip": map[string]any{"NSAppClipRequestEphemeralUserNotification": false},
			}))},
			IPAFile{Name: clip + "Clip", Data: IOSBinary(IOSBinaryOptions{Seed: "clip"}), Mode: 0o755},
			IPAFile{Name: clip + "embedded.mobileprovision", Data: []byte("stale")},
		)
	}
	for _, f := range opts.Extra {
		f.Name = app + f.Name
		files = append(files, f)
	}
	return files
}

// withKeys returns m with the keys of extra added.
func withKeys(m, extra map[string]any) map[string]any {
	for k, v := range extra {
		m[k] = v
	}
	return m
}

// WriteIPA writes the IPA opts describe to w.
func WriteIPA(w io.Writer, opts IPAOptions) error {
	mod := opts.Modified
	if mod.IsZero() {
		mod = Epoch
	}
	return WriteZip(w, IPAFiles(opts), mod)
}

// WriteZip writes files as a zip with unix modes, as Xcode's ditto does.
func WriteZip(w io.Writer, files []IPAFile, mod time.Time) error {
	zw := zip.NewWriter(w)
	for _, f := range files {
		h := &zip.FileHeader{Name: f.Name, Method: zip.Deflate, Modified: mod}
		mode := f.Mode
		switch {
		case f.Symlink:
			mode = fs.ModeSymlink | 0o755
		case len(f.Name) > 0 && f.Name[len(f.Name)-1] == '/':
			mode = fs.ModeDir | 0o755
			h.Method = zip.Store
		case mode == 0:
			mode = 0o644
		}
		if f.Store {
			h.Method = zip.Store
		}
		h.SetMode(mode)
		fw, err := zw.CreateHeader(h)
		if err != nil {
			return err
		}
		if _, err := fw.Write(f.Data); err != nil {
			return err
		}
	}
	return zw.Close()
}

// pseudo returns n deterministic, mildly compressible bytes.
func pseudo(seed string, n int) []byte {
	b := make([]byte, n)
	io.ReadFull(Reader("ipa "+seed), b)
	for i := range b {
		if i%3 != 0 {
			b[i] = 'a' + b[i]%4
		}
	}
	return b
}
