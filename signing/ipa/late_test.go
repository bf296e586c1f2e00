package ipa

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/storesign/storesign/internal/atomicfile"
	"github.com/storesign/storesign/signing/signingtest"
)

// TestResignFileSignsExtensionsInMemory re-signs a studio's signed app
// through ResignFile, which reads the extension's executable once,
// fitting its entitlements as it signs it in memory (signInMemory): the
// archive and the report are what Resign, which reads the entitlements
// first, makes. An entitlement the extension's profile does not grant
// fails as it does with Resign, naming the extension, and leaves no
// output.
func TestResignFileSignsExtensionsInMemory(t *testing.T) {
	in := studioIPA(t)
	const ext = "Payload/Example.app/PlugIns/Share.appex"
	for _, tt := range []struct {
		name string
		// extGrants, when not nil, is what a profile of the extension's
		// own ID grants.
		extGrants map[string]any
		ungranted string
	}{
		{name: "granted"},
		{name: "not granted", extGrants: without(publisherGrants, "com.apple.developer.ubiquity-kvstore-identifier"), ungranted: "com.apple.developer.ubiquity-kvstore-identifier"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			profiles := []signingtest.ProfileOptions{{Name: "Publisher wildcard", AppID: "com.example.*", Entitlements: publisherGrants}}
			if tt.extGrants != nil {
				profiles = append(profiles, signingtest.ProfileOptions{Name: "Publisher share", AppID: "com.example.app.share", Entitlements: tt.extGrants})
			}
			fix := newFixture(t, profiles...)
			opts := fix.opts()
			opts.BundleID = "com.example.app"
			dir := t.TempDir()
			inPath, outPath := filepath.Join(dir, "in.ipa"), filepath.Join(dir, "out.ipa")
			if err := os.WriteFile(inPath, in, 0o600); err != nil {
				t.Fatal(err)
			}
			rep, err := ResignFile(context.Background(), inPath, outPath, opts)
			if tt.ungranted != "" {
				var ne *EntitlementNotGrantedError
				if !errors.As(err, &ne) || ne.Path != ext || ne.Ungranted[0].Key != tt.ungranted {
					t.Fatalf("ResignFile: %v", err)
				}
				if _, serr := os.Stat(outPath); serr == nil {
					t.Error("output left behind")
				}
				_, rerr := Resign(context.Background(), bytes.NewReader(in), int64(len(in)), &bytes.Buffer{}, opts)
				if rerr == nil || rerr.Error() != err.Error() {
					t.Errorf("ResignFile: %v\nResign: %v", err, rerr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(outPath)
			if err != nil {
				t.Fatal(err)
			}
			want, wantRep := resign(t, in, opts)
			if !bytes.Equal(got, want) {
				t.Errorf("ResignFile wrote %d bytes that differ from Resign's %d", len(got), len(want))
			}
			if !reflect.DeepEqual(rep, wantRep) {
				t.Errorf("report:\n%+v\nwant\n%+v", rep, wantRep)
			}

			// The extension's executable was signed in memory.
			out, err := atomicfile.Create(filepath.Join(dir, "again.ipa"))
			if err != nil {
				t.Fatal(err)
			}
			defer out.Abort()
			r, err := resignStream(context.Background(), bytes.NewReader(in), int64(len(in)), out.Writeback(), out, opts)
			if err != nil {
				t.Fatal(err)
			}
			// Every bundle with a profile but the app: the extensions,
			// the watch app.
			seen := false
			for _, b := range r.a.bundles {
				if want := b.kind.embedsProfile() && b != r.a.app; r.late[b] != want {
					t.Errorf("%s: signed in memory %v, want %v", b.dir, r.late[b], want)
				}
				seen = seen || b.dir == ext && r.late[b]
			}
			if !seen {
				t.Errorf("%s was not signed in memory", ext)
			}
		})
	}
}
