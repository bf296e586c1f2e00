package apkbench

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/flate"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/storesign/storesign/internal/testenv"
	"github.com/storesign/storesign/signing/signingtest"
)

// benchSize returns the APK size to build, in bytes.
func benchSize() int64 {
	if s := os.Getenv("STORESIGN_BENCH_MB"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			return int64(n) << 20
		}
	}
	return 600 << 20
}

// entryPlan is one kind of entry of the synthetic APK.
type entryPlan struct {
	pattern  string // fmt pattern of the name, given the index
	count    int
	size     int  // bytes of content
	deflate  bool // deflated (else stored)
	textLike bool // compressible content
}

// plans returns the layout of an APK of about total bytes with about
// 6,000 entries, in the proportions of a large game: 20% dex, 30% native
// libraries, 25% PNG, 20% assets, a few % XML and resources.arsc.
func plans(total int64) []entryPlan {
	mb := func(f float64, n int) int { return int(float64(total) * f / float64(n)) }
	total = total * 112 / 100 // dex and XML shrink when deflated
	return []entryPlan{
		{"classes%d.dex", 8, mb(0.20, 8), true, true},
		{"res/layout/layout_%04d.xml", 2000, mb(0.02, 2000), true, true},
		{"resources.arsc", 1, mb(0.03, 1), false, true},
		{"res/drawable-xxhdpi/image_%04d.png", 2800, mb(0.25, 2800), false, false},
		{"assets/data/blob_%04d.bin", 1100, mb(0.20, 1100), false, false},
		{"lib/arm64-v8a/libgame%02d.so", 30, mb(0.15, 30), false, false},
		{"lib/armeabi-v7a/libgame%02d.so", 30, mb(0.15, 30), false, false},
	}
}

// writeAPK writes the deterministic synthetic APK to path.
func writeAPK(tb testing.TB, path string, total int64) (entries int) {
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	zw := zip.NewWriter(bw)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(w, flate.BestSpeed)
	})
	mod := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	add := func(name string, deflate bool, content func(io.Writer)) {
		h := &zip.FileHeader{Name: name, Method: zip.Store, Modified: mod}
		if deflate {
			h.Method = zip.Deflate
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			tb.Fatal(err)
		}
		content(w)
		entries++
	}
	add("AndroidManifest.xml", true, func(w io.Writer) {
		w.Write(signingtest.AndroidManifest(signingtest.APKOptions{Package: "com.example.biggame", MinSDK: 21}))
	})
	rng := rand.New(rand.NewChaCha8([32]byte{'s', 't', 'o', 'r', 'e', 's', 'i', 'g', 'n'}))
	buf := make([]byte, 1<<20)
	for _, p := range plans(total) {
		for i := range p.count {
			name := p.pattern
			if strings.Contains(name, "%") {
				name = fmt.Sprintf(p.pattern, i)
			}
			add(name, p.deflate, func(w io.Writer) {
				left := p.size
				for left > 0 {
					n := min(left, len(buf))
					if p.textLike {
						// Half repetitive text, half noise: compresses
						// about 2:1, like dex files.
						line := fmt.Sprintf("%s line %d of storesign benchmark data\n", name, left)
						for j := 0; j < n/2; j++ {
							buf[j] = line[j%len(line)]
						}
						fillRandom(rng, buf[n/2:n])
					} else {
						fillRandom(rng, buf[:n])
					}
					w.Write(buf[:n])
					left -= n
				}
			})
		}
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	if err := bw.Flush(); err != nil {
		tb.Fatal(err)
	}
	return entries
}

// countEntries returns the number of entries of an APK left by an earlier
// run in STORESIGN_BENCH_DIR, or 0.
func countEntries(tb testing.TB, path string) int {
	if os.Getenv("STORESIGN_BENCH_DIR") == "" {
		return 0
	}
	zr, err := zip.OpenReader(path)
	if err != nil {
		return 0
	}
	defer zr.Close()
	return len(zr.File)
}

func fillRandom(r *rand.Rand, b []byte) {
	for len(b) >= 8 {
		v := r.Uint64()
		for k := range 8 {
			b[k] = byte(v >> (8 * k))
		}
		b = b[8:]
	}
	for i := range b {
		b[i] = byte(r.Uint32())
	}
}

// run runs a command and returns its wall time, peak RSS in bytes, CPU
// time (user and system) and output.
func run(tb testing.TB, name string, args ...string) (time.Duration, int64, time.Duration, string) {
	cmd := exec.Command(name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	if err != nil {
		tb.Fatalf("%s: %v\n%s", filepath.Base(name), err, out.Bytes())
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		tb.Fatal("no rusage")
	}
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return d, ru.Maxrss * 1024, cpu, out.String()
}

// phases reads "signing X, verifying Y" from storesign's -v report.
func phases(out string) (sign, verify time.Duration) {
	_, rest, ok := strings.Cut(out, "(signing ")
	if !ok {
		return 0, 0
	}
	s, rest, _ := strings.Cut(rest, ", verifying ")
	v, _, _ := strings.Cut(rest, ")")
	sign, _ = time.ParseDuration(s)
	verify, _ = time.ParseDuration(v)
	return sign, verify
}

func fileSHA256(tb testing.TB, path string) [32]byte {
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		tb.Fatal(err)
	}
	return [32]byte(h.Sum(nil))
}

// BenchmarkSignVsApksigner signs one large APK with the storesign binary
// and with apksigner 35, and reports both times, peak RSS and ratios.
func BenchmarkSignVsApksigner(b *testing.B) {
	apksigner := testenv.Tool(b, "apksigner35")
	dir := os.Getenv("STORESIGN_BENCH_DIR") // keep (and reuse) the APK there
	if dir == "" {
		dir = b.TempDir()
	}

	// The storesign binary, built from this module.
	root, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		b.Fatal(err)
	}
	storesign := filepath.Join(dir, "storesign")
	build := exec.Command("go", "build", "-o", storesign, "./cmd/storesign")
	build.Dir = filepath.Dir(strings.TrimSpace(string(root)))
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}

	id := signingtest.SelfSigned("benchmark", signingtest.RSAKey("benchmark", 2048))
	key := filepath.Join(dir, "release.pk8")
	cert := filepath.Join(dir, "release.x509.pem")
	if err := os.WriteFile(key, signingtest.KeyPKCS8(id), 0o600); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(cert, signingtest.CertPEM(id.Certificate), 0o644); err != nil {
		b.Fatal(err)
	}
	in := filepath.Join(dir, "game.apk")
	start := time.Now()
	entries := countEntries(b, in)
	if entries == 0 {
		entries = writeAPK(b, in, benchSize())
	}
	st, err := os.Stat(in)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("built %s: %d MB, %d entries, in %s", filepath.Base(in), st.Size()>>20, entries, time.Since(start).Round(time.Millisecond))

	flags := []string{"--key", key, "--cert", cert, "--v1-signing-enabled", "true", "--v2-signing-enabled", "true", "--v3-signing-enabled", "true"}
	outS := filepath.Join(dir, "storesign.apk")
	outA := filepath.Join(dir, "apksigner.apk")
	// prepare gives each run the same start: its old output deleted, every
	// dirty page on disk (deleting and writing back 600 MB would
	// otherwise slow whichever tool runs next) and the input in the page
	// cache.
	prepare := func(out string) {
		os.Remove(out)
		syscall.Sync()
		fileSHA256(b, in)
	}
	var ts, ta, tv, cs, ca, psign, pverify []time.Duration
	var rs, ra []int64
	b.ResetTimer()
	for range b.N {
		prepare(outS)
		d, r, c, out := run(b, storesign, append([]string{"apk", "sign", "-v", "--out", outS}, append(flags, in)...)...)
		ps, pv := phases(out)
		psign = append(psign, ps)
		pverify = append(pverify, pv)
		ts, cs, rs = append(ts, d), append(cs, c), append(rs, r)
		prepare(outA)
		d, r, c, _ = run(b, apksigner, append([]string{"sign", "--out", outA, "--v4-signing-enabled", "false"}, append(flags, in)...)...)
		ta, ca, ra = append(ta, d), append(ca, c), append(ra, r)
		// storesign checks its output before the rename; apksigner's
		// users run apksigner verify for that.
		d, _, _, _ = run(b, apksigner, "verify", outA)
		tv = append(tv, d)
	}
	b.StopTimer()
	b.Logf("storesign wall %v, apksigner wall %v", ts, ta)
	report(b, st.Size(), entries, outS, outA, median(ts), median(ta), median(tv), median(cs), median(ca), median(psign), median(pverify), median(rs), median(ra))
}

// median returns the median of v (the mean of the middle two for an even
// count).
func median[T time.Duration | int64](v []T) T {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// report prints and reports the medians of the runs.
func report(b *testing.B, size int64, entries int, outS, outA string, ts, ta, tv, cs, ca, psign, pverify time.Duration, rs, ra int64) {
	identical := fileSHA256(b, outS) == fileSHA256(b, outA)
	b.ReportMetric(ts.Seconds(), "storesign-s")
	b.ReportMetric(ta.Seconds(), "apksigner-s")
	b.ReportMetric(ta.Seconds()/ts.Seconds(), "speedup-x")
	b.ReportMetric((ta+tv).Seconds()/ts.Seconds(), "speedup-checked-x")
	b.ReportMetric(tv.Seconds(), "apksigner-verify-s")
	b.ReportMetric(psign.Seconds(), "storesign-signing-s")
	b.ReportMetric(pverify.Seconds(), "storesign-verifying-s")
	b.ReportMetric(cs.Seconds(), "storesign-cpu-s")
	b.ReportMetric(ca.Seconds(), "apksigner-cpu-s")
	b.ReportMetric(float64(rs)/(1<<20), "storesign-MiB")
	b.ReportMetric(float64(ra)/(1<<20), "apksigner-MiB")
	b.ReportMetric(float64(rs)/float64(ra), "rss-ratio")
	b.ReportMetric(0, "ns/op")
	fmt.Printf("\nAPK: %d MB, %d entries (v1+v2+v3, 16 KiB native library alignment), median of %d runs\n", size>>20, entries, b.N)
	fmt.Printf("%-22s %10s %12s %10s\n", "", "wall", "peak RSS", "CPU")
	fmt.Printf("%-22s %9.2fs %9.1f MiB %9.2fs\n", "storesign apk sign", ts.Seconds(), float64(rs)/(1<<20), cs.Seconds())
	fmt.Printf("%-22s %9.2fs %9.1f MiB %9.2fs\n", "apksigner 35 sign", ta.Seconds(), float64(ra)/(1<<20), ca.Seconds())
	fmt.Printf("%-22s %9.2fx %11.3f %9.2fx\n", "apksigner/storesign", ta.Seconds()/ts.Seconds(), float64(rs)/float64(ra), ca.Seconds()/cs.Seconds())
	fmt.Printf("(RSS column: storesign/apksigner)\n")
	fmt.Printf("storesign's wall time: signing %.2fs (%.2fx faster than apksigner), verifying its output %.2fs\n",
		psign.Seconds(), ta.Seconds()/psign.Seconds(), pverify.Seconds())
	fmt.Printf("with the check apksigner's users run (apksigner verify, %.2fs): apksigner %.2fs, %.2fx slower than storesign\n",
		tv.Seconds(), (ta + tv).Seconds(), (ta+tv).Seconds()/ts.Seconds())
	fmt.Printf("outputs byte-identical: %t\n\n", identical)
	if !identical {
		b.Error("storesign's and apksigner's outputs differ")
	}
}
