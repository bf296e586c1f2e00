package signing

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// ReadPassword resolves a password spec in apksigner's syntax:
//
//	pass:SECRET   the password itself (visible in the process list: avoid)
//	env:VAR       the value of environment variable VAR
//	file:PATH     the first line of the file at PATH
//
// A spec without a known prefix is taken as the password itself, as
// jarsigner does. Errors name the variable or file, never the value.
func ReadPassword(spec string) (string, error) {
	switch {
	case strings.HasPrefix(spec, "pass:"):
		return spec[len("pass:"):], nil
	case strings.HasPrefix(spec, "env:"):
		name := spec[len("env:"):]
		v, ok := os.LookupEnv(name)
		if !ok {
			return "", fmt.Errorf("password: environment variable %s is not set", name)
		}
		return v, nil
	case strings.HasPrefix(spec, "file:"):
		path := spec[len("file:"):]
		b, err := os.ReadFile(path)
		if err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return "", fmt.Errorf("password: reading %s: %w", path, err)
		}
		line, _, _ := strings.Cut(string(b), "\n")
		return strings.TrimSuffix(line, "\r"), nil
	}
	return spec, nil
}
