package ipa

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"howett.net/plist"

	"github.com/storesign/storesign/internal/plistx"
	"github.com/storesign/storesign/internal/testenv"
)

// TestVerifyStrict checks that Verify reports an Apple signature of an
// older format (2015: CodeDirectory 0x20200, SHA-1 only) as a deviation,
// fails it under Strict, and that re-signing it gives signatures that
// pass Strict.
func TestVerifyStrict(t *testing.T) {
	in := corpusFile(t, "apple/simplesaucy-2015-dev-swift.ipa")
	rep, err := Inspect(context.Background(), bytes.NewReader(in), int64(len(in)), VerifyOptions{AllowExpired: true})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, b := range rep.Bundles {
		n += len(b.Deviations)
	}
	if n == 0 {
		t.Error("no deviation reported for a 2015 signature")
	}
	_, err = Verify(context.Background(), bytes.NewReader(in), int64(len(in)), VerifyOptions{AllowExpired: true, Strict: true})
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "not what codesign writes") {
		t.Errorf("strict verification of a 2015 signature: %v", err)
	}
	id, profiles := corpusIdentity(t)
	now := func() time.Time { return time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC) }
	out, _ := resign(t, in, Options{Identity: id, Profiles: profiles, Now: now, BundleID: "com.saucelabs.SimpleSaucyApp"})
	if _, err := Verify(context.Background(), bytes.NewReader(out), int64(len(out)), VerifyOptions{Now: now, Strict: true}); err != nil {
		t.Errorf("strict verification of the re-signed app: %v", err)
	}
}

// TestInfoPlistEditLayout checks that an edited Info.plist keeps its form
// and is laid out as Apple's tools lay it out.
func TestInfoPlistEditLayout(t *testing.T) {
	in := corpusFile(t, "apple/simplesaucy-2015-dev-swift.ipa")
	id, profiles := corpusIdentity(t)
	now := func() time.Time { return time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC) }
	out, _ := resign(t, in, Options{Identity: id, Profiles: profiles, Now: now, BundleID: "com.saucelabs.SimpleSaucyApp", BundleVersion: "42"})
	const name = "Payload/SimpleSaucyApp.app/Info.plist"
	before, after := testenv.ZipFiles(t, in)[name], testenv.ZipFiles(t, out)[name]
	if plistx.FormatOf(after) != plistx.FormatOf(before) {
		t.Errorf("Info.plist form changed from %v to %v", plistx.FormatOf(before), plistx.FormatOf(after))
	}
	if !plistx.Canonical(after) {
		t.Error("the edited Info.plist is not laid out as Apple's tools lay it out")
	}
	var info map[string]any
	if _, err := plist.Unmarshal(after, &info); err != nil || info["CFBundleVersion"] != "42" || info["CFBundleIdentifier"] != "com.saucelabs.SimpleSaucyApp" {
		t.Errorf("edited Info.plist: %v, %v", info, err)
	}
}
