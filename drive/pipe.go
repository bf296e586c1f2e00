package drive

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// fanout hands each block read from the network to several consumers (the
// destination writer and one goroutine per hash) so that they run on
// different cores while blocks stay in order for each of them. It holds a
// fixed number of buffers: memory stays bounded whatever the file size.
type fanout struct {
	free chan []byte
	outs []chan block
	wg   sync.WaitGroup
	mu   sync.Mutex
	err  error
}

type block struct {
	base []byte
	n    int
	refs *atomic.Int32
}

func newFanout(nbuf, size int, consumers ...func([]byte) error) *fanout {
	f := &fanout{free: make(chan []byte, nbuf)}
	for range nbuf {
		f.free <- make([]byte, size)
	}
	for _, fn := range consumers {
		ch := make(chan block, nbuf)
		f.outs = append(f.outs, ch)
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			var failed bool
			for b := range ch {
				if !failed {
					if err := fn(b.base[:b.n]); err != nil {
						failed = true
						f.setErr(err)
					}
				}
				if b.refs.Add(-1) == 0 {
					f.free <- b.base
				}
			}
		}()
	}
	return f
}

func (f *fanout) setErr(err error) {
	f.mu.Lock()
	if f.err == nil {
		f.err = err
	}
	f.mu.Unlock()
}

// Err returns the first consumer error so far.
func (f *fanout) Err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// buffer returns a free buffer, waiting for consumers to release one.
func (f *fanout) buffer() []byte { return <-f.free }

// push hands the first n bytes of buf (from buffer) to every consumer.
func (f *fanout) push(buf []byte, n int) {
	if n == 0 {
		f.free <- buf
		return
	}
	refs := new(atomic.Int32)
	refs.Store(int32(len(f.outs)))
	for _, ch := range f.outs {
		ch <- block{base: buf, n: n, refs: refs}
	}
}

// close waits for the consumers to finish and returns their first error.
func (f *fanout) close() error {
	for _, ch := range f.outs {
		close(ch)
	}
	f.wg.Wait()
	return f.Err()
}

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
