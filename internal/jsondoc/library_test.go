package jsondoc_test

import (
	"context"
	"os"
	"slices"
	"testing"

	"github.com/storesign/storesign/internal/jsondoc"
	"github.com/storesign/storesign/signing"
	"github.com/storesign/storesign/signing/aab"
	"github.com/storesign/storesign/signing/apk"
	"github.com/storesign/storesign/signing/signingtest"
)

// TestFromLibrary makes the Android documents from what the signing
// packages return for real builds, and checks what they say.
func TestFromLibrary(t *testing.T) {
	ctx := context.Background()
	t.Chdir(t.TempDir())
	id := signingtest.SelfSigned("storesign jsondoc library", nil)
	want := signing.CertificateSHA256(id.Certificate)
	opts := signingtest.APKOptions{Package: "com.example.lib", VersionCode: 7, VersionName: "0.7"}
	if err := os.WriteFile("in.apk", signingtest.APK(opts), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("in.aab", signingtest.Bundle(opts), 0o644); err != nil {
		t.Fatal(err)
	}
	check := func(t *testing.T, d jsondoc.Doc, signers []jsondoc.Signer, verified bool, app *jsondoc.App) {
		t.Helper()
		checkDoc(t, encode(t, d))
		if !verified || len(signers) != 1 || signers[0].CertificateSHA256 != want {
			t.Errorf("verified %v, signers %+v: want verified, one signer %s", verified, signers, want)
		}
		if app == nil || *app != (jsondoc.App{ID: "com.example.lib", Version: "0.7", Build: "7"}) {
			t.Errorf("app = %+v", app)
		}
	}

	t.Run("apk", func(t *testing.T) {
		res, err := apk.SignFile(ctx, "in.apk", "out.apk", apk.Options{Identity: id})
		if err != nil {
			t.Fatal(err)
		}
		s := jsondoc.APKSign("in.apk", "out.apk", res, apk.Options{Identity: id}, nil)
		check(t, s, s.Signers, s.Verified, s.App)
		if s.Output.Size != res.Size || !slices.Contains(s.APK.Schemes, "v2") {
			t.Errorf("output %+v, schemes %v: want size %d, v2", s.Output, s.APK.Schemes, res.Size)
		}
		vres, err := apk.VerifyFile(ctx, "out.apk", apk.VerifyOptions{})
		v := jsondoc.APKVerify("out.apk", vres, err)
		check(t, v, v.Signers, v.Verified, v.App)
		if v.File != s.Output || v.APK.MaxSDKVersion != 0 || len(v.APK.SchemeSigners) == 0 {
			t.Errorf("verify file %+v (sign output %+v), maxSdkVersion %d, %d scheme signers", v.File, s.Output, v.APK.MaxSDKVersion, len(v.APK.SchemeSigners))
		}
	})
	t.Run("aab", func(t *testing.T) {
		o := aab.Options{Identity: id, SignerName: "UPLOAD"}
		res, err := aab.SignFile(ctx, "in.aab", "out.aab", o)
		if err != nil {
			t.Fatal(err)
		}
		s := jsondoc.AABSign("in.aab", "out.aab", res, o)
		check(t, s, s.Signers, s.Verified, s.App)
		vres, err := aab.VerifyFile(ctx, "out.aab", aab.VerifyOptions{})
		v := jsondoc.AABVerify("out.aab", vres, err)
		check(t, v, v.Signers, v.Verified, v.App)
		if sig := v.AAB.Signatures; len(sig) != 1 || sig[0].Name != "UPLOAD" || sig[0].DigestAlgorithm != "sha-256" {
			t.Errorf("signatures = %+v", sig)
		}
	})
}
