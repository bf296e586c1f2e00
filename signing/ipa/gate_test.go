package ipa

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestCPUGate(t *testing.T) {
	var nilGate *cpuGate
	nilGate.enter()()
	nilGate.openAll()

	g := newCPUGate(2)
	var in, most atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			leave := g.enter()
			n := in.Add(1)
			for {
				m := most.Load()
				if n <= m || most.CompareAndSwap(m, n) {
					break
				}
			}
			time.Sleep(5 * time.Millisecond)
			in.Add(-1)
			leave()
		}()
	}
	wg.Wait()
	if m := most.Load(); m != 2 {
		t.Errorf("%d at once through a gate of 2", m)
	}

	// Once open, the gate lets everyone through, those waiting included.
	g = newCPUGate(1)
	leave := g.enter()
	through := make(chan struct{})
	go func() {
		g.enter()()
		close(through)
	}()
	select {
	case <-through:
		t.Fatal("a second one passed a gate of 1")
	case <-time.After(20 * time.Millisecond):
	}
	g.openAll()
	g.openAll()
	select {
	case <-through:
	case <-time.After(5 * time.Second):
		t.Fatal("the open gate kept a waiter")
	}
	leave()
	g.enter()()
}
