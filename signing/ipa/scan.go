package ipa

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/storesign/storesign/internal/plistx"
	"github.com/storesign/storesign/internal/zipx"
)

// Limits on what an IPA may claim, so that a hostile archive fails early
// with a clear message instead of exhausting memory or disk.
const (
	maxEntries   = 1 << 20
	maxEntrySize = 16 << 30 // per entry, uncompressed
	maxRatio     = 1000     // uncompressed/compressed, above 1 MiB
	maxPlistSize = 8 << 20
	// maxCodeResources bounds a CodeResources read: about 350 bytes a
	// sealed file, so room for 700,000 files.
	maxCodeResources = 256 << 20
)

type bundleKind int

const (
	kindApp bundleKind = iota
	kindAppex
	kindFramework
	kindXCTest // a test bundle (.xctest)
	kindXPC    // an XPC service (.xpc)
	kindBundle // a loadable bundle with code (.bundle)
)

func (k bundleKind) String() string {
	return [...]string{"app", "appex", "framework", "xctest", "xpc", "bundle"}[k]
}

// embedsProfile reports whether Xcode gives bundles of kind k an
// embedded.mobileprovision: apps and app extensions.
func (k bundleKind) embedsProfile() bool { return k == kindApp || k == kindAppex }

// kindOf returns the kind of bundle whose folder has extension ext.
func kindOf(ext string) (bundleKind, bool) {
	switch ext {
	case ".app":
		return kindApp, true
	case ".appex":
		return kindAppex, true
	case ".framework":
		return kindFramework, true
	case ".xctest":
		return kindXCTest, true
	case ".xpc":
		return kindXPC, true
	case ".bundle":
		return kindBundle, true
	}
	return 0, false
}

// entry is one zip entry of the input.
type entry struct {
	f       *zip.File
	index   int
	name    string // as in the zip, without a trailing slash for folders
	dir     bool
	symlink bool
	bundle  *bundle // innermost bundle holding it; nil outside the app
	dropped bool

	// data is the offset of its (compressed) data in the archive, as
	// checked by checkArchive; -1 when unknown (see locate). runEnd is
	// where the data of the small entries that follow it in the file
	// end, or its own data: what a window reads ahead.
	data, runEnd int64

	// Filled by the hashing pass.
	isMachO bool
	hashErr error
	target  string // symlink target
	sum     fileSum
}

// fileSum is what CodeResources records for a file.
type fileSum struct {
	sha1, sha256 []byte
}

// bundle is one code bundle: the app, an extension, a framework.
type bundle struct {
	dir      string // zip path, no trailing slash
	rel      string // relative to the app's folder; "" for the app
	kind     bundleKind
	parent   *bundle
	children []*bundle
	depth    int

	info       map[string]any
	infoFormat int
	infoRaw    []byte
	infoEntry  *entry
	exe        string // CFBundleExecutable
	exeEntry   *entry
	bundleID   string // as found
	own        []*entry

	// origEnts are the XML entitlements of exe's signature as found
	// (first slice); nil when it has none.
	origEnts []byte
	// appleSigned is set for code Apple itself signed (designated
	// requirement "anchor apple"), and for what it holds: it is copied as
	// it is, as Xcode leaves it.
	appleSigned bool
}

func (b *bundle) path(name string) string { return b.dir + "/" + name }

// archive is a scanned IPA.
type archive struct {
	zr      *zip.Reader
	src     io.ReaderAt
	size    int64
	entries []*entry
	byName  map[string]*entry
	// inflaters decompress its entries.
	inflaters inflaters
	app       *bundle
	bundles   []*bundle // innermost first (post-order)
}

// scan reads the central directory of an IPA, checks its structure (see
// checkArchive), names and sizes and finds the app and its nested
// bundles.
func scan(src io.ReaderAt, size int64) (*archive, error) {
	// What archive/zip does not check (methods, encryption, disks, local
	// headers and descriptors against the directory, overlaps, limits) is
	// checked on a core of its own meanwhile.
	type checked struct {
		recs []zipx.Record
		err  error
	}
	check := make(chan checked, 1)
	go func() {
		recs, err := checkArchive(src, size)
		check <- checked{recs, err}
	}()
	checkResult := sync.OnceValue(func() checked { return <-check })
	// Every return waits for it: src must not be read once scan returns.
	defer checkResult()
	zr, err := zip.NewReader(src, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		// zipx may say more precisely what is wrong.
		if cerr := checkResult().err; cerr != nil {
			return nil, cerr
		}
		return nil, fmt.Errorf("%w: %v", ErrNotIPA, err)
	}
	if len(zr.File) > maxEntries {
		return nil, fmt.Errorf("%w: %d entries is absurd", ErrNotIPA, len(zr.File))
	}
	a := &archive{zr: zr, src: src, size: size, byName: make(map[string]*entry, len(zr.File))}
	zr.RegisterDecompressor(zip.Deflate, a.inflaters.open)
	var appDirs []string
	for i, f := range zr.File {
		name := f.Name
		if err := checkName(name); err != nil {
			return nil, err
		}
		if f.UncompressedSize64 > maxEntrySize {
			return nil, fmt.Errorf("%w: %s claims %d bytes", ErrAbsurdSize, name, f.UncompressedSize64)
		}
		if f.UncompressedSize64 > 1<<20 && f.UncompressedSize64/max(f.CompressedSize64, 1) > maxRatio {
			return nil, fmt.Errorf("%w: %s inflates %d bytes to %d", ErrAbsurdSize, name, f.CompressedSize64, f.UncompressedSize64)
		}
		mode := f.Mode()
		e := &entry{f: f, index: i, name: strings.TrimSuffix(name, "/"), dir: strings.HasSuffix(name, "/") || mode.IsDir(), symlink: mode&fs.ModeSymlink != 0, data: -1}
		if _, dup := a.byName[e.name]; dup {
			return nil, fmt.Errorf("%w: %s appears twice", ErrNotIPA, e.name)
		}
		a.entries = append(a.entries, e)
		a.byName[e.name] = e
		parts := strings.Split(e.name, "/")
		if len(parts) >= 2 && parts[0] == "Payload" && strings.HasSuffix(parts[1], ".app") {
			d := parts[0] + "/" + parts[1]
			if !slices.Contains(appDirs, d) {
				appDirs = append(appDirs, d)
			}
		}
	}
	res := checkResult()
	if res.err != nil {
		return nil, res.err
	}
	a.locate(res.recs)
	for _, e := range a.entries {
		if e.symlink {
			if err := readLink(e); err != nil {
				return nil, err
			}
		}
	}
	switch len(appDirs) {
	case 0:
		return nil, fmt.Errorf("%w: no Payload/*.app folder", ErrNotIPA)
	case 1:
	default:
		return nil, fmt.Errorf("%w: several apps in Payload/ (%s)", ErrNotIPA, strings.Join(appDirs, ", "))
	}
	appDir := appDirs[0]
	// A symlink inside the app must stay inside it: one that leads to
	// ../Other.app, even within the archive, would let the app's seal
	// cover what is not the app's.
	for _, e := range a.entries {
		if e.symlink && strings.HasPrefix(e.name, appDir+"/") {
			if t := path.Join(path.Dir(e.name), e.target); t != appDir && !strings.HasPrefix(t, appDir+"/") {
				return nil, fmt.Errorf("%w: symlink %s points outside the app, to %q: replace it with the file it points to", ErrUnsafePath, e.name, e.target)
			}
		}
	}

	// Candidate bundle folders: any folder named *.app, *.appex,
	// *.framework, *.xctest, *.xpc or *.bundle inside the app (nested at
	// any depth), with an Info.plist and an executable.
	dirs := map[string]bool{appDir: true}
	for _, e := range a.entries {
		if !strings.HasPrefix(e.name, appDir+"/") {
			continue
		}
		p := e.name
		for p != appDir && p != "." {
			if isBundleName(path.Base(p)) && !strings.Contains(p, ".dSYM/") {
				dirs[p] = true
			}
			p = path.Dir(p)
		}
	}
	var list []*bundle
	for d := range dirs {
		b := &bundle{dir: d, rel: strings.TrimPrefix(strings.TrimPrefix(d, appDir), "/"), depth: strings.Count(d, "/")}
		b.kind, _ = kindOf(path.Ext(d)) // the app's own folder is *.app
		ok, err := a.loadInfo(b)
		if err != nil {
			return nil, err
		}
		if !ok {
			if d == appDir && b.info == nil {
				return nil, fmt.Errorf("%w: %s has no Info.plist", ErrNotIPA, appDir)
			}
			if d == appDir {
				return nil, fmt.Errorf("%w: %s: the main executable %q named by CFBundleExecutable is missing", ErrNotIPA, appDir, b.exe)
			}
			continue // not a bundle with code: its files are resources
		}
		list = append(list, b)
	}
	// Parents: the longest other bundle dir that is a prefix.
	slices.SortFunc(list, func(x, y *bundle) int { return strings.Compare(x.dir, y.dir) })
	byDir := map[string]*bundle{}
	for _, b := range list {
		byDir[b.dir] = b
	}
	for _, b := range list {
		for p := path.Dir(b.dir); p != "." && p != "/"; p = path.Dir(p) {
			if pb, ok := byDir[p]; ok {
				b.parent = pb
				pb.children = append(pb.children, b)
				break
			}
		}
	}
	a.app = byDir[appDir]
	for _, e := range a.entries {
		for p := e.name; p != "." && p != "/"; p = path.Dir(p) {
			if b, ok := byDir[p]; ok && p != e.name {
				e.bundle = b
				b.own = append(b.own, e)
				break
			}
		}
	}
	for _, b := range list {
		if b.exe != "" {
			b.exeEntry = a.byName[b.path(b.exe)]
		}
		if b.exeEntry == nil || b.exeEntry.dir {
			return nil, fmt.Errorf("%w: %s: the main executable %q named by CFBundleExecutable is missing", ErrNotIPA, b.dir, b.exe)
		}
	}
	var post func(b *bundle)
	post = func(b *bundle) {
		for _, c := range b.children {
			post(c)
		}
		a.bundles = append(a.bundles, b)
	}
	post(a.app)
	return a, nil
}

func isBundleName(base string) bool {
	_, ok := kindOf(path.Ext(base))
	return ok && len(base) > len(path.Ext(base))
}

// loadInfo reads b's Info.plist. It reports false for a folder that is
// not a code bundle (no Info.plist, or no CFBundleExecutable for a
// framework or a watch placeholder).
func (a *archive) loadInfo(b *bundle) (bool, error) {
	e := a.byName[b.path("Info.plist")]
	if e == nil || e.dir {
		return false, nil
	}
	raw, err := readAll(e.f, maxPlistSize)
	if err != nil {
		return false, fmt.Errorf("%w: %v", ErrNotIPA, err)
	}
	info := map[string]any{}
	format, err := plistx.Unmarshal(raw, &info)
	if err != nil {
		return false, fmt.Errorf("%w: %s: %v", ErrBadPlist, e.name, err)
	}
	b.info, b.infoFormat, b.infoRaw, b.infoEntry = info, format, raw, e
	b.exe, _ = info["CFBundleExecutable"].(string)
	b.bundleID, _ = info["CFBundleIdentifier"].(string)
	if b.exe == "" || a.byName[b.path(b.exe)] == nil {
		return false, nil
	}
	if strings.Contains(b.exe, "/") || b.exe == ".." {
		return false, fmt.Errorf("%w: %s: CFBundleExecutable %q is not a file name", ErrNotIPA, b.dir, b.exe)
	}
	if b.bundleID == "" {
		return false, fmt.Errorf("%w: %s has no CFBundleIdentifier", ErrNotIPA, e.name)
	}
	return true, nil
}

// checkName refuses entry names that would escape the extraction folder.
func checkName(name string) error {
	if err := zipx.CheckName(name); err != nil {
		return fmt.Errorf("%w: %w", ErrUnsafePath, err)
	}
	if name == "" || strings.HasPrefix(name, "/") || strings.Contains(name, "\\") || strings.Contains(name, "\x00") {
		return fmt.Errorf("%w: %q", ErrUnsafePath, name)
	}
	for _, part := range strings.Split(strings.TrimSuffix(name, "/"), "/") {
		if part == ".." || part == "." || part == "" {
			return fmt.Errorf("%w: %q", ErrUnsafePath, name)
		}
	}
	return nil
}

// readLink reads a symlink's target and refuses one that leaves the app.
func readLink(e *entry) error {
	b, err := readAll(e.f, 4096)
	if err != nil {
		return fmt.Errorf("%w: symlink %s: %v", ErrNotIPA, e.name, err)
	}
	e.target = string(b)
	top, _, _ := strings.Cut(e.name, "/")
	if t := path.Join(path.Dir(e.name), e.target); path.IsAbs(e.target) || !strings.HasPrefix(t, top+"/") {
		return fmt.Errorf("%w: symlink %s points outside the app, to %q", ErrUnsafePath, e.name, e.target)
	}
	return nil
}

// locate records where each entry's data starts, from the local records
// checkArchive read, so that reading an entry takes no read of its local
// header. archive/zip reads the archive from where its end records say
// it starts; when that is not where zipx read it (data before the
// archive), the offsets are left unknown, and so is the offset of an
// entry whose compressed size is not the one zipx checked its data
// against (the data read from it would not be the data checked).
func (a *archive) locate(recs []zipx.Record) {
	// Runs of small entries, from the last.
	type span struct{ data, size, runEnd int64 }
	byName := make(map[string]span, len(recs))
	var runEnd int64
	for i := len(recs) - 1; i >= 0; i-- {
		rec := recs[i]
		end := rec.DataOffset + rec.DataSize
		if rec.DataSize > smallRun || i == len(recs)-1 {
			runEnd = end
		}
		byName[strings.TrimSuffix(rec.Entry.Name, "/")] = span{rec.DataOffset, rec.DataSize, max(end, runEnd)}
		if rec.DataSize > smallRun {
			runEnd = rec.Offset // the next small entry's run stops here
		}
	}
	checked := false
	for _, e := range a.entries {
		sp, ok := byName[e.name]
		if !ok || e.f.CompressedSize64 != uint64(sp.size) {
			continue
		}
		if !checked {
			if zoff, err := e.f.DataOffset(); err != nil || zoff != sp.data {
				return
			}
			checked = true
		}
		e.data, e.runEnd = sp.data, sp.runEnd
	}
}

// smallRun is the size of compressed data up to which an entry is read
// ahead with its neighbours (see window); larger ones (binaries, assets
// the kernel copies) are read on their own.
const smallRun = kernelCopyMin
