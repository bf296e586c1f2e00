package cms_test

import (
	"os"
	"testing"

	"github.com/storesign/storesign/internal/cms"
)

// FuzzParse: no panic, bounded work, and whatever parses can be asked
// to verify without panicking.
func FuzzParse(f *testing.F) {
	for _, id := range testIdentities() {
		for _, form := range forms {
			der, err := cms.Sign([]byte("x"), id.Signer, id.Certificates(), form.opts)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(der)
		}
	}
	if os.Getenv("STORESIGN_CORPUS") != "" {
		for _, s := range appleSignatures(f) {
			f.Add(s.cms)
		}
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		sd, err := cms.Parse(der, cms.ParseOptions{AllowTrailingData: true})
		if err != nil {
			return
		}
		for _, si := range sd.Signers {
			_ = sd.Verify(si, sd.SignerCertificate(si), []byte("x"))
			for _, a := range si.SignedAttributes {
				var v any
				_ = a.Value(&v)
			}
		}
	})
}
