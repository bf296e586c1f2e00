package signing_test

import (
	"crypto/elliptic"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/storesign/storesign/internal/testenv"
	"github.com/storesign/storesign/signing"
	"github.com/storesign/storesign/signing/signingtest"
)

// FuzzParseEncryptedPrivateKey feeds arbitrary bytes to the encrypted-key
// parser: it may fail, never panic, and what it decrypts is a key that
// ParsePrivateKey reads back the same. It is seeded with keys Go and (when
// installed) openssl encrypted, in every scheme openssl writes, so that the
// fuzzer starts inside the KDF and cipher code.
func FuzzParseEncryptedPrivateKey(f *testing.F) {
	id := signingtest.SelfSigned("fuzz pkcs8", signingtest.ECKey("fuzz pkcs8", elliptic.P256()))
	enc := signingtest.EncryptedKeyPKCS8(id, "pw")
	f.Add(enc, "pw")
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: enc}), "pw")
	f.Add(signingtest.KeyPKCS8(id), "")
	f.Add(info(oid(1, 2, 840, 113549, 1, 12, 1, 3), pbe([]byte("saltsalt"), 3), make([]byte, 16)), "pw")
	f.Add(info(oid(1, 2, 840, 113549, 1, 5, 3), pbe([]byte("saltsalt"), 3), make([]byte, 16)), "pw")
	if p, ok := testenv.LookTool("openssl"); ok {
		dir := f.TempDir()
		plain := filepath.Join(dir, "plain.pem")
		if err := os.WriteFile(plain, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: signingtest.KeyPKCS8(id)}), 0o600); err != nil {
			f.Fatal(err)
		}
		for _, args := range [][]string{
			{"pkcs8", "-topk8", "-v2", "aes256", "-iter", "1"},
			{"pkcs8", "-topk8", "-v2", "des3", "-v2prf", "hmacWithSHA1", "-iter", "1"},
			{"pkcs8", "-topk8", "-v1", "PBE-SHA1-3DES", "-iter", "1"},
			{"pkcs8", "-topk8", "-scrypt", "-scrypt_N", "2", "-scrypt_r", "1", "-scrypt_p", "1"},
			{"ec", "-aes128"},
		} {
			out, err := exec.Command(p, append(args, "-in", plain, "-passout", "pass:pw")...).Output()
			if err != nil {
				f.Logf("openssl %v: %v", args, err)
				continue
			}
			f.Add(out, "pw")
			if block, _ := pem.Decode(out); block != nil && block.Type == "ENCRYPTED PRIVATE KEY" {
				f.Add(block.Bytes, "pw")
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, password string) {
		key, err := signing.ParseEncryptedPrivateKey(data, password)
		if err != nil {
			if errors.Is(err, signing.ErrWrongPassword) && !signing.IsEncryptedPrivateKey(data) {
				t.Errorf("ErrWrongPassword for a key IsEncryptedPrivateKey calls plain")
			}
			return
		}
		if key == nil {
			t.Fatal("nil key and nil error")
		}
		if !signing.IsEncryptedPrivateKey(data) {
			if _, err := signing.ParsePrivateKey(data); err != nil {
				t.Errorf("plain key: ParseEncryptedPrivateKey accepts what ParsePrivateKey refuses: %v", err)
			}
		}
	})
}
