package drive

import (
	"context"
	"time"
)

// watchdog cancels an attempt when no bytes move for d: kick it on every
// read or write.
type watchdog struct {
	t      *time.Timer
	d      time.Duration
	cancel context.CancelCauseFunc
}

func newWatchdog(ctx context.Context, d time.Duration) (context.Context, *watchdog) {
	actx, cancel := context.WithCancelCause(ctx)
	w := &watchdog{d: d, cancel: cancel}
	w.t = time.AfterFunc(d, func() { cancel(errStalled) })
	return actx, w
}

func (w *watchdog) kick() { w.t.Reset(w.d) }

func (w *watchdog) stop() {
	w.t.Stop()
	w.cancel(nil)
}
