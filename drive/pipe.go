package drive

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// watchdog cancels an attempt when no bytes move for d. Code moving bytes
// calls kick (an atomic add, cheap enough for every read); progress made
// out of sight, such as by sendfile(2) in the kernel, is reported by a
// probe set with watch. The watchdog looks four times per period, so a
// stall is noticed between d and 1.25 d after the last byte moved.
type watchdog struct {
	d      time.Duration
	cancel context.CancelCauseFunc
	moved  atomic.Int64

	mu      sync.Mutex
	t       *time.Timer
	probe   func() int64
	last    int64
	seen    time.Time // when progress was last seen
	stopped bool
}

func newWatchdog(ctx context.Context, d time.Duration) (context.Context, *watchdog) {
	actx, cancel := context.WithCancelCause(ctx)
	w := &watchdog{d: d, cancel: cancel, seen: time.Now()}
	w.mu.Lock()
	w.t = time.AfterFunc(w.period(), w.check)
	w.mu.Unlock()
	return actx, w
}

func (w *watchdog) period() time.Duration { return max(w.d/4, time.Millisecond) }

func (w *watchdog) check() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped {
		return
	}
	p := w.moved.Load()
	if w.probe != nil {
		p += w.probe()
	}
	now := time.Now()
	if p != w.last {
		w.last, w.seen = p, now
	} else if now.Sub(w.seen) >= w.d {
		w.cancel(errStalled)
		return
	}
	w.t.Reset(w.period())
}

// kick says that bytes moved.
func (w *watchdog) kick() { w.moved.Add(1) }

// watch adds a progress probe: any change in what it returns counts as
// bytes moving.
func (w *watchdog) watch(probe func() int64) {
	w.mu.Lock()
	w.probe = probe
	w.mu.Unlock()
}

func (w *watchdog) stop() {
	w.mu.Lock()
	w.stopped = true
	w.t.Stop()
	w.mu.Unlock()
	w.cancel(nil)
}
