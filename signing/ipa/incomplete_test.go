package ipa

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/storesign/storesign/signing/signingtest"
)

// TestIncomplete: an empty IPA, or one cut short as a download that
// stopped early, is reported as incomplete (download it again), not as
// the wrong kind of file; a file that is no zip at all is still not an
// IPA.
func TestIncomplete(t *testing.T) {
	f := newFixture(t)
	good := signingtest.IPA(signingtest.IPAOptions{Minimal: true})
	ctx := context.Background()
	ops := map[string]func([]byte) error{
		"Resign": func(b []byte) error {
			_, err := Resign(ctx, bytes.NewReader(b), int64(len(b)), io.Discard, f.opts())
			return err
		},
		"Verify": func(b []byte) error {
			_, err := Verify(ctx, bytes.NewReader(b), int64(len(b)), f.vopts())
			return err
		},
		"Inspect": func(b []byte) error {
			_, err := Inspect(ctx, bytes.NewReader(b), int64(len(b)), f.vopts())
			return err
		},
		"Check": func(b []byte) error {
			_, err := Check(ctx, bytes.NewReader(b), int64(len(b)), CheckOptions{})
			return err
		},
	}
	for _, tc := range []struct {
		name string
		in   []byte
		want error
		msg  string
	}{
		{"empty", nil, ErrIncomplete, "zip: the file is empty: download it again"},
		{"first 5000 bytes", good[:5000], ErrIncomplete, "cut short"},
		{"first half", good[:len(good)/2], ErrIncomplete, "cut short"},
		{"first 10 bytes", good[:10], ErrIncomplete, "cut short"},
		{"text", []byte("this is not a zip file, only words and more words"), ErrNotIPA, "not a valid zip file"},
	} {
		for op, fn := range ops {
			t.Run(tc.name+"/"+op, func(t *testing.T) {
				err := fn(tc.in)
				if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
					t.Fatalf("err = %v, want %v containing %q", err, tc.want, tc.msg)
				}
				if tc.want == ErrIncomplete && errors.Is(err, ErrNotIPA) {
					t.Errorf("err = %v matches ErrNotIPA: the file is not the wrong kind, only incomplete", err)
				}
			})
		}
	}
}
