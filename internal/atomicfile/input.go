package atomicfile

import (
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/storesign/storesign/internal/limits"
)

// Size caps for the small inputs read whole with [ReadInput]: the biggest
// real ones are far below (a keystore of a few keys is a few KiB, a
// provisioning profile tens of KiB, a certificate chain a few KiB).
const (
	MaxKeyFile      = 4 << 20  // keystores, .p12, PEM/DER keys and certificates
	MaxProfileFile  = 8 << 20  // .mobileprovision
	MaxPlistFile    = 8 << 20  // entitlements and other plists
	MaxPasswordFile = 64 << 10 // file: passwords
)

// OpenInput opens the input of a *File function (apk.SignFile,
// ipa.VerifyFile...) read-only and returns it with its size. Anything but
// a regular file is refused before it is read, and a FIFO or device
// without blocking in open: "<name> is a folder, not <what>: ...",
// "<name> is a named pipe (FIFO), not <what>: ...". Other errors are the os
// package's, with the path.
func OpenInput(name, what string) (*os.File, int64, error) {
	// Refuse what we can see is not a file before opening it at all; the
	// non-blocking open and the check of what was opened close the race
	// with a file replaced in between.
	if st, err := os.Stat(name); err == nil {
		if err := checkRegular(name, what, st); err != nil {
			return nil, 0, err
		}
	}
	f, err := os.OpenFile(name, os.O_RDONLY|openNonblock, 0)
	if err != nil {
		return nil, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	if err := checkRegular(name, what, st); err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, st.Size(), nil
}

// NotRegularError reports an input that is not a regular file: a folder, a
// FIFO, a device or a socket.
type NotRegularError struct {
	Name string
	What string // what the file was to be: "an APK", "a keystore"
	Kind string // "a folder", "a named pipe (FIFO)", "a device", ...
}

func (e *NotRegularError) Error() string {
	if e.Kind == "a folder" {
		return fmt.Sprintf("%s is a folder, not %s: pass the file itself", e.Name, e.What)
	}
	return fmt.Sprintf("%s is %s, not %s: pass a regular file (copy the data to a file first)", e.Name, e.Kind, e.What)
}

func checkRegular(name, what string, st fs.FileInfo) error {
	m := st.Mode()
	var kind string
	switch {
	case m.IsRegular():
		return nil
	case m.IsDir():
		kind = "a folder"
	case m&fs.ModeNamedPipe != 0:
		kind = "a named pipe (FIFO)"
	case m&fs.ModeCharDevice != 0:
		kind = "a character device"
	case m&fs.ModeDevice != 0:
		kind = "a block device"
	case m&fs.ModeSocket != 0:
		kind = "a socket"
	default:
		kind = "not a regular file"
	}
	return &NotRegularError{Name: name, What: what, Kind: kind}
}

// ReadInput reads a small input whole (a keystore, key, certificate,
// profile, entitlements or password file), as [OpenInput] opens it, and
// refuses one larger than max bytes with a *[limits.Error] before reading
// it: a file that grows while read is cut at max+1 bytes and refused too.
// what names the file in errors ("a keystore").
func ReadInput(name, what string, max int64) ([]byte, error) {
	f, size, err := OpenInput(name, what)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	tooBig := func(n int64) error {
		return fmt.Errorf("%s: %w", name, &limits.Error{What: "size of " + what + " (bytes)", Value: n, Limit: max, Fix: "check that it is the right file"})
	}
	if size > max {
		return nil, tooBig(size)
	}
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, unwrapPath(err))
	}
	if int64(len(b)) > max {
		return nil, tooBig(-1)
	}
	return b, nil
}
