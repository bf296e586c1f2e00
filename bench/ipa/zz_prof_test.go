package ipabench

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/storesign/storesign/signing/ipa"
	"github.com/storesign/storesign/signing/provision"
	"github.com/storesign/storesign/signing/signingtest"
)

func BenchmarkResignFileProf(b *testing.B) {
	_, in := setup(b)
	apple := signingtest.NewApple(signingtest.AppleOptions{})
	prof, _ := provision.Parse(apple.Profile(signingtest.ProfileOptions{AppID: "com.example.*"}))
	b.ResetTimer()
	for range b.N {
		if _, err := ipa.ResignFile(context.Background(), in, filepath.Join(b.TempDir(), "o.ipa"), ipa.Options{Identity: apple.Identity, Profiles: []*provision.Profile{prof}}); err != nil {
			b.Fatal(err)
		}
	}
}
