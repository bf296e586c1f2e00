//go:build !unix

package aab

import "testing"

// reportCPU reports nothing where getrusage is missing.
func reportCPU(b *testing.B, n int) func() { return func() {} }
