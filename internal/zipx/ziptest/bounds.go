package ziptest

import (
	"runtime"
	"testing"
	"time"
)

// Bounded runs fn and fails t when it takes longer than maxTime or
// allocates more than maxAlloc bytes: what every hostile case asserts.
func Bounded(t testing.TB, maxTime time.Duration, maxAlloc uint64, fn func()) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	fn()
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	if elapsed > maxTime {
		t.Errorf("took %v, more than %v", elapsed, maxTime)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > maxAlloc {
		t.Errorf("allocated %d bytes, more than %d", alloc, maxAlloc)
	}
}
