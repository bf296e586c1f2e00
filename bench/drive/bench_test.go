package drivebench

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/storesign/storesign/drive"
	"github.com/storesign/storesign/drive/drivetest"
)

func benchSize() int64 {
	if v, err := strconv.Atoi(os.Getenv("STORESIGN_BENCH_MIB")); err == nil && v > 0 {
		return int64(v) << 20
	}
	return 1 << 30
}

func writeFile(b testing.TB, path string, n int64) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	block := make([]byte, 1<<20)
	for i := range block {
		block[i] = byte(i*31 + i>>11)
	}
	for off := int64(0); off < n; off += int64(len(block)) {
		binary.LittleEndian.PutUint64(block, uint64(off))
		if _, err := f.Write(block[:min(int64(len(block)), n-off)]); err != nil {
			b.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
}

// plainServer serves GET /file from src and stores PUT /file bodies.
func plainServer(src, upDir string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case "GET":
			f, err := os.Open(src)
			if err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			defer f.Close()
			fi, _ := f.Stat()
			w.Header().Set("Content-Length", strconv.FormatInt(fi.Size(), 10))
			io.Copy(w, f)
		case "PUT":
			f, err := os.CreateTemp(upDir, "up-*")
			if err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			// Kept until the iteration ends, as the fake keeps its
			// uploads: removing it at once would spare the kernel the
			// write-back that the fake's uploads pay for.
			_, err = io.Copy(f, r.Body)
			f.Close()
			if err != nil {
				http.Error(w, err.Error(), 500)
			}
		}
	})
}

// plainClient is net/http's default transport with 256 KiB buffers: with
// io.Copy's 32 KiB reads, the plain copy's fastest setting here (about 700
// MB/s against 550-600 with 4 or 16 KiB read buffers, measured the same
// way). The drive client reads larger blocks and does best with a 16 KiB
// read buffer; each side gets its own best.
func plainClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ReadBufferSize = 256 << 10
	t.WriteBufferSize = 256 << 10
	return &http.Client{Transport: t}
}

// plainDown copies url to out and returns how long fsync took afterwards
// (not counted in the copy's time: see BenchmarkDrive).
func plainDown(b testing.TB, hc *http.Client, url, out string) time.Duration {
	resp, err := hc.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	f, err := os.Create(out)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	if err := f.Sync(); err != nil {
		b.Fatal(err)
	}
	sync := time.Since(start)
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return sync
}

func plainUp(b testing.TB, hc *http.Client, url, src string) {
	f, err := os.Open(src)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	req, _ := http.NewRequest("PUT", url, f)
	req.ContentLength = fi.Size()
	resp, err := hc.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

func BenchmarkDrive(b *testing.B) {
	size := benchSize()
	dir := b.TempDir()
	src := filepath.Join(dir, "src.bin")
	writeFile(b, src, size)

	plain := httptest.NewServer(plainServer(src, dir))
	defer plain.Close()
	fake, err := drivetest.New(drivetest.Options{Dir: filepath.Join(dir, "fake")})
	if err != nil {
		b.Fatal(err)
	}
	defer fake.Close()
	ds := httptest.NewServer(fake)
	defer ds.Close()
	ctx := context.Background()
	c, err := drive.New(ctx, drive.WithEndpoint(ds.URL), drive.WithoutEnvironment())
	if err != nil {
		b.Fatal(err)
	}
	folder, _ := fake.AddFolder("", "", "bench")
	f, err := os.Open(src)
	if err != nil {
		b.Fatal(err)
	}
	df, err := fake.AddFile(folder, "src.bin", f)
	f.Close()
	if err != nil {
		b.Fatal(err)
	}
	meta, err := c.Stat(ctx, df.ID)
	if err != nil {
		b.Fatal(err)
	}
	out := filepath.Join(dir, "out.bin")
	hc := plainClient()

	var tPlainDown, tDriveDown, tPlainUp, tDriveUp, tSync time.Duration
	var cPlainDown, cDriveDown, cPlainUp, cDriveUp time.Duration
	// CPU time the machine spent outside this process during each phase.
	var oPlainDown, oDriveDown, oPlainUp, oDriveUp time.Duration
	timeIt := func(t, c, o *time.Duration, fn func()) {
		// Each phase starts with no dirty pages: past a threshold (about
		// 2 GiB here) the kernel makes writers pay for write-back, up to
		// 2.5 CPU seconds per GiB, which would charge whichever phase
		// comes after another's writes.
		b.StopTimer()
		syscall.Sync()
		b.StartTimer()
		start, c0, m0 := time.Now(), cpuTime(), machineTime()
		fn()
		*t += time.Since(start)
		*c += cpuTime() - c0
		*o += (machineTime() - m0) - (cpuTime() - c0)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var synced time.Duration
		timeIt(&tPlainDown, &cPlainDown, &oPlainDown, func() { synced = plainDown(b, hc, plain.URL+"/file", out) })
		tPlainDown -= synced
		tSync += synced
		os.Remove(out)
		timeIt(&tDriveDown, &cDriveDown, &oDriveDown, func() {
			if err := c.DownloadFile(ctx, meta, out, drive.DownloadOptions{}); err != nil {
				b.Fatal(err)
			}
		})
		os.Remove(out)
		timeIt(&tPlainUp, &cPlainUp, &oPlainUp, func() { plainUp(b, hc, plain.URL+"/file", src) })
		timeIt(&tDriveUp, &cDriveUp, &oDriveUp, func() {
			if _, err := c.UploadFile(ctx, src, drive.UploadOptions{Folder: folder, Name: "up-" + strconv.Itoa(i)}); err != nil {
				b.Fatal(err)
			}
		})
		b.StopTimer()
		ups, _ := filepath.Glob(filepath.Join(dir, "up-*"))
		for _, u := range ups {
			os.Remove(u)
		}
		for _, f := range fake.Children(folder) {
			if f.ID != df.ID {
				fake.Delete(f.ID)
			}
		}
		b.StartTimer()
	}
	b.StopTimer()
	gib := float64(size) * float64(b.N) / (1 << 30)
	mbs := func(d time.Duration) float64 { return gib * (1 << 30) / d.Seconds() / 1e6 }
	perGiB := func(d time.Duration) float64 { return d.Seconds() / gib }
	b.ReportMetric(mbs(tPlainDown), "plain-down-MB/s")
	b.ReportMetric(mbs(tDriveDown), "drive-down-MB/s")
	b.ReportMetric(mbs(tPlainUp), "plain-up-MB/s")
	b.ReportMetric(mbs(tDriveUp), "drive-up-MB/s")
	b.ReportMetric(tPlainDown.Seconds()/tDriveDown.Seconds(), "down-ratio")
	b.ReportMetric(tPlainUp.Seconds()/tDriveUp.Seconds(), "up-ratio")
	// DownloadFile syncs its temp file before renaming it into place; the
	// plain copy does not, so this ratio charges the plain copy the same.
	b.ReportMetric((tPlainDown+tSync).Seconds()/tDriveDown.Seconds(), "down-ratio-synced")
	b.ReportMetric(perGiB(tSync), "fsync-s/GiB")

	b.ReportMetric(perGiB(cPlainDown), "plain-down-cpu-s/GiB")
	b.ReportMetric(perGiB(cDriveDown), "drive-down-cpu-s/GiB")
	b.ReportMetric(perGiB(cPlainUp), "plain-up-cpu-s/GiB")
	b.ReportMetric(perGiB(cDriveUp), "drive-up-cpu-s/GiB")
	// Cores in use on average (CPU time over wall time), and cores the
	// machine spent outside this process meanwhile (other processes, and
	// kernel threads such as write-back): on a shared machine, the
	// transfer that needs both cores is the first to suffer.
	if machineTime() > 0 {
		b.ReportMetric(oPlainDown.Seconds()/tPlainDown.Seconds(), "plain-down-outside-cores")
		b.ReportMetric(oDriveDown.Seconds()/tDriveDown.Seconds(), "drive-down-outside-cores")
		b.ReportMetric(oPlainUp.Seconds()/tPlainUp.Seconds(), "plain-up-outside-cores")
		b.ReportMetric(oDriveUp.Seconds()/tDriveUp.Seconds(), "drive-up-outside-cores")
	}
	b.ReportMetric(cPlainDown.Seconds()/tPlainDown.Seconds(), "plain-down-cores")
	b.ReportMetric(cDriveDown.Seconds()/tDriveDown.Seconds(), "drive-down-cores")
	b.ReportMetric(cPlainUp.Seconds()/tPlainUp.Seconds(), "plain-up-cores")
	b.ReportMetric(cDriveUp.Seconds()/tDriveUp.Seconds(), "drive-up-cores")

	// What the checksums alone cost: a download hashes MD5 and SHA-256,
	// an upload MD5 on the client and MD5 and SHA-256 in the fake server.
	md5c, shac := hashCPU(md5.New()), hashCPU(sha256.New())
	b.ReportMetric(md5c, "md5-cpu-s/GiB")
	b.ReportMetric(shac, "sha256-cpu-s/GiB")
	procs := runtime.GOMAXPROCS(0)
	b.ReportMetric(float64(procs), "cores")
	b.ReportMetric(ceiling(perGiB(tPlainDown), perGiB(cPlainDown), md5c+shac, md5c, procs), "down-cpu-ceiling")
	b.ReportMetric(ceiling(perGiB(tPlainUp), perGiB(cPlainUp), 2*md5c+shac, md5c, procs), "up-cpu-ceiling")
}

// ceiling is the best drive/plain throughput ratio the CPU allows. Per
// GiB, the plain copy took wall seconds and cpu CPU-seconds; the drive
// transfer does the same work (the same bytes through the same sockets
// and files) plus the hashes, hashCPU CPU-seconds, of which the longest
// single hash, serial CPU-seconds, cannot be split. On procs cores it
// takes at least max((cpu+hashCPU)/procs, serial) seconds. (Counting the
// plain copy's CPU as if it filled every core, plain/(plain+hashes),
// understates the ceiling when the plain copy leaves a core idle.) It is
// an upper bound: the hashes are timed alone, and on this kind of
// machine they run slower beside a copy on the other core.
func ceiling(wall, cpu, hashCPU, serial float64, procs int) float64 {
	return wall / max((cpu+hashCPU)/float64(procs), serial)
}

// machineTime is the CPU time every process on the machine has used so
// far (Linux: /proc/stat), or 0 where unknown.
func machineTime() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal ...
	if len(f) < 9 || f[0] != "cpu" {
		return 0
	}
	var busy int64
	for i, v := range f[1:9] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		n, _ := strconv.ParseInt(v, 10, 64)
		busy += n
	}
	return time.Duration(busy) * time.Second / 100 // USER_HZ
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// hashCPU is the CPU seconds h takes per GiB, measured as process CPU
// time (so a loaded machine slows it but does not inflate it). MD5 and
// SHA-256 are sequential: one core each, whatever the machine.
func hashCPU(h hash.Hash) float64 {
	buf := make([]byte, 1<<20)
	const n = 256
	c0 := cpuTime()
	for range n {
		h.Write(buf)
	}
	return (cpuTime() - c0).Seconds() * (1 << 30) / (n << 20)
}
