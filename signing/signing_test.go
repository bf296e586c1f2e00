package signing_test

import (
	"crypto/elliptic"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/storesign/storesign/internal/testenv"
	"github.com/storesign/storesign/signing"
	"github.com/storesign/storesign/signing/signingtest"
)

func ptr(s string) *string { return &s }

func TestLoadKeystore(t *testing.T) {
	rsaID := signingtest.SelfSigned("Android Release", nil)
	ecID := signingtest.SelfSigned("Android EC", signingtest.ECKey("ec", elliptic.P256()))
	tests := []struct {
		name    string
		data    []byte
		opts    signing.KeystoreOptions
		want    *signing.Identity
		wantErr string
	}{
		{"jks same passwords", signingtest.JKS(rsaID, "release", "storepw", "storepw"), signing.KeystoreOptions{StorePassword: "storepw", Alias: "release"}, rsaID, ""},
		{"jks key password differs", signingtest.JKS(rsaID, "release", "storepw", "keypw"), signing.KeystoreOptions{StorePassword: "storepw", Alias: "release", KeyPassword: ptr("keypw")}, rsaID, ""},
		{"jks only key, no alias", signingtest.JKS(ecID, "ec", "s3cret!", "s3cret!"), signing.KeystoreOptions{StorePassword: "s3cret!"}, ecID, ""},
		{"jks wrong store password", signingtest.JKS(rsaID, "release", "storepw", "storepw"), signing.KeystoreOptions{StorePassword: "nope", Alias: "release"}, nil, "wrong password"},
		{"jks wrong key password", signingtest.JKS(rsaID, "release", "storepw", "keypw"), signing.KeystoreOptions{StorePassword: "storepw", Alias: "release"}, nil, "wrong password"},
		{"jks unknown alias", signingtest.JKS(rsaID, "release", "storepw", "storepw"), signing.KeystoreOptions{StorePassword: "storepw", Alias: "upload"}, nil, `no key with alias "upload": the keystore holds release`},
		{"p12 modern", signingtest.PKCS12(rsaID, "pw"), signing.KeystoreOptions{StorePassword: "pw"}, rsaID, ""},
		{"p12 legacy", signingtest.PKCS12Legacy(ecID, "pw"), signing.KeystoreOptions{StorePassword: "pw"}, ecID, ""},
		{"p12 wrong password", signingtest.PKCS12(rsaID, "pw"), signing.KeystoreOptions{StorePassword: "nope"}, nil, "wrong password"},
		{"p12 as jks type", signingtest.PKCS12(rsaID, "pw"), signing.KeystoreOptions{Type: "JKS", StorePassword: "pw"}, nil, "not a valid JKS"},
		{"garbage", []byte("hello"), signing.KeystoreOptions{}, nil, "not a keystore"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := signing.LoadKeystore(tt.data, tt.opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				for _, pw := range []string{tt.opts.StorePassword} {
					if pw != "" && strings.Contains(err.Error(), pw) {
						t.Fatalf("error %q leaks the password", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !id.Certificate.Equal(tt.want.Certificate) {
				t.Fatalf("loaded %s, want %s", id.Certificate.Subject, tt.want.Certificate.Subject)
			}
		})
	}
}

func TestLoadPKCS12Chain(t *testing.T) {
	apple := signingtest.NewApple(signingtest.AppleOptions{})
	id, err := signing.LoadPKCS12(signingtest.PKCS12(apple.Identity, "pw"), "pw")
	if err != nil {
		t.Fatal(err)
	}
	if len(id.Chain) != 2 || !id.Chain[0].Equal(apple.WWDR.Certificate) || !id.Chain[1].Equal(apple.Root.Certificate) {
		t.Fatalf("chain not ordered leaf->root: %v", id.Chain)
	}
	if _, err := signing.LoadPKCS12(signingtest.PKCS12(apple.Identity, "pw"), "wrong"); !errors.Is(err, signing.ErrWrongPassword) {
		t.Fatalf("err = %v, want ErrWrongPassword", err)
	}
}

func TestKeyMismatch(t *testing.T) {
	a := signingtest.SelfSigned("a", nil)
	b := signingtest.SelfSigned("b", nil)
	_, err := signing.LoadKeyAndCertificate(signingtest.KeyPKCS8(a), signingtest.CertPEM(b.Certificate))
	if !errors.Is(err, signing.ErrKeyMismatch) {
		t.Fatalf("err = %v, want ErrKeyMismatch", err)
	}
}

func TestDeterministicKeys(t *testing.T) {
	a := signingtest.SelfSigned("same", nil)
	b := signingtest.SelfSigned("same", nil)
	if !a.Certificate.Equal(b.Certificate) {
		t.Fatal("SelfSigned is not deterministic")
	}
}

func TestCorpusKeys(t *testing.T) {
	dir := testenv.Corpus(t, "android")
	for _, name := range []string{"rsa-2048", "rsa-4096", "ec-p256", "ec-p384", "ec-p521", "dsa-2048"} {
		t.Run(name, func(t *testing.T) {
			key, err := os.ReadFile(filepath.Join(dir, name+".pk8"))
			if err != nil {
				t.Fatal(err)
			}
			cert, err := os.ReadFile(filepath.Join(dir, name+".x509.pem"))
			if err != nil {
				t.Fatal(err)
			}
			_, err = signing.LoadKeyAndCertificate(key, cert)
			if strings.HasPrefix(name, "dsa") {
				if !errors.Is(err, signing.ErrUnsupportedKey) {
					t.Fatalf("DSA: err = %v, want ErrUnsupportedKey", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
		})
	}
	t.Run("apple p12", func(t *testing.T) {
		data, err := os.ReadFile(filepath.Join(testenv.Corpus(t, "ios"), "self-signed-rsa-apple-distribution.p12"))
		if err != nil {
			t.Fatal(err)
		}
		id, err := signing.LoadPKCS12(data, "password")
		if err != nil {
			t.Fatal(err)
		}
		if id.KeyAlgorithm() != "RSA" {
			t.Fatalf("key algorithm %s", id.KeyAlgorithm())
		}
	})
}

// TestKeytool loads keystores made by the JDK's keytool, both the PKCS#12
// it writes by default and the legacy JKS format.
func TestKeytool(t *testing.T) {
	keytool := testenv.Tool(t, "keytool")
	for _, typ := range []string{"PKCS12", "JKS"} {
		t.Run(typ, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "release.keystore")
			cmd := exec.Command(keytool, "-genkeypair", "-keystore", path, "-storetype", typ, "-alias", "Upload",
				"-keyalg", "RSA", "-keysize", "2048", "-validity", "10000", "-dname", "CN=Upload, O=Test",
				"-storepass", "storepass1", "-keypass", "storepass1")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("keytool: %v\n%s", err, out)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			id, err := signing.LoadKeystore(data, signing.KeystoreOptions{StorePassword: "storepass1", Alias: "Upload"})
			if err != nil {
				t.Fatal(err)
			}
			if id.Certificate.Subject.CommonName != "Upload" {
				t.Fatalf("subject %s", id.Certificate.Subject)
			}
		})
	}
}

// An alias list from a hostile keystore stays one short line.
func TestAliasErrorOneLine(t *testing.T) {
	var many []string
	for i := range 30 {
		many = append(many, fmt.Sprintf("key%02d", i))
	}
	for _, c := range []struct {
		err  *signing.AliasError
		want string
	}{
		{&signing.AliasError{Alias: "x", Available: []string{"a\nb", "ok"}}, `signing: no key with alias "x": the keystore holds "a\nb", ok`},
		{&signing.AliasError{Alias: "x", Available: []string{"a\nstoresign: forged"}}, `signing: no key with alias "x": the keystore holds "a\nstoresign: forged"`},
		{&signing.AliasError{Available: many}, "signing: the keystore holds 30 keys (key00, key01, key02, key03, key04, key05, key06, key07, key08, key09, and 20 more): choose one with the key alias"},
	} {
		if got := c.err.Error(); got != c.want || strings.Contains(got, "\n") {
			t.Errorf("got  %s\nwant %s", got, c.want)
		}
	}
}

func TestReadPassword(t *testing.T) {
	t.Setenv("STORESIGN_TEST_PW", "from-env")
	file := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(file, []byte("from-file\nsecond line\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for spec, want := range map[string]string{"pass:abc": "abc", "env:STORESIGN_TEST_PW": "from-env", "file:" + file: "from-file", "plain": "plain"} {
		got, err := signing.ReadPassword(spec)
		if err != nil || got != want {
			t.Errorf("ReadPassword(%q) = %q, %v; want %q", spec, got, err, want)
		}
	}
	if _, err := signing.ReadPassword("env:STORESIGN_TEST_UNSET_VAR"); !errors.Is(err, signing.ErrPasswordSpec) || strings.Contains(err.Error(), "STORESIGN_TEST_UNSET_VAR") {
		t.Errorf("unset env: %v", err)
	}
}
