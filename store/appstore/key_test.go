package appstore_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/storesign/storesign/signing/signingtest"
	"github.com/storesign/storesign/store/appstore"
)

func writeFile(name string, data []byte) error { return os.WriteFile(name, data, 0o600) }

func wrap(s string) string {
	var b strings.Builder
	for len(s) > 76 {
		b.WriteString(s[:76] + "\n")
		s = s[76:]
	}
	return b.String() + s + "\n"
}

func testP8(t testing.TB) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(testECKey("asc"))
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func TestParseKey(t *testing.T) {
	p8 := testP8(t)
	block, _ := pem.Decode(p8)
	rsaDER, _ := x509.MarshalPKCS8PrivateKey(signingtest.RSAKey("asc-rsa", 2048))
	p384DER, _ := x509.MarshalPKCS8PrivateKey(signingtest.ECKey("asc-384", elliptic.P384()))
	tests := []struct {
		name string
		data []byte
		id   string
		ok   bool
	}{
		{"pem", p8, testKeyID, true},
		{"der", block.Bytes, testKeyID, true},
		{"base64-pem", []byte(base64.StdEncoding.EncodeToString(p8)), testKeyID, true},
		{"base64-wrapped", []byte(wrap(base64.StdEncoding.EncodeToString(p8))), testKeyID, true},
		{"base64-der", []byte(base64.StdEncoding.EncodeToString(block.Bytes) + "\n"), testKeyID, true},
		{"no-key-id", p8, "", false},
		{"rsa", rsaDER, testKeyID, false},
		{"p384", p384DER, testKeyID, false},
		{"garbage", []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), testKeyID, false},
		{"truncated", p8[:len(p8)/2], testKeyID, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := appstore.ParseKey(tt.data, tt.id, testIssuer)
			if tt.ok != (err == nil) {
				t.Fatalf("err = %v", err)
			}
			if err != nil {
				if !errors.Is(err, appstore.ErrBadKey) {
					t.Errorf("err = %v, want ErrBadKey", err)
				}
				noSecret(t, "the error", err.Error())
				return
			}
			if !k.Public().Equal(&testECKey("asc").PublicKey) {
				t.Error("another key")
			}
		})
	}
}

func TestParseKeyFile(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "AuthKey_"+testKeyID+".p8")
	if err := writeFile(name, testP8(t)); err != nil {
		t.Fatal(err)
	}
	k, err := appstore.ParseKeyFile(name, "", testIssuer)
	if err != nil {
		t.Fatal(err)
	}
	if k.ID != testKeyID || k.IssuerID != testIssuer {
		t.Errorf("key %v", k)
	}
	if _, err := appstore.ParseKeyFile(filepath.Join(dir, "key.p8"), "", testIssuer); err == nil {
		t.Error("no error for a missing file")
	}
}

func TestKeyRedacted(t *testing.T) {
	k := testKey(t)
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("key", "key", k)
	j, _ := json.Marshal(k)
	wrapped, _ := json.Marshal(struct{ K *appstore.Key }{k})
	for _, s := range []string{fmt.Sprint(k), fmt.Sprintf("%v %+v %#v %s", k, k, k, k), fmt.Sprintf("%+v %#v", *k, *k), logs.String(), string(j), string(wrapped)} {
		noSecret(t, "the key printed", s)
		if !strings.Contains(s, testKeyID) {
			t.Errorf("%q does not name the key", s)
		}
	}
}

func TestToken(t *testing.T) {
	k := testKey(t)
	now := time.Unix(1_700_000_000, 0)
	tok, err := k.Token(now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q", tok)
	}
	dec := func(s string, v any) {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		if v != nil {
			if err := json.Unmarshal(b, v); err != nil {
				t.Fatal(err)
			}
		}
	}
	var header map[string]string
	var claims map[string]any
	dec(parts[0], &header)
	dec(parts[1], &claims)
	if header["alg"] != "ES256" || header["kid"] != testKeyID || header["typ"] != "JWT" {
		t.Errorf("header %v", header)
	}
	// An hour is clamped to 20 minutes.
	if claims["iss"] != testIssuer || claims["aud"] != "appstoreconnect-v1" || claims["iat"] != float64(now.Unix()) || claims["exp"] != float64(now.Add(20*time.Minute).Unix()) {
		t.Errorf("claims %v", claims)
	}
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if len(sig) != 64 || !ecdsa.Verify(k.Public(), sum[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		t.Error("the signature does not verify")
	}
}

// FuzzParseKey feeds arbitrary bytes to ParseKey: no panic, ErrBadKey or
// a P-256 key, and never key bytes in an error.
func FuzzParseKey(f *testing.F) {
	p8 := testP8(f)
	block, _ := pem.Decode(p8)
	f.Add(p8)
	f.Add(block.Bytes)
	f.Add([]byte(base64.StdEncoding.EncodeToString(p8)))
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := appstore.ParseKey(data, testKeyID, testIssuer)
		if err != nil {
			if !errors.Is(err, appstore.ErrBadKey) {
				t.Fatalf("err = %v, want ErrBadKey", err)
			}
			if len(data) > 8 && strings.Contains(err.Error(), string(data)) {
				t.Fatalf("the error quotes the input: %v", err)
			}
			return
		}
		if k.Public().Curve != elliptic.P256() {
			t.Fatal("not P-256")
		}
	})
}
