package apk_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/storesign/storesign/internal/zipx"
	"github.com/storesign/storesign/internal/zipx/ziptest"
	"github.com/storesign/storesign/signing/apk"
	"github.com/storesign/storesign/signing/signingtest"
)

// hostileBase returns a valid APK's entries for ziptest.
func hostileBase(t testing.TB) []ziptest.Entry {
	es, err := ziptest.EntriesOf(signingtest.APK(signingtest.APKOptions{Assets: 2}))
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// apkKind checks that err is what Sign and Verify return for a ziptest
// kind: the package's errors, with zipx's typed error inside.
func apkKind(err error, kind string) error {
	var dup *apk.DuplicateEntryError
	ok := false
	switch kind {
	case ziptest.WantFormat:
		ok = errors.Is(err, apk.ErrNotZip)
	case ziptest.WantTruncated:
		ok = errors.Is(err, apk.ErrMalformed)
	case ziptest.WantDuplicate:
		ok = errors.As(err, &dup)
	default:
		ok = errors.Is(err, apk.ErrMalformed) && zipx.Kind(err) == kind
	}
	if !ok {
		return fmt.Errorf("error %v (%T), want a %s error", err, err, kind)
	}
	return nil
}

// TestHostileAPKs signs and verifies each hostile archive: both refuse
// it with the typed error, write nothing, and stay within bounded time
// and memory.
func TestHostileAPKs(t *testing.T) {
	base := hostileBase(t)
	good := ziptest.Build(base, ziptest.Options{}).Bytes
	id := testIdentities()["rsa2048"]
	if _, err := apk.Sign(context.Background(), bytes.NewReader(good), int64(len(good)), io.Discard, apk.Options{Identity: id}); err != nil {
		t.Fatalf("the base APK: %v", err)
	}
	cases := ziptest.Hostile(base)
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			var out bytes.Buffer
			var signErr, err error
			ziptest.Bounded(t, 5*time.Second, 16<<20, func() {
				_, signErr = apk.Sign(context.Background(), bytes.NewReader(tc.Bytes), int64(len(tc.Bytes)), &out, apk.Options{Identity: id})
				_, err = apk.Verify(context.Background(), bytes.NewReader(tc.Bytes), int64(len(tc.Bytes)), apk.VerifyOptions{})
			})
			if e := apkKind(signErr, tc.Want); e != nil {
				t.Errorf("Sign: %v", e)
			}
			if out.Len() != 0 {
				t.Errorf("Sign wrote %d bytes", out.Len())
			}
			if e := apkKind(err, tc.Want); e != nil {
				t.Errorf("Verify: %v", e)
			}
			if err != nil && strings.ContainsAny(err.Error(), "\n\x00\x1b") {
				t.Errorf("message carries control characters: %q", err)
			}
		})
	}
	t.Logf("%d hostile APKs refused by Sign and Verify", len(cases))
}

// TestAPKZip64 checks that an APK needing zip64, in or out, is refused
// with ErrZip64 (apksigner and Android refuse zip64 APKs), and that its
// message says what to do.
func TestAPKZip64(t *testing.T) {
	id := testIdentities()["rsa2048"]
	base := hostileBase(t)
	z64 := ziptest.Build(base, ziptest.Options{Zip64: true}).Bytes
	_, err := apk.Sign(context.Background(), bytes.NewReader(z64), int64(len(z64)), io.Discard, apk.Options{Identity: id})
	if !errors.Is(err, apk.ErrZip64) {
		t.Errorf("Sign of a zip64 APK: %v", err)
	}
	if err != nil && !strings.Contains(err.Error(), "App Bundle") {
		t.Errorf("no fix in %q", err)
	}
	_, err = apk.Verify(context.Background(), bytes.NewReader(z64), int64(len(z64)), apk.VerifyOptions{})
	if !errors.Is(err, apk.ErrZip64) {
		t.Errorf("Verify of a zip64 APK: %v", err)
	}

	// 65,533 entries fit the classic end record; with the three v1
	// signature files the output would not.
	if testing.Short() {
		t.Skip("65,533 entries: skipped in -short")
	}
	es := base
	for i := len(es); i < 65533; i++ {
		es = append(es, ziptest.Entry{Name: fmt.Sprintf("assets/f%05d", i), Data: []byte{byte(i)}})
	}
	many := ziptest.Build(es, ziptest.Options{}).Bytes
	_, err = apk.Sign(context.Background(), bytes.NewReader(many), int64(len(many)), io.Discard, apk.Options{Identity: id})
	if !errors.Is(err, apk.ErrZip64) {
		t.Errorf("Sign with 65,536 entries out: %v", err)
	}
}
