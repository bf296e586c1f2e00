package ipa

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/storesign/storesign/internal/zipx"
	"github.com/storesign/storesign/internal/zipx/ziptest"
	"github.com/storesign/storesign/signing/signingtest"
)

// zsignStyle rebuilds an IPA as zsign writes one: folders as deflated
// entries of 5 bytes (an empty stored deflate block), every entry made
// by "MS-DOS" with DOS attributes only (no Unix mode), symlinks left out
// (DOS attributes cannot hold them). A _CodeSignature/ folder entry is
// added before each CodeResources that lacks one.
func zsignStyle(files []signingtest.IPAFile) []ziptest.Entry {
	var es []ziptest.Entry
	have := map[string]bool{}
	for _, f := range files {
		have[f.Name] = true
	}
	for _, f := range files {
		switch {
		case f.Symlink:
			continue
		case strings.HasSuffix(f.Name, "/"):
			es = append(es, ziptest.Entry{Name: f.Name, Raw: []byte{1, 0, 0, 0xff, 0xff}, Method: 8, DOS: true, MadeBy: 20, ExternalAttrs: 0x10})
			continue
		case strings.HasSuffix(f.Name, "/_CodeSignature/CodeResources"):
			if d := strings.TrimSuffix(f.Name, "CodeResources"); !have[d] {
				es = append(es, ziptest.Entry{Name: d, Raw: []byte{1, 0, 0, 0xff, 0xff}, Method: 8, DOS: true, MadeBy: 20, ExternalAttrs: 0x10})
			}
		}
		es = append(es, ziptest.Entry{Name: f.Name, Data: f.Data, Deflate: !f.Store, DOS: true, MadeBy: 20, ExternalAttrs: 0x20})
	}
	return es
}

// TestResignZsignIPA re-signs an IPA written the way zsign writes them and
// checks that the output is clean: folders stored, empty, 0755; files
// with Unix modes (0755 for Mach-O); every folder entry of the input kept,
// _CodeSignature/ just before its CodeResources.
func TestResignZsignIPA(t *testing.T) {
	f := newFixture(t)
	in := ziptest.Build(zsignStyle(signingtest.IPAFiles(signingtest.IPAOptions{})), ziptest.Options{}).Bytes
	// archive/zip's writer refuses to copy these folders raw: the bug.
	out, _ := resign(t, in, f.opts())
	if _, err := Verify(context.Background(), bytes.NewReader(out), int64(len(out)), f.vopts()); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	zin, _ := zip.NewReader(bytes.NewReader(in), int64(len(in)))
	zr, err := zip.NewReader(bytes.NewReader(out), int64(len(out)))
	if err != nil {
		t.Fatal(err)
	}
	index := map[string]int{}
	for i, zf := range zr.File {
		index[zf.Name] = i
		mode := zf.Mode()
		if strings.HasSuffix(zf.Name, "/") {
			if zf.Method != zip.Store || zf.CompressedSize64 != 0 || mode != fs.ModeDir|0o755 {
				t.Errorf("%s: method %d, %d bytes, mode %v; want a stored, empty 0755 folder", zf.Name, zf.Method, zf.CompressedSize64, mode)
			}
			continue
		}
		if zf.CreatorVersion>>8 != 3 || (mode != 0o644 && mode != 0o755) {
			t.Errorf("%s: made by %#x, mode %v; want Unix 0644 or 0755", zf.Name, zf.CreatorVersion, mode)
		}
	}
	for _, exe := range []string{"Payload/Example.app/Example", "Payload/Example.app/Frameworks/Kit.framework/Kit", "Payload/Example.app/PlugIns/Share.appex/Share"} {
		if i, ok := index[exe]; !ok || zr.File[i].Mode() != 0o755 {
			t.Errorf("%s: missing or not 0755", exe)
		}
	}
	for _, zf := range zin.File {
		if !strings.HasSuffix(zf.Name, "/") {
			continue
		}
		i, ok := index[zf.Name]
		if !ok {
			t.Errorf("folder entry %s dropped", zf.Name)
			continue
		}
		if strings.HasSuffix(zf.Name, "/_CodeSignature/") {
			if j, ok := index[zf.Name+"CodeResources"]; !ok || j != i+1 {
				t.Errorf("%s at %d, its CodeResources at %d (present %v)", zf.Name, i, j, ok)
			}
		}
	}
}

// TestResignFileZsignIPA re-signs a zsign-style IPA to a file, where the
// main executable is written on a lane of its own, and checks its own
// output: the executable gets mode 0755 there too.
func TestResignFileZsignIPA(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	in, out := filepath.Join(dir, "zsign.ipa"), filepath.Join(dir, "out.ipa")
	if err := os.WriteFile(in, ziptest.Build(zsignStyle(signingtest.IPAFiles(signingtest.IPAOptions{})), ziptest.Options{}).Bytes, 0o644); err != nil {
		t.Fatal(err)
	}
	opts := f.opts()
	opts.laneMin = 1 // the executable takes the lane whatever its size
	if _, err := ResignFile(context.Background(), in, out, opts); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.OpenReader(out)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for _, zf := range zr.File {
		if zf.Name == "Payload/Example.app/Example" && zf.Mode() != 0o755 {
			t.Errorf("%s: mode %v, want 0755", zf.Name, zf.Mode())
		}
	}
}

// TestResignTrailingBytes re-signs an IPA followed by bytes that are no
// part of it (unzip and archive/zip ignore them), and refuses a hostile
// archive hidden that way.
func TestResignTrailingBytes(t *testing.T) {
	f := newFixture(t)
	in := append(signingtest.IPA(signingtest.IPAOptions{Minimal: true}), bytes.Repeat([]byte("junk"), 100)...)
	out, _ := resign(t, in, f.opts())
	if _, err := Verify(context.Background(), bytes.NewReader(out), int64(len(out)), f.vopts()); err != nil {
		t.Fatal(err)
	}
	for _, tc := range ziptest.Hostile(hostileIPABase(t)) {
		if tc.Want == ziptest.WantFormat {
			continue
		}
		b := append(bytes.Clone(tc.Bytes), "trailing bytes"...)
		if _, err := Resign(context.Background(), bytes.NewReader(b), int64(len(b)), io.Discard, f.opts()); err == nil {
			t.Errorf("%s, with trailing bytes: accepted", tc.Name)
		}
	}
}

// TestResignKeepsFolderEntries checks that an Xcode-style IPA keeps every
// folder entry, _CodeSignature/ included, copied as it was.
func TestResignKeepsFolderEntries(t *testing.T) {
	f := newFixture(t)
	files := signingtest.IPAFiles(signingtest.IPAOptions{})
	var withDir []signingtest.IPAFile
	for _, fl := range files {
		if strings.HasSuffix(fl.Name, "/_CodeSignature/CodeResources") && !slices.ContainsFunc(files, func(x signingtest.IPAFile) bool { return x.Name == strings.TrimSuffix(fl.Name, "CodeResources") }) {
			withDir = append(withDir, signingtest.IPAFile{Name: strings.TrimSuffix(fl.Name, "CodeResources"), Mode: fs.ModeDir | 0o755})
		}
		withDir = append(withDir, fl)
	}
	var buf bytes.Buffer
	if err := signingtest.WriteZip(&buf, withDir, signingtest.Epoch); err != nil {
		t.Fatal(err)
	}
	in := buf.Bytes()
	out, _ := resign(t, in, f.opts())
	zin, _ := zip.NewReader(bytes.NewReader(in), int64(len(in)))
	zr, _ := zip.NewReader(bytes.NewReader(out), int64(len(out)))
	got := map[string]*zip.File{}
	for _, zf := range zr.File {
		got[zf.Name] = zf
	}
	dirs := 0
	for _, zf := range zin.File {
		if !strings.HasSuffix(zf.Name, "/") {
			continue
		}
		dirs++
		o := got[zf.Name]
		if o == nil {
			t.Errorf("folder entry %s dropped", zf.Name)
		} else if o.Mode() != zf.Mode() || o.Method != zf.Method {
			t.Errorf("%s: mode %v method %d, input had %v %d", zf.Name, o.Mode(), o.Method, zf.Mode(), zf.Method)
		}
	}
	if dirs == 0 || got["Payload/Example.app/_CodeSignature/"] == nil {
		t.Errorf("%d folder entries; _CodeSignature/ kept: %v", dirs, got["Payload/Example.app/_CodeSignature/"] != nil)
	}
}

// ipaKind checks that err is what Resign returns for a ziptest kind.
func ipaKind(err error, kind string) error {
	ok := false
	switch kind {
	case ziptest.WantFormat, ziptest.WantDuplicate:
		ok = errors.Is(err, ErrNotIPA)
	case ziptest.WantTruncated:
		// Cut short (no end record) is a download to do again, not
		// the wrong file.
		ok = errors.Is(err, ErrNotIPA) || errors.Is(err, ErrIncomplete)
	case ziptest.WantName:
		ok = errors.Is(err, ErrUnsafePath) && zipx.Kind(err) == kind
	case ziptest.WantLimit:
		// scan's own plausibility check may see a size first.
		ok = errors.Is(err, ErrUnsafeArchive) && zipx.Kind(err) == kind || errors.Is(err, ErrAbsurdSize)
	default:
		ok = errors.Is(err, ErrUnsafeArchive) && zipx.Kind(err) == kind
	}
	if !ok {
		return fmt.Errorf("error %v (%T), want a %s error", err, err, kind)
	}
	return nil
}

func hostileIPABase(t testing.TB) []ziptest.Entry {
	es, err := ziptest.EntriesOf(signingtest.IPA(signingtest.IPAOptions{Minimal: true}))
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// TestHostileIPAs re-signs and verifies each hostile archive: both refuse
// it with the typed error, nothing is written, time and memory stay
// bounded.
func TestHostileIPAs(t *testing.T) {
	f := newFixture(t)
	base := hostileIPABase(t)
	good := ziptest.Build(base, ziptest.Options{}).Bytes
	resign(t, good, f.opts())
	cases := ziptest.Hostile(base)
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			var out bytes.Buffer
			var resignErr, err error
			ziptest.Bounded(t, 5*time.Second, 16<<20, func() {
				_, resignErr = Resign(context.Background(), bytes.NewReader(tc.Bytes), int64(len(tc.Bytes)), &out, f.opts())
				_, err = Verify(context.Background(), bytes.NewReader(tc.Bytes), int64(len(tc.Bytes)), f.vopts())
			})
			if e := ipaKind(resignErr, tc.Want); e != nil {
				t.Errorf("Resign: %v", e)
			}
			if out.Len() != 0 {
				t.Errorf("Resign wrote %d bytes", out.Len())
			}
			if e := ipaKind(err, tc.Want); e != nil {
				t.Errorf("Verify: %v", e)
			}
			if err != nil && strings.ContainsAny(err.Error(), "\n\x00\x1b") {
				t.Errorf("message carries control characters: %q", err)
			}
		})
	}
	t.Logf("%d hostile IPAs refused by Resign and Verify", len(cases))
}

// TestResignZip64 re-signs an IPA of 70,000 resource files (more than a
// classic zip holds): the output is zip64 and holds every file.
func TestResignZip64(t *testing.T) {
	if testing.Short() {
		t.Skip("70,000 entries: skipped in -short")
	}
	f := newFixture(t)
	var extra []signingtest.IPAFile
	for i := range 70000 {
		extra = append(extra, signingtest.IPAFile{Name: fmt.Sprintf("res/f%05d.txt", i), Data: []byte(fmt.Sprint(i)), Store: true})
	}
	in := signingtest.IPA(signingtest.IPAOptions{Minimal: true, Extra: extra})
	out, _ := resign(t, in, f.opts())
	a, err := zipx.Read(bytes.NewReader(out), int64(len(out)))
	if err != nil {
		t.Fatal(err)
	}
	zin, _ := zip.NewReader(bytes.NewReader(in), int64(len(in)))
	if !a.Zip64 || len(a.Entries) < len(zin.File) {
		t.Errorf("output: zip64 %v, %d entries (input %d)", a.Zip64, len(a.Entries), len(zin.File))
	}
	if _, err := a.CheckRecords(bytes.NewReader(out), a.CDOffset); err != nil {
		t.Fatal(err)
	}
	// The check ResignFile makes holds too: the CodeResources sealing
	// 70,000 files is read whole.
	if _, err := Verify(context.Background(), bytes.NewReader(out), int64(len(out)), f.vopts()); err != nil {
		t.Fatal(err)
	}
}

// FuzzScanHostile starts from the hostile table and a zsign-style IPA:
// scan never panics.
func FuzzScanHostile(f *testing.F) {
	base := hostileIPABase(f)
	f.Add(ziptest.Build(base, ziptest.Options{}).Bytes)
	f.Add(ziptest.Build(zsignStyle(signingtest.IPAFiles(signingtest.IPAOptions{Minimal: true})), ziptest.Options{}).Bytes)
	for _, c := range ziptest.Hostile(base) {
		f.Add(c.Bytes)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		scan(bytes.NewReader(b), int64(len(b)))
	})
}

// TestResignOver4GiB re-signs an IPA holding a 4.1 GiB stored resource
// (zeros made up on the fly, the output kept sparse in memory): the output
// is zip64 and verifies.
func TestResignOver4GiB(t *testing.T) {
	if testing.Short() {
		t.Skip("hashes 8 GiB: skipped in -short")
	}
	f := newFixture(t)
	base := hostileIPABase(t)
	const size = 4<<30 + 100<<20
	in, err := ziptest.BuildSparse(base, ziptest.Zeros{Name: "Payload/Example.app/big.bin", Size: size})
	if err != nil {
		t.Fatal(err)
	}
	out := &ziptest.SparseBuffer{}
	if _, err := Resign(context.Background(), in, in.Size(), out, f.opts()); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(out, out.Size())
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, zf := range zr.File {
		if zf.Name == "Payload/Example.app/big.bin" {
			found = zf.UncompressedSize64 == size
		}
	}
	if !found {
		t.Error("big.bin missing or resized")
	}
	if _, err := Verify(context.Background(), out, out.Size(), f.vopts()); err != nil {
		t.Fatal(err)
	}
}
