//go:build !linux

package aab

import "os"

// copyFileRange copies nothing: the caller copies through a buffer.
func copyFileRange(dst *os.File, dstOff int64, src *os.File, srcOff, n int64) int64 { return 0 }
