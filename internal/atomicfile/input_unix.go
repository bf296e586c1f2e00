//go:build unix

package atomicfile

import "syscall"

// openNonblock makes opening a FIFO without a writer return at once (the
// file is then refused as not regular) instead of blocking.
const openNonblock = syscall.O_NONBLOCK
