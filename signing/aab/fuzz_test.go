package aab

import (
	"bytes"
	"context"
	"testing"

	"github.com/storesign/storesign/signing/signingtest"
)

func fuzzSeeds(f *testing.F) {
	id := testIdentities()["ec-p256"]
	bundle := signingtest.Bundle(signingtest.APKOptions{NativeABIs: []string{}})
	signed, _ := sign(f, bundle, id, testOptions(id))
	f.Add(bundle)
	f.Add(signed)
	f.Add(rewrite(f, signed, nil, map[string][]byte{"base/assets/x": []byte("x")}))
	f.Add([]byte("PK\x05\x06" + string(make([]byte, 18))))
}

// FuzzVerify: Verify never panics on any input.
func FuzzVerify(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = Verify(context.Background(), bytes.NewReader(data), int64(len(data)), VerifyOptions{Workers: 1})
	})
}

// FuzzSign: Sign never panics, and whatever it signs verifies.
func FuzzSign(f *testing.F) {
	fuzzSeeds(f)
	id := testIdentities()["rsa-2048"]
	f.Fuzz(func(t *testing.T, data []byte) {
		var out bytes.Buffer
		res, err := Sign(context.Background(), bytes.NewReader(data), int64(len(data)), &out, Options{Identity: id, Workers: 1})
		if err != nil {
			return
		}
		v, err := Verify(context.Background(), bytes.NewReader(out.Bytes()), int64(out.Len()), VerifyOptions{Workers: 1})
		if err != nil {
			t.Fatalf("signed output does not verify: %v", err)
		}
		if v.Entries != res.Entries {
			t.Fatalf("Verify counts %d entries, Sign %d", v.Entries, res.Entries)
		}
	})
}
