package ipabench

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/flate"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/storesign/storesign/signing/ipa"
	"github.com/storesign/storesign/signing/macho"
	"github.com/storesign/storesign/signing/provision"
	"github.com/storesign/storesign/signing/signingtest"
)

// Environment variables of the child processes: the one that builds an
// IPA, and the one that runs storesign and reports its resource use.
const (
	buildEnv = "STORESIGN_BENCH_BUILD" // path of the IPA to build
	shapeEnv = "STORESIGN_BENCH_SHAPE" // its shape
	execEnv  = "STORESIGN_BENCH_EXEC"  // JSON array: the command to run
)

func TestMain(m *testing.M) {
	if path := os.Getenv(buildEnv); path != "" {
		s, ok := shapeNamed(os.Getenv(shapeEnv))
		if !ok {
			fmt.Fprintf(os.Stderr, "%s: unknown shape %q\n", shapeEnv, os.Getenv(shapeEnv))
			os.Exit(1)
		}
		if err := s.build(path, s.size()); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if args := os.Getenv(execEnv); args != "" {
		os.Exit(runMeasured(args))
	}
	os.Exit(m.Run())
}

// A shape is one kind of benchmark IPA.
type shape struct {
	name string
	mib  int64  // default size (STORESIGN_BENCH_MIB replaces it)
	file string // cache file name, %d the size in MiB; a new name when the generator changes
	// build writes the IPA of about total bytes to path.
	build func(path string, total int64) error
	// describe, when not nil, says what the built IPA at path holds.
	describe func(path string, total int64) (string, error)
}

func shapes() []shape {
	return []shape{
		{name: "code", mib: 400, file: "bench-%dMiB-v3", build: buildCode},
		{name: "game", mib: 300, file: "game-%dMiB-v2", build: buildGame, describe: describeGame},
	}
}

func shapeNamed(name string) (shape, bool) {
	for _, s := range shapes() {
		if s.name == name {
			return s, true
		}
	}
	return shape{}, false
}

func (s shape) size() int64 {
	if v, err := strconv.Atoi(os.Getenv("STORESIGN_BENCH_MIB")); err == nil && v > 0 {
		return int64(v) << 20
	}
	return s.mib << 20
}

// forShapes runs fn as one sub-benchmark per shape.
func forShapes(b *testing.B, fn func(b *testing.B, s shape)) {
	for _, s := range shapes() {
		b.Run(s.name, func(b *testing.B) { fn(b, s) })
	}
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

// binary returns an arm64 executable or dylib of about size bytes,
// signed as a studio delivers it: by the studio's development
// certificate, the executables with entitlements (re-signing then reads
// them from the end of each executable).
func binary(size int, dylib bool, seed uint64) []byte {
	b := signingtest.IOSBinary(signingtest.IOSBinaryOptions{CodeSize: size, Dylib: dylib, Seed: strconv.FormatUint(seed, 10)})
	code := b[0x1000 : 0x1000+size]
	if real := os.Getenv("STORESIGN_BENCH_CODE"); real != "" {
		realCode(code, real, seed)
	} else {
		codeLike(code, seed)
	}
	studio := signingtest.NewApple(signingtest.AppleOptions{TeamID: "STUDIO1234", Organization: "Studio", Development: true})
	opts := macho.SignOptions{Identity: studio.Identity, Identifier: "com.example.bench", Now: func() time.Time { return signingtest.Epoch }}
	if !dylib {
		opts.Entitlements = []byte(studioEntitlements)
	}
	var out bytes.Buffer
	if _, err := macho.Sign(context.Background(), bytes.NewReader(b), int64(len(b)), &out, opts); err != nil {
		panic(err)
	}
	return out.Bytes()
}

// studioEntitlements are what a studio's development build is signed
// with.
const studioEntitlements = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>application-identifier</key>
	<string>STUDIO1234.com.example.bench</string>
	<key>com.apple.developer.team-identifier</key>
	<string>STUDIO1234</string>
	<key>get-task-allow</key>
	<true/>
</dict>
</plist>
`

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

// zipFile writes a benchmark IPA: to path+".tmp", renamed to path by
// close.
type zipFile struct {
	path string
	f    *os.File
	bw   *bufio.Writer
	zw   *zip.Writer
}

func createZip(path string) (*zipFile, error) {
	f, err := os.Create(path + ".tmp")
	if err != nil {
		return nil, err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	return &zipFile{path: path, f: f, bw: bw, zw: zip.NewWriter(bw)}, nil
}

// add writes one entry, deflated unless store, with write's bytes.
func (z *zipFile) add(name string, store bool, mode os.FileMode, write func(io.Writer) error) error {
	h := &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: signingtest.Epoch}
	if store {
		h.Method = zip.Store
	}
	h.SetMode(mode)
	w, err := z.zw.CreateHeader(h)
	if err != nil {
		return fmt.Errorf("adding %s: %w", name, err)
	}
	if err := write(w); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	return nil
}

// addBytes writes one entry holding data.
func (z *zipFile) addBytes(name string, data []byte, store bool, mode os.FileMode) error {
	return z.add(name, store, mode, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

func (z *zipFile) close() error {
	if err := z.zw.Close(); err != nil {
		z.f.Close()
		return err
	}
	if err := z.bw.Flush(); err != nil {
		z.f.Close()
		return err
	}
	if err := z.f.Close(); err != nil {
		return err
	}
	return os.Rename(z.path+".tmp", z.path)
}

// abort removes the half-written file.
func (z *zipFile) abort() {
	z.f.Close()
	os.Remove(z.path + ".tmp")
}

// fileMode is the mode of a signingtest file in the zip.
func fileMode(fl signingtest.IPAFile) os.FileMode {
	mode := fl.Mode
	if mode == 0 {
		mode = 0o644
	}
	if fl.Symlink {
		mode = os.ModeSymlink | 0o755
	}
	if strings.HasSuffix(fl.Name, "/") {
		mode = os.ModeDir | 0o755
	}
	return mode
}

// infoPlist is a bundle's Info.plist, as XML.
func infoPlist(id, exe, pkg string) []byte {
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

// buildCode writes the code-heavy IPA to path: about total bytes of
// content, 40% main executable, 25% in four frameworks and an extension,
// the rest in thousands of resource files of 1 KiB to 64 KiB.
func buildCode(path string, total int64) (err error) {
	z, err := createZip(path)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			z.abort()
		}
	}()
	for _, fl := range signingtest.IPAFiles(signingtest.IPAOptions{Minimal: true}) {
		data := fl.Data
		if fl.Name == "Payload/Example.app/Example" {
			data = binary(int(total*40/100), false, 1)
		}
		if err := z.addBytes(fl.Name, data, fl.Store, fileMode(fl)); err != nil {
			return err
		}
	}
	app := "Payload/Example.app/"
	per := int(total * 5 / 100)
	for i := range 4 {
		name := fmt.Sprintf("Kit%d", i)
		fw := app + "Frameworks/" + name + ".framework/"
		if err := z.addBytes(fw+"Info.plist", infoPlist("com.example."+name, name, "FMWK"), false, 0o644); err != nil {
			return err
		}
		if err := z.addBytes(fw+name, binary(per, true, uint64(10+i)), false, 0o755); err != nil {
			return err
		}
		for j := range 50 {
			if err := z.addBytes(fmt.Sprintf("%sres/%d.json", fw, j), resource(4<<10, uint64(i*1000+j), true), false, 0o644); err != nil {
				return err
			}
		}
	}
	ext := app + "PlugIns/Widget.appex/"
	if err := z.addBytes(ext+"Info.plist", infoPlist("com.example.app.widget", "Widget", "XPC!"), false, 0o644); err != nil {
		return err
	}
	if err := z.addBytes(ext+"Widget", binary(per, false, 20), false, 0o755); err != nil {
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
		if err := z.addBytes(name, resource(n, uint64(i), !image), image, 0o644); err != nil {
			return err
		}
		left -= int64(n)
	}
	return z.close()
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

// setup builds (or reuses) the IPA of shape s in the cache folder.
func setup(b *testing.B, s shape) (dir, in string) {
	b.Helper()
	dir = filepath.Join(os.TempDir(), "storesign-bench-ipa")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	name := fmt.Sprintf(s.file, s.size()>>20)
	if real := os.Getenv("STORESIGN_BENCH_CODE"); real != "" {
		name += "-" + filepath.Base(real)
	}
	in = filepath.Join(dir, name+".ipa")
	if _, err := os.Stat(in); err == nil {
		return dir, in
	}
	// Build it in a child process: the 100+ MB buffers of the generator
	// must not count in the peak RSS of this process, which is a floor of
	// the peak RSS Linux reports for the children it starts.
	start := time.Now()
	self, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(self, "-test.run", "^$")
	cmd.Env = append(os.Environ(), buildEnv+"="+in, shapeEnv+"="+s.name)
	if msg, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("building the %s IPA: %v\n%s", s.name, err, msg)
	}
	desc := ""
	if s.describe != nil {
		if desc, err = s.describe(in, s.size()); err != nil {
			b.Fatal(err)
		}
		desc = ": " + desc
	}
	fmt.Fprintf(os.Stderr, "built %s in %v%s\n", in, time.Since(start).Round(time.Millisecond), desc)
	return dir, in
}

// floor reads, inflates and hashes every entry once, on every core: one
// worker per core (GOMAXPROCS, as storesign has) takes the next entry.
// One entry's inflating cannot be split, so the largest entry (the main
// executable) bounds it as it bounds storesign.
func floor(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
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

// cpuTime is the process's user+system time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
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

// loadavg is the first three fields of /proc/loadavg, or "?".
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// A measure is what one run cost.
type measure struct {
	wall, cpu, sys time.Duration
	// outside is the CPU time the rest of the machine used meanwhile.
	outside time.Duration
}

func measureFloor(b *testing.B, in string) measure {
	c0, m0, start := cpuTime(), machineTime(), time.Now()
	if err := floor(in); err != nil {
		b.Fatal(err)
	}
	m := measure{wall: time.Since(start), cpu: cpuTime() - c0}
	m.outside = machineTime() - m0 - m.cpu
	return m
}

func BenchmarkFloor(b *testing.B) {
	forShapes(b, func(b *testing.B, s shape) {
		_, in := setup(b, s)
		fi, err := os.Stat(in)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(fi.Size())
		b.ResetTimer()
		var m measure
		for range b.N {
			m = measureFloor(b, in)
		}
		b.ReportMetric(m.wall.Seconds(), "s/op-floor")
		b.ReportMetric(m.cpu.Seconds(), "cpu-s/op-floor")
	})
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

// childUsage is what the measuring child reports of the command it ran.
type childUsage struct {
	Wall, User, Sys time.Duration
	MaxRSS          int64 // bytes
}

// runMeasured runs the command of args (a JSON array), its output to
// stderr, and prints its wall time, CPU time and peak RSS as JSON. It
// runs in a re-exec of the test binary: Linux counts in a child's peak
// RSS the peak of the process it was started from (the new program
// inherits it at exec), so the child must be started from a small
// process, not from the benchmark that may have used hundreds of MB.
func runMeasured(args string) int {
	var argv []string
	if err := json.Unmarshal([]byte(args), &argv); err != nil || len(argv) == 0 {
		fmt.Fprintf(os.Stderr, "%s: want a JSON array of strings: %v\n", execEnv, err)
		return 2
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	u := childUsage{Wall: wall, User: cmd.ProcessState.UserTime(), Sys: cmd.ProcessState.SystemTime()}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		u.MaxRSS = ru.Maxrss * 1024
	}
	if err := json.NewEncoder(os.Stdout).Encode(u); err != nil {
		return 1
	}
	return 0
}

// measureCommand runs argv through runMeasured in a re-exec of the test
// binary.
func measureCommand(b *testing.B, argv ...string) (childUsage, measure) {
	self, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	js, err := json.Marshal(argv)
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(self, "-test.run", "^$")
	cmd.Env = append(os.Environ(), execEnv+"="+string(js))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	m0 := machineTime()
	if err := cmd.Run(); err != nil {
		b.Fatalf("%s: %v\n%s", strings.Join(argv[:min(3, len(argv))], " "), err, stderr.Bytes())
	}
	machine := machineTime() - m0
	var u childUsage
	if err := json.Unmarshal(stdout.Bytes(), &u); err != nil {
		b.Fatalf("reading the child's usage %q: %v", stdout.Bytes(), err)
	}
	// The re-exec's own CPU time (starting, waiting) counts as outside.
	m := measure{wall: u.Wall, cpu: u.User + u.Sys, sys: u.Sys}
	m.outside = machine - m.cpu
	return u, m
}

// BenchmarkResign alternates the floor and `storesign ipa resign` (the
// CLI, which checks its output before renaming it into place), b.N times
// each, and reports the medians: of the times, and of the ratio of each
// run to the floor measured just before it (the machine may be shared).
func BenchmarkResign(b *testing.B) {
	tool := filepath.Join(b.TempDir(), "storesign")
	build := exec.Command("go", "build", "-o", tool, "github.com/storesign/storesign/cmd/storesign")
	if msg, err := build.CombinedOutput(); err != nil {
		b.Fatalf("building storesign: %v\n%s", err, msg)
	}
	p12, prof := keys(b, b.TempDir())
	forShapes(b, func(b *testing.B, s shape) {
		dir, in := setup(b, s)
		out := filepath.Join(dir, "out.ipa")
		fi, err := os.Stat(in)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(fi.Size())
		b.Logf("loadavg before: %s", loadavg())
		b.ResetTimer()
		var walls, cpus, syss, fwalls, fcpus, ratios, cpuRatios, cores, fcores, outside, foutside []float64
		var rss int64
		for range b.N {
			b.StopTimer()
			os.Remove(out)
			// No dirty pages of the previous run's output: the kernel
			// would make whichever run comes next pay for writing them.
			syscall.Sync()
			fl := measureFloor(b, in)
			b.StartTimer()
			u, m := measureCommand(b, tool, "ipa", "resign", "--in", in, "--out", out, "--p12", p12, "--p12-pass", "pass:bench", "--profile", prof)
			rss = max(rss, u.MaxRSS)
			walls, cpus, syss = append(walls, m.wall.Seconds()), append(cpus, m.cpu.Seconds()), append(syss, m.sys.Seconds())
			fwalls, fcpus = append(fwalls, fl.wall.Seconds()), append(fcpus, fl.cpu.Seconds())
			ratios = append(ratios, m.wall.Seconds()/fl.wall.Seconds())
			cpuRatios = append(cpuRatios, m.cpu.Seconds()/fl.cpu.Seconds())
			cores, fcores = append(cores, m.cpu.Seconds()/m.wall.Seconds()), append(fcores, fl.cpu.Seconds()/fl.wall.Seconds())
			outside = append(outside, m.outside.Seconds()/m.wall.Seconds())
			foutside = append(foutside, fl.outside.Seconds()/fl.wall.Seconds())
			b.Logf("floor %.2f s %.2f cpu-s, resign %.2f s %.2f cpu-s (sys %.2f) %.0f MiB: x%.2f, x%.2f cpu; outside %.2f, %.2f cores",
				fl.wall.Seconds(), fl.cpu.Seconds(), m.wall.Seconds(), m.cpu.Seconds(), m.sys.Seconds(), float64(u.MaxRSS)/(1<<20),
				ratios[len(ratios)-1], cpuRatios[len(cpuRatios)-1], foutside[len(foutside)-1], outside[len(outside)-1])
		}
		b.StopTimer()
		b.Logf("loadavg after: %s", loadavg())
		b.ReportMetric(median(fwalls), "s/op-floor")
		b.ReportMetric(median(fcpus), "cpu-s/op-floor")
		b.ReportMetric(median(walls), "s/op-resign")
		b.ReportMetric(median(cpus), "cpu-s/op-resign")
		b.ReportMetric(median(syss), "sys-s/op-resign")
		b.ReportMetric(median(ratios), "x-floor")
		b.ReportMetric(median(cpuRatios), "x-floor-cpu")
		b.ReportMetric(float64(rss)/(1<<20), "MiB-peak-RSS")
		// Cores in use on average (CPU time over wall time), and the
		// cores the rest of the machine used meanwhile (other processes,
		// kernel threads such as write-back): a shared machine's noise.
		b.ReportMetric(median(fcores), "cores-floor")
		b.ReportMetric(median(cores), "cores-resign")
		if machineTime() > 0 {
			b.ReportMetric(median(foutside), "outside-cores-floor")
			b.ReportMetric(median(outside), "outside-cores-resign")
		}
		b.ReportMetric(float64(fi.Size())/(1<<20), "MiB-in")
		if st, err := os.Stat(out); err == nil {
			b.ReportMetric(float64(st.Size())/float64(fi.Size()), "out/in-size")
		}
		os.Remove(out)
	})
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
	apple := signingtest.NewApple(signingtest.AppleOptions{})
	prof, err := provision.Parse(apple.Profile(signingtest.ProfileOptions{AppID: "com.example.*"}))
	if err != nil {
		b.Fatal(err)
	}
	level, _ := strconv.Atoi(os.Getenv("STORESIGN_BENCH_LEVEL"))
	var log *slog.Logger
	if os.Getenv("STORESIGN_BENCH_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	forShapes(b, func(b *testing.B, s shape) {
		_, in := setup(b, s)
		fi, err := os.Stat(in)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(fi.Size())
		out := filepath.Join(b.TempDir(), "out.ipa")
		b.ResetTimer()
		var cpu time.Duration
		for range b.N {
			os.Remove(out)
			c0 := cpuTime()
			if _, err := ipa.ResignFile(context.Background(), in, out, ipa.Options{Identity: apple.Identity, Profiles: []*provision.Profile{prof}, CompressionLevel: level, Log: log}); err != nil {
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
	})
}

// BenchmarkResignLibrary times ipa.Resign alone (no check of the output).
func BenchmarkResignLibrary(b *testing.B) {
	apple := signingtest.NewApple(signingtest.AppleOptions{})
	prof, err := provision.Parse(apple.Profile(signingtest.ProfileOptions{AppID: "com.example.*"}))
	if err != nil {
		b.Fatal(err)
	}
	forShapes(b, func(b *testing.B, s shape) {
		_, in := setup(b, s)
		f, err := os.Open(in)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(fi.Size())
		dir := b.TempDir()
		b.ResetTimer()
		for range b.N {
			out, err := os.Create(filepath.Join(dir, "out.ipa"))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := ipa.Resign(context.Background(), f, fi.Size(), out, ipa.Options{Identity: apple.Identity, Profiles: []*provision.Profile{prof}}); err != nil {
				b.Fatal(err)
			}
			out.Close()
		}
	})
}
