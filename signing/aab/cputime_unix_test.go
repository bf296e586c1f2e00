//go:build unix

package aab

import (
	"syscall"
	"testing"
	"time"
)

// reportCPU reports the process's CPU time per byte as MB per CPU second
// (wall times mean little on a busy machine); call the function it
// returns when done.
func reportCPU(b *testing.B, n int) func() {
	start := cpuTime()
	return func() {
		b.ReportMetric(float64(n)*float64(b.N)/(cpuTime()-start).Seconds()/1e6, "MB/cpu-s")
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
