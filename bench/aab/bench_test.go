package aabbench

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/flate"
	"context"
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
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/storesign/storesign/internal/testenv"
	"github.com/storesign/storesign/signing"
	"github.com/storesign/storesign/signing/aab"
	"github.com/storesign/storesign/signing/signingtest"
)

// Keystore of the benchmark: both tools sign with the same key, read
// from the same JKS file.
const (
	ksPass  = "bench-secret"
	ksAlias = "upload"
)

// benchSize returns the bundle size to build, in bytes.
func benchSize() int64 {
	if s := os.Getenv("STORESIGN_BENCH_MB"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			return int64(n) << 20
		}
	}
	return 600 << 20
}

// Kinds of content of the synthetic bundle's entries.
const (
	noise = iota // incompressible: PNG, audio, native code as stored
	code         // code-like words: deflates about 2:1, as dex files do
	text         // XML-like text: deflates about 3:2 or better
)

// entryPlan is one kind of entry of the synthetic bundle.
type entryPlan struct {
	pattern string  // fmt pattern of the name, given the index
	count   int     // entries
	share   float64 // of the bundle's size
	deflate bool    // deflated (else stored)
	content int     // noise, code or text
}

// plans returns the layout of a bundle with about 4,700 entries, in the
// proportions of a large game built by Gradle: deflated dex files, many
// small deflated XML resources and stored PNGs, a protobuf resource
// table, large asset packs of already-compressed data (deflated, which
// leaves them as stored blocks), stored audio and stored native libraries
// for two ABIs.
func plans() []entryPlan {
	return []entryPlan{
		{"base/dex/classes%d.dex", 8, 0.15, true, code},
		{"base/res/layout/layout_%04d.xml", 2000, 0.02, true, text},
		{"base/resources.pb", 1, 0.02, true, code},
		{"base/res/drawable-xxhdpi/image_%04d.png", 2400, 0.18, false, noise},
		{"base/assets/packs/pack_%02d.bundle", 12, 0.28, true, noise},
		{"base/assets/audio/track_%03d.ogg", 200, 0.05, false, noise},
		{"base/lib/arm64-v8a/libgame%02d.so", 30, 0.15, false, noise},
		{"base/lib/armeabi-v7a/libgame%02d.so", 30, 0.15, false, noise},
	}
}

// writeBundle writes the deterministic synthetic bundle of about total
// bytes to path (via a temporary file, so that an interrupted build
// leaves nothing to reuse).
func writeBundle(tb testing.TB, path string, total int64) (entries int) {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	zw := zip.NewWriter(bw)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(w, flate.DefaultCompression)
	})
	mod := time.Date(1981, 1, 1, 1, 1, 2, 0, time.UTC) // bundletool's fixed time
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
	bytesOf := func(b []byte) func(io.Writer) { return func(w io.Writer) { w.Write(b) } }
	add("BundleConfig.pb", true, bytesOf([]byte("\x0a\x07\x0a\x051.1.0")))
	add("BUNDLE-METADATA/com.android.tools.build.libraries/dependencies.pb", true, bytesOf(bytes.Repeat([]byte("dependency "), 2000)))
	add("base/manifest/AndroidManifest.xml", true, bytesOf(signingtest.AndroidManifest(signingtest.APKOptions{Package: "com.example.biggame", MinSDK: 21})))
	add("base/native.pb", true, bytesOf([]byte("\x0a\x13\x0a\x11lib/arm64-v8a")))
	rng := rand.New(rand.NewChaCha8([32]byte{'s', 't', 'o', 'r', 'e', 's', 'i', 'g', 'n', '-', 'a', 'a', 'b'}))
	vocab := make([]uint32, 64)
	for i := range vocab {
		vocab[i] = rng.Uint32()
	}
	buf := make([]byte, 1<<20)
	for _, p := range plans() {
		size := int(float64(total) * p.share / float64(p.count))
		switch p.content {
		case code:
			size *= 2 // deflated to about half
		case text:
			size = size * 3 / 2
		}
		for i := range p.count {
			name := p.pattern
			if strings.Contains(name, "%") {
				name = fmt.Sprintf(p.pattern, i)
			}
			add(name, p.deflate, func(w io.Writer) {
				for left := size; left > 0; {
					n := min(left, len(buf))
					fill(rng, buf[:n], p.content, vocab)
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
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		tb.Fatal(err)
	}
	return entries
}

// fill fills b with content of a kind: noise, code (words of a small
// vocabulary, a quarter of them with random low bits) or text.
func fill(r *rand.Rand, b []byte, kind int, vocab []uint32) {
	switch kind {
	case code:
		for len(b) >= 4 {
			w := vocab[r.IntN(len(vocab))]
			if r.IntN(4) == 0 {
				w ^= r.Uint32() & 0xffff
			}
			b[0], b[1], b[2], b[3] = byte(w), byte(w>>8), byte(w>>16), byte(w>>24)
			b = b[4:]
		}
	case text:
		const chars = "abcdefghijklmnop <>=\"/\n"
		for i := range b {
			b[i] = chars[r.IntN(len(chars))]
		}
		return
	}
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

// fixture is what every benchmark of the package starts from.
type fixture struct {
	dir, in string
	entries int
	size    int64
	id      *signing.Identity
}

// setup builds (or reuses, in STORESIGN_BENCH_DIR) the bundle and the
// keystore.
func setup(b testing.TB) fixture {
	dir := os.Getenv("STORESIGN_BENCH_DIR") // keep (and reuse) the bundle there
	if dir == "" {
		dir = b.TempDir()
	}
	id := signingtest.SelfSigned("benchmark upload key", signingtest.RSAKey("benchmark", 2048))
	in := filepath.Join(dir, fmt.Sprintf("game-%dMB-v2.aab", benchSize()>>20))
	start := time.Now()
	entries := 0
	if zr, err := zip.OpenReader(in); err == nil {
		entries = len(zr.File)
		zr.Close()
	} else {
		entries = writeBundle(b, in, benchSize())
	}
	st, err := os.Stat(in)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("bundle %s: %d MB, %d entries (%s)", filepath.Base(in), st.Size()>>20, entries, time.Since(start).Round(time.Millisecond))
	if err := os.WriteFile(filepath.Join(dir, "upload.jks"), signingtest.JKS(id, ksAlias, ksPass, ksPass), 0o600); err != nil {
		b.Fatal(err)
	}
	return fixture{dir: dir, in: in, entries: entries, size: st.Size(), id: id}
}

// usage is what one run of a command cost.
type usage struct {
	wall, cpu time.Duration
	rss       int64 // peak, bytes
}

// run runs a command, with the keystore password in its environment, and
// returns its wall time, CPU time (user and system), peak RSS (getrusage's
// ru_maxrss of the child) and output.
func run(tb testing.TB, name string, args ...string) (usage, string) {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "KS_PASS="+ksPass)
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
	return usage{wall: d, cpu: time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), rss: ru.Maxrss * 1024}, out.String()
}

// prepare gives each run the same start: its old output deleted, every
// dirty page on disk (writing back 600 MB would otherwise slow whichever
// tool runs next) and the input in the page cache.
func prepare(tb testing.TB, in, out string) {
	os.Remove(out)
	syscall.Sync()
	f, err := os.Open(in)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	if _, err := io.Copy(io.Discard, f); err != nil {
		tb.Fatal(err)
	}
}

// syncFile flushes path to disk and returns how long that took.
func syncFile(tb testing.TB, path string) time.Duration {
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	start := time.Now()
	if err := f.Sync(); err != nil {
		tb.Fatal(err)
	}
	return time.Since(start)
}

// buildStoresign builds the storesign binary of this module into dir, or
// returns the one STORESIGN_BENCH_BIN names (to time another version).
func buildStoresign(b *testing.B, dir string) string {
	if bin := os.Getenv("STORESIGN_BENCH_BIN"); bin != "" {
		return bin
	}
	root, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		b.Fatal(err)
	}
	bin := filepath.Join(dir, "storesign")
	build := exec.Command("go", "build", "-o", bin, "./cmd/storesign")
	build.Dir = filepath.Dir(strings.TrimSpace(string(root)))
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// BenchmarkSignVsJarsigner signs one large bundle with the storesign
// binary (`aab sign`, which verifies its output before the rename) and
// with jarsigner 17 (SHA256withRSA, SHA-256 digests), and reports both
// times, CPU times, peak RSS and the ratios: the medians of the runs.
// jarsigner -verify -strict then checks storesign's output once.
func BenchmarkSignVsJarsigner(b *testing.B) {
	jarsigner := testenv.Tool(b, "jarsigner")
	fx := setup(b)
	storesign := buildStoresign(b, fx.dir)
	ks := filepath.Join(fx.dir, "upload.jks")
	outS := filepath.Join(fx.dir, "storesign.aab")
	outJ := filepath.Join(fx.dir, "jarsigner.aab")
	var us, uj []usage
	var syncs []time.Duration
	b.ResetTimer()
	for range b.N {
		prepare(b, fx.in, outS)
		u, _ := run(b, storesign, "aab", "sign", "--ks", ks, "--ks-pass", "env:KS_PASS", "--ks-key-alias", ksAlias, "--out", outS, fx.in)
		us = append(us, u)
		prepare(b, fx.in, outJ)
		u, _ = run(b, jarsigner, "-keystore", ks, "-storepass:env", "KS_PASS", "-sigalg", "SHA256withRSA", "-digestalg", "SHA-256",
			"-signedjar", outJ, fx.in, ksAlias)
		uj = append(uj, u)
		// storesign returns once its output is on disk (synced before
		// the rename); jarsigner leaves its output to the page cache.
		syncs = append(syncs, syncFile(b, outJ))
	}
	b.StopTimer()
	// The output of storesign as jarsigner sees it.
	verify := exec.Command(jarsigner, "-verify", "-strict", "-keystore", ks, "-storepass:env", "KS_PASS", outS)
	verify.Env = append(os.Environ(), "KS_PASS="+ksPass)
	if msg, err := verify.CombinedOutput(); err != nil || !bytes.Contains(msg, []byte("jar verified")) {
		b.Errorf("jarsigner -verify -strict of storesign's output: %v\n%s", err, msg)
	}
	s, j := medians(us), medians(uj)
	v := slices.Clone(syncs)
	slices.Sort(v)
	js := v[len(v)/2]
	b.Logf("storesign wall %v, jarsigner wall %v, then its fsync %v", walls(us), walls(uj), syncs)
	b.ReportMetric(s.wall.Seconds(), "storesign-s")
	b.ReportMetric(j.wall.Seconds(), "jarsigner-s")
	b.ReportMetric(j.wall.Seconds()/s.wall.Seconds(), "speedup-x")
	b.ReportMetric((j.wall + js).Seconds(), "jarsigner-synced-s")
	b.ReportMetric((j.wall+js).Seconds()/s.wall.Seconds(), "speedup-synced-x")
	b.ReportMetric(s.cpu.Seconds(), "storesign-cpu-s")
	b.ReportMetric(j.cpu.Seconds(), "jarsigner-cpu-s")
	b.ReportMetric(float64(s.rss)/(1<<20), "storesign-MiB")
	b.ReportMetric(float64(j.rss)/(1<<20), "jarsigner-MiB")
	b.ReportMetric(0, "ns/op")
	fmt.Printf("\nAAB: %d MB, %d entries, median of %d runs\n", fx.size>>20, fx.entries, b.N)
	fmt.Printf("%-26s %10s %12s %10s\n", "", "wall", "peak RSS", "CPU")
	fmt.Printf("%-26s %9.2fs %9.1f MiB %9.2fs\n", "storesign aab sign (+check)", s.wall.Seconds(), float64(s.rss)/(1<<20), s.cpu.Seconds())
	fmt.Printf("%-26s %9.2fs %9.1f MiB %9.2fs\n", "jarsigner 17", j.wall.Seconds(), float64(j.rss)/(1<<20), j.cpu.Seconds())
	fmt.Printf("%-26s %9.2fx %12s %9.2fx\n", "jarsigner/storesign", j.wall.Seconds()/s.wall.Seconds(), "", j.cpu.Seconds()/s.cpu.Seconds())
	fmt.Printf("jarsigner's output synced to disk as storesign's is before it returns: +%.2fs, %.2fx\n\n", js.Seconds(), (j.wall+js).Seconds()/s.wall.Seconds())
}

// BenchmarkSignFile times the library's SignFile (with its check) in
// this process, for profiling (-cpuprofile, -memprofile).
func BenchmarkSignFile(b *testing.B) {
	fx := setup(b)
	out := filepath.Join(fx.dir, "library.aab")
	b.SetBytes(fx.size)
	for _, skip := range []bool{false, true} {
		name := "checked"
		if skip {
			name = "unchecked"
		}
		b.Run(name, func(b *testing.B) {
			var cpu time.Duration
			for range b.N {
				b.StopTimer()
				prepare(b, fx.in, out)
				c := cpuTime()
				b.StartTimer()
				if _, err := aab.SignFile(context.Background(), fx.in, out, aab.Options{Identity: fx.id, SkipVerify: skip}); err != nil {
					b.Fatal(err)
				}
				cpu += cpuTime() - c
			}
			b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
		})
	}
}

// BenchmarkVerifyFile times the check alone, on the output of SignFile.
func BenchmarkVerifyFile(b *testing.B) {
	fx := setup(b)
	out := filepath.Join(fx.dir, "library.aab")
	if _, err := aab.SignFile(context.Background(), fx.in, out, aab.Options{Identity: fx.id, SkipVerify: true}); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(fx.size)
	b.ResetTimer()
	c := cpuTime()
	for range b.N {
		if _, err := aab.VerifyFile(context.Background(), out, aab.VerifyOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric((cpuTime()-c).Seconds()/float64(b.N), "cpu-s/op")
}

// cpuTime returns the CPU time (user and system) this process used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkFloor reads the bundle once the way signing must: every entry
// inflated and hashed with SHA-256, on every core, nothing written. A
// signature with its check needs this twice (the input, then the output).
func BenchmarkFloor(b *testing.B) {
	fx := setup(b)
	zr, err := zip.OpenReader(fx.in)
	if err != nil {
		b.Fatal(err)
	}
	defer zr.Close()
	var raw, inflated int64
	for _, f := range zr.File {
		if f.Method == zip.Deflate {
			inflated += int64(f.UncompressedSize64)
		}
		raw += int64(f.UncompressedSize64)
	}
	b.SetBytes(fx.size)
	b.ResetTimer()
	for range b.N {
		var wg sync.WaitGroup
		next := make(chan *zip.File)
		for range 2 {
			wg.Go(func() {
				buf := make([]byte, 256<<10)
				for f := range next {
					rc, err := f.Open()
					if err != nil {
						b.Error(err)
						continue
					}
					h := sha256.New()
					io.CopyBuffer(h, rc, buf)
					rc.Close()
				}
			})
		}
		for _, f := range zr.File {
			next <- f
		}
		close(next)
		wg.Wait()
	}
	b.ReportMetric(float64(raw)/1e6, "hashed-MB")
	b.ReportMetric(float64(inflated)/1e6, "inflated-MB")
}

func medians(us []usage) usage {
	return usage{
		wall: median[time.Duration](us, func(u usage) int64 { return int64(u.wall) }),
		cpu:  median[time.Duration](us, func(u usage) int64 { return int64(u.cpu) }),
		rss:  median[int64](us, func(u usage) int64 { return u.rss }),
	}
}

func median[T time.Duration | int64](us []usage, f func(usage) int64) T {
	v := make([]int64, len(us))
	for i, u := range us {
		v[i] = f(u)
	}
	slices.Sort(v)
	n := len(v)
	if n%2 == 1 {
		return T(v[n/2])
	}
	return T((v[n/2-1] + v[n/2]) / 2)
}

func walls(us []usage) []time.Duration {
	var d []time.Duration
	for _, u := range us {
		d = append(d, u.wall.Round(10*time.Millisecond))
	}
	return d
}
