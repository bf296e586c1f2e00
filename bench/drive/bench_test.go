package drivebench

import (
	"context"
	"crypto/md5"
	"encoding/binary"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
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

func writeFile(b *testing.B, path string, n int64) {
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

func plainDown(b *testing.B, url, out string) {
	resp, err := http.Get(url)
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
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
}

func plainUp(b *testing.B, url, src string) {
	f, err := os.Open(src)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	req, _ := http.NewRequest("PUT", url, f)
	req.ContentLength = fi.Size()
	resp, err := http.DefaultClient.Do(req)
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

	var tPlainDown, tDriveDown, tPlainUp, tDriveUp time.Duration
	var cPlainDown, cDriveDown, cPlainUp, cDriveUp time.Duration
	cpu := func() time.Duration {
		var ru syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	timeIt := func(d *time.Duration, fn func()) {
		start, c0 := time.Now(), cpu()
		fn()
		*d += time.Since(start)
		switch d {
		case &tPlainDown:
			cPlainDown += cpu() - c0
		case &tDriveDown:
			cDriveDown += cpu() - c0
		case &tPlainUp:
			cPlainUp += cpu() - c0
		case &tDriveUp:
			cDriveUp += cpu() - c0
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		timeIt(&tPlainDown, func() { plainDown(b, plain.URL+"/file", out) })
		timeIt(&tDriveDown, func() {
			if err := c.DownloadFile(ctx, meta, out, drive.DownloadOptions{}); err != nil {
				b.Fatal(err)
			}
		})
		os.Remove(out)
		os.Remove(out)
		timeIt(&tPlainUp, func() { plainUp(b, plain.URL+"/file", src) })
		timeIt(&tDriveUp, func() {
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
	mbs := func(d time.Duration) float64 { return float64(size) * float64(b.N) / d.Seconds() / 1e6 }
	b.ReportMetric(mbs(tPlainDown), "plain-down-MB/s")
	b.ReportMetric(mbs(tDriveDown), "drive-down-MB/s")
	b.ReportMetric(mbs(tPlainUp), "plain-up-MB/s")
	b.ReportMetric(mbs(tDriveUp), "drive-up-MB/s")
	gib := float64(size) * float64(b.N) / (1 << 30)
	b.ReportMetric(cPlainDown.Seconds()/gib, "plain-down-cpu-s/GiB")
	b.ReportMetric(cDriveDown.Seconds()/gib, "drive-down-cpu-s/GiB")
	b.ReportMetric(cPlainUp.Seconds()/gib, "plain-up-cpu-s/GiB")
	b.ReportMetric(cDriveUp.Seconds()/gib, "drive-up-cpu-s/GiB")
	b.ReportMetric(md5Speed(), "md5-MB/s")
	b.ReportMetric(tPlainDown.Seconds()/tDriveDown.Seconds(), "down-ratio")
	b.ReportMetric(tPlainUp.Seconds()/tDriveUp.Seconds(), "up-ratio")
}

// md5Speed is the MB/s of one core hashing MD5: the ceiling of any
// transfer that must check Drive's md5Checksum, since MD5 is sequential.
func md5Speed() float64 {
	buf := make([]byte, 64<<20)
	h := md5.New()
	start := time.Now()
	h.Write(buf)
	return float64(len(buf)) / time.Since(start).Seconds() / 1e6
}
