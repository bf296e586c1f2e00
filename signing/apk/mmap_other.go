//go:build !linux

package apk

import (
	"errors"
	"os"
)

// mapFile is not used outside Linux: readers fall back to ReadAt.
func mapFile(f *os.File, size int64) ([]byte, func(), error) {
	return nil, nil, errors.ErrUnsupported
}
