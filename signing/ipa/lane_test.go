package ipa

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/storesign/storesign/internal/atomicfile"
	"github.com/storesign/storesign/signing/macho"
	"github.com/storesign/storesign/signing/signingtest"
)

// TestResignFileLane re-signs the full test app through ResignFile with
// the app's executable on a lane of its own (see mainLane): the archive
// must hold, entry for entry, what the one-stream writer writes, with the
// executable first, stored, its CRC-32 and sizes in its local header.
func TestResignFileLane(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   signingtest.IPAOptions
	}{
		{"thin", signingtest.IPAOptions{MainCodeSize: 3 << 20}},
		{"fat", signingtest.IPAOptions{MainCodeSize: 1 << 20, MainArchs: []string{"arm64", "arm64e"}}},
	} {
		t.Run(tt.name, func(t *testing.T) { testLane(t, signingtest.IPA(tt.in)) })
	}
}

func testLane(t *testing.T, in []byte) {
	f := newFixture(t)
	opts := f.opts()
	opts.laneMin = 1
	got, rep := resignThroughFile(context.Background(), t, in, opts)
	if _, err := Verify(context.Background(), bytes.NewReader(got), int64(len(got)), f.vopts()); err != nil {
		t.Fatal(err)
	}
	want, wantRep := resign(t, in, f.opts())
	if !slices.EqualFunc(rep.Bundles, wantRep.Bundles, func(a, b BundleReport) bool { return slices.Equal(a.CDHashes, b.CDHashes) && a.Path == b.Path }) {
		t.Errorf("bundles differ:\n%+v\n%+v", rep.Bundles, wantRep.Bundles)
	}

	zr, err := zip.NewReader(bytes.NewReader(got), int64(len(got)))
	if err != nil {
		t.Fatal(err)
	}
	last := zr.File[len(zr.File)-1]
	if last.Name != "Payload/Example.app/Example" || last.Method != zip.Store || last.Flags&0x8 != 0 {
		t.Errorf("last entry %s, method %d, flags %#x: want the stored executable without a data descriptor", last.Name, last.Method, last.Flags)
	}
	// The local header must agree with the central directory (readers
	// that stream the archive see only the former).
	data, err := last.DataOffset()
	if err != nil {
		t.Fatal(err)
	}
	at := bytes.LastIndex(got[:data], []byte("PK\x03\x04"))
	lh := got[at : at+30]
	le32 := func(b []byte) uint32 { return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24 }
	if crc := le32(lh[14:]); crc != last.CRC32 || last.CRC32 == 0 || uint64(le32(lh[18:])) != last.CompressedSize64 || uint64(le32(lh[22:])) != last.UncompressedSize64 {
		t.Errorf("local header CRC-32 %#x sizes %d %d, central directory %#x %d %d", crc, le32(lh[18:]), le32(lh[22:]), last.CRC32, last.CompressedSize64, last.UncompressedSize64)
	}
	// Nothing is left past the central directory.
	if end := bytes.LastIndex(got, []byte("PK\x05\x06")); end < 0 || len(got) > end+22+0xffff {
		t.Errorf("%d bytes, end of central directory at %d", len(got), end)
	}
	wantFiles := zipFiles(t, want)
	if len(zr.File) != len(wantFiles) {
		t.Errorf("%d entries, want %d", len(zr.File), len(wantFiles))
	}
	for _, zf := range zr.File {
		w, ok := wantFiles[zf.Name]
		if !ok {
			t.Errorf("%s: not written by the one-stream writer", zf.Name)
			continue
		}
		if zf.Mode() != w.Mode() || !zf.Modified.Equal(w.Modified) {
			t.Errorf("%s: mode %v %v, want %v %v", zf.Name, zf.Mode(), zf.Modified, w.Mode(), w.Modified)
		}
		if !bytes.Equal(readZip(t, zf), readZip(t, w)) {
			t.Errorf("%s: content differs", zf.Name)
		}
	}
}

// TestResignFileLaneErrors fails the signing of the lane's executable,
// and of a framework while the lane runs: the error comes back, no output
// is left and no goroutine keeps running.
func TestResignFileLaneErrors(t *testing.T) {
	f := newFixture(t)
	in := signingtest.IPA(signingtest.IPAOptions{MainCodeSize: 3 << 20})
	dir := t.TempDir()
	inPath := filepath.Join(dir, "in.ipa")
	if err := os.WriteFile(inPath, in, 0o600); err != nil {
		t.Fatal(err)
	}
	broken := errors.New("broken signer")
	enc := filepath.Join(dir, "encrypted.ipa")
	if err := os.WriteFile(enc, signingtest.IPA(signingtest.IPAOptions{Encrypted: true, MainCodeSize: 1 << 20}), 0o600); err != nil {
		t.Fatal(err)
	}
	opts := f.opts()
	opts.laneMin = 1
	if _, err := ResignFile(context.Background(), enc, filepath.Join(dir, "out.ipa"), opts); !errors.Is(err, macho.ErrEncrypted) {
		t.Errorf("encrypted app: ResignFile = %v", err)
	}
	os.Remove(enc)
	before := runtime.NumGoroutine()
	for _, id := range []string{"com.example.app", "com.example.Kit"} {
		opts := f.opts()
		opts.laneMin = 1
		opts.sign = func(ctx context.Context, src io.ReaderAt, size int64, dst io.Writer, so macho.SignOptions) (*macho.SignResult, error) {
			if so.Identifier == id {
				return nil, broken
			}
			return macho.Sign(ctx, src, size, dst, so)
		}
		outPath := filepath.Join(dir, "out.ipa")
		if _, err := ResignFile(context.Background(), inPath, outPath, opts); !errors.Is(err, broken) {
			t.Errorf("%s fails: ResignFile = %v", id, err)
		}
		if _, err := os.Stat(outPath); err == nil {
			t.Errorf("%s fails: output left behind", id)
		}
		if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) != 1 {
			t.Errorf("%s fails: files left %v", id, left)
		}
	}
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines before, %d after", before, n)
	}
}

// TestResignFileLaneSigned re-signs a signed app through ResignFile: the
// executable on the lane is read once, its entitlements fitted from its
// own signature and its header written last (macho's EntitlementsLater);
// the archive must still hold what the one-stream writer writes.
func TestResignFileLaneSigned(t *testing.T) {
	f := newFixture(t)
	signed, _ := resign(t, signingtest.IPA(signingtest.IPAOptions{MainCodeSize: 3 << 20}), f.opts())
	testLane(t, signed)
}

// TestFixCRC checks the CRC-32 of a message whose head is replaced,
// computed from the CRC-32 of the message as first written.
func TestFixCRC(t *testing.T) {
	msg := make([]byte, 100000)
	for i := range msg {
		msg[i] = byte(i * 7)
	}
	for _, h := range []int{1, 32, 4096, 100000} {
		head := bytes.Repeat([]byte{0xa5}, h)
		fixed := append(bytes.Clone(head), msg[h:]...)
		if got, want := fixCRC(crc32.ChecksumIEEE(msg), msg, head, int64(len(msg))), crc32.ChecksumIEEE(fixed); got != want {
			t.Errorf("head of %d bytes: %08x, want %08x", h, got, want)
		}
	}
}

// smallFile is an output file on a file system whose files stop at 1 GiB
// (FAT32 stops at 4 GiB; the provisional place is at least 1 GiB out).
type smallFile struct{ *atomicfile.File }

func (f smallFile) WriteAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > 1<<30 {
		return 0, syscall.EFBIG
	}
	return f.File.WriteAt(p, off)
}

// TestLaneNeedsFarOffset re-signs into a file that cannot reach the
// lane's provisional place: the executable is signed in the stream
// instead, and the output is the same.
func TestLaneNeedsFarOffset(t *testing.T) {
	f := newFixture(t)
	in := signingtest.IPA(signingtest.IPAOptions{MainCodeSize: 3 << 20})
	out, err := atomicfile.Create(filepath.Join(t.TempDir(), "out.ipa"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Abort()
	opts := f.opts()
	opts.laneMin = 1
	r, err := resignStream(context.Background(), bytes.NewReader(in), int64(len(in)), out.Writeback(), smallFile{out}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if r.lane != nil {
		t.Error("a lane was used")
	}
	got, err := os.ReadFile(out.Name())
	if err != nil {
		t.Fatal(err)
	}
	want, _ := resign(t, in, f.opts())
	if !bytes.Equal(got, want) {
		t.Errorf("the output (%d bytes) differs from the one-stream writer's (%d bytes)", len(got), len(want))
	}
}

// TestResignFileKernelCopy re-signs an app with large resources, stored
// and deflated, through ResignFile, which has the kernel copy them from
// the input file (copyData): with and without the app's lane, the archive
// holds what the one-stream writer writes; without the lane, byte for
// byte.
func TestResignFileKernelCopy(t *testing.T) {
	big := func(n int, seed byte) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i*int(seed)) ^ byte(i>>9)
		}
		return b
	}
	in := signingtest.IPA(signingtest.IPAOptions{MainCodeSize: 1 << 20, Extra: []signingtest.IPAFile{
		{Name: "assets/stored.pak", Data: big(kernelCopyMin+1, 3), Store: true},
		{Name: "assets/deflated.pak", Data: big(4*kernelCopyMin, 5)},
		{Name: "assets/small.bin", Data: big(1000, 7), Store: true},
		{Name: "assets/exact.pak", Data: big(kernelCopyMin, 11), Store: true},
	}})
	t.Run("lane", func(t *testing.T) { testLane(t, in) })
	t.Run("no lane", func(t *testing.T) {
		f := newFixture(t)
		opts := f.opts()
		opts.laneMin = 1 << 40
		var logged bytes.Buffer
		opts.Log = slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelDebug}))
		got, _ := resignThroughFile(context.Background(), t, in, opts)
		if !regexp.MustCompile(`copied-in-kernel=[1-9]`).Match(logged.Bytes()) {
			t.Errorf("no entry copied by the kernel:\n%s", logged.String())
		}
		want, _ := resign(t, in, f.opts())
		if !bytes.Equal(got, want) {
			t.Errorf("ResignFile wrote %d bytes that differ from Resign's %d", len(got), len(want))
		}
	})
}
