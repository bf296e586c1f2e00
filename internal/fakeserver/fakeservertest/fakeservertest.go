// Package fakeservertest runs a fake server's run function in a test, as
// its standalone main would (package fakeserver).
package fakeservertest

import (
	"bufio"
	"context"
	"io"
	"strings"
	"testing"
	"time"
)

// StopTimeout bounds the wait for the server to stop after stop is called.
const StopTimeout = 10 * time.Second

// Start runs run with args in the background and reads the first n
// "key=value" lines it prints (url=..., then the server's own). stop
// cancels the run and waits for it, failing the test when it fails or
// does not stop within [StopTimeout]. stop is also called at cleanup.
func Start(t testing.TB, run func(ctx context.Context, args []string, stdout io.Writer) error, args []string, n int) (vals map[string]string, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, args, pw)
		pw.Close()
	}()
	vals = map[string]string{}
	sc := bufio.NewScanner(pr)
	for len(vals) < n && sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), "=")
		vals[k] = v
	}
	go io.Copy(io.Discard, pr)
	stopped := false
	stop = func() {
		t.Helper()
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-errc:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(StopTimeout):
			t.Fatal("the server did not stop")
		}
	}
	t.Cleanup(stop)
	return vals, stop
}
