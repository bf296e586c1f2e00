// Package limits holds the error every storesign reader returns when an
// input asks for more than it allows (bytes, entries, iterations, nesting),
// and overflow-safe arithmetic to check such limits with.
//
// The limits themselves belong to each reader; this package only gives
// them one shape, so that callers (the CLI, the Actions) can tell "the
// input is too big or too deep" from "the input is damaged" with
// errors.As(err, new(*limits.Error)) or errors.Is(err, limits.ErrExceeded),
// whichever package the error came from. Public packages re-export the
// type (signing.LimitError is this Error).
package limits

import (
	"errors"
	"fmt"
	"math"
)

// ErrExceeded matches every *Error with errors.Is.
var ErrExceeded = errors.New("limits: input exceeds a limit")

// Error reports an input that asks for more than a reader allows. Value is
// what the input holds or claims, or -1 when it is not known (a stream cut
// off after Limit bytes, a nesting counted only as far as Limit).
type Error struct {
	// What was counted, as a noun phrase: "PKCS#12 MAC iterations",
	// "keystore file size (bytes)", "plist nesting depth".
	What string
	// Value is what the input claims or holds; -1 when unknown (more than
	// Limit).
	Value int64
	// Limit is the most allowed.
	Limit int64
	// Fix says what the user can do; empty when there is nothing to say
	// beyond the limit itself.
	Fix string
	// Err, when set, is a sentinel of the reporting package that the
	// error matches too (zipx.ErrUnsafe, axml.ErrMalformed...): packages
	// that had their own limit error keep their errors.Is behaviour when
	// they alias this type (type LimitError = limits.Error).
	Err error
}

func (e *Error) Error() string {
	var s string
	if e.Value < 0 {
		s = fmt.Sprintf("%s: more than the limit of %d", e.What, e.Limit)
	} else {
		s = fmt.Sprintf("%s: %d is more than the limit of %d", e.What, e.Value, e.Limit)
	}
	if e.Fix != "" {
		s += ": " + e.Fix
	}
	return s
}

// Is reports whether target is [ErrExceeded].
func (e *Error) Is(target error) bool { return target == ErrExceeded }

// Unwrap returns Err.
func (e *Error) Unwrap() error { return e.Err }

// Check returns an *Error when value is more than limit, nil otherwise.
func Check(what string, value, limit int64, fix string) error {
	if value > limit {
		return &Error{What: what, Value: value, Limit: limit, Fix: fix}
	}
	return nil
}

// Add returns a+b and whether it did not overflow int64.
func Add(a, b int64) (int64, bool) {
	s := a + b
	if (b > 0 && s < a) || (b < 0 && s > a) {
		return 0, false
	}
	return s, true
}

// Mul returns a*b and whether it did not overflow int64.
func Mul(a, b int64) (int64, bool) {
	if a == 0 || b == 0 {
		return 0, true
	}
	if (a == -1 && b == math.MinInt64) || (b == -1 && a == math.MinInt64) {
		return 0, false
	}
	p := a * b
	if p/b != a {
		return 0, false
	}
	return p, true
}

// InRange reports whether [off, off+n) lies inside [0, size), without
// overflowing: the check every "offset plus length" from a file needs.
func InRange(off, n, size int64) bool {
	return off >= 0 && n >= 0 && size >= 0 && off <= size && n <= size-off
}
