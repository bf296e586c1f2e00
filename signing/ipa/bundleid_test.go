package ipa

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckBundleID(t *testing.T) {
	for _, ok := range []string{"com.example.app", "com.example.app.share-ext", "A1.b2", "com.example.my_app"} {
		if err := checkBundleID(ok, "test", ok != "com.example.my_app"); err != nil {
			t.Errorf("checkBundleID(%q): %v", ok, err)
		}
	}
	for _, tc := range []struct {
		id     string
		strict bool
	}{
		{"", false},
		{"com.example\napp", false},
		{"com.example.app\npath=/etc/passwd", false},
		{"com/example", false},
		{`com\example`, false},
		{"com..example", false},
		{"../evil", false},
		{".com.example", false},
		{"com.example.", false},
		{"com.example app", false},
		{"com.exämple", false},
		{"com.example.my_app", true},
		{strings.Repeat("a", maxBundleID+1), false},
	} {
		err := checkBundleID(tc.id, "test", tc.strict)
		var be *BundleIDError
		if !errors.As(err, &be) || !errors.Is(err, ErrBadBundleID) {
			t.Errorf("checkBundleID(%q, strict=%v) = %v, want a *BundleIDError", tc.id, tc.strict, err)
			continue
		}
		if strings.ContainsAny(err.Error(), "\r\n") {
			t.Errorf("checkBundleID(%q): multi-line error %q", tc.id, err)
		}
	}
}
