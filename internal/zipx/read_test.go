package zipx

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// goZip returns an archive written by archive/zip (data descriptors, an
// extended-timestamp extra field, stored and deflated entries).
func goZip(t testing.TB, names ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i, n := range names {
		h := &zip.FileHeader{Name: n, Method: zip.Deflate, Modified: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
		if i%2 == 1 {
			h.Method = zip.Store
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(w, "%s %s", n, strings.Repeat("data ", i*50))
	}
	if err := zw.SetComment("a comment"); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// corpusZips returns the APKs of the shared corpus, if present (made by
// aapt and apksigner).
func corpusZips(t testing.TB) map[string][]byte {
	out := map[string][]byte{}
	dir := os.Getenv("STORESIGN_CORPUS")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "corpus")
	}
	for _, n := range []string{"golden-unaligned-in.apk", "golden-aligned-in.apk", "golden-legacy-aligned-in.apk", "original.apk"} {
		if b, err := os.ReadFile(filepath.Join(dir, "android", n)); err == nil {
			out[n] = b
		}
	}
	return out
}

// TestReadAgreesWithArchiveZip reads archives made by other tools and
// compares every entry with what archive/zip reports.
func TestReadAgreesWithArchiveZip(t *testing.T) {
	inputs := corpusZips(t)
	inputs["archive-zip"] = goZip(t, "AndroidManifest.xml", "lib/arm64-v8a/libx.so", "classes.dex", "res/", "assets/a.bin")
	for name, b := range inputs {
		t.Run(name, func(t *testing.T) {
			r := bytes.NewReader(b)
			a, err := Read(r, int64(len(b)))
			if err != nil {
				t.Fatal(err)
			}
			zr, err := zip.NewReader(r, int64(len(b)))
			if err != nil {
				t.Fatal(err)
			}
			if len(a.Entries) != len(zr.File) {
				t.Fatalf("%d entries, archive/zip finds %d", len(a.Entries), len(zr.File))
			}
			for i, f := range zr.File {
				e := a.Entries[i]
				off, _ := f.DataOffset()
				if e.Name != f.Name || e.CRC32 != f.CRC32 || uint64(e.CompressedSize) != f.CompressedSize64 || uint64(e.UncompressedSize) != f.UncompressedSize64 || e.Method != f.Method {
					t.Errorf("entry %d: %+v, archive/zip says %+v", i, e, f.FileHeader)
				}
				l, err := e.Local(r, a.CDOffset)
				if err != nil {
					t.Fatalf("%s: %v", e.Name, err)
				}
				if l.DataOffset != off {
					t.Errorf("%s: data at %d, archive/zip says %d", e.Name, l.DataOffset, off)
				}
				got, err := e.ReadAll(r, a.CDOffset, 1<<30)
				if err != nil {
					t.Fatalf("%s: %v", e.Name, err)
				}
				rc, err := f.Open()
				if err != nil {
					t.Fatal(err)
				}
				want, _ := io.ReadAll(rc)
				if !bytes.Equal(got, want) {
					t.Errorf("%s: contents differ", e.Name)
				}
			}
		})
	}
}

func TestReadErrors(t *testing.T) {
	good := goZip(t, "a", "b", "c")
	eocd := bytes.LastIndex(good, []byte("PK\x05\x06"))
	cdOff := int(binary.LittleEndian.Uint32(good[eocd+16:]))
	corrupt := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrEmpty},
		{"text", []byte("this is not a zip file, just some text long enough"), ErrFormat},
		{"PK but not a local header", []byte("PK this is not a zip file, just some text long enough"), ErrFormat},
		{"first half", good[:len(good)/2], ErrCutShort},
		{"first 4 bytes", good[:4], ErrCutShort},
		{"first 30 bytes", good[:30], ErrCutShort},
		{"all but the end record", good[:eocd], ErrCutShort},
		{"end record cut", good[:len(good)-1], ErrFormat}, // an end record is there: not a download cut short
		{"entries cut out", corrupt(func(b []byte) []byte { return append(b[:10], b[cdOff-10:]...) }), ErrTruncated},
		{"directory offset past the end", corrupt(func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[eocd+16:], uint32(len(b)))
			return b
		}), ErrTruncated},
		{"too many entries", corrupt(func(b []byte) []byte {
			binary.LittleEndian.PutUint16(b[eocd+10:], 5000)
			return b
		}), ErrTruncated},
		{"bad directory signature", corrupt(func(b []byte) []byte { b[cdOff] = 'X'; return b }), ErrTruncated},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Read(bytes.NewReader(tc.data), int64(len(tc.data)))
			if !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
			// The precise errors match the broad ones callers check.
			switch tc.want {
			case ErrEmpty:
				if !errors.Is(err, ErrFormat) || Kind(err) != "format" {
					t.Errorf("err = %v does not match ErrFormat", err)
				}
			case ErrCutShort:
				if !errors.Is(err, ErrTruncated) || errors.Is(err, ErrFormat) || Kind(err) != "truncated" {
					t.Errorf("err = %v: want ErrTruncated, not ErrFormat", err)
				}
			}
		})
	}
	t.Run("duplicate", func(t *testing.T) {
		b := goZip(t, "same", "same")
		_, err := Read(bytes.NewReader(b), int64(len(b)))
		var dup *DuplicateError
		if !errors.As(err, &dup) || dup.Name != "same" {
			t.Errorf("err = %v, want a DuplicateError for \"same\"", err)
		}
	})
}

func TestAlignExtra(t *testing.T) {
	ts := []byte{0x55, 0x54, 5, 0, 1, 2, 3, 4, 5} // extended timestamp
	old := []byte{0x35, 0xd9, 4, 0, 4, 0, 0, 0}   // an old alignment field
	zero := []byte{0, 0, 0, 0}                    // zipalign-style padding
	// want returns kept followed by the alignment field apksig appends.
	want := func(kept []byte, start int64, align int) []byte {
		pad := (int64(align) - (start+int64(len(kept))+6)%int64(align)) % int64(align)
		b := append(bytes.Clone(kept), 0x35, 0xd9, byte(2+pad), byte((2+pad)>>8), byte(align), byte(align>>8))
		return append(b, make([]byte, pad)...)
	}
	tests := []struct {
		name         string
		extra        []byte
		start        int64
		align        int
		kept, kept35 []byte // fields kept by AlignExtra, AlignExtraLikeApksigner35
	}{
		{"none", nil, 100, 4, nil, nil},
		{"pads", nil, 101, 4, nil, nil},
		{"page", nil, 4000, 16384, nil, nil},
		// apksig 0.9 reads sizes big-endian: 0x0500 overruns, all dropped.
		{"keeps other fields", ts, 100, 4, ts, nil},
		{"drops old alignment", append(bytes.Clone(old), zero...), 100, 16, nil, nil},
		{"zero size field", append(bytes.Clone(zero), ts...), 57, 4, ts, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for i, f := range []func([]byte, int64, int) []byte{AlignExtra, AlignExtraLikeApksigner35} {
				got := f(tc.extra, tc.start, tc.align)
				w := want([][]byte{tc.kept, tc.kept35}[i], tc.start, tc.align)
				if !bytes.Equal(got, w) {
					t.Errorf("variant %d: got % x, want % x", i, got[:min(len(got), 24)], w[:min(len(w), 24)])
				}
				if (tc.start+int64(len(got)))%int64(tc.align) != 0 {
					t.Errorf("variant %d: data at %d is not aligned to %d", i, tc.start+int64(len(got)), tc.align)
				}
			}
		})
	}
	if got := AlignExtra(ts, 3, 1); !bytes.Equal(got, ts) {
		t.Errorf("alignment 1 changed the extra field")
	}
}

// FuzzRead checks that Read and Entry.Local never panic nor return
// out-of-bounds offsets, and that what Read accepts reads the same twice.
func FuzzRead(f *testing.F) {
	for _, b := range corpusZips(f) {
		f.Add(b)
	}
	f.Add(goZip(f, "a", "b/", "c.so"))
	f.Add([]byte("PK\x05\x06" + strings.Repeat("\x00", 18)))
	f.Fuzz(func(t *testing.T, b []byte) {
		r := bytes.NewReader(b)
		a, err := Read(r, int64(len(b)))
		if err != nil {
			return
		}
		if a.CDOffset+a.CDSize > int64(len(b)) || a.EOCDOffset > int64(len(b)) {
			t.Fatalf("sections out of bounds: %+v", a)
		}
		for _, e := range a.Entries {
			l, err := e.Local(r, a.CDOffset)
			if err != nil {
				continue
			}
			if l.DataOffset < 0 || l.End() > a.CDOffset {
				t.Fatalf("%q: data [%d, %d) outside the entries section", e.Name, l.DataOffset, l.End())
			}
			if rc, err := e.Open(r, a.CDOffset); err == nil {
				io.Copy(io.Discard, io.LimitReader(rc, 1<<20))
				rc.Close()
			}
		}
		again, err := Read(r, int64(len(b)))
		if err != nil || len(again.Entries) != len(a.Entries) {
			t.Fatalf("second read: %v", err)
		}
	})
}
