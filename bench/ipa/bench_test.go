package ipabench

import (
	"archive/zip"
	"bufio"
	"compress/flate"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/storesign/storesign/signing/ipa"
	"github.com/storesign/storesign/signing/provision"
	"github.com/storesign/storesign/signing/signingtest"
)

func TestMain(m *testing.M) {
	if path := os.Getenv("STORESIGN_BENCH_BUILD"); path != "" {
		if err := buildIPA(path, benchSize()); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func benchSize() int64 {
	if v, err := strconv.Atoi(os.Getenv("STORESIGN_BENCH_MIB")); err == nil && v > 0 {
		return int64(v) << 20
	}
	return 400 << 20
}

// codeLike fills b with instruction words drawn from a small vocabulary,
// with random immediates. They deflate about 4:3 (0.72 at level 1, 0.75
// at level 6): worse than real arm64 code, which level 1 deflates 2.5:1
// or better, so that this benchmark is a hard case for re-signing, whose
// main cost is deflating the signed binaries again.
func codeLike(b []byte, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 1))
	vocab := make([]uint32, 512)
	for i := range vocab {
		vocab[i] = r.Uint32()
	}
	for i := 0; i+4 <= len(b); i += 4 {
		w := vocab[r.IntN(len(vocab))]
		if r.IntN(3) == 0 {
			w ^= r.Uint32() & 0xffff
		}
		b[i], b[i+1], b[i+2], b[i+3] = byte(w), byte(w>>8), byte(w>>16), byte(w>>24)
	}
}

// binary returns an arm64 executable or dylib of about size bytes.
func binary(size int, dylib bool, seed uint64) []byte {
	b := signingtest.IOSBinary(signingtest.IOSBinaryOptions{CodeSize: size, Dylib: dylib, Seed: strconv.FormatUint(seed, 10)})
	code := b[0x1000 : 0x1000+size]
	if real := os.Getenv("STORESIGN_BENCH_CODE"); real != "" {
		realCode(code, real, seed)
	} else {
		codeLike(code, seed)
	}
	return b
}

// realCode fills b with the bytes of the file at path, repeated, from an
// offset that depends on seed: real code compresses as real code does.
func realCode(b []byte, path string, seed uint64) {
	src, err := os.ReadFile(path)
	if err != nil || len(src) < 1<<20 {
		panic(fmt.Sprintf("STORESIGN_BENCH_CODE: %v (want a binary of 1 MiB or more)", err))
	}
	off := int(seed*7919) % len(src)
	for n := 0; n < len(b); {
		k := copy(b[n:], src[off:])
		n, off = n+k, 0
	}
}

// buildIPA writes the benchmark IPA to path: about total bytes of
// content, 40% main executable, 25% in four frameworks and an extension,
// the rest in thousands of resource files of 1 KiB to 64 KiB.
func buildIPA(path string, total int64) error {
	f, err := os.Create(path + ".tmp")
	if err != nil {
		return err
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	zw := zip.NewWriter(bw)
	mod := signingtest.Epoch
	add := func(name string, data []byte, store bool, mode os.FileMode) error {
		h := &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: mod}
		if store {
			h.Method = zip.Store
		}
		h.SetMode(mode)
		w, err := zw.CreateHeader(h)
		if err != nil {
			return err
		}
		_, err = w.Write(data)
		return err
	}
	files := signingtest.IPAFiles(signingtest.IPAOptions{Minimal: true})
	for _, fl := range files {
		data := fl.Data
		if fl.Name == "Payload/Example.app/Example" {
			data = binary(int(total*40/100), false, 1)
		}
		mode := fl.Mode
		if mode == 0 {
			mode = 0o644
		}
		if fl.Symlink {
			mode = os.ModeSymlink | 0o755
		}
		if len(fl.Name) > 0 && fl.Name[len(fl.Name)-1] == '/' {
			mode = os.ModeDir | 0o755
		}
		if err := add(fl.Name, data, fl.Store, mode); err != nil {
			return err
		}
	}
	app := "Payload/Example.app/"
	plistXML := func(id, exe, pkg string) []byte {
		return []byte(fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>CFBundleExecutable</key>
	<string>%s</string>
	<key>CFBundleIdentifier</key>
	<string>%s</string>
	<key>CFBundlePackageType</key>
	<string>%s</string>
	<key>CFBundleShortVersionString</key>
	<string>1.0</string>
	<key>CFBundleVersion</key>
	<string>1</string>
</dict>
</plist>
`, exe, id, pkg))
	}
	per := int(total * 5 / 100)
	for i := range 4 {
		name := fmt.Sprintf("Kit%d", i)
		fw := app + "Frameworks/" + name + ".framework/"
		if err := add(fw+"Info.plist", plistXML("com.example."+name, name, "FMWK"), false, 0o644); err != nil {
			return err
		}
		if err := add(fw+name, binary(per, true, uint64(10+i)), false, 0o755); err != nil {
			return err
		}
		for j := range 50 {
			if err := add(fmt.Sprintf("%sres/%d.json", fw, j), resource(4<<10, uint64(i*1000+j), true), false, 0o644); err != nil {
				return err
			}
		}
	}
	ext := app + "PlugIns/Widget.appex/"
	if err := add(ext+"Info.plist", plistXML("com.example.app.widget", "Widget", "XPC!"), false, 0o644); err != nil {
		return err
	}
	if err := add(ext+"Widget", binary(per, false, 20), false, 0o755); err != nil {
		return err
	}
	// Resources: the rest, 1 KiB to 64 KiB each; images stored, the
	// rest deflated.
	left := total - total*40/100 - 5*int64(per)
	r := rand.New(rand.NewPCG(7, 7))
	for i := 0; left > 0; i++ {
		n := 1<<10 + r.IntN(63<<10)
		image := i%3 == 0
		var name string
		if image {
			name = fmt.Sprintf("%sAssets/img%05d.png", app, i)
		} else {
			name = fmt.Sprintf("%sData/lvl%03d/file%05d.json", app, i%100, i)
		}
		if err := add(name, resource(n, uint64(i), !image), image, 0o644); err != nil {
			return err
		}
		left -= int64(n)
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(path+".tmp", path)
}

// resource returns n bytes: text-like (compressible) or random.
func resource(n int, seed uint64, text bool) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(seed, 3))
	for i := range b {
		if text {
			b[i] = "abcdefgh {}\":,0123456789\n"[r.IntN(25)]
		} else {
			b[i] = byte(r.Uint32())
		}
	}
	return b
}

var fixture struct {
	once sync.Once
	dir  string
	ipa  string
	err  error
}

// setup builds (or reuses) the IPA and the signing material.
func setup(b *testing.B) (dir, in string) {
	fixture.once.Do(func() {
		fixture.dir = filepath.Join(os.TempDir(), "storesign-bench-ipa")
		os.MkdirAll(fixture.dir, 0o755)
		name := fmt.Sprintf("bench-%dMiB-v2", benchSize()>>20)
		if real := os.Getenv("STORESIGN_BENCH_CODE"); real != "" {
			name += "-" + filepath.Base(real)
		}
		fixture.ipa = filepath.Join(fixture.dir, name+".ipa")
		if _, err := os.Stat(fixture.ipa); err == nil {
			return
		}
		// Build it in a child process: the 100+ MB buffers of the
		// generator must not count in the peak RSS of storesign, which
		// Linux reports including the memory of the parent it was forked
		// from.
		start := time.Now()
		self, err := os.Executable()
		if err != nil {
			fixture.err = err
			return
		}
		cmd := exec.Command(self, "-test.run", "^$")
		cmd.Env = append(os.Environ(), "STORESIGN_BENCH_BUILD="+fixture.ipa)
		if msg, err := cmd.CombinedOutput(); err != nil {
			fixture.err = fmt.Errorf("building the IPA: %v\n%s", err, msg)
			return
		}
		fmt.Fprintf(os.Stderr, "built %s in %v\n", fixture.ipa, time.Since(start).Round(time.Millisecond))
	})
	if fixture.err != nil {
		b.Fatal(fixture.err)
	}
	return fixture.dir, fixture.ipa
}

// floor reads, inflates and hashes every entry once, on every core: one
// worker per core (GOMAXPROCS, as storesign has) takes the next entry.
// One entry's inflating cannot be split, so the largest entry (the main
// executable, 40% of the content) bounds it as it bounds storesign.
func floor(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, _ := f.Stat()
	zr, err := zip.NewReader(f, fi.Size())
	if err != nil {
		return err
	}
	// Read as storesign does: through a 256 KiB buffer, with pooled
	// decompressors (archive/zip's reads 4 KiB at a time).
	var pool sync.Pool
	zr.RegisterDecompressor(zip.Deflate, func(r io.Reader) io.ReadCloser {
		in, ok := pool.Get().(*pooledInflater)
		if ok {
			in.br.Reset(r)
			in.fr.(flate.Resetter).Reset(in.br, nil)
		} else {
			in = &pooledInflater{br: bufio.NewReaderSize(r, 256<<10), pool: &pool}
			in.fr = flate.NewReader(in.br)
		}
		return in
	})
	next := make(chan *zip.File)
	errs := make(chan error, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 256<<10)
			for zf := range next {
				rc, err := zf.Open()
				if err != nil {
					errs <- err
					continue
				}
				h1, h2 := sha1.New(), sha256.New()
				_, err = io.CopyBuffer(io.MultiWriter(h1, h2), rc, buf)
				rc.Close()
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	for _, zf := range zr.File {
		next <- zf
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}

type pooledInflater struct {
	br   *bufio.Reader
	fr   io.ReadCloser
	pool *sync.Pool
}

func (p *pooledInflater) Read(b []byte) (int, error) { return p.fr.Read(b) }

func (p *pooledInflater) Close() error {
	err := p.fr.Close()
	p.pool.Put(p)
	return err
}

var floorTime, floorCPU time.Duration

// cpuTime is the process's user+system time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func measureFloor(b *testing.B, in string) {
	c0, start := cpuTime(), time.Now()
	if err := floor(in); err != nil {
		b.Fatal(err)
	}
	floorTime, floorCPU = time.Since(start), cpuTime()-c0
}

func BenchmarkFloor(b *testing.B) {
	_, in := setup(b)
	fi, _ := os.Stat(in)
	b.SetBytes(fi.Size())
	b.ResetTimer()
	for range b.N {
		measureFloor(b, in)
	}
	b.ReportMetric(floorTime.Seconds(), "s/op-floor")
	b.ReportMetric(floorCPU.Seconds(), "cpu-s/op-floor")
}

// keys writes the throwaway identity and a wildcard profile.
func keys(b *testing.B, dir string) (p12, prof string) {
	apple := signingtest.NewApple(signingtest.AppleOptions{})
	p12 = filepath.Join(dir, "dist.p12")
	prof = filepath.Join(dir, "wild.mobileprovision")
	if err := os.WriteFile(p12, signingtest.PKCS12(apple.Identity, "bench"), 0o600); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(prof, apple.Profile(signingtest.ProfileOptions{AppID: "com.example.*"}), 0o600); err != nil {
		b.Fatal(err)
	}
	return p12, prof
}

// BenchmarkResign alternates the floor and storesign, b.N times each, and
// reports the medians: of the times, and of the ratio of each run to the
// floor measured just before it (the machine may be shared).
func BenchmarkResign(b *testing.B) {
	dir, in := setup(b)
	tool := filepath.Join(b.TempDir(), "storesign")
	build := exec.Command("go", "build", "-o", tool, "github.com/storesign/storesign/cmd/storesign")
	if msg, err := build.CombinedOutput(); err != nil {
		b.Fatalf("building storesign: %v\n%s", err, msg)
	}
	p12, prof := keys(b, b.TempDir())
	out := filepath.Join(dir, "out.ipa")
	fi, _ := os.Stat(in)
	b.SetBytes(fi.Size())
	b.ResetTimer()
	var walls, cpus, fwalls, fcpus, ratios, cpuRatios []float64
	var rss int64
	for range b.N {
		b.StopTimer()
		measureFloor(b, in)
		b.StartTimer()
		os.Remove(out)
		cmd := exec.Command(tool, "ipa", "resign", "--in", in, "--out", out, "--p12", p12, "--p12-pass", "pass:bench", "--profile", prof)
		start := time.Now()
		if msg, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("storesign ipa resign: %v\n%s", err, msg)
		}
		wall := time.Since(start)
		cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			rss = max(rss, ru.Maxrss*1024)
		}
		walls, cpus = append(walls, wall.Seconds()), append(cpus, cpu.Seconds())
		fwalls, fcpus = append(fwalls, floorTime.Seconds()), append(fcpus, floorCPU.Seconds())
		ratios = append(ratios, wall.Seconds()/floorTime.Seconds())
		cpuRatios = append(cpuRatios, cpu.Seconds()/floorCPU.Seconds())
	}
	b.StopTimer()
	b.ReportMetric(median(fwalls), "s/op-floor")
	b.ReportMetric(median(fcpus), "cpu-s/op-floor")
	b.ReportMetric(median(walls), "s/op-resign")
	b.ReportMetric(median(cpus), "cpu-s/op-resign")
	b.ReportMetric(median(ratios), "x-floor")
	b.ReportMetric(median(cpuRatios), "x-floor-cpu")
	b.ReportMetric(float64(rss)/(1<<20), "MiB-peak-RSS")
	if st, err := os.Stat(out); err == nil {
		b.ReportMetric(float64(st.Size())/float64(fi.Size()), "out/in-size")
	}
	os.Remove(out)
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	v = slices.Clone(v)
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// BenchmarkResignFile times ipa.ResignFile in process (re-signing and
// the check of the output), for -cpuprofile; STORESIGN_BENCH_LEVEL sets
// Options.CompressionLevel.
func BenchmarkResignFile(b *testing.B) {
	_, in := setup(b)
	apple := signingtest.NewApple(signingtest.AppleOptions{})
	prof, err := provision.Parse(apple.Profile(signingtest.ProfileOptions{AppID: "com.example.*"}))
	if err != nil {
		b.Fatal(err)
	}
	fi, _ := os.Stat(in)
	b.SetBytes(fi.Size())
	out := filepath.Join(b.TempDir(), "out.ipa")
	level, _ := strconv.Atoi(os.Getenv("STORESIGN_BENCH_LEVEL"))
	b.ResetTimer()
	var cpu time.Duration
	for range b.N {
		os.Remove(out)
		c0 := cpuTime()
		if _, err := ipa.ResignFile(context.Background(), in, out, ipa.Options{Identity: apple.Identity, Profiles: []*provision.Profile{prof}, CompressionLevel: level}); err != nil {
			b.Fatal(err)
		}
		cpu += cpuTime() - c0
	}
	b.StopTimer()
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
	if st, err := os.Stat(out); err == nil {
		b.ReportMetric(float64(st.Size())/(1<<20), "MiB-out")
		b.ReportMetric(float64(fi.Size())/(1<<20), "MiB-in")
	}
}

func BenchmarkResignLibrary(b *testing.B) {
	_, in := setup(b)
	apple := signingtest.NewApple(signingtest.AppleOptions{})
	prof, err := provision.Parse(apple.Profile(signingtest.ProfileOptions{AppID: "com.example.*"}))
	if err != nil {
		b.Fatal(err)
	}
	f, err := os.Open(in)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	b.SetBytes(fi.Size())
	b.ResetTimer()
	for range b.N {
		out, err := os.Create(filepath.Join(b.TempDir(), "out.ipa"))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := ipa.Resign(context.Background(), f, fi.Size(), out, ipa.Options{Identity: apple.Identity, Profiles: []*provision.Profile{prof}}); err != nil {
			b.Fatal(err)
		}
		out.Close()
	}
}
