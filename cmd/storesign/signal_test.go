package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/storesign/storesign/drive/drivetest"
)

// stopWithin is how soon after SIGINT or SIGTERM the process must be gone.
const stopWithin = time.Second

// tempFiles lists the atomicfile temp files left in dir.
func tempFiles(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".tmp") {
			left = append(left, e.Name())
		}
	}
	return left
}

// stopAndWait sends sig to cmd and checks that it ends within stopWithin
// with the shell's code for the signal and the one stop line on stderr.
func stopAndWait(t *testing.T, cmd *exec.Cmd, stderr *bytes.Buffer, sig syscall.Signal) {
	t.Helper()
	done := make(chan error, 1)
	start := time.Now()
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		took := time.Since(start)
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("exit: %v, want code %d", err, 128+int(sig))
		}
		if got := ee.ExitCode(); got != 128+int(sig) {
			t.Errorf("exit code %d, want %d", got, 128+int(sig))
		}
		if took > stopWithin {
			t.Errorf("stopped %v after the signal, want within %v", took, stopWithin)
		}
		want := stopLine(sig) + "\n"
		if stderr.String() != want {
			t.Errorf("stderr:\n%q\nwant the one line\n%q", stderr.String(), want)
		}
	case <-time.After(5 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("still running 5s after %v", sig)
	}
}

// TestSignalStopsBlockedCommand starts a child process whose command
// started an output and is blocked in open(2) of a FIFO, never looking at
// its context, and stops it with SIGTERM or SIGINT: it must end within a
// second, exit 143 or 130 with one line, and leave no temp file.
func TestSignalStopsBlockedCommand(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			fifo := filepath.Join(dir, "input.fifo")
			if err := syscall.Mkfifo(fifo, 0o600); err != nil {
				t.Skipf("mkfifo: %v", err)
			}
			out := filepath.Join(dir, "out.apk")
			cmd := exec.Command(os.Args[0], fifo, out)
			cmd.Env = append(os.Environ(), helperEnv+"=1")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			line, err := bufio.NewReader(stdout).ReadString('\n')
			if line != "ready\n" {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("helper said %q (%v), stderr %q", line, err, stderr.String())
			}
			if left := tempFiles(t, dir); len(left) != 1 {
				t.Fatalf("temp files before the signal: %v, want one", left)
			}
			time.Sleep(50 * time.Millisecond) // let it block in open
			stopAndWait(t, cmd, &stderr, sig)
			if left := tempFiles(t, dir); len(left) > 0 {
				t.Errorf("temp files left: %v", left)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("%s was written", out)
			}
		})
	}
}

// TestSignalStopsDownload builds the real binary and stops "drive get"
// while Drive sends half the file and then nothing: the download is
// cancelled, its temp file removed, and the process gone within a second.
func TestSignalStopsDownload(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "storesign")
	build := exec.Command(gobin, "build", "-o", bin, ".")
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}

	s, err := drivetest.New(drivetest.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	folder, err := s.AddFolder("", "", "in")
	if err != nil {
		t.Fatal(err)
	}
	f, err := s.AddFile(folder, "game.apk", io.LimitReader(&counter{}, 1<<20))
	if err != nil {
		t.Fatal(err)
	}
	stalled := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("alt") != "media" {
			s.ServeHTTP(w, r)
			return
		}
		// Half the bytes, then a stall until the client goes away.
		w.Header().Set("Content-Length", "1048576")
		w.WriteHeader(http.StatusOK)
		w.Write(make([]byte, 512<<10))
		w.(http.Flusher).Flush()
		select {
		case stalled <- struct{}{}:
		default:
		}
		<-r.Context().Done()
	}))
	defer srv.Close()

	outDir := filepath.Join(dir, "dl")
	if err := os.Mkdir(outDir, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "drive", "get", "--quiet", "--file", f.ID, "--out", filepath.Join(outDir, "game.apk"))
	cmd.Env = append(os.Environ(), "STORESIGN_DRIVE_ENDPOINT="+srv.URL)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	select {
	case <-stalled:
	case <-ctx.Done():
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("the download never started; stderr %q", stderr.String())
	}
	time.Sleep(100 * time.Millisecond) // let the first half reach the temp file
	if left := tempFiles(t, outDir); len(left) != 1 {
		t.Errorf("temp files during the download: %v, want one", left)
	}
	stopAndWait(t, cmd, &stderr, syscall.SIGTERM)
	if left := tempFiles(t, outDir); len(left) > 0 {
		t.Errorf("temp files left: %v", left)
	}
	if stdout.Len() > 0 {
		t.Errorf("stdout: %q, want nothing", stdout.String())
	}
	if _, err := os.Stat(filepath.Join(outDir, "game.apk")); err == nil {
		t.Error("game.apk was written")
	}
}

// TestRunUntilSignal covers the paths of runUntilSignal without a child
// process: no signal; a command that returns when cancelled; one that
// never returns; a second signal cutting the grace short.
func TestRunUntilSignal(t *testing.T) {
	cancelled := func(ctx context.Context, args []string, stdout, stderr io.Writer) int {
		<-ctx.Done()
		return run(ctx, []string{"drive", "get", "--file", "1NoSuchFileAtAllInThisDrive"}, stdout, stderr)
	}
	block := make(chan struct{})
	defer close(block)
	stuck := func(ctx context.Context, args []string, stdout, stderr io.Writer) int {
		<-block
		return 0
	}
	for _, tc := range []struct {
		name    string
		run     func(ctx context.Context, args []string, stdout, stderr io.Writer) int
		signals []os.Signal
		grace   time.Duration
		code    int
		within  time.Duration
	}{
		{"no signal", func(context.Context, []string, io.Writer, io.Writer) int { return 3 }, nil, time.Second, 3, time.Second},
		{"returns when cancelled", cancelled, []os.Signal{syscall.SIGINT}, 5 * time.Second, 130, 4 * time.Second},
		{"stuck", stuck, []os.Signal{syscall.SIGTERM}, 200 * time.Millisecond, 143, time.Second},
		{"second signal", stuck, []os.Signal{syscall.SIGTERM, syscall.SIGTERM}, time.Hour, 143, time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sigs := make(chan os.Signal, 2)
			for _, s := range tc.signals {
				sigs <- s
			}
			t.Setenv("STORESIGN_DRIVE_ENDPOINT", "http://127.0.0.1:1") // nothing listens
			var stderr bytes.Buffer
			start := time.Now()
			removed := 0
			code := runUntilSignal(nil, io.Discard, &stderr, sigs, tc.grace, func() int { removed++; return 0 }, tc.run)
			if want := min(len(tc.signals), 1); removed != want {
				t.Errorf("temp files removed %d times, want %d", removed, want)
			}
			if code != tc.code {
				t.Errorf("code %d, want %d", code, tc.code)
			}
			if d := time.Since(start); d > tc.within {
				t.Errorf("took %v", d)
			}
			if len(tc.signals) > 0 {
				if want := stopLine(tc.signals[0]) + "\n"; stderr.String() != want {
					t.Errorf("stderr %q, want %q", stderr.String(), want)
				}
			}
		})
	}
}
