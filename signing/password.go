package signing

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/storesign/storesign/internal/atomicfile"
	"github.com/storesign/storesign/internal/limits"
)

// ErrPasswordSpec is wrapped by every error of [ReadPassword]: the
// variable or file the spec names could not give a password.
var ErrPasswordSpec = errors.New("signing: no password")

// ReadPassword resolves a password spec in apksigner's syntax:
//
//	pass:SECRET   the password itself (visible in the process list: avoid)
//	env:VAR       the value of environment variable VAR
//	file:PATH     the first line of the file at PATH (a regular file of at
//	              most 64 KiB)
//
// A spec without a known prefix is taken as the password itself, as
// jarsigner does. Errors wrap [ErrPasswordSpec] and name neither the value
// nor the variable or file: what was typed where a name belongs may be the
// password itself (env:$PASS expanded by a shell).
func ReadPassword(spec string) (string, error) {
	switch {
	case strings.HasPrefix(spec, "pass:"):
		return spec[len("pass:"):], nil
	case strings.HasPrefix(spec, "env:"):
		name := spec[len("env:"):]
		v, ok := os.LookupEnv(name)
		if !ok || name == "" {
			return "", fmt.Errorf("%w: the environment variable named in the env: spec is not set (the name is not shown: it may be the password): set it, or write env:NAME, not env:$NAME", ErrPasswordSpec)
		}
		return v, nil
	case strings.HasPrefix(spec, "file:"):
		b, err := atomicfile.ReadInput(spec[len("file:"):], "a password file", atomicfile.MaxPasswordFile)
		if err != nil {
			return "", passwordFileError(err)
		}
		line, _, _ := strings.Cut(string(b), "\n")
		return strings.TrimSuffix(line, "\r"), nil
	}
	return spec, nil
}

// passwordFileError rewrites an error of reading a file: password so that
// it does not hold the path (which may be the password itself).
func passwordFileError(err error) error {
	const named = "the file named in the file: spec"
	var (
		nr *atomicfile.NotRegularError
		le *limits.Error
		pe *os.PathError
	)
	switch {
	case errors.As(err, &nr):
		return fmt.Errorf("%w: %s is %s, not a regular file: write the password to a file and pass file:PATH", ErrPasswordSpec, named, nr.Kind)
	case errors.As(err, &le):
		return fmt.Errorf("%w: %s: %w", ErrPasswordSpec, named, le)
	case errors.As(err, &pe):
		err = pe.Err
	}
	return fmt.Errorf("%w: reading %s (the path is not shown: it may be the password): %w: check the path", ErrPasswordSpec, named, err)
}
