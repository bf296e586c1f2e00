package ipa

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"howett.net/plist"

	"github.com/storesign/storesign/internal/testenv"
	"github.com/storesign/storesign/signing/provision"
	"github.com/storesign/storesign/signing/signingtest"
)

// fixture is the signing material of the tests.
type fixture struct {
	apple    *signingtest.Apple
	profiles []*provision.Profile
}

func newFixture(t testing.TB, profiles ...signingtest.ProfileOptions) *fixture {
	t.Helper()
	apple := signingtest.NewApple(signingtest.AppleOptions{})
	if len(profiles) == 0 {
		profiles = []signingtest.ProfileOptions{
			{Name: "Example App Store", AppID: "com.example.app"},
			{Name: "Example wildcard", AppID: "com.example.*"},
		}
	}
	f := &fixture{apple: apple}
	for _, po := range profiles {
		p, err := provision.Parse(apple.Profile(po))
		if err != nil {
			t.Fatal(err)
		}
		f.profiles = append(f.profiles, p)
	}
	return f
}

func (f *fixture) opts() Options {
	return Options{
		Identity: f.apple.Identity,
		Profiles: f.profiles,
		Now:      func() time.Time { return signingtest.Epoch.Add(24 * time.Hour) },
	}
}

func (f *fixture) vopts() VerifyOptions {
	return VerifyOptions{Roots: f.apple.Root.Pool(), Now: func() time.Time { return signingtest.Epoch.Add(48 * time.Hour) }}
}

func resign(t testing.TB, in []byte, opts Options) ([]byte, *Report) {
	t.Helper()
	var out bytes.Buffer
	rep, err := Resign(context.Background(), bytes.NewReader(in), int64(len(in)), &out, opts)
	if err != nil {
		t.Fatalf("Resign: %v", err)
	}
	return out.Bytes(), rep
}

// resignThroughFile is resign through ResignFile: in is written to a file and
// the output read back.
func resignThroughFile(ctx context.Context, t testing.TB, in []byte, opts Options) ([]byte, *Report) {
	t.Helper()
	dir := t.TempDir()
	inPath, outPath := filepath.Join(dir, "in.ipa"), filepath.Join(dir, "out.ipa")
	if err := os.WriteFile(inPath, in, 0o600); err != nil {
		t.Fatal(err)
	}
	rep, err := ResignFile(ctx, inPath, outPath, opts)
	if err != nil {
		t.Fatalf("ResignFile: %v", err)
	}
	out, err := os.ReadFile(outPath)
	if err != nil {
		t.Fatal(err)
	}
	return out, rep
}

func zipFiles(t testing.TB, b []byte) map[string]*zip.File {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]*zip.File{}
	for _, f := range zr.File {
		m[f.Name] = f
	}
	return m
}

func readZip(t testing.TB, f *zip.File) []byte {
	t.Helper()
	return testenv.ZipFile(t, f)
}

func TestResignRoundTrip(t *testing.T) {
	f := newFixture(t)
	in := signingtest.IPA(signingtest.IPAOptions{})
	out, rep := resign(t, in, f.opts())
	vr, err := Verify(context.Background(), bytes.NewReader(out), int64(len(out)), f.vopts())
	if err != nil {
		for _, b := range vr.Bundles {
			t.Logf("%s: %v", b.Path, b.Problems)
		}
		t.Fatalf("Verify: %v", err)
	}
	wantPaths := []string{
		"Payload/Example.app/Frameworks/Kit.framework",
		"Payload/Example.app/PlugIns/Share.appex",
		"Payload/Example.app/Watch/ExampleWatch.app/PlugIns/ExampleWatch Extension.appex",
		"Payload/Example.app/Watch/ExampleWatch.app",
		"Payload/Example.app/Frameworks/libswiftCore.dylib",
		"Payload/Example.app",
	}
	var got []string
	for _, b := range rep.Bundles {
		got = append(got, b.Path)
	}
	if strings.Join(got, "\n") != strings.Join(wantPaths, "\n") {
		t.Errorf("signed\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantPaths, "\n"))
	}
	if len(vr.Bundles) != len(rep.Bundles) {
		t.Errorf("Verify saw %d bundles, Resign signed %d", len(vr.Bundles), len(rep.Bundles))
	}
	for i := range min(len(vr.Bundles), len(rep.Bundles)) {
		if a, b := strings.Join(vr.Bundles[i].CDHashes, ","), strings.Join(rep.Bundles[i].CDHashes, ","); a != b {
			t.Errorf("%s: verify cdhashes %s, resign %s", rep.Bundles[i].Path, a, b)
		}
	}
	// Deterministic.
	out2, _ := resign(t, in, f.opts())
	if !bytes.Equal(out, out2) {
		t.Error("two runs differ")
	}
	zf := zipFiles(t, out)
	for name, f := range zipFiles(t, in) {
		g, ok := zf[name]
		if !ok {
			if !strings.HasSuffix(name, "_CodeSignature/") {
				t.Errorf("%s dropped", name)
			}
			continue
		}
		if g.Mode() != f.Mode() {
			t.Errorf("%s: mode %v, want %v", name, g.Mode(), f.Mode())
		}
	}
	if got := string(readZip(t, zf["Payload/Example.app/data/current.json"])); got != "config.json" {
		t.Errorf("symlink target %q", got)
	}
}

func TestResignBundleID(t *testing.T) {
	f := newFixture(t, signingtest.ProfileOptions{Name: "Store", AppID: "org.pub.*"})
	in := signingtest.IPA(signingtest.IPAOptions{})
	opts := f.opts()
	opts.BundleID = "org.pub.game"
	opts.ShortVersion = "2.1"
	opts.BundleVersion = "42"
	opts.DisplayName = "Game"
	out, rep := resign(t, in, opts)
	if rep.BundleID != "org.pub.game" || rep.Version != "2.1" || rep.Build != "42" || rep.Name != "Game" {
		t.Errorf("report %+v", rep)
	}
	if _, err := Verify(context.Background(), bytes.NewReader(out), int64(len(out)), f.vopts()); err != nil {
		t.Fatal(err)
	}
	zf := zipFiles(t, out)
	check := func(name string, wantFormat int, want map[string]string) {
		t.Helper()
		raw := readZip(t, zf[name])
		var m map[string]any
		format, err := plist.Unmarshal(raw, &m)
		if err != nil {
			t.Fatal(err)
		}
		if format != wantFormat {
			t.Errorf("%s: format %d, want %d", name, format, wantFormat)
		}
		for k, v := range want {
			var got any = m
			for _, p := range strings.Split(k, ".") {
				got = got.(map[string]any)[p]
			}
			if got != v {
				t.Errorf("%s: %s = %v, want %s", name, k, got, v)
			}
		}
	}
	app := "Payload/Example.app/"
	check(app+"Info.plist", plist.BinaryFormat, map[string]string{"CFBundleIdentifier": "org.pub.game", "CFBundleShortVersionString": "2.1", "CFBundleVersion": "42", "CFBundleDisplayName": "Game"})
	check(app+"PlugIns/Share.appex/Info.plist", plist.XMLFormat, map[string]string{"CFBundleIdentifier": "org.pub.game.share", "CFBundleVersion": "42"})
	check(app+"Watch/ExampleWatch.app/Info.plist", plist.BinaryFormat, map[string]string{"CFBundleIdentifier": "org.pub.game.watchkitapp", "WKCompanionAppBundleIdentifier": "org.pub.game"})
	check(app+"Watch/ExampleWatch.app/PlugIns/ExampleWatch Extension.appex/Info.plist", plist.XMLFormat, map[string]string{
		"CFBundleIdentifier": "org.pub.game.watchkitapp.watchkitextension", "NSExtension.NSExtensionAttributes.WKAppBundleIdentifier": "org.pub.game.watchkitapp"})
	check(app+"Frameworks/Kit.framework/Info.plist", plist.XMLFormat, map[string]string{"CFBundleIdentifier": "com.example.Kit", "CFBundleVersion": "1"})
}

func TestResignMissingProfile(t *testing.T) {
	f := newFixture(t, signingtest.ProfileOptions{Name: "Only app", AppID: "com.example.app"})
	in := signingtest.IPA(signingtest.IPAOptions{})
	var out bytes.Buffer
	_, err := Resign(context.Background(), bytes.NewReader(in), int64(len(in)), &out, f.opts())
	var npe *provision.NoProfileError
	if !errors.As(err, &npe) {
		t.Fatalf("err = %v, want a NoProfileError", err)
	}
	if out.Len() != 0 {
		t.Errorf("%d bytes written", out.Len())
	}
	t.Log(err)
}

func TestResignDrop(t *testing.T) {
	f := newFixture(t, signingtest.ProfileOptions{Name: "Only app", AppID: "com.example.app"})
	in := signingtest.IPA(signingtest.IPAOptions{})
	opts := f.opts()
	opts.DropWatch, opts.DropPlugins = true, true
	out, _ := resign(t, in, opts)
	for name := range zipFiles(t, out) {
		if strings.Contains(name, "/Watch/") || strings.Contains(name, "/PlugIns/") {
			t.Errorf("%s kept", name)
		}
	}
	if _, err := Verify(context.Background(), bytes.NewReader(out), int64(len(out)), f.vopts()); err != nil {
		t.Fatal(err)
	}
}

// TestResignFileLarge re-signs an app whose main executable is larger
// than what is inflated into memory, through the files API (which
// verifies the output with the block index of what it wrote).
func TestResignFileLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("40 MB binary")
	}
	f := newFixture(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "in.ipa")
	if err := os.WriteFile(in, signingtest.IPA(signingtest.IPAOptions{Minimal: true, MainCodeSize: smallEntry + 5<<20}), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.ipa")
	opts := f.opts()
	if _, err := ResignFile(context.Background(), in, out, opts); err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyFile(context.Background(), out, f.vopts()); err != nil {
		t.Fatal(err)
	}
	if _, err := ResignFile(context.Background(), in, in, opts); err == nil {
		t.Error("ResignFile overwrote its input")
	}
}

func TestResignAppClip(t *testing.T) {
	f := newFixture(t,
		signingtest.ProfileOptions{Name: "App", AppID: "com.example.app"},
		signingtest.ProfileOptions{Name: "Clip", AppID: "com.example.app.Clip", Entitlements: map[string]any{
			"com.apple.developer.parent-application-identifiers": []string{"ABCDE12345.com.example.app"},
		}},
	)
	in := signingtest.IPA(signingtest.IPAOptions{Minimal: true, AppClip: true})
	out, rep := resign(t, in, f.opts())
	if len(rep.Bundles) != 2 || rep.Bundles[0].Path != "Payload/Example.app/AppClips/Clip.app" || rep.Bundles[0].Profile.Name != "Clip" {
		t.Fatalf("bundles %+v", rep.Bundles)
	}
	if !strings.Contains(rep.Bundles[0].Entitlements, "ABCDE12345.com.example.app</string>") {
		t.Errorf("clip entitlements:\n%s", rep.Bundles[0].Entitlements)
	}
	if _, err := Verify(context.Background(), bytes.NewReader(out), int64(len(out)), f.vopts()); err != nil {
		t.Fatal(err)
	}
}

// TestResignCompressionLevel re-signs at every level through ResignFile,
// whose check reads the signed binaries back block by block.
func TestResignCompressionLevel(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "in.ipa")
	if err := os.WriteFile(in, signingtest.IPA(signingtest.IPAOptions{}), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, level := range []int{0, 1, 6, 9} {
		out := filepath.Join(dir, "out.ipa")
		opts := f.opts()
		opts.CompressionLevel = level
		if _, err := ResignFile(context.Background(), in, out, opts); err != nil {
			t.Fatalf("level %d: %v", level, err)
		}
		if _, err := VerifyFile(context.Background(), out, f.vopts()); err != nil {
			t.Fatalf("level %d: %v", level, err)
		}
	}
	for _, level := range []int{-1, 10} {
		opts := f.opts()
		opts.CompressionLevel = level
		if _, err := ResignFile(context.Background(), in, filepath.Join(dir, "bad.ipa"), opts); err == nil {
			t.Errorf("level %d accepted", level)
		}
	}
}

// TestResignFileCheck damages a signed binary in the output after it is
// written, as a bug of the writer would: the check ResignFile makes with
// the block index must see it.
func TestResignFileCheck(t *testing.T) {
	f := newFixture(t)
	in := signingtest.IPA(signingtest.IPAOptions{MainCodeSize: 3 << 20})
	var buf bytes.Buffer
	r, err := resignStream(context.Background(), bytes.NewReader(in), int64(len(in)), &buf, nil, f.opts())
	if err != nil {
		t.Fatal(err)
	}
	out := buf.Bytes()
	vopts := f.vopts()
	vopts.known, vopts.indexes = r.known, r.blockIndexes()
	vopts.written = r.writtenBinaries()
	if _, err := Verify(context.Background(), bytes.NewReader(out), int64(len(out)), vopts); err != nil {
		t.Fatal(err)
	}
	// A nested binary's bytes past its code (the signature's padding,
	// which no page hash covers) are checked by their CRC-32, its hashes
	// for the parent's seal being those computed as it was written.
	for name := range vopts.written {
		zf := zipFiles(t, out)[name]
		off, _ := zf.DataOffset()
		bad := bytes.Clone(out)
		bad[off+int64(zf.CompressedSize64)-40] ^= 0x10
		if _, err := Verify(context.Background(), bytes.NewReader(bad), int64(len(bad)), vopts); err == nil {
			t.Errorf("%s damaged at its end: not seen", name)
		}
	}
	if len(vopts.written) == 0 {
		t.Error("no nested binary hashed as it was written")
	}
	exe := zipFiles(t, out)["Payload/Example.app/Example"]
	idx := vopts.indexes[exe.Name]
	if len(idx) < 3 {
		t.Fatalf("block index %v", idx)
	}
	off, _ := exe.DataOffset()
	for name, at := range map[string]int64{"first block": 200, "middle block": idx[1] + 300, "last block": int64(exe.CompressedSize64) - 40} {
		bad := bytes.Clone(out)
		bad[off+at] ^= 0x10
		if _, err := Verify(context.Background(), bytes.NewReader(bad), int64(len(bad)), vopts); err == nil {
			t.Errorf("%s damaged: not seen", name)
		}
	}
}

// countingReaderAt counts the bytes read in [from, to).
type countingReaderAt struct {
	r        io.ReaderAt
	from, to int64
	mu       sync.Mutex
	n        int64
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	lo, hi := max(off, c.from), min(off+int64(n), c.to)
	if hi > lo {
		c.mu.Lock()
		c.n += hi - lo
		c.mu.Unlock()
	}
	return n, err
}

// TestResignReadsBinariesOnce checks that a large executable is inflated
// once: signing streams it, and only its load commands are read again.
func TestResignReadsBinariesOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("20 MB binary")
	}
	f := newFixture(t)
	in := signingtest.IPA(signingtest.IPAOptions{Minimal: true, MainCodeSize: smallEntry + 4<<20})
	exe := zipFiles(t, in)["Payload/Example.app/Example"]
	off, err := exe.DataOffset()
	if err != nil {
		t.Fatal(err)
	}
	c := &countingReaderAt{r: bytes.NewReader(in), from: off, to: off + int64(exe.CompressedSize64)}
	if _, err := Resign(context.Background(), c, int64(len(in)), io.Discard, f.opts()); err != nil {
		t.Fatal(err)
	}
	t.Logf("read %d of %d compressed bytes", c.n, exe.CompressedSize64)
	// Slack: the encryption check reads the load commands (256 KiB of
	// content) through a 256 KiB buffer.
	if limit := int64(exe.CompressedSize64) + 1<<20; c.n > limit {
		t.Errorf("read %d bytes of the executable's %d compressed bytes", c.n, exe.CompressedSize64)
	}
}

func TestSameSignatures(t *testing.T) {
	signed := &Report{Bundles: []BundleReport{{Path: "Payload/A.app", CDHashes: []string{"aa", "bb"}}}}
	for _, c := range []struct {
		name string
		read []BundleReport
		ok   bool
	}{
		{"same", []BundleReport{{Path: "Payload/A.app", CDHashes: []string{"aa", "bb"}}, {Path: "Payload/A.app/x.dylib"}}, true},
		{"other cdhash", []BundleReport{{Path: "Payload/A.app", CDHashes: []string{"aa", "cc"}}}, false},
		{"slice missing", []BundleReport{{Path: "Payload/A.app", CDHashes: []string{"aa"}}}, false},
		{"bundle missing", nil, false},
	} {
		err := sameSignatures(signed, &Report{Bundles: c.read})
		if (err == nil) != c.ok || err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}
