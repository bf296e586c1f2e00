package ipa

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"howett.net/plist"

	"github.com/storesign/storesign/internal/testenv"
	"github.com/storesign/storesign/signing"
	"github.com/storesign/storesign/signing/provision"
	"github.com/storesign/storesign/signing/signingtest"
)

func corpusFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(testenv.Corpus(t, "ios", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCorpusXcodeSeal checks our reading of a CodeResources written by
// Xcode (2016): every file present in the archive must match its seal,
// and every signature verify. The archive lacks two sealed files (isign
// removed libswiftCore.dylib and the profile), which must be reported.
func TestCorpusXcodeSeal(t *testing.T) {
	in := corpusFile(t, "isign-Test.ipa")
	rep, err := Inspect(context.Background(), bytes.NewReader(in), int64(len(in)), VerifyOptions{AllowExpired: true})
	if err != nil {
		t.Fatal(err)
	}
	var dylibs int
	for _, b := range rep.Bundles {
		switch b.Kind {
		case "dylib":
			dylibs++
			if len(b.Problems) > 0 {
				t.Errorf("%s: %v", b.Path, b.Problems)
			}
			if b.TeamID == "" || len(b.Authority) == 0 {
				t.Errorf("%s: team %q authority %v", b.Path, b.TeamID, b.Authority)
			}
		case "app":
			want := []string{
				// Not sealed by Xcode (added to the archive by isign's tests).
				"isignTestAppTests/Info.plist is not sealed",
				"isignTestAppUITests/Info.plist is not sealed",
				"no embedded.mobileprovision: the app will not install",
				"Frameworks/libswiftCore.dylib is sealed by _CodeSignature/CodeResources but missing",
				"embedded.mobileprovision is sealed by _CodeSignature/CodeResources but missing",
			}
			for _, w := range want {
				found := false
				for _, p := range b.Problems {
					found = found || strings.Contains(p, w)
				}
				if !found {
					t.Errorf("app: problem %q not reported", w)
				}
			}
			if len(b.Problems) != len(want) {
				t.Errorf("app problems: %q", b.Problems)
			}
			if b.Identifier != "com.saucelabs.isignTestApp" || len(b.CDHashes) != 2 {
				t.Errorf("app: identifier %q cdhashes %v archs %v", b.Identifier, b.CDHashes, b.Archs)
			}
			t.Logf("app: %s team %s cdhashes %v authority %v", b.Identifier, b.TeamID, b.CDHashes, b.Authority)
		}
	}
	if dylibs != 8 {
		t.Errorf("%d dylibs, want 8", dylibs)
	}
}

func corpusIdentity(t *testing.T) (*signing.Identity, []*provision.Profile) {
	t.Helper()
	id, err := signing.LoadPKCS12(corpusFile(t, "self-signed-rsa-apple-distribution.p12"), "password")
	if err != nil {
		t.Fatal(err)
	}
	apple := signingtest.NewApple(signingtest.AppleOptions{})
	prof, err := provision.Parse(apple.Profile(signingtest.ProfileOptions{
		Name: "isign", AppID: "com.saucelabs.*", TeamID: "test",
		Certificates: []*x509.Certificate{id.Certificate},
		Created:      time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
	}))
	if err != nil {
		t.Fatal(err)
	}
	return id, []*provision.Profile{prof}
}

// TestCorpusResign re-signs the real app, signed and unsigned (thin and
// fat), with the corpus identity and checks the result; it also compares
// the CodeResources we write with Xcode's for the files both seal.
func TestCorpusResign(t *testing.T) {
	id, profiles := corpusIdentity(t)
	now := func() time.Time { return time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC) }
	xcode := xcodeSeal(t, corpusFile(t, "isign-Test.ipa"))
	for _, name := range []string{"isign-Test.ipa", "isign-Test-unsigned-thin.ipa", "isign-Test-unsigned-fat.ipa"} {
		t.Run(name, func(t *testing.T) {
			in := corpusFile(t, name)
			out, rep := resign(t, in, Options{Identity: id, Profiles: profiles, Now: now})
			vr, err := Verify(context.Background(), bytes.NewReader(out), int64(len(out)), VerifyOptions{Now: now})
			if err != nil {
				t.Fatal(err)
			}
			if len(vr.Bundles) != len(rep.Bundles) {
				t.Errorf("verify %d bundles, resign %d", len(vr.Bundles), len(rep.Bundles))
			}
			for _, b := range rep.Bundles {
				if b.Kind != "dylib" {
					continue
				}
				// The dylibs (signed in every variant) keep their
				// identifiers, as Xcode's re-sign does.
				want := "com.apple.dt.runtime.swift"
				if !strings.HasPrefix(b.Identifier, want) {
					t.Errorf("%s: identifier %q, want %s...", b.Path, b.Identifier, want)
				}
			}
			app := vr.Bundles[len(vr.Bundles)-1]
			// An App Store profile: get-task-allow false (or absent), as
			// Xcode exports for distribution.
			var ents map[string]any
			plist.Unmarshal([]byte(app.Entitlements), &ents)
			if !strings.Contains(app.Entitlements, "test.com.saucelabs.isignTestApp") || ents["get-task-allow"] == true {
				t.Errorf("entitlements:\n%s", app.Entitlements)
			}
			ours := xcodeSeal(t, out)
			same, differ, onlyX := 0, 0, 0
			for k, v := range xcode {
				o, ok := ours[k]
				switch {
				case !ok:
					onlyX++

				case bytes.Equal(o, v):
					same++
				default:
					differ++
					if !strings.HasSuffix(k, ".dylib") && k != "embedded.mobileprovision" {
						t.Errorf("%s: our seal differs from Xcode's", k)
					}
				}
			}
			t.Logf("files2 vs Xcode's: %d equal, %d differ (re-signed code, Info.plist...), %d only in Xcode's, %d only in ours", same, differ, onlyX, len(ours)-same-differ)
			if same < 8 {
				t.Errorf("only %d files2 seals agree with Xcode's", same)
			}
		})
	}
}

// xcodeSeal returns the app's files2 hashes (SHA-1, as Xcode 2016 wrote them).
func xcodeSeal(t *testing.T, ipa []byte) map[string][]byte {
	zf := zipFiles(t, ipa)
	var cr codeResources
	var raw []byte
	for name, f := range zf {
		if strings.Count(name, "/") == 3 && strings.HasSuffix(name, ".app/_CodeSignature/CodeResources") {
			raw = readZip(t, f)
		}
	}
	if _, err := plist.Unmarshal(raw, &cr); err != nil {
		t.Fatal(err)
	}
	m := map[string][]byte{}
	for k, v := range cr.Files2 {
		h1, _, _, _, err := files2Entry(v)
		if err == nil && h1 != nil {
			m[k] = h1
		}
	}
	return m
}

func TestCorpusBadInput(t *testing.T) {
	id, profiles := corpusIdentity(t)
	in := corpusFile(t, "NotAnApp.ipa")
	var out bytes.Buffer
	_, err := Resign(context.Background(), bytes.NewReader(in), int64(len(in)), &out, Options{Identity: id, Profiles: profiles})
	if !errors.Is(err, ErrNotIPA) {
		t.Errorf("NotAnApp.ipa: %v, want ErrNotIPA", err)
	}
	expired, err := provision.Parse(corpusFile(t, "apple-appstore-expired.mobileprovision"))
	if err != nil {
		t.Fatal(err)
	}
	in = corpusFile(t, "isign-Test.ipa")
	_, err = Resign(context.Background(), bytes.NewReader(in), int64(len(in)), &out, Options{Identity: id, Profiles: []*provision.Profile{expired}})
	if err == nil || out.Len() != 0 {
		t.Fatalf("expired profile: err %v, %d bytes out", err, out.Len())
	}
	t.Log(err)
}
