package signing

import (
	"bytes"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"hash"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/crypto/scrypt"
)

// Errors about encrypted private keys.
var (
	// ErrEncryptedKey is returned by [ParsePrivateKey] and
	// [LoadKeyAndCertificate] for an encrypted key: decrypt it with
	// [ParseEncryptedPrivateKey] or [LoadKeyAndCertificateWithPassword].
	ErrEncryptedKey = errors.New("signing: the private key is encrypted")
	// ErrUnsupportedEncryption is returned for an encrypted key whose
	// encryption storesign does not implement; the error names it.
	ErrUnsupportedEncryption = errors.New("signing: the private key is encrypted with an unsupported algorithm")
)

// Limits on what an encrypted key may ask of the decrypter, so that a
// hostile file cannot hang the tool or exhaust memory (iterations: see
// [MaxKDFIterations]). Real files use scrypt N = 2^14 to 2^20.
const (
	maxEncryptedKey = maxKeyDER + 64 // bytes of ciphertext: a key and its padding
	maxSalt         = 1 << 10
	maxScryptMemory = 1 << 30 // 128·N·r bytes, and as much for p lanes in turn
	maxScryptP      = 16
	maxScryptWork   = 10_000_000 // N·r·p, in Salsa20/8 block pairs
)

// Object identifiers of RFC 8018 (PKCS #5 v2.1), RFC 7292 (PKCS #12),
// RFC 7914 (scrypt) and NIST.
var (
	oidPBES2    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidScrypt   = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11591, 4, 11}
	oidPBEMD5   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 3}  // pbeWithMD5AndDES-CBC
	oidPBESHA1  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 10} // pbeWithSHA1AndDES-CBC
	oidPKCS12   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1} // pkcs-12PbeIds arc
	oidDESCBC   = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 7}
	oidDESEDE3  = asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 7}
	oidAES128   = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}
	oidAES192   = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}
	oidAES256   = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
	oidHMACSHA1 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 7}
)

// prfs are the PBKDF2 pseudo-random functions of RFC 8018 appendix B.1,
// by the last arc of their OID (1.2.840.113549.2.x).
var prfs = map[int]struct {
	name string
	h    func() hash.Hash
}{
	7:  {"hmacWithSHA1", sha1.New},
	8:  {"hmacWithSHA224", sha256.New224},
	9:  {"hmacWithSHA256", sha256.New},
	10: {"hmacWithSHA384", sha512.New384},
	11: {"hmacWithSHA512", sha512.New},
	12: {"hmacWithSHA512-224", sha512.New512_224},
	13: {"hmacWithSHA512-256", sha512.New512_256},
}

// pkcs12PBEs are the PKCS #12 password-based encryption schemes (RFC 7292
// appendix C), by the last arc of their OID (1.2.840.113549.1.12.1.x);
// keyLen 0 marks the ones storesign does not implement.
var pkcs12PBEs = map[int]struct {
	name   string
	keyLen int
}{
	1: {"pbeWithSHAAnd128BitRC4", 0},
	2: {"pbeWithSHAAnd40BitRC4", 0},
	3: {"pbeWithSHAAnd3-KeyTripleDES-CBC", 24},
	4: {"pbeWithSHAAnd2-KeyTripleDES-CBC", 16},
	5: {"pbeWithSHAAnd128BitRC2-CBC", 0},
	6: {"pbeWithSHAAnd40BitRC2-CBC", 0},
}

type encryptedPrivateKeyInfo struct {
	Algo pkix.AlgorithmIdentifier
	Data []byte
}

type pbes2Params struct {
	KDF    pkix.AlgorithmIdentifier
	Scheme pkix.AlgorithmIdentifier
}

type pbkdf2Params struct {
	Salt       asn1.RawValue // OCTET STRING, or otherSource AlgorithmIdentifier
	Iterations int64
	KeyLength  int64                    `asn1:"optional"`
	PRF        pkix.AlgorithmIdentifier `asn1:"optional"`
}

type scryptParams struct {
	Salt      []byte
	N         int64
	R         int64
	P         int64
	KeyLength int64 `asn1:"optional"`
}

// pbeParams are the parameters of PKCS #5 v1.5 PBES1 and of PKCS #12 PBE.
type pbeParams struct {
	Salt       []byte
	Iterations int64
}

// ParseEncryptedPrivateKey decrypts and parses a private key protected by a
// password, as apksigner's --key with --key-pass takes it:
//
//   - PKCS #8 EncryptedPrivateKeyInfo (RFC 5958), DER or PEM "ENCRYPTED
//     PRIVATE KEY", encrypted with PBES2 (RFC 8018): PBKDF2 with HMAC-SHA-1,
//     -SHA-224, -SHA-256, -SHA-384 or -SHA-512, or scrypt (RFC 7914), and
//     AES-128/192/256-CBC, DES-EDE3-CBC or DES-CBC; with the PKCS #12 schemes
//     pbeWithSHAAnd3-KeyTripleDES-CBC and pbeWithSHAAnd2-KeyTripleDES-CBC
//     (RFC 7292); or with PBES1 pbeWithSHA1AndDES-CBC or pbeWithMD5AndDES-CBC.
//     That covers what openssl pkcs8 -topk8 (-v2 or -v1), openssl genpkey
//     with a cipher, and Java tools write.
//   - a legacy OpenSSL PEM key with "Proc-Type: 4,ENCRYPTED" headers
//     (openssl rsa -aes256 -traditional), which is insecure: re-encrypt it
//     with openssl pkcs8 -topk8.
//
// An unencrypted key parses as [ParsePrivateKey] parses it, and the password
// is ignored, as apksigner ignores it. A wrong password returns
// [ErrWrongPassword]; an algorithm not listed above returns an error that
// wraps [ErrUnsupportedEncryption] and names it. Key derivations of more than
// [MaxKDFIterations] iterations are refused with a *[LimitError].
func ParseEncryptedPrivateKey(data []byte, password string) (crypto.Signer, error) {
	if err := checkSize("private key", data); err != nil {
		return nil, err
	}
	der := data
	if block := findKeyBlock(data); block != nil {
		switch {
		case x509.IsEncryptedPEMBlock(block): //nolint:staticcheck // legacy keys are still met
			return parseLegacyPEM(block, password)
		case block.Type != "ENCRYPTED PRIVATE KEY":
			return ParsePrivateKey(data)
		}
		der = block.Bytes
	}
	info, ok := parseEncryptedInfo(der)
	if !ok {
		if k, err := ParsePrivateKey(der); err == nil {
			return k, nil
		}
		return nil, errors.New("signing: not a valid private key (expected PKCS#8 DER or PEM, encrypted or not)")
	}
	if err := checkEncryptedKeySize(info); err != nil {
		return nil, err
	}
	plain, err := decryptPKCS8(info, []byte(password))
	if err != nil {
		return nil, err
	}
	key, err := ParsePrivateKey(plain)
	if err != nil {
		// Padding that happens to look right, on bytes that are not a key:
		// the password was wrong (or the file damaged beyond telling).
		return nil, ErrWrongPassword
	}
	return key, nil
}

// IsEncryptedPrivateKey reports whether data holds an encrypted private key
// in one of the forms [ParseEncryptedPrivateKey] reads (whether or not its
// algorithm is supported).
func IsEncryptedPrivateKey(data []byte) bool {
	if block := findKeyBlock(data); block != nil {
		return block.Type == "ENCRYPTED PRIVATE KEY" || x509.IsEncryptedPEMBlock(block) //nolint:staticcheck // legacy keys are still met
	}
	_, ok := parseEncryptedInfo(data)
	return ok
}

// findKeyBlock returns the first PEM block of data whose type names a
// private key, or, if none does, the first block; nil if data is not PEM.
func findKeyBlock(data []byte) *pem.Block {
	var first *pem.Block
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return first
		}
		if bytes.HasSuffix([]byte(block.Type), []byte("PRIVATE KEY")) {
			return block
		}
		if first == nil {
			first = block
		}
	}
}

// parseEncryptedInfo parses der as an EncryptedPrivateKeyInfo; it reports
// false when der is not one (an unencrypted PrivateKeyInfo, say).
func parseEncryptedInfo(der []byte) (*encryptedPrivateKeyInfo, bool) {
	var info encryptedPrivateKeyInfo
	rest, err := asn1.Unmarshal(der, &info)
	if err != nil || len(rest) != 0 || len(info.Algo.Algorithm) == 0 {
		return nil, false
	}
	return &info, true
}

func parseLegacyPEM(block *pem.Block, password string) (crypto.Signer, error) {
	der, err := x509.DecryptPEMBlock(block, []byte(password)) //nolint:staticcheck // legacy keys are still met
	if err != nil {
		if errors.Is(err, x509.IncorrectPasswordError) {
			return nil, ErrWrongPassword
		}
		return nil, fmt.Errorf("%w: legacy PEM encryption %q: convert the key with openssl pkcs8 -topk8 -v2 aes256", ErrUnsupportedEncryption, block.Headers["DEK-Info"])
	}
	plain := &pem.Block{Type: block.Type, Bytes: der}
	key, err := ParsePrivateKey(pem.EncodeToMemory(plain))
	if err != nil {
		return nil, ErrWrongPassword
	}
	return key, nil
}

// decryptPKCS8 returns the PrivateKeyInfo DER that info encrypts.
// The caller bounds the size of info.Data.
func decryptPKCS8(info *encryptedPrivateKeyInfo, password []byte) ([]byte, error) {
	return decryptPKCS8BMP(info, password, bmpString(password))
}

// decryptPKCS8BMP is decryptPKCS8 with the password of the PKCS #12
// schemes given as bmp: PKCS#12 decoders also try an empty password as no
// bytes at all rather than as a terminating zero.
func decryptPKCS8BMP(info *encryptedPrivateKeyInfo, password, bmp []byte) ([]byte, error) {
	algo := info.Algo.Algorithm
	switch {
	case algo.Equal(oidPBES2):
		return decryptPBES2(info.Algo.Parameters.FullBytes, info.Data, password)
	case algo.Equal(oidPBESHA1), algo.Equal(oidPBEMD5):
		p, err := parsePBEParams(info.Algo.Parameters.FullBytes, "PBES1")
		if err != nil {
			return nil, err
		}
		h, name := sha1.New, "pbeWithSHA1AndDES-CBC"
		if algo.Equal(oidPBEMD5) {
			h, name = md5.New, "pbeWithMD5AndDES-CBC"
		}
		if len(p.Salt) != 8 {
			return nil, fmt.Errorf("signing: the encrypted private key is not valid: %s salt of %d bytes, not 8", name, len(p.Salt))
		}
		dk := pbkdf1(h, password, p.Salt, int(p.Iterations))
		block, _ := des.NewCipher(dk[:8])
		return decryptCBC(block, dk[8:16], info.Data)
	case len(algo) == len(oidPKCS12)+1 && algo[:len(oidPKCS12)].Equal(oidPKCS12):
		scheme, ok := pkcs12PBEs[algo[len(oidPKCS12)]]
		if !ok {
			break
		}
		if scheme.keyLen == 0 {
			return nil, fmt.Errorf("%w: PKCS#12 %s (%s): re-encrypt it with openssl pkcs8 -topk8 -v2 aes256", ErrUnsupportedEncryption, scheme.name, algo)
		}
		p, err := parsePBEParams(info.Algo.Parameters.FullBytes, scheme.name)
		if err != nil {
			return nil, err
		}
		key := pkcs12KDF(sha1.New, 64, bmp, p.Salt, int(p.Iterations), 1, scheme.keyLen)
		iv := pkcs12KDF(sha1.New, 64, bmp, p.Salt, int(p.Iterations), 2, 8)
		if scheme.keyLen == 16 { // two-key 3DES: K1, K2, K1
			key = append(key, key[:8]...)
		}
		block, _ := des.NewTripleDESCipher(key)
		return decryptCBC(block, iv, info.Data)
	}
	return nil, fmt.Errorf("%w: %s: re-encrypt it with openssl pkcs8 -topk8 -v2 aes256", ErrUnsupportedEncryption, algo)
}

// checkEncryptedKeySize refuses an encrypted key larger than any real one.
func checkEncryptedKeySize(info *encryptedPrivateKeyInfo) error {
	if len(info.Data) > maxEncryptedKey {
		return fmt.Errorf("signing: %w", &LimitError{What: "size of the encrypted private key (bytes)", Value: int64(len(info.Data)), Limit: maxEncryptedKey, Fix: "check that it is the right file (a 16384-bit RSA key takes 10 KiB)"})
	}
	return nil
}

func parsePBEParams(der []byte, name string) (*pbeParams, error) {
	var p pbeParams
	if rest, err := asn1.Unmarshal(der, &p); err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("signing: the encrypted private key is not valid: bad %s parameters", name)
	}
	if err := checkKDF(p.Iterations, p.Salt); err != nil {
		return nil, err
	}
	return &p, nil
}

func checkKDF(iterations int64, salt []byte) error {
	switch {
	case iterations < 1:
		return fmt.Errorf("signing: the encrypted private key is not valid: iteration count %d", iterations)
	case iterations > MaxKDFIterations:
		return iterationsError("encrypted private key", iterations, "re-encrypt it with fewer (openssl pkcs8 -topk8 -v2 aes256 -iter 600000)")
	case len(salt) > maxSalt:
		return fmt.Errorf("signing: the encrypted private key is not valid: salt of %d bytes", len(salt))
	}
	return nil
}

// decryptPBES2 decrypts PBES2 (RFC 8018 section 6.2).
func decryptPBES2(params, ciphertext, password []byte) ([]byte, error) {
	var p pbes2Params
	if rest, err := asn1.Unmarshal(params, &p); err != nil || len(rest) != 0 {
		return nil, errors.New("signing: the encrypted private key is not valid: bad PBES2 parameters")
	}
	// The cipher first: its key size is the KDF's output length.
	var (
		newCipher func([]byte) (cipher.Block, error)
		keyLen    int
		name      string
	)
	scheme := p.Scheme.Algorithm
	switch {
	case scheme.Equal(oidAES128):
		newCipher, keyLen, name = aes.NewCipher, 16, "aes128-CBC"
	case scheme.Equal(oidAES192):
		newCipher, keyLen, name = aes.NewCipher, 24, "aes192-CBC"
	case scheme.Equal(oidAES256):
		newCipher, keyLen, name = aes.NewCipher, 32, "aes256-CBC"
	case scheme.Equal(oidDESEDE3):
		newCipher, keyLen, name = des.NewTripleDESCipher, 24, "des-ede3-cbc"
	case scheme.Equal(oidDESCBC):
		newCipher, keyLen, name = des.NewCipher, 8, "desCBC"
	default:
		return nil, fmt.Errorf("%w: PBES2 cipher %s: re-encrypt it with openssl pkcs8 -topk8 -v2 aes256", ErrUnsupportedEncryption, scheme)
	}
	var iv []byte
	if rest, err := asn1.Unmarshal(p.Scheme.Parameters.FullBytes, &iv); err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("signing: the encrypted private key is not valid: bad %s parameters", name)
	}

	var key []byte
	kdf := p.KDF.Algorithm
	switch {
	case kdf.Equal(oidPBKDF2):
		var kp pbkdf2Params
		if rest, err := asn1.Unmarshal(p.KDF.Parameters.FullBytes, &kp); err != nil || len(rest) != 0 {
			return nil, errors.New("signing: the encrypted private key is not valid: bad PBKDF2 parameters")
		}
		if kp.Salt.Class != asn1.ClassUniversal || kp.Salt.Tag != asn1.TagOctetString || kp.Salt.IsCompound {
			return nil, fmt.Errorf("%w: PBKDF2 with a salt from another source", ErrUnsupportedEncryption)
		}
		if err := checkKDF(kp.Iterations, kp.Salt.Bytes); err != nil {
			return nil, err
		}
		if kp.KeyLength != 0 && kp.KeyLength != int64(keyLen) {
			return nil, fmt.Errorf("signing: the encrypted private key is not valid: PBKDF2 key length %d for %s", kp.KeyLength, name)
		}
		prf := sha1.New // the default, when the parameters name none
		if o := kp.PRF.Algorithm; len(o) != 0 {
			var ok bool
			if prf, ok = prfFor(o); !ok {
				return nil, fmt.Errorf("%w: PBKDF2 pseudo-random function %s", ErrUnsupportedEncryption, o)
			}
		}
		var err error
		key, err = pbkdf2.Key(prf, string(password), kp.Salt.Bytes, int(kp.Iterations), keyLen)
		if err != nil {
			return nil, fmt.Errorf("signing: deriving the key: %v", err)
		}
	case kdf.Equal(oidScrypt):
		var sp scryptParams
		if rest, err := asn1.Unmarshal(p.KDF.Parameters.FullBytes, &sp); err != nil || len(rest) != 0 {
			return nil, errors.New("signing: the encrypted private key is not valid: bad scrypt parameters")
		}
		if err := checkScrypt(&sp); err != nil {
			return nil, err
		}
		if sp.KeyLength != 0 && sp.KeyLength != int64(keyLen) {
			return nil, fmt.Errorf("signing: the encrypted private key is not valid: scrypt key length %d for %s", sp.KeyLength, name)
		}
		var err error
		key, err = scrypt.Key(password, sp.Salt, int(sp.N), int(sp.R), int(sp.P), keyLen)
		if err != nil {
			return nil, fmt.Errorf("signing: the encrypted private key is not valid: scrypt: %v", err)
		}
	default:
		return nil, fmt.Errorf("%w: PBES2 key derivation %s", ErrUnsupportedEncryption, kdf)
	}
	block, err := newCipher(key)
	if err != nil {
		return nil, fmt.Errorf("signing: %s: %v", name, err)
	}
	return decryptCBC(block, iv, ciphertext)
}

func checkScrypt(sp *scryptParams) error {
	const fix = "re-encrypt it with openssl pkcs8 -topk8 -v2 aes256"
	switch {
	case sp.N < 2 || sp.N&(sp.N-1) != 0 || sp.R < 1 || sp.P < 1:
		return fmt.Errorf("signing: the encrypted private key is not valid: scrypt N=%d r=%d p=%d", sp.N, sp.R, sp.P)
	case len(sp.Salt) > maxSalt:
		return fmt.Errorf("signing: the encrypted private key is not valid: salt of %d bytes", len(sp.Salt))
	case sp.R > maxScryptMemory/128 || sp.N > maxScryptMemory/128/sp.R:
		return fmt.Errorf("signing: %w", &LimitError{What: fmt.Sprintf("scrypt memory of the encrypted private key (128·N·r bytes, N=%d r=%d)", sp.N, sp.R), Value: -1, Limit: maxScryptMemory, Fix: fix})
	case sp.P > maxScryptP:
		return fmt.Errorf("signing: %w", &LimitError{What: "scrypt parallelism p of the encrypted private key", Value: sp.P, Limit: maxScryptP, Fix: fix})
	case sp.N*sp.R*sp.P > maxScryptWork: // cannot overflow: N·r ≤ 2^23, p ≤ 16
		return fmt.Errorf("signing: %w", &LimitError{What: fmt.Sprintf("scrypt work N·r·p of the encrypted private key (N=%d r=%d p=%d)", sp.N, sp.R, sp.P), Value: sp.N * sp.R * sp.P, Limit: maxScryptWork, Fix: fix})
	}
	return nil
}

// prfFor returns the hash of a PBKDF2 pseudo-random function.
func prfFor(oid asn1.ObjectIdentifier) (func() hash.Hash, bool) {
	arc := oidHMACSHA1[:len(oidHMACSHA1)-1]
	if len(oid) != len(oidHMACSHA1) || !oid[:len(arc)].Equal(arc) {
		return nil, false
	}
	f, ok := prfs[oid[len(arc)]]
	return f.h, ok
}

// decryptCBC decrypts CBC and removes the PKCS #7 padding; bad padding
// means a wrong password.
func decryptCBC(block cipher.Block, iv, ciphertext []byte) ([]byte, error) {
	bs := block.BlockSize()
	if len(iv) != bs {
		return nil, fmt.Errorf("signing: the encrypted private key is not valid: IV of %d bytes, not %d", len(iv), bs)
	}
	if len(ciphertext) == 0 || len(ciphertext)%bs != 0 {
		return nil, errors.New("signing: the encrypted private key is not valid: its length is not a multiple of the cipher block")
	}
	plain := make([]byte, len(ciphertext))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(plain, ciphertext)
	n := int(plain[len(plain)-1])
	if n == 0 || n > bs {
		return nil, ErrWrongPassword
	}
	pad := plain[len(plain)-n:]
	if !bytes.Equal(pad, bytes.Repeat([]byte{byte(n)}, n)) {
		return nil, ErrWrongPassword
	}
	return plain[:len(plain)-n], nil
}

// pbkdf1 is PBKDF1 of RFC 8018 section 5.1, with a 16-byte output: the DES
// key and IV of PBES1.
func pbkdf1(h func() hash.Hash, password, salt []byte, iterations int) []byte {
	d := h()
	d.Write(password)
	d.Write(salt)
	return rehash(d, d.Sum(nil), iterations)[:16]
}

// rehash hashes t with d again until it has been hashed iterations times
// in all (t is the first hash).
func rehash(d hash.Hash, t []byte, iterations int) []byte {
	for i := 1; i < iterations; i++ {
		d.Reset()
		d.Write(t)
		t = d.Sum(t[:0])
	}
	return t
}

// bmpString encodes a password as PKCS #12 wants it: UTF-16 big-endian with
// two zero bytes at the end (RFC 7292 appendix B.1). Like OpenSSL, it takes
// a password that is not UTF-8 as Latin-1.
func bmpString(password []byte) []byte {
	var units []uint16
	if utf8.Valid(password) {
		units = utf16.Encode([]rune(string(password)))
	} else {
		for _, b := range password {
			units = append(units, uint16(b))
		}
	}
	out := make([]byte, 0, 2*len(units)+2)
	for _, u := range units {
		out = append(out, byte(u>>8), byte(u))
	}
	return append(out, 0, 0)
}

// pkcs12KDF derives n bytes for purpose id (1 key, 2 IV, 3 MAC) as RFC
// 7292 appendix B.2 describes, with hash h of block size v.
func pkcs12KDF(h func() hash.Hash, v int, password, salt []byte, iterations int, id byte, n int) []byte {
	fill := func(b []byte) []byte { // b repeated to a multiple of v bytes
		if len(b) == 0 {
			return nil
		}
		out := make([]byte, v*((len(b)+v-1)/v))
		for i := range out {
			out[i] = b[i%len(b)]
		}
		return out
	}
	D := bytes.Repeat([]byte{id}, v)
	I := append(fill(salt), fill(password)...)
	d := h()
	var out []byte
	for len(out) < n {
		d.Reset()
		d.Write(D)
		d.Write(I)
		a := rehash(d, d.Sum(nil), iterations)
		out = append(out, a...)
		if len(out) >= n {
			break
		}
		// I_j = (I_j + B + 1) mod 2^(8v) for each v-byte block of I.
		B := make([]byte, v)
		for i := range B {
			B[i] = a[i%len(a)]
		}
		for j := 0; j < len(I); j += v {
			carry := 1
			for k := v - 1; k >= 0; k-- {
				s := int(I[j+k]) + int(B[k]) + carry
				I[j+k] = byte(s)
				carry = s >> 8
			}
		}
	}
	return out[:n]
}
