package limits

import (
	"errors"
	"fmt"
	"math"
	"testing"
)

func TestError(t *testing.T) {
	err := fmt.Errorf("reading key.p12: %w", Check("PKCS#12 MAC iterations", 1<<31, 1_000_000, "re-export it with fewer"))
	var le *Error
	if !errors.As(err, &le) || le.Limit != 1_000_000 || !errors.Is(err, ErrExceeded) {
		t.Fatalf("errors.As/Is failed on %v", err)
	}
	want := "reading key.p12: PKCS#12 MAC iterations: 2147483648 is more than the limit of 1000000: re-export it with fewer"
	if err.Error() != want {
		t.Errorf("got  %q\nwant %q", err, want)
	}
	if got := (&Error{What: "file size (bytes)", Value: -1, Limit: 10}).Error(); got != "file size (bytes): more than the limit of 10" {
		t.Errorf("unknown value: %q", got)
	}
	sentinel := errors.New("zip: unsafe archive")
	wrapped := fmt.Errorf("zip: %w", &Error{What: "entries", Value: 70000, Limit: 65535, Err: sentinel})
	if !errors.Is(wrapped, sentinel) || !errors.Is(wrapped, ErrExceeded) || !errors.As(wrapped, &le) {
		t.Errorf("Err not matched: %v", wrapped)
	}
	if Check("x", 10, 10, "") != nil {
		t.Error("Check refuses the limit itself")
	}
}

func TestArithmetic(t *testing.T) {
	for _, c := range []struct {
		a, b     int64
		sum, mul bool
	}{
		{1, 2, true, true},
		{math.MaxInt64, 1, false, true},
		{math.MinInt64, -1, false, false},
		{math.MaxInt64 / 2, 2, true, true},
		{math.MaxInt64/2 + 1, 2, true, false},
		{-1, math.MinInt64, false, false},
		{0, math.MinInt64, true, true},
		{1 << 32, 1 << 30, true, true},
		{1 << 32, 1 << 31, true, false},
	} {
		if _, ok := Add(c.a, c.b); ok != c.sum {
			t.Errorf("Add(%d, %d) ok = %v", c.a, c.b, ok)
		}
		if p, ok := Mul(c.a, c.b); ok != c.mul || (ok && p != c.a*c.b) {
			t.Errorf("Mul(%d, %d) = %d, %v", c.a, c.b, p, ok)
		}
	}
	for _, c := range []struct {
		off, n, size int64
		ok           bool
	}{
		{0, 0, 0, true},
		{0, 10, 10, true},
		{1, 10, 10, false},
		{10, 0, 10, true},
		{math.MaxInt64, math.MaxInt64, 100, false},
		{50, math.MaxInt64, 100, false},
		{-1, 1, 100, false},
	} {
		if got := InRange(c.off, c.n, c.size); got != c.ok {
			t.Errorf("InRange(%d, %d, %d) = %v", c.off, c.n, c.size, got)
		}
	}
}
