package signingtest

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/pbkdf2"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"io"

	"github.com/storesign/storesign/signing"
)

// EncryptedKeyPKCS8 returns id's private key as an encrypted PKCS#8
// EncryptedPrivateKeyInfo in DER, as openssl pkcs8 -topk8 -v2 aes256
// writes it: PBES2 with PBKDF2-HMAC-SHA256 (2,048 iterations) and
// AES-256-CBC. The salt and IV derive from the password, so the bytes are
// the same on every call.
func EncryptedKeyPKCS8(id *signing.Identity, password string) []byte {
	plain, err := x509.MarshalPKCS8PrivateKey(id.Signer)
	if err != nil {
		panic(err)
	}
	r := Reader("pkcs8 " + password)
	salt := make([]byte, 16)
	iv := make([]byte, aes.BlockSize)
	if _, err := io.ReadFull(r, salt); err != nil {
		panic(err)
	}
	if _, err := io.ReadFull(r, iv); err != nil {
		panic(err)
	}
	const iterations = 2048
	key, err := pbkdf2.Key(sha256.New, password, salt, iterations, 32)
	if err != nil {
		panic(err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		panic(err)
	}
	n := aes.BlockSize - len(plain)%aes.BlockSize
	for range n {
		plain = append(plain, byte(n))
	}
	ct := make([]byte, len(plain))
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(ct, plain)

	type pbkdf2Params struct {
		Salt       []byte
		Iterations int
		PRF        pkix.AlgorithmIdentifier
	}
	kdf := pkix.AlgorithmIdentifier{
		Algorithm: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12},
		Parameters: rawDER(pbkdf2Params{salt, iterations, pkix.AlgorithmIdentifier{
			Algorithm:  asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}, // hmacWithSHA256
			Parameters: asn1.NullRawValue,
		}}),
	}
	enc := pkix.AlgorithmIdentifier{
		Algorithm:  asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}, // aes256-CBC
		Parameters: rawDER(iv),
	}
	type pbes2Params struct{ KDF, Enc pkix.AlgorithmIdentifier }
	type encryptedPrivateKeyInfo struct {
		Algo pkix.AlgorithmIdentifier
		Data []byte
	}
	out, err := asn1.Marshal(encryptedPrivateKeyInfo{
		Algo: pkix.AlgorithmIdentifier{
			Algorithm:  asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}, // PBES2
			Parameters: rawDER(pbes2Params{kdf, enc}),
		},
		Data: ct,
	})
	if err != nil {
		panic(err)
	}
	return out
}

func rawDER(v any) asn1.RawValue {
	b, err := asn1.Marshal(v)
	if err != nil {
		panic(err)
	}
	return asn1.RawValue{FullBytes: b}
}
