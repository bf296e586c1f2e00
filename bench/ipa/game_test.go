package ipabench

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/storesign/storesign/signing/ipa"
	"github.com/storesign/storesign/signing/provision"
	"github.com/storesign/storesign/signing/signingtest"
)

// Kinds of entries of the game-shaped IPA.
const (
	kindAsset  = "asset"  // large, already compressed bundle
	kindBinary = "binary" // Mach-O executable or dylib
	kindSmall  = "small"  // everything else: resources, plists, profiles
	kindDir    = "dir"
)

// A gameEntry is one entry of the game-shaped IPA; its bytes are made
// only when it is written.
type gameEntry struct {
	name  string
	kind  string
	size  int64 // about: a binary's code size, a file's length
	store bool
	mode  os.FileMode
	write func(w io.Writer) error
}

// gameEntries lists the entries of the game-shaped IPA of about total
// bytes, in zip order (sorted by name, every folder its own entry, as
// Xcode's ditto writes them), shaped like an Unreal or Unity game:
//
//   - 72% of total (70% of the IPA) in five asset bundles of random
//     (incompressible) bytes, cookeddata/pakchunk*.pak, 30% to 10% of the
//     assets each; three stored, two deflated;
//   - the main executable, code-like (see codeLike), 34% of total before
//     compression, about 25% of the IPA after: 107 MB at 300 MiB;
//   - two frameworks (Engine, 1.5% of total; Analytics, 0.75%) and a
//     widget extension (0.75%), each with an Info.plist and resources;
//   - a Settings.bundle and twelve .lproj folders;
//   - about 4% of total in small files of 128 bytes to 16 KiB, about
//     4,000 at 300 MiB: JSON and CSV (text, deflated), PNG (random,
//     stored), OGG and metallib (random, deflated).
func gameEntries(total int64) []gameEntry {
	app := "Payload/Example.app/"
	var es []gameEntry
	data := func(b []byte) func(io.Writer) error {
		return func(w io.Writer) error {
			_, err := w.Write(b)
			return err
		}
	}
	file := func(name, kind string, size int64, store bool, mode os.FileMode, write func(io.Writer) error) {
		es = append(es, gameEntry{name: name, kind: kind, size: size, store: store, mode: mode, write: write})
	}
	small := func(name string, b []byte, store bool) {
		file(name, kindSmall, int64(len(b)), store, 0o644, data(b))
	}
	exe := func(name string, size int, dylib bool, seed uint64) {
		file(name, kindBinary, int64(size), false, 0o755, func(w io.Writer) error {
			_, err := w.Write(binary(size, dylib, seed))
			return err
		})
	}
	for _, fl := range signingtest.IPAFiles(signingtest.IPAOptions{Minimal: true}) {
		switch {
		case strings.HasSuffix(fl.Name, "/"): // added for every folder below
		case fl.Name == app+"Example":
			exe(fl.Name, int(total*34/100), false, 1)
		default:
			file(fl.Name, kindSmall, int64(len(fl.Data)), fl.Store, fileMode(fl), data(fl.Data))
		}
	}

	assets := total * 72 / 100
	for i, pct := range []int64{30, 25, 20, 15, 10} {
		n, seed := assets*pct/100, uint64(100+i)
		file(fmt.Sprintf("%scookeddata/pakchunk%d-ios.pak", app, i), kindAsset, n, i%2 == 0, 0o644, func(w io.Writer) error {
			return randomTo(w, n, seed)
		})
	}

	for _, fw := range []struct {
		name  string
		pct   int64 // of total, in tenths of a percent
		files int
	}{{"Engine", 15, 60}, {"Analytics", 7, 5}} {
		dir := app + "Frameworks/" + fw.name + ".framework/"
		small(dir+"Info.plist", infoPlist("com.example."+fw.name, fw.name, "FMWK"), false)
		exe(dir+fw.name, int(total*fw.pct/1000), true, uint64(len(fw.name)))
		for j := range fw.files {
			small(fmt.Sprintf("%sData/%s%03d.json", dir, strings.ToLower(fw.name), j), resource(1<<10+j*97, uint64(5000+len(fw.name)*100+j), true), false)
		}
	}
	ext := app + "PlugIns/Widget.appex/"
	small(ext+"Info.plist", infoPlist("com.example.app.widget", "Widget", "XPC!"), false)
	exe(ext+"Widget", int(total*7/1000), false, 20)
	small(ext+"embedded.mobileprovision", []byte("stale"), false)
	small(ext+"en.lproj/InfoPlist.strings", []byte("\"CFBundleDisplayName\" = \"Widget\";\n"), false)
	for j := range 20 {
		small(fmt.Sprintf("%sAssets/w%02d.png", ext, j), resource(2<<10+j*211, uint64(6000+j), false), true)
	}

	settings := app + "Settings.bundle/"
	small(settings+"Root.plist", []byte(`<?xml version="1.0" encoding="UTF-8"?>
<plist version="1.0"><dict><key>PreferenceSpecifiers</key><array/></dict></plist>
`), false)
	small(settings+"en.lproj/Root.strings", []byte("\"Sound\" = \"Sound\";\n"), false)
	for i, lang := range []string{"de", "es", "fr", "it", "ja", "ko", "nl", "pt-BR", "ru", "tr", "zh-Hans", "zh-Hant"} {
		lp := app + lang + ".lproj/"
		small(lp+"Localizable.strings", resource(2<<10+i*613, uint64(7000+i), true), false)
		small(lp+"InfoPlist.strings", []byte("\"CFBundleDisplayName\" = \"Game\";\n"), false)
	}

	// The small files: sizes log-uniform from 128 bytes to 16 KiB.
	r := rand.New(rand.NewPCG(9, 9))
	for i, left := 0, total*4/100; left > 0; i++ {
		n := int(128 * math.Pow(128, r.Float64()))
		var name string
		text, store := false, false
		switch i % 5 {
		case 0:
			name, text = fmt.Sprintf("Data/Levels/w%02d/level%05d.json", i%20, i), true
		case 1:
			name, store = fmt.Sprintf("Textures/UI/set%02d/ui%05d.png", i%10, i), true
		case 2:
			name = fmt.Sprintf("Audio/SFX/sfx%05d.ogg", i)
		case 3:
			name, text = fmt.Sprintf("Data/Tables/table%05d.csv", i), true
		case 4:
			name = fmt.Sprintf("Shaders/shader%05d.metallib", i)
		}
		small(app+name, resource(n, uint64(10000+i), text), store)
		left -= int64(n)
	}

	seen := make(map[string]bool)
	for _, e := range slices.Clone(es) {
		for i := range len(e.name) {
			if d := e.name[:i+1]; e.name[i] == '/' && !seen[d] {
				seen[d] = true
				file(d, kindDir, 0, true, os.ModeDir|0o755, data(nil))
			}
		}
	}
	slices.SortFunc(es, func(a, b gameEntry) int { return strings.Compare(a.name, b.name) })
	return es
}

// randomTo writes n random bytes to w.
func randomTo(w io.Writer, n int64, seed uint64) error {
	r := rand.New(rand.NewPCG(seed, 5))
	buf := make([]byte, 1<<20)
	for n > 0 {
		for i := 0; i < len(buf); i += 8 {
			v := r.Uint64()
			for j := range 8 {
				buf[i+j] = byte(v >> (8 * j))
			}
		}
		k := int(min(n, int64(len(buf))))
		if _, err := w.Write(buf[:k]); err != nil {
			return err
		}
		n -= int64(k)
	}
	return nil
}

// buildGame writes the game-shaped IPA of about total bytes to path.
func buildGame(path string, total int64) (err error) {
	z, err := createZip(path)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			z.abort()
		}
	}()
	for _, e := range gameEntries(total) {
		if err := z.add(e.name, e.store, e.mode, e.write); err != nil {
			return err
		}
	}
	return z.close()
}

// gameShape is what a game-shaped IPA holds: the share of the file's
// bytes (compressed) of each kind of entry, and the number of entries.
type gameShape struct {
	size    int64
	share   map[string]float64
	count   map[string]int
	largest int64 // the largest binary, uncompressed
}

// readGame reads the shape of the game-shaped IPA at path, built for
// about total bytes.
func readGame(path string, total int64) (gameShape, error) {
	kinds := make(map[string]string)
	for _, e := range gameEntries(total) {
		kinds[e.name] = e.kind
	}
	zr, err := zip.OpenReader(path)
	if err != nil {
		return gameShape{}, err
	}
	defer zr.Close()
	fi, err := os.Stat(path)
	if err != nil {
		return gameShape{}, err
	}
	g := gameShape{size: fi.Size(), share: make(map[string]float64), count: make(map[string]int)}
	for _, f := range zr.File {
		k, ok := kinds[f.Name]
		if !ok {
			return gameShape{}, fmt.Errorf("%s: unexpected entry %s", path, f.Name)
		}
		g.share[k] += float64(f.CompressedSize64) / float64(g.size)
		g.count[k]++
		if k == kindBinary {
			g.largest = max(g.largest, int64(f.UncompressedSize64))
		}
	}
	return g, nil
}

func describeGame(path string, total int64) (string, error) {
	g, err := readGame(path, total)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%.0f MB; %.1f%% in %d asset bundles, %.1f%% in %d binaries (largest %.0f MB), %.1f%% in %d small files, %d folders",
		float64(g.size)/1e6, 100*g.share[kindAsset], g.count[kindAsset], 100*g.share[kindBinary], g.count[kindBinary],
		float64(g.largest)/1e6, 100*g.share[kindSmall], g.count[kindSmall], g.count[kindDir]), nil
}

// TestGameShape checks the game-shaped IPA: at the benchmark's size from
// its list of entries, and built small, twice (the same bytes), then
// re-signed and checked by ipa.ResignFile.
func TestGameShape(t *testing.T) {
	s, _ := shapeNamed("game")
	var small, big int64
	bundles := make(map[string]bool)
	for _, e := range gameEntries(s.mib << 20) {
		switch {
		case e.kind == kindSmall:
			small++
		case e.kind == kindBinary && e.size > big:
			big = e.size
		}
		for _, suffix := range []string{".framework/", ".appex/", ".bundle/"} {
			if i := strings.Index(e.name, suffix); i >= 0 {
				bundles[e.name[:i+len(suffix)]] = true
			}
		}
	}
	if small < 2000 || small > 9000 {
		t.Errorf("%d small files at %d MiB, want a few thousand", small, s.mib)
	}
	if big < 100e6 {
		t.Errorf("largest binary %d bytes at %d MiB, want 100 MB or more", big, s.mib)
	}
	if len(bundles) != 4 {
		t.Errorf("nested bundles %v, want two frameworks, an appex and a Settings.bundle", bundles)
	}

	const total = 12 << 20
	dir := t.TempDir()
	var sums [2][32]byte
	for i := range sums {
		path := filepath.Join(dir, fmt.Sprintf("game%d.ipa", i))
		if err := buildGame(path, total); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		sums[i] = sha256.Sum256(b)
	}
	if sums[0] != sums[1] {
		t.Error("two builds differ")
	}
	in := filepath.Join(dir, "game0.ipa")
	g, err := readGame(in, total)
	if err != nil {
		t.Fatal(err)
	}
	desc, _ := describeGame(in, total)
	t.Log(desc)
	if a := g.share[kindAsset]; a < 0.65 || a > 0.75 {
		t.Errorf("assets are %.1f%% of the IPA, want about 70%%", 100*a)
	}
	if b := g.share[kindBinary]; b < 0.2 || b > 0.32 {
		t.Errorf("binaries are %.1f%% of the IPA, want about 26%%", 100*b)
	}

	apple := signingtest.NewApple(signingtest.AppleOptions{})
	prof, err := provision.Parse(apple.Profile(signingtest.ProfileOptions{AppID: "com.example.*"}))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := ipa.ResignFile(context.Background(), in, filepath.Join(dir, "out.ipa"), ipa.Options{Identity: apple.Identity, Profiles: []*provision.Profile{prof}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Bundles) != 4 { // app, appex, two frameworks
		var got []string
		for _, b := range rep.Bundles {
			got = append(got, b.Kind+" "+b.Path)
		}
		t.Errorf("signed %v, want the app, the appex and two frameworks", got)
	}
}
