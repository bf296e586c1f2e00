package zipx

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/storesign/storesign/internal/zipx/ziptest"
)

// hostileBase is a small valid archive the hostile cases start from.
func hostileBase() []ziptest.Entry {
	return []ziptest.Entry{
		{Name: "AndroidManifest.xml", Data: []byte("manifest bytes"), Deflate: true},
		{Name: "res/"},
		{Name: "res/a.txt", Data: bytes.Repeat([]byte("a"), 300)},
		{Name: "classes.dex", Data: bytes.Repeat([]byte("dex\n"), 100), Deflate: true},
	}
}

// wantKind checks that err is the typed error a ziptest kind names.
func wantKind(err error, kind string) error {
	if err == nil {
		return fmt.Errorf("accepted, want a %s error", kind)
	}
	if got := Kind(err); got != kind {
		return fmt.Errorf("error %q (%T) is of kind %q, want a %s error", err, err, got, kind)
	}
	if kind != ziptest.WantFormat && kind != ziptest.WantTruncated && !errors.Is(err, ErrUnsafe) {
		return fmt.Errorf("error %q does not match ErrUnsafe", err)
	}
	return nil
}

// readAndCheck is what every format does first.
func readAndCheck(b []byte) error {
	r := bytes.NewReader(b)
	a, err := Read(r, int64(len(b)))
	if err != nil {
		return err
	}
	_, err = a.CheckRecords(r, a.CDOffset)
	return err
}

func TestHostileArchives(t *testing.T) {
	good := ziptest.Build(hostileBase(), ziptest.Options{}).Bytes
	if err := readAndCheck(good); err != nil {
		t.Fatalf("the base archive: %v", err)
	}
	z64 := ziptest.Build(hostileBase(), ziptest.Options{Zip64: true}).Bytes
	if err := readAndCheck(z64); err != nil {
		t.Fatalf("the zip64 base archive: %v", err)
	}
	cases := ziptest.Hostile(hostileBase())
	methods := map[string]uint16{"LZMA method": 14, "method 21 in the directory only": 21}
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			var err error
			ziptest.Bounded(t, 5*time.Second, 1<<20, func() { err = readAndCheck(tc.Bytes) })
			if e := wantKind(err, tc.Want); e != nil {
				t.Fatal(e)
			}
			if strings.ContainsAny(err.Error(), "\n\x00\x1b") {
				t.Errorf("error message carries control characters: %q", err)
			}
			// A refused method is named, for callers that explain it.
			if m, ok := methods[tc.Name]; ok {
				var unsup *UnsupportedError
				if !errors.As(err, &unsup) || unsup.Method != m {
					t.Errorf("error %v does not name method %d", err, m)
				}
			}
		})
	}
	t.Logf("%d hostile archives refused", len(cases))
}

func TestReadLimits(t *testing.T) {
	b := ziptest.Build(hostileBase(), ziptest.Options{}).Bytes
	tests := []struct {
		name string
		lim  Limits
	}{
		{"entries", Limits{MaxEntries: 3}},
		{"directory", Limits{MaxCentralDirectory: 100}},
		{"name", Limits{MaxNameLen: 10}},
		{"extra", Limits{MaxExtraLen: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			es := hostileBase()
			es[0].CentralExtra = []byte{0x55, 0x54, 1, 0, 0}
			b := ziptest.Build(es, ziptest.Options{}).Bytes
			_, err := ReadLimits(bytes.NewReader(b), int64(len(b)), tc.lim)
			var le *LimitError
			if !errors.As(err, &le) {
				t.Fatalf("err = %v, want a LimitError", err)
			}
		})
	}
	if _, err := ReadLimits(bytes.NewReader(b), int64(len(b)), Limits{}); err != nil {
		t.Fatal(err)
	}
}

func TestCheckName(t *testing.T) {
	for _, ok := range []string{"a", "a/b/", "res/a..b", "..a", "a/..b/c", "lib/arm64-v8a/libé.so", "Payload/My App.app/Info.plist"} {
		if err := CheckName(ok); err != nil {
			t.Errorf("CheckName(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "/a", "..", "../a", "a/..", "a/../b", `a\b`, "a\x00", "a\tb", "a\rb", "c:x", "Z:/x"} {
		var ne *NameError
		if err := CheckName(bad); !errors.As(err, &ne) {
			t.Errorf("CheckName(%q) = %v, want a NameError", bad, err)
		}
	}
}

// TestCheckRecordsManyEntries reads 70,000 small entries (a zip64 count)
// and checks their records with few reads.
func TestCheckRecordsManyEntries(t *testing.T) {
	es := make([]ziptest.Entry, 70000)
	for i := range es {
		es[i] = ziptest.Entry{Name: fmt.Sprintf("assets/f%05d.txt", i), Data: []byte(fmt.Sprint(i))}
	}
	b := ziptest.Build(es, ziptest.Options{Zip64: true}).Bytes
	cr := &countingReaderAt{r: bytes.NewReader(b)}
	a, err := Read(cr, int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if !a.Zip64 || len(a.Entries) != 70000 {
		t.Fatalf("zip64 %v, %d entries", a.Zip64, len(a.Entries))
	}
	cr.n = 0
	recs, err := a.CheckRecords(cr, a.CDOffset)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 70000 {
		t.Fatalf("%d records", len(recs))
	}
	if cr.n > 200 {
		t.Errorf("%d reads for 70,000 local headers", cr.n)
	}
	t.Logf("%d reads for %d local headers (%d bytes)", cr.n, len(recs), len(b))
}

type countingReaderAt struct {
	r interface {
		ReadAt([]byte, int64) (int, error)
	}
	n int
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	c.n++
	return c.r.ReadAt(p, off)
}

// FuzzReadHostile starts from the hostile table: Read and CheckRecords
// never panic, and what they accept has records inside the file that do
// not overlap.
func FuzzReadHostile(f *testing.F) {
	f.Add(ziptest.Build(hostileBase(), ziptest.Options{}).Bytes)
	f.Add(ziptest.Build(hostileBase(), ziptest.Options{Zip64: true}).Bytes)
	for _, c := range ziptest.Hostile(hostileBase()) {
		f.Add(c.Bytes)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r := bytes.NewReader(b)
		a, err := ReadLimits(r, int64(len(b)), Limits{MaxCentralDirectory: 1 << 20})
		if err != nil {
			return
		}
		recs, err := a.CheckRecords(r, a.CDOffset)
		if err != nil {
			return
		}
		end := int64(0)
		for _, rec := range recs {
			if rec.Offset < end || rec.DataOffset < rec.Offset || rec.End > a.CDOffset || rec.End < rec.DataOffset+rec.DataSize {
				t.Fatalf("%q: record [%d, %d) after %d, directory at %d", rec.Entry.Name, rec.Offset, rec.End, end, a.CDOffset)
			}
			end = rec.End
		}
	})
}
