package ipa

import "sync"

// A cpuGate keeps a core for the app's executable while it is inflated
// on its lane (see mainLane). Inflating one deflate stream cannot be
// split, so the lane bounds the run whenever the rest of the work is
// done before it; and Go's scheduler shares the cores evenly among the
// goroutines that can run, so with the hashing workers and the other
// binaries' inflating beside it, the lane got about half a core until
// the rest was done. The heavy work beside the lane (each file hashed,
// each chunk of another binary inflated) passes the gate, which lets
// GOMAXPROCS-1 of them run at once until the lane has read its binary;
// then the gate opens. Nothing holds a place in the gate while it waits
// for anything but its own input, so the gate cannot deadlock.
//
// A nil *cpuGate lets everything through.
type cpuGate struct {
	slots chan struct{}
	open  chan struct{}
	once  sync.Once
}

// newCPUGate returns a gate for n at once.
func newCPUGate(n int) *cpuGate {
	return &cpuGate{slots: make(chan struct{}, max(n, 1)), open: make(chan struct{})}
}

// enter waits for a place, unless the gate is open, and returns the
// function that gives it back.
func (g *cpuGate) enter() (leave func()) {
	if g == nil {
		return func() {}
	}
	select {
	case <-g.open:
		return func() {}
	default:
	}
	select {
	case g.slots <- struct{}{}:
		return func() { <-g.slots }
	case <-g.open:
		return func() {}
	}
}

// openAll lets everything through from now on.
func (g *cpuGate) openAll() {
	if g != nil {
		g.once.Do(func() { close(g.open) })
	}
}
