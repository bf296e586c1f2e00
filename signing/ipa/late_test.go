package ipa

import (
	"archive/zip"
	"bytes"
	"context"
	"debug/macho"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/storesign/storesign/internal/atomicfile"
	"github.com/storesign/storesign/signing/signingtest"
)

// TestResignFileSignsExtensionsInMemory re-signs a studio's signed app
// through ResignFile, which reads the extension's executable once,
// fitting its entitlements as it signs it aside, in the output file past
// the archive's end or in memory (signInMemory): the
// archive and the report are what Resign, which reads the entitlements
// first, makes. An entitlement the extension's profile does not grant
// fails as it does with Resign, naming the extension, and leaves no
// output.
func TestResignFileSignsExtensionsInMemory(t *testing.T) {
	in := studioIPA(t)
	const ext = "Payload/Example.app/PlugIns/Share.appex"
	for _, tt := range []struct {
		name string
		// extGrants, when not nil, is what a profile of the extension's
		// own ID grants.
		extGrants map[string]any
		ungranted string
	}{
		{name: "granted"},
		{name: "not granted", extGrants: without(publisherGrants, "com.apple.developer.ubiquity-kvstore-identifier"), ungranted: "com.apple.developer.ubiquity-kvstore-identifier"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			profiles := []signingtest.ProfileOptions{{Name: "Publisher wildcard", AppID: "com.example.*", Entitlements: publisherGrants}}
			if tt.extGrants != nil {
				profiles = append(profiles, signingtest.ProfileOptions{Name: "Publisher share", AppID: "com.example.app.share", Entitlements: tt.extGrants})
			}
			fix := newFixture(t, profiles...)
			opts := fix.opts()
			opts.BundleID = "com.example.app"
			dir := t.TempDir()
			inPath, outPath := filepath.Join(dir, "in.ipa"), filepath.Join(dir, "out.ipa")
			if err := os.WriteFile(inPath, in, 0o600); err != nil {
				t.Fatal(err)
			}
			rep, err := ResignFile(context.Background(), inPath, outPath, opts)
			if tt.ungranted != "" {
				var ne *EntitlementNotGrantedError
				if !errors.As(err, &ne) || ne.Path != ext || ne.Ungranted[0].Key != tt.ungranted {
					t.Fatalf("ResignFile: %v", err)
				}
				if _, serr := os.Stat(outPath); serr == nil {
					t.Error("output left behind")
				}
				_, rerr := Resign(context.Background(), bytes.NewReader(in), int64(len(in)), &bytes.Buffer{}, opts)
				if rerr == nil || rerr.Error() != err.Error() {
					t.Errorf("ResignFile: %v\nResign: %v", err, rerr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(outPath)
			if err != nil {
				t.Fatal(err)
			}
			want, wantRep := resign(t, in, opts)
			if !bytes.Equal(got, want) {
				t.Errorf("ResignFile wrote %d bytes that differ from Resign's %d", len(got), len(want))
			}
			if !reflect.DeepEqual(rep, wantRep) {
				t.Errorf("report:\n%+v\nwant\n%+v", rep, wantRep)
			}

			// The extension's executable was signed in memory.
			out, err := atomicfile.Create(filepath.Join(dir, "again.ipa"))
			if err != nil {
				t.Fatal(err)
			}
			defer out.Abort()
			r, err := resignStream(context.Background(), bytes.NewReader(in), int64(len(in)), out.Writeback(), out, opts)
			if err != nil {
				t.Fatal(err)
			}
			// Every bundle with a profile but the app: the extensions,
			// the watch app.
			seen := false
			for _, b := range r.a.bundles {
				if want := b.kind.embedsProfile() && b != r.a.app; r.late[b] != want {
					t.Errorf("%s: signed in memory %v, want %v", b.dir, r.late[b], want)
				}
				seen = seen || b.dir == ext && r.late[b]
			}
			if !seen {
				t.Errorf("%s was not signed in memory", ext)
			}
			if r.scratch == 0 {
				t.Error("the signed binaries were kept in memory, not in the output file")
			}

			// A file that does not take the scratch offset: in memory.
			small, err := atomicfile.Create(filepath.Join(dir, "small.ipa"))
			if err != nil {
				t.Fatal(err)
			}
			defer small.Abort()
			r, err = resignStream(context.Background(), bytes.NewReader(in), int64(len(in)), small.Writeback(), smallFile{small}, opts)
			if err != nil {
				t.Fatal(err)
			}
			if r.scratch != 0 || len(r.late) == 0 {
				t.Errorf("scratch offset %d, %d bundles signed in memory", r.scratch, len(r.late))
			}
			if got, err := os.ReadFile(small.Name()); err != nil || !bytes.Equal(got, want) {
				t.Errorf("signed in memory: %d bytes that differ from Resign's %d (%v)", len(got), len(want), err)
			}
		})
	}
}

// TestResignFileReusesPageHashes re-signs a signed app through
// ResignFile, whose lane takes the hashes of the executable's unchanged
// pages from its signature (macho's ReusePageHashesUnchecked): the
// archive holds what Resign, which hashes every page, writes. When a page
// was changed after signing, the check of the output finds the stale
// hash, and ResignFile signs again hashing every page: the output is
// still Resign's.
func TestResignFileReusesPageHashes(t *testing.T) {
	f := newFixture(t)
	signed, _ := resign(t, signingtest.IPA(signingtest.IPAOptions{MainCodeSize: 3 << 20}), f.opts())
	const exe = "Payload/Example.app/Example"
	tampered := rewriteEntry(t, signed, exe, func(b []byte) []byte {
		b = bytes.Clone(b)
		b[2<<20+100] ^= 0xff
		return b
	})
	for _, tt := range []struct {
		name  string
		in    []byte
		again bool
	}{
		{"signed", signed, false},
		{"changed after signing", tampered, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			testLane(t, tt.in)

			dir := t.TempDir()
			inPath := filepath.Join(dir, "in.ipa")
			if err := os.WriteFile(inPath, tt.in, 0o600); err != nil {
				t.Fatal(err)
			}
			opts := f.opts()
			opts.laneMin = 1
			var logged bytes.Buffer
			opts.Log = slog.New(slog.NewTextHandler(&logged, nil))
			if _, err := ResignFile(context.Background(), inPath, filepath.Join(dir, "out.ipa"), opts); err != nil {
				t.Fatal(err)
			}
			if again := strings.Contains(logged.String(), "signing again"); again != tt.again {
				t.Errorf("signed again: %v, want %v\n%s", again, tt.again, logged.String())
			}

			// The lane reused the page hashes.
			out, err := atomicfile.Create(filepath.Join(dir, "again.ipa"))
			if err != nil {
				t.Fatal(err)
			}
			defer out.Abort()
			r, err := resignStream(context.Background(), bytes.NewReader(tt.in), int64(len(tt.in)), out.Writeback(), out, opts)
			if err != nil {
				t.Fatal(err)
			}
			if r.lane == nil || !r.lane.reuse || !r.reused.Load() {
				t.Error("the lane hashed every page")
			}
		})
	}
}

// rewriteEntry returns the zip in with the content of entry name replaced
// by fn's.
func rewriteEntry(t *testing.T, in []byte, name string, fn func([]byte) []byte) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(in), int64(len(in)))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, zf := range zr.File {
		if zf.Name != name {
			if err := zw.Copy(zf); err != nil {
				t.Fatal(err)
			}
			continue
		}
		h := zf.FileHeader
		w, err := zw.CreateHeader(&h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(w, bytes.NewReader(fn(readZip(t, zf)))); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestResignFileLaneSignsAgainFat re-signs through ResignFile an app
// whose fat executable has a signature in its first slice whose page
// hashes the lane reuses, and a damaged one in its second: the lane finds
// nothing to reuse there once the first slice is signed, its
// CodeResources already taken, and signs again hashing every page. The
// second signing gets the CodeResources too (the writer gives it once):
// ResignFile ends, and writes what it writes hashing every page.
func TestResignFileLaneSignsAgainFat(t *testing.T) {
	f := newFixture(t)
	signed, _ := resign(t, signingtest.IPA(signingtest.IPAOptions{MainCodeSize: 1 << 20, MainArchs: []string{"arm64", "arm64e"}}), f.opts())
	in := rewriteEntry(t, signed, "Payload/Example.app/Example", func(b []byte) []byte {
		b = bytes.Clone(b)
		ff, err := macho.NewFatFile(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		defer ff.Close()
		last := ff.Arches[len(ff.Arches)-1]
		for _, l := range last.Loads {
			if raw := l.Raw(); binary.LittleEndian.Uint32(raw) == 0x1d { // LC_CODE_SIGNATURE
				b[int(last.Offset)+int(binary.LittleEndian.Uint32(raw[8:]))] ^= 0xff // its SuperBlob's magic
				return b
			}
		}
		t.Fatal("no code signature in the last slice")
		return nil
	})
	opts := f.opts()
	opts.laneMin = 1
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	got, _ := resignThroughFile(ctx, t, in, opts)
	if _, err := Verify(context.Background(), bytes.NewReader(got), int64(len(got)), f.vopts()); err != nil {
		t.Fatal(err)
	}
	opts.hashAllPages = true
	if want, _ := resignThroughFile(ctx, t, in, opts); !bytes.Equal(got, want) {
		t.Errorf("ResignFile wrote %d bytes that differ from the %d it writes hashing every page", len(got), len(want))
	}
}

// TestResignFileInMemorySignsAgain re-signs through ResignFile a signed
// app whose extension's signature has CodeDirectories of 16 KiB pages:
// no page hashes to reuse, so the extension, signed aside, is signed
// again hashing every page, and the archive is what Resign writes.
func TestResignFileInMemorySignsAgain(t *testing.T) {
	const exe = "Payload/Example.app/PlugIns/Share.appex/Share"
	in := rewriteEntry(t, studioIPA(t), exe, func(b []byte) []byte {
		b = bytes.Clone(b)
		mf, err := macho.NewFile(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		defer mf.Close()
		be := binary.BigEndian
		n := 0
		for _, l := range mf.Loads {
			raw := l.Raw()
			if binary.LittleEndian.Uint32(raw) != 0x1d { // LC_CODE_SIGNATURE
				continue
			}
			sb := b[binary.LittleEndian.Uint32(raw[8:]):]
			for i := range int(be.Uint32(sb[8:])) {
				slot, off := be.Uint32(sb[12+8*i:]), be.Uint32(sb[16+8*i:])
				if slot == 0 || slot >= 0x1000 && slot < 0x1005 { // CodeDirectories
					sb[off+39] = 14 // pageShift
					n++
				}
			}
		}
		if n == 0 {
			t.Fatal("no CodeDirectory")
		}
		return b
	})
	fix := newFixture(t, signingtest.ProfileOptions{Name: "Publisher wildcard", AppID: "com.example.*", Entitlements: publisherGrants})
	opts := fix.opts()
	opts.BundleID = "com.example.app"
	var logged bytes.Buffer
	opts.Log = slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelDebug}))
	got, _ := resignThroughFile(context.Background(), t, in, opts)
	if !strings.Contains(logged.String(), `msg="hashing every page" binary=`+exe) || strings.Contains(logged.String(), "signing again") {
		t.Errorf("the extension was not signed again at once:\n%s", logged.String())
	}
	opts.Log = nil
	if want, _ := resign(t, in, opts); !bytes.Equal(got, want) {
		t.Errorf("ResignFile wrote %d bytes that differ from Resign's %d", len(got), len(want))
	}
}

// TestLaneRoom checks that the lane writes no more of its binary into its
// provisional place than the room before the scratch place (see
// resigner.findScratch), and writes on once moved into the archive.
func TestLaneRoom(t *testing.T) {
	var f endWriterAt
	l := &mainLane{prov: 1000, base: 1000, room: 10}
	l.cond = sync.NewCond(&l.mu)
	w := &laneTarget{l: l, f: &f}
	if _, err := w.Write(make([]byte, 8)); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(make([]byte, 3)); err == nil {
		t.Error("11 bytes written into a room of 10")
	}
	if f.end != 1008 {
		t.Errorf("written up to %d, want 1008", f.end)
	}
	l.base = 500 // moved (see mainLane.move)
	if _, err := w.Write(make([]byte, 3)); err != nil || f.end != 1008 || f.last != 511 {
		t.Errorf("once moved: %v, written up to %d at %d", err, f.last, f.end)
	}
}

// endWriterAt records where the writes end.
type endWriterAt struct{ end, last int64 }

func (w *endWriterAt) WriteAt(p []byte, off int64) (int, error) {
	w.last = off + int64(len(p))
	w.end = max(w.end, w.last)
	return len(p), nil
}
