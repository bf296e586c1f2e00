package drive

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/storesign/storesign/drive/drivetest"
)

// writeBig writes n bytes of deterministic, non-repeating content.
func writeBig(t testing.TB, path string, n int64) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	block := pattern(1 << 20)
	for i := int64(0); i < n; i += int64(len(block)) {
		binary.LittleEndian.PutUint64(block, uint64(i))
		if _, err := f.Write(block[:min(int64(len(block)), n-i)]); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func sameFiles(t testing.TB, a, b string) bool {
	t.Helper()
	fa, err := os.Open(a)
	if err != nil {
		t.Fatal(err)
	}
	defer fa.Close()
	fb, err := os.Open(b)
	if err != nil {
		t.Fatal(err)
	}
	defer fb.Close()
	ba, bb := make([]byte, 1<<20), make([]byte, 1<<20)
	for {
		na, ea := io.ReadFull(fa, ba)
		nb, eb := io.ReadFull(fb, bb)
		if na != nb || !bytes.Equal(ba[:na], bb[:nb]) {
			return false
		}
		if ea != nil || eb != nil {
			return ea == eb || (ea != nil && eb != nil)
		}
	}
}

// heapPeak samples the live heap until stop is called and returns its peak.
// It starts with a collection, so that garbage left by earlier tests does
// not count.
func heapPeak() (stop func() uint64) {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			peak = max(peak, sample[0].Value.Uint64())
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 {
		close(done)
		wg.Wait()
		return peak
	}
}

// TestRoundTrip1GiB moves a 1 GiB file up and down through a fake Drive
// that faults 20% of the requests (errors, rate limits, cut connections,
// slow replies) and checks that the bytes come back identical and that
// memory stays under 64 MiB plus one chunk.
func TestRoundTrip1GiB(t *testing.T) {
	size := int64(1 << 30)
	if testing.Short() {
		size = 64 << 20
	}
	dir := t.TempDir()
	logs := &syncBuffer{}
	s, c := newTest(t, drivetest.Options{Dir: filepath.Join(dir, "fake"), Faults: drivetest.Faults{Rate: 0.2, Seed: 42, Delay: 5 * time.Millisecond}},
		WithLogger(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	ctx := context.Background()
	folder, _ := s.AddFolder("", "", "builds")
	src := filepath.Join(dir, "src.ipa")
	writeBig(t, src, size)

	stop := heapPeak()
	start := time.Now()
	res, err := c.UploadFile(ctx, src, UploadOptions{Folder: folder})
	if err != nil {
		t.Fatal(err)
	}
	up := time.Since(start)
	start = time.Now()
	out := filepath.Join(dir, "out.ipa")
	if err := c.DownloadFile(ctx, res.File, out, DownloadOptions{}); err != nil {
		t.Fatal(err)
	}
	down := time.Since(start)
	peak := stop()

	if !sameFiles(t, src, out) {
		t.Fatal("downloaded bytes differ from the uploaded ones")
	}
	stored, _ := s.Open(res.File.ID)
	storedPath := stored.Name()
	stored.Close()
	if !sameFiles(t, src, storedPath) {
		t.Fatal("stored bytes differ from the uploaded ones")
	}
	faults := map[drivetest.Fault]int{}
	reqs := s.Requests()
	for _, r := range reqs {
		faults[r.Fault]++
	}
	mb := float64(size) / (1 << 20)
	t.Logf("%d requests, faults %v; upload %.1fs (%.0f MB/s), download %.1fs (%.0f MB/s); heap peak %.1f MiB",
		len(reqs), faults, up.Seconds(), mb/up.Seconds(), down.Seconds(), mb/down.Seconds(), float64(peak)/(1<<20))
	if limit := uint64(64<<20 + DefaultChunkSize); peak > limit {
		t.Errorf("heap peaked at %d bytes, over %d", peak, limit)
	}
	if l := logs.String(); strings.Contains(l, "upload_id=s") {
		t.Errorf("the retry log shows a session ID:\n%s", l)
	}
	if len(faults) < 5 {
		t.Errorf("too few fault kinds met: %v", faults)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
