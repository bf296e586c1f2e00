package signing_test

import (
	"bytes"
	"crypto"
	"crypto/elliptic"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/storesign/storesign/internal/testenv"
	"github.com/storesign/storesign/signing"
	"github.com/storesign/storesign/signing/signingtest"
)

const testKeyPass = "k3y-pässwörd" // non-ASCII: checks the password encodings

// pkcs8Keys are the keys the encrypted-key tests encrypt.
func pkcs8Keys() map[string]crypto.Signer {
	return map[string]crypto.Signer{
		"rsa2048": signingtest.RSAKey("pkcs8 test", 2048),
		"p256":    signingtest.ECKey("pkcs8 test", elliptic.P256()),
	}
}

// openssl runs openssl with the test password in $STORESIGN_TEST_KEY_PASS
// and returns its standard output.
func openssl(t *testing.T, args ...string) ([]byte, error) {
	t.Helper()
	cmd := exec.Command(testenv.Tool(t, "openssl"), args...)
	cmd.Env = append(os.Environ(), "STORESIGN_TEST_KEY_PASS="+testKeyPass)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("openssl %s: %v: %s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return out, nil
}

func writePlainKey(t *testing.T, key crypto.Signer) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "plain.pem")
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func sameKey(t *testing.T, got, want crypto.Signer) {
	t.Helper()
	type equaler interface{ Equal(crypto.PublicKey) bool }
	if !got.Public().(equaler).Equal(want.Public()) {
		t.Fatalf("decrypted a different key")
	}
	g, err := x509.MarshalPKCS8PrivateKey(got)
	if err != nil {
		t.Fatal(err)
	}
	w, _ := x509.MarshalPKCS8PrivateKey(want)
	if !bytes.Equal(g, w) {
		t.Fatalf("decrypted key differs from the original")
	}
}

// TestEncryptedKeyOpenSSL decrypts keys that openssl encrypted, in each of
// the forms openssl writes, PEM and DER.
func TestEncryptedKeyOpenSSL(t *testing.T) {
	testenv.Tool(t, "openssl")
	legacyProvider := []string{"-provider", "legacy", "-provider", "default"}
	tests := []struct {
		name   string
		args   []string // after openssl pkcs8 -topk8 -in PLAIN -passout ...
		legacy bool     // needs OpenSSL 3's legacy provider
	}{
		{"v2-aes256", []string{"-v2", "aes256"}, false},
		{"v2-aes128-sha1", []string{"-v2", "aes128", "-v2prf", "hmacWithSHA1"}, false},
		{"v2-aes192-sha512", []string{"-v2", "aes192", "-v2prf", "hmacWithSHA512"}, false},
		{"v2-aes256-sha384-iter", []string{"-v2", "aes256", "-v2prf", "hmacWithSHA384", "-iter", "20000"}, false},
		{"v2-aes256-sha224", []string{"-v2", "aes256", "-v2prf", "hmacWithSHA224"}, false},
		{"v2-des3", []string{"-v2", "des3"}, false},
		{"v1-pbe-sha1-3des", []string{"-v1", "PBE-SHA1-3DES"}, false},
		{"v1-pbe-sha1-2des", []string{"-v1", "PBE-SHA1-2DES"}, false},
		{"scrypt", []string{"-scrypt"}, false},
		{"v2-des", []string{"-v2", "des"}, true},
		{"v1-pbe-sha1-des", []string{"-v1", "PBE-SHA1-DES"}, true},
		{"v1-pbe-md5-des", []string{"-v1", "PBE-MD5-DES"}, true},
	}
	for name, key := range pkcs8Keys() {
		plain := writePlainKey(t, key)
		for _, tt := range tests {
			t.Run(name+"/"+tt.name, func(t *testing.T) {
				args := []string{"pkcs8", "-topk8", "-in", plain, "-passout", "env:STORESIGN_TEST_KEY_PASS"}
				if tt.legacy {
					args = append(args, legacyProvider...)
				}
				out, err := openssl(t, append(args, tt.args...)...)
				if err != nil {
					if tt.legacy {
						t.Skipf("no legacy provider: %v", err)
					}
					t.Fatal(err)
				}
				checkEncrypted(t, out, key, true)
			})
		}
		// What openssl pkey and genpkey write with a cipher option, and the
		// traditional ("Proc-Type: 4,ENCRYPTED") PEM of openssl rsa/ec.
		traditional := []string{"rsa", "-traditional"}
		if name == "p256" {
			traditional = []string{"ec"}
		}
		for _, args := range [][]string{
			{"pkey", "-aes-256-cbc"},
			append(slices.Clone(traditional), "-aes256"),
			append(slices.Clone(traditional), "-des3"),
		} {
			t.Run(name+"/"+strings.Join(args, ""), func(t *testing.T) {
				out, err := openssl(t, append(args, "-in", plain, "-passout", "env:STORESIGN_TEST_KEY_PASS")...)
				if err != nil {
					t.Fatal(err)
				}
				checkEncrypted(t, out, key, args[0] == "pkey")
			})
		}
	}
}

// TestEncryptedKeyGenpkey decrypts the fresh keys openssl genpkey encrypts
// (PBES2, PBKDF2-HMAC-SHA256, AES-256-CBC), compared with openssl's own
// decryption.
func TestEncryptedKeyGenpkey(t *testing.T) {
	testenv.Tool(t, "openssl")
	for _, alg := range [][]string{
		{"-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"},
		{"-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"},
	} {
		t.Run(alg[1], func(t *testing.T) {
			enc, err := openssl(t, append([]string{"genpkey", "-aes-256-cbc", "-pass", "env:STORESIGN_TEST_KEY_PASS"}, alg...)...)
			if err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(t.TempDir(), "enc.pem")
			if err := os.WriteFile(p, enc, 0o600); err != nil {
				t.Fatal(err)
			}
			plain, err := openssl(t, "pkey", "-in", p, "-passin", "env:STORESIGN_TEST_KEY_PASS")
			if err != nil {
				t.Fatal(err)
			}
			want, err := signing.ParsePrivateKey(plain)
			if err != nil {
				t.Fatal(err)
			}
			checkEncrypted(t, enc, want, true)
		})
	}
}

// checkEncrypted checks that the openssl output pemData decrypts to want,
// as PEM and (for PKCS#8) as DER, and that a wrong or missing password is
// told apart.
func checkEncrypted(t *testing.T, pemData []byte, want crypto.Signer, pkcs8 bool) {
	t.Helper()
	forms := map[string][]byte{"pem": pemData}
	if pkcs8 {
		block, _ := pem.Decode(pemData)
		if block == nil || block.Type != "ENCRYPTED PRIVATE KEY" {
			t.Fatalf("openssl wrote no ENCRYPTED PRIVATE KEY:\n%.80s", pemData)
		}
		forms["der"] = block.Bytes
	}
	for form, data := range forms {
		if !signing.IsEncryptedPrivateKey(data) {
			t.Errorf("%s: IsEncryptedPrivateKey = false", form)
		}
		got, err := signing.ParseEncryptedPrivateKey(data, testKeyPass)
		if err != nil {
			t.Fatalf("%s: %v", form, err)
		}
		sameKey(t, got, want)
		for _, wrong := range []string{"wrong", "", strings.ToUpper(testKeyPass), testKeyPass + "\n"} {
			_, err := signing.ParseEncryptedPrivateKey(data, wrong)
			if !errors.Is(err, signing.ErrWrongPassword) {
				t.Errorf("%s: wrong password: got %v, want ErrWrongPassword", form, err)
			}
		}
		if _, err := signing.ParsePrivateKey(data); !errors.Is(err, signing.ErrEncryptedKey) {
			t.Errorf("%s: ParsePrivateKey: got %v, want ErrEncryptedKey", form, err)
		}
	}
}

// TestEncryptedKeyErrors covers hostile and unsupported parameters, which
// openssl does not write: each fails fast, with a message that names the
// problem and never the password.
func TestEncryptedKeyErrors(t *testing.T) {
	id := signingtest.SelfSigned("pkcs8 errors", signingtest.ECKey("pkcs8 errors", elliptic.P256()))
	good := signingtest.EncryptedKeyPKCS8(id, testKeyPass)
	tests := []struct {
		name   string
		data   []byte
		is     error  // a sentinel the error wraps, or nil
		substr string // in the message
	}{
		{"rc2", info(oid(1, 2, 840, 113549, 1, 12, 1, 6), pbe([]byte("saltsalt"), 2048), make([]byte, 16)),
			signing.ErrUnsupportedEncryption, "pbeWithSHAAnd40BitRC2-CBC (1.2.840.113549.1.12.1.6)"},
		{"unknown scheme", info(oid(1, 2, 3, 4), nil, make([]byte, 16)),
			signing.ErrUnsupportedEncryption, "1.2.3.4"},
		{"pkcs12 iterations", info(oid(1, 2, 840, 113549, 1, 12, 1, 3), pbe([]byte("saltsalt"), 10_000_001), make([]byte, 16)),
			signing.ErrLimit, "key derivation iterations of the encrypted private key: 10000001 is more than the limit of 5000000"},
		{"pbes1 iterations", info(oid(1, 2, 840, 113549, 1, 5, 10), pbe([]byte("saltsalt"), 1<<40), make([]byte, 16)),
			signing.ErrLimit, "key derivation iterations"},
		{"pbkdf2 iterations", pbes2(pbkdf2(1<<31, oid(1, 2, 840, 113549, 2, 9)), aes256(), make([]byte, 16)),
			signing.ErrLimit, "key derivation iterations of the encrypted private key: 2147483648"},
		{"zero iterations", pbes2(pbkdf2(0, nil), aes256(), make([]byte, 16)),
			nil, "iteration count 0"},
		{"pbkdf2 prf", pbes2(pbkdf2(2048, oid(1, 2, 840, 113549, 2, 5)), aes256(), make([]byte, 16)),
			signing.ErrUnsupportedEncryption, "pseudo-random function 1.2.840.113549.2.5"},
		{"pbes2 cipher", pbes2(pbkdf2(2048, nil), alg(oid(1, 2, 840, 113549, 3, 2), []byte{4, 8, 0, 0, 0, 0, 0, 0, 0, 0}), make([]byte, 16)),
			signing.ErrUnsupportedEncryption, "PBES2 cipher 1.2.840.113549.3.2"},
		{"pbes2 kdf", pbes2(alg(oid(1, 2, 3), nil), aes256(), make([]byte, 16)),
			signing.ErrUnsupportedEncryption, "key derivation 1.2.3"},
		{"scrypt memory", pbes2(alg(oid(1, 3, 6, 1, 4, 1, 11591, 4, 11), der(struct {
			Salt    []byte
			N, R, P int
		}{[]byte("salt"), 1 << 30, 8, 1})), aes256(), make([]byte, 16)),
			signing.ErrLimit, "scrypt memory of the encrypted private key (128·N·r bytes, N=1073741824 r=8)"},
		{"scrypt N", pbes2(alg(oid(1, 3, 6, 1, 4, 1, 11591, 4, 11), der(struct {
			Salt    []byte
			N, R, P int
		}{[]byte("salt"), 1000, 8, 1})), aes256(), make([]byte, 16)),
			nil, "not valid: scrypt N=1000"},
		{"ragged ciphertext", pbes2(pbkdf2(1, nil), aes256(), make([]byte, 17)),
			nil, "not a multiple of the cipher block"},
		{"short IV", pbes2(pbkdf2(1, nil), alg(oid(2, 16, 840, 1, 101, 3, 4, 1, 42), der(make([]byte, 8))), make([]byte, 16)),
			nil, "IV of 8 bytes"},
		{"garbage after decryption", pbes2(pbkdf2(1, nil), aes256(), make([]byte, 32)),
			signing.ErrWrongPassword, "wrong password"},
		{"truncated", good[:len(good)/2], nil, "not a valid private key"},
		{"not a key", []byte("hello"), nil, "not a valid private key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			_, err := signing.ParseEncryptedPrivateKey(tt.data, testKeyPass)
			if err == nil {
				t.Fatal("no error")
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v", d)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("got %v, want %v", err, tt.is)
			}
			if !strings.Contains(err.Error(), tt.substr) {
				t.Errorf("got %q, want it to contain %q", err, tt.substr)
			}
			if strings.Contains(err.Error(), testKeyPass) || !strings.HasPrefix(err.Error(), "signing: ") {
				t.Errorf("bad message %q", err)
			}
		})
	}
}

// TestEncryptedKeyLoad covers LoadKeyAndCertificateWithPassword and the
// password-less API on encrypted and plain keys.
func TestEncryptedKeyLoad(t *testing.T) {
	id := signingtest.SelfSigned("pkcs8 load", nil)
	enc := signingtest.EncryptedKeyPKCS8(id, testKeyPass)
	encPEM := pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: enc})
	plain := signingtest.KeyPKCS8(id)
	cert := signingtest.CertPEM(id.Certificate)
	pw, wrong := testKeyPass, "nope"
	tests := []struct {
		name     string
		key      []byte
		password *string
		want     error
	}{
		{"encrypted DER", enc, &pw, nil},
		{"encrypted PEM", encPEM, &pw, nil},
		{"encrypted PEM after the certificate", append(slices.Clone(cert), encPEM...), &pw, nil},
		{"plain with password", plain, &pw, nil},
		{"plain without", plain, nil, nil},
		{"encrypted without password", enc, nil, signing.ErrEncryptedKey},
		{"encrypted PEM without password", encPEM, nil, signing.ErrEncryptedKey},
		{"wrong password", enc, &wrong, signing.ErrWrongPassword},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := signing.LoadKeyAndCertificateWithPassword(tt.key, cert, tt.password)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if err == nil {
				sameKey(t, got.Signer, id.Signer)
			}
			if tt.password == nil {
				if _, err2 := signing.LoadKeyAndCertificate(tt.key, cert); !errors.Is(err2, tt.want) {
					t.Errorf("LoadKeyAndCertificate: got %v, want %v", err2, tt.want)
				}
			}
		})
	}
	if signing.IsEncryptedPrivateKey(plain) || signing.IsEncryptedPrivateKey(cert) {
		t.Error("IsEncryptedPrivateKey true for a plain key or a certificate")
	}
}

func ExampleParseEncryptedPrivateKey() {
	// A release key as apksigner's --key takes it: PKCS#8, encrypted with
	// a password (openssl pkcs8 -topk8 -v2 aes256).
	id := signingtest.SelfSigned("Example Release Key", nil)
	data := signingtest.EncryptedKeyPKCS8(id, "key-pw")

	_, err := signing.ParsePrivateKey(data)
	fmt.Println(err)
	_, err = signing.ParseEncryptedPrivateKey(data, "not-it")
	fmt.Println(err)
	key, err := signing.ParseEncryptedPrivateKey(data, "key-pw")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%T\n", key)
	// Output:
	// signing: the private key is encrypted
	// signing: wrong password
	// *rsa.PrivateKey
}

// DER builders for hand-made EncryptedPrivateKeyInfo structures.

func oid(arcs ...int) asn1.ObjectIdentifier { return arcs }

func der(v any) []byte {
	b, err := asn1.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func alg(o asn1.ObjectIdentifier, params []byte) pkix.AlgorithmIdentifier {
	a := pkix.AlgorithmIdentifier{Algorithm: o}
	if params != nil {
		a.Parameters = asn1.RawValue{FullBytes: params}
	}
	return a
}

func info(o asn1.ObjectIdentifier, params, data []byte) []byte {
	return der(struct {
		Algo pkix.AlgorithmIdentifier
		Data []byte
	}{alg(o, params), data})
}

func pbe(salt []byte, iterations int64) []byte {
	return der(struct {
		Salt       []byte
		Iterations int64
	}{salt, iterations})
}

func pbkdf2(iterations int64, prf asn1.ObjectIdentifier) pkix.AlgorithmIdentifier {
	p := []byte(nil)
	if prf == nil {
		p = der(struct {
			Salt       []byte
			Iterations int64
		}{[]byte("saltsalt"), iterations})
	} else {
		p = der(struct {
			Salt       []byte
			Iterations int64
			PRF        pkix.AlgorithmIdentifier
		}{[]byte("saltsalt"), iterations, pkix.AlgorithmIdentifier{Algorithm: prf, Parameters: asn1.NullRawValue}})
	}
	return alg(oid(1, 2, 840, 113549, 1, 5, 12), p)
}

func aes256() pkix.AlgorithmIdentifier {
	return alg(oid(2, 16, 840, 1, 101, 3, 4, 1, 42), der(make([]byte, 16)))
}

func pbes2(kdf, enc pkix.AlgorithmIdentifier, data []byte) []byte {
	return info(oid(1, 2, 840, 113549, 1, 5, 13), der(struct{ KDF, Enc pkix.AlgorithmIdentifier }{kdf, enc}), data)
}
