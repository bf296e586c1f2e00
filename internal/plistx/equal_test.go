package plistx

import (
	"bytes"
	"math"
	"time"
)

// equalValues compares decoded plist values: NaN equals NaN, times are
// compared as instants to the microsecond, float32 and float64 by value.
func equalValues(a, b any) bool {
	switch a := a.(type) {
	case map[string]any:
		b, ok := b.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k, v := range a {
			w, ok := b[k]
			if !ok || !equalValues(v, w) {
				return false
			}
		}
		return true
	case []any:
		b, ok := b.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !equalValues(a[i], b[i]) {
				return false
			}
		}
		return true
	case []byte:
		b, ok := b.([]byte)
		return ok && bytes.Equal(a, b)
	case time.Time:
		b, ok := b.(time.Time)
		// A binary date is a float64 of seconds since 2001: it keeps
		// about a microsecond.
		d := a.Sub(b)
		return ok && d < time.Microsecond && d > -time.Microsecond
	case float32:
		return equalFloat(float64(a), b)
	case float64:
		return equalFloat(a, b)
	}
	return a == b
}

func equalFloat(a float64, b any) bool {
	var f float64
	switch b := b.(type) {
	case float32:
		f = float64(b)
	case float64:
		f = b
	default:
		return false
	}
	return a == f || math.IsNaN(a) && math.IsNaN(f)
}
