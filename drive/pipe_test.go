package drive

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

func TestWatchdog(t *testing.T) {
	const d = 40 * time.Millisecond
	stalled := func(ctx context.Context) bool { return errors.Is(context.Cause(ctx), errStalled) }

	t.Run("fires without progress", func(t *testing.T) {
		ctx, wd := newWatchdog(context.Background(), d)
		defer wd.stop()
		select {
		case <-ctx.Done():
		case <-time.After(20 * d):
			t.Fatal("no stall reported")
		}
		if !stalled(ctx) {
			t.Fatalf("cause %v", context.Cause(ctx))
		}
	})
	for _, tt := range []struct {
		name string
		move func(*watchdog, *atomic.Int64)
	}{
		{"kicks", func(wd *watchdog, _ *atomic.Int64) { wd.kick() }},
		{"probe", func(_ *watchdog, n *atomic.Int64) { n.Add(1) }},
	} {
		t.Run("quiet while "+tt.name+" move bytes", func(t *testing.T) {
			ctx, wd := newWatchdog(context.Background(), d)
			var n atomic.Int64
			wd.watch(n.Load)
			for end := time.Now().Add(8 * d); time.Now().Before(end); {
				tt.move(wd, &n)
				time.Sleep(d / 8)
			}
			if ctx.Err() != nil {
				t.Fatalf("stalled while moving: %v", context.Cause(ctx))
			}
			// Then nothing moves: it fires.
			select {
			case <-ctx.Done():
			case <-time.After(20 * d):
				t.Fatal("no stall after the bytes stopped")
			}
			wd.stop()
			if !stalled(ctx) {
				t.Fatalf("cause %v", context.Cause(ctx))
			}
		})
	}
	t.Run("stop", func(t *testing.T) {
		ctx, wd := newWatchdog(context.Background(), d)
		wd.stop()
		time.Sleep(3 * d)
		if stalled(ctx) {
			t.Fatal("a stopped watchdog fired")
		}
		if ctx.Err() == nil {
			t.Fatal("stop left the attempt's context open")
		}
	})
}
