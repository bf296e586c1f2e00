// Package fakeserver holds what the standalone fake servers (fakedrive,
// fakeplay, fakeasc) share: running until interrupted, serving on an
// address with a graceful shutdown, a repeatable flag and the -v logger.
package fakeserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// ShutdownTimeout bounds the graceful shutdown after an interrupt.
const ShutdownTimeout = 5 * time.Second

// Main runs run with the command-line arguments and standard output,
// under a context canceled by SIGINT or SIGTERM. A failure is printed as
// "name: error" on standard error and exits with status 1.
func Main(name string, run func(ctx context.Context, args []string, stdout io.Writer) error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(1)
	}
}

// Serve listens on addr, calls announce with the base URL
// ("http://127.0.0.1:8089"), then serves h until ctx is done and shuts down
// gracefully. It returns nil after such a shutdown.
func Serve(ctx context.Context, addr string, h http.Handler, announce func(url string)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	if announce != nil {
		announce("http://" + ln.Addr().String())
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 30 * time.Second}
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
		case <-done:
			return
		}
		sctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// List is a repeatable string flag.
type List []string

func (l *List) String() string { return strings.Join(*l, ",") }

// Set adds v.
func (l *List) Set(v string) error { *l = append(*l, v); return nil }

// Logger returns a debug logger on standard error when verbose, else nil.
func Logger(verbose bool) *slog.Logger {
	if !verbose {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
