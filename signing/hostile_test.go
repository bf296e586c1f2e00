package signing_test

import (
	"bytes"
	"crypto/cipher"
	"crypto/des"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"github.com/storesign/storesign/internal/testenv"
	"github.com/storesign/storesign/signing"
	"github.com/storesign/storesign/signing/signingtest"
)

// hostilePassword is the password every hostile case is opened with; no
// error message may contain it.
const hostilePassword = "s3cret-Hostile-pw"

// The shapes of RFC 7292 the tests build PKCS#12 files from.
type (
	tPFX struct {
		Version  int
		AuthSafe tContentInfo
		MacData  tMacData `asn1:"optional"`
	}
	tContentInfo struct {
		ContentType asn1.ObjectIdentifier
		Content     asn1.RawValue `asn1:"optional"` // built with explicit0
	}
	tMacData struct {
		Mac struct {
			Algorithm pkix.AlgorithmIdentifier
			Digest    []byte
		}
		MacSalt    []byte
		Iterations int64 `asn1:"optional,default:1"`
	}
	tEncryptedData struct {
		Version int
		Info    struct {
			ContentType asn1.ObjectIdentifier
			Algorithm   pkix.AlgorithmIdentifier
			Content     []byte `asn1:"tag:0,optional"`
		}
	}
	tSafeBag struct {
		ID    asn1.ObjectIdentifier
		Value asn1.RawValue // built with explicit0
	}
	tEncryptedKeyInfo struct {
		Algo pkix.AlgorithmIdentifier
		Data []byte
	}
)

var (
	tOIDData          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	tOIDEncryptedData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 6}
	tOIDSHA1          = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	tOIDShroudedKey   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 2}
	tOIDCertBag       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 3}
	tOIDPBE3DES       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 3}
)

func mustDER(v any) []byte {
	b, err := asn1.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func rawOf(v any) asn1.RawValue { return asn1.RawValue{FullBytes: mustDER(v)} }

// explicit0 returns v's DER wrapped in an explicit [0] tag.
func explicit0(v any) asn1.RawValue {
	return asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: mustDER(v)}
}

// p12File builds a PFX of the given safe contents whose MAC, computed with
// hostilePassword, asks for macIter iterations (a MAC of more than 10,000
// iterations is left wrong: the check must refuse it before computing).
func p12File(macIter int64, safes ...tContentInfo) []byte {
	return p12FileBMP(signing.BMPString([]byte(hostilePassword)), macIter, safes...)
}

// p12FileBMP is p12File with the password given as PKCS #12 encodes it.
func p12FileBMP(bmp []byte, macIter int64, safes ...tContentInfo) []byte {
	content := mustDER(safes)
	salt := []byte("macsalt!")
	digest := make([]byte, 20)
	if macIter <= 10_000 {
		key := signing.PKCS12KDF(sha1.New, 64, bmp, salt, int(macIter), 3, 20)
		m := hmac.New(sha1.New, key)
		m.Write(content)
		digest = m.Sum(nil)
	}
	pfx := tPFX{Version: 3, AuthSafe: tContentInfo{ContentType: tOIDData, Content: explicit0(content)}}
	pfx.MacData.Mac.Algorithm = pkix.AlgorithmIdentifier{Algorithm: tOIDSHA1, Parameters: asn1.NullRawValue}
	pfx.MacData.Mac.Digest = digest
	pfx.MacData.MacSalt = salt
	pfx.MacData.Iterations = macIter
	return mustDER(pfx)
}

func dataSafe(bags ...tSafeBag) tContentInfo {
	return tContentInfo{ContentType: tOIDData, Content: explicit0(mustDER(bags))}
}

// encryptedSafe encrypts bags with pbeWithSHAAnd3-KeyTripleDES-CBC of iter
// iterations (with hostilePassword; left unencrypted above 10,000).
func encryptedSafe(iter int64, bags ...tSafeBag) tContentInfo {
	return encryptedSafeBMP(signing.BMPString([]byte(hostilePassword)), iter, bags...)
}

// encryptedSafeBMP is encryptedSafe with the password given as PKCS #12
// encodes it.
func encryptedSafeBMP(pw []byte, iter int64, bags ...tSafeBag) tContentInfo {
	salt := []byte("keysalt!") // as pbe3DES writes it
	plain := mustDER(bags)
	pad := 8 - len(plain)%8
	plain = append(plain, bytes.Repeat([]byte{byte(pad)}, pad)...)
	ct := plain
	if iter <= 10_000 {
		key := signing.PKCS12KDF(sha1.New, 64, pw, salt, int(iter), 1, 24)
		iv := signing.PKCS12KDF(sha1.New, 64, pw, salt, int(iter), 2, 8)
		block, _ := des.NewTripleDESCipher(key)
		ct = make([]byte, len(plain))
		cipher.NewCBCEncrypter(block, iv).CryptBlocks(ct, plain)
	}
	var ed tEncryptedData
	ed.Info.ContentType = tOIDData
	ed.Info.Algorithm = pbe3DES(iter)
	ed.Info.Content = ct
	return tContentInfo{ContentType: tOIDEncryptedData, Content: explicit0(ed)}
}

// rc2Safe encrypts bags with pbeWithSHAAnd40BitRC2-CBC of one iteration,
// as legacy files encrypt their certificates.
func rc2Safe(bags ...tSafeBag) tContentInfo {
	salt := []byte("rc2salt!")
	plain := mustDER(bags)
	pad := 8 - len(plain)%8
	plain = append(plain, bytes.Repeat([]byte{byte(pad)}, pad)...)
	pw := signing.BMPString([]byte(hostilePassword))
	key := signing.PKCS12KDF(sha1.New, 64, pw, salt, 1, 1, 5)
	iv := signing.PKCS12KDF(sha1.New, 64, pw, salt, 1, 2, 8)
	ct := make([]byte, len(plain))
	cipher.NewCBCEncrypter(signing.NewRC2(key), iv).CryptBlocks(ct, plain)
	var ed tEncryptedData
	ed.Info.ContentType = tOIDData
	ed.Info.Algorithm = pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 6}, Parameters: rawOf(struct {
		Salt       []byte
		Iterations int64
	}{salt, 1})}
	ed.Info.Content = ct
	return tContentInfo{ContentType: tOIDEncryptedData, Content: explicit0(ed)}
}

func pbe3DES(iter int64) pkix.AlgorithmIdentifier {
	return pkix.AlgorithmIdentifier{Algorithm: tOIDPBE3DES, Parameters: rawOf(struct {
		Salt       []byte
		Iterations int64
	}{[]byte("keysalt!"), iter})}
}

func shroudedKeyBag(iter int64) tSafeBag {
	return tSafeBag{ID: tOIDShroudedKey, Value: explicit0(tEncryptedKeyInfo{Algo: pbe3DES(iter), Data: make([]byte, 1024)})}
}

func certBag(der []byte) tSafeBag {
	return tSafeBag{ID: tOIDCertBag, Value: explicit0(struct {
		ID    asn1.ObjectIdentifier
		Value asn1.RawValue
	}{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 22, 1}, explicit0(der)})}
}

// hugeRSACert returns a certificate for an RSA public key of bits bits,
// signed by a small EC key.
func hugeRSACert(t testing.TB, bits int) *x509.Certificate {
	ca := signingtest.ECKey("huge rsa issuer", elliptic.P256())
	n := new(big.Int).Lsh(big.NewInt(1), uint(bits-1))
	n.Add(n, big.NewInt(1))
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "huge"}, NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<31, 0)}
	der, err := x509.CreateCertificate(signingtest.Reader("huge"), tmpl, tmpl, &rsa.PublicKey{N: n, E: 65537}, ca)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// jksHeader returns a JKS header claiming count entries, followed by rest.
func jksHeader(count uint32, rest []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, 0xfeedfeed)
	b = binary.BigEndian.AppendUint32(b, 2)
	b = binary.BigEndian.AppendUint32(b, count)
	return append(b, rest...)
}

// hostileKeyCase is one hostile input to the key loaders.
type hostileKeyCase struct {
	name string
	data []byte
	load func([]byte) error
	// want is the error the case must wrap (errors.Is); nil: any error.
	want error
}

func hostileKeyCases(t testing.TB) []hostileKeyCase {
	id := signingtest.SelfSigned("hostile", signingtest.ECKey("hostile", elliptic.P256()))
	certDER := id.Certificate.Raw
	p12 := func(b []byte) error {
		_, err := signing.LoadPKCS12(b, hostilePassword)
		return err
	}
	ks := func(b []byte) error {
		_, err := signing.LoadKeystore(b, signing.KeystoreOptions{StorePassword: hostilePassword})
		return err
	}
	keyCert := func(b []byte) error {
		_, err := signing.LoadKeyAndCertificate(b, signingtest.CertPEM(id.Certificate))
		return err
	}
	encKey := func(b []byte) error {
		_, err := signing.ParseEncryptedPrivateKey(b, hostilePassword)
		return err
	}
	certs := func(b []byte) error {
		_, err := signing.ParseCertificates(b)
		return err
	}
	manyBags := make([]tSafeBag, 1100)
	for i := range manyBags {
		manyBags[i] = certBag(certDER)
	}
	huge := hugeRSACert(t, 40000)
	var longChain []byte
	for range 70 {
		longChain = append(longChain, signingtest.CertPEM(id.Certificate)...)
	}
	var manyCerts []byte
	for range signing.MaxKeystoreEntries + 1 {
		manyCerts = append(manyCerts, signingtest.CertPEM(id.Certificate)...)
	}
	// A DSA PKCS#8 key whose exponentiation would take hours.
	bigP := new(big.Int).Lsh(big.NewInt(1), 60_000)
	bigP.Add(bigP, big.NewInt(1))
	dsaKey := mustDER(struct {
		Version int
		Algo    struct {
			Algorithm  asn1.ObjectIdentifier
			Parameters struct{ P, Q, G *big.Int }
		}
		PrivateKey []byte
	}{0, struct {
		Algorithm  asn1.ObjectIdentifier
		Parameters struct{ P, Q, G *big.Int }
	}{asn1.ObjectIdentifier{1, 2, 840, 10040, 4, 1}, struct{ P, Q, G *big.Int }{bigP, bigP, big.NewInt(3)}}, mustDER(new(big.Int).Sub(bigP, big.NewInt(7)))})
	jksChain := binary.BigEndian.AppendUint32(nil, 1) // a key entry
	jksChain = append(jksChain, 0, 0)                 // empty alias
	jksChain = append(jksChain, make([]byte, 8)...)   // timestamp
	jksChain = append(jksChain, 0, 0, 0, 0)           // no key bytes
	jksChain = binary.BigEndian.AppendUint32(jksChain, 1000)
	jksChain = append(jksChain, make([]byte, 8000)...)
	big4M := make([]byte, signing.MaxKeyInput+1)
	big4M[0] = 0x30

	return []hostileKeyCase{
		{"p12-mac-iterations-2^31", p12File(1<<31, dataSafe(certBag(certDER))), p12, signing.ErrLimit},
		{"p12-mac-iterations-2^62", p12File(1<<62, dataSafe(certBag(certDER))), p12, signing.ErrLimit},
		{"p12-key-bag-iterations-2^31", p12File(1, dataSafe(shroudedKeyBag(1<<31))), p12, signing.ErrLimit},
		{"p12-encrypted-content-iterations-2^31", p12File(1, encryptedSafe(1<<31, certBag(certDER))), p12, signing.ErrLimit},
		{"p12-key-bag-inside-encrypted-content-2^31", p12File(1, encryptedSafe(1, shroudedKeyBag(1<<31))), p12, signing.ErrLimit},
		{"p12-key-bag-inside-rc2-content-2^31", p12File(1, rc2Safe(certBag(certDER), shroudedKeyBag(1<<31))), p12, signing.ErrLimit},
		{"p12-plain-key-bag-of-40KiB", p12File(1, dataSafe(tSafeBag{ID: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 1}, Value: explicit0(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: make([]byte, 40960)})})), p12, signing.ErrLimit},
		{"p12-empty-password-as-no-bytes-hostile-key-bag", p12FileBMP(nil, 1, encryptedSafeBMP(nil, 1, shroudedKeyBag(1<<31))), func(b []byte) error {
			_, err := signing.LoadPKCS12(b, "")
			return err
		}, signing.ErrLimit},
		{"p12-work-of-all-parts", p12File(1, encryptedSafe(1, shroudedKeyBag(3_000_000), shroudedKeyBag(3_000_000))), p12, signing.ErrLimit},
		{"p12-1100-bags", p12File(1, dataSafe(manyBags...)), p12, signing.ErrLimit},
		{"p12-larger-than-4MiB", big4M, p12, signing.ErrLimit},
		{"p12-chain-of-70", p12Chain(id, slicesRepeat(id.Certificate, 70)), p12, signing.ErrLimit},
		{"p12-chain-with-40000-bit-rsa", p12Chain(id, []*x509.Certificate{huge}), p12, signing.ErrLimit},
		{"keystore-p12-mac-iterations-2^31", p12File(1<<31, dataSafe(certBag(certDER))), ks, signing.ErrLimit},
		{"keystore-larger-than-4MiB", big4M, ks, signing.ErrLimit},
		{"jks-5000-entries", jksHeader(5000, make([]byte, 5000*18)), ks, signing.ErrLimit},
		{"jks-entries-beyond-the-data", jksHeader(1<<31, nil), ks, nil},
		{"jks-chain-of-1000", jksHeader(1, jksChain), ks, signing.ErrLimit},
		{"jks-truncated", jksHeader(1, jksChain[:30]), ks, nil},
		{"key-der-of-40KiB", append([]byte{0x30, 0x82, 0xa0, 0x00}, make([]byte, 40960)...), keyCert, signing.ErrLimit},
		{"key-pem-of-40KiB", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: make([]byte, 40960)}), keyCert, signing.ErrLimit},
		{"key-dsa-200000-bit-p", dsaKey, keyCert, nil},
		{"encrypted-key-of-40KiB", pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: mustDER(tEncryptedKeyInfo{Algo: pbe3DES(1), Data: make([]byte, 40960)})}), encKey, signing.ErrLimit},
		{"encrypted-key-iterations-2^31", mustDER(tEncryptedKeyInfo{Algo: pbe3DES(1 << 31), Data: make([]byte, 16)}), encKey, signing.ErrLimit},
		{"cert-rsa-40000-bits", signingtest.CertPEM(huge), certs, signing.ErrLimit},
		{"cert-pem-1025-certificates", manyCerts, certs, signing.ErrLimit},
		{"key-and-chain-of-70", signingtest.KeyPKCS8(id), func(b []byte) error {
			_, err := signing.LoadKeyAndCertificate(b, longChain)
			return err
		}, signing.ErrLimit},
	}
}

// p12Chain encodes id's key and certificate with chain as the CA
// certificates.
func p12Chain(id *signing.Identity, chain []*x509.Certificate) []byte {
	b, err := pkcs12.LegacyDES.Encode(id.Signer, id.Certificate, chain, hostilePassword)
	if err != nil {
		panic(err)
	}
	return b
}

func slicesRepeat(c *x509.Certificate, n int) []*x509.Certificate {
	out := make([]*x509.Certificate, n)
	for i := range out {
		out[i] = c
	}
	return out
}

// TestHostileKeys loads hostile keystores, PKCS#12 files, keys and
// certificates: each must fail with the expected error, within 2 s and
// 64 MiB of allocations, in one line without the password.
func TestHostileKeys(t *testing.T) {
	for _, c := range hostileKeyCases(t) {
		t.Run(c.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			start := time.Now()
			err := c.load(c.data)
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v", d)
			}
			runtime.ReadMemStats(&after)
			if n := after.TotalAlloc - before.TotalAlloc; n > 64<<20 {
				t.Errorf("allocated %d MiB", n>>20)
			}
			if err == nil {
				t.Fatal("no error")
			}
			if c.want != nil && !errors.Is(err, c.want) {
				t.Errorf("err = %v, want %v", err, c.want)
			}
			if strings.Contains(err.Error(), hostilePassword) {
				t.Errorf("the password is in the message: %v", err)
			}
			if !strings.HasPrefix(err.Error(), "signing: ") || strings.Contains(err.Error(), "\n") {
				t.Errorf("message %q is not one line starting with signing: ", err)
			}
		})
	}
}

// TestPKCS12ChecksAcceptReal makes sure the checks of TestHostileKeys
// leave real files alone: the structure the hostile cases are built with,
// with ordinary iteration counts, gets past the checks to the decoder.
func TestPKCS12ChecksAcceptReal(t *testing.T) {
	id := signingtest.SelfSigned("hostile", signingtest.ECKey("hostile", elliptic.P256()))
	for name, data := range map[string][]byte{
		"built":  p12File(2048, encryptedSafe(2048, certBag(id.Certificate.Raw))),
		"modern": signingtest.PKCS12(id, hostilePassword),
		"legacy": signingtest.PKCS12Legacy(id, hostilePassword),
	} {
		_, err := signing.LoadPKCS12(data, hostilePassword)
		if errors.Is(err, signing.ErrLimit) {
			t.Errorf("%s: %v", name, err)
		}
		switch {
		case name == "built" && (err == nil || errors.Is(err, signing.ErrWrongPassword)):
			// Past the MAC and the decryption: the builder of the hostile
			// cases makes files the decoder reads (and this one has no key).
			t.Errorf("%s: %v, want an error about the missing key", name, err)
		case name != "built" && err != nil:
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestHostilePasswordSpecs resolves password specs where the password was
// typed in place of a name: the message must not show it, and a file that
// is not a regular file is refused without blocking.
func TestHostilePasswordSpecs(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	sparse := filepath.Join(dir, hostilePassword+".sparse")
	os.WriteFile(sparse, nil, 0o600)
	if err := os.Truncate(sparse, 1<<40); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, spec string
		want       error
	}{
		{"env-value-as-name", "env:" + hostilePassword, signing.ErrPasswordSpec},
		{"env-empty-name", "env:", signing.ErrPasswordSpec},
		{"file-value-as-path", "file:" + hostilePassword, signing.ErrPasswordSpec},
		{"file-dev-zero", "file:/dev/zero", signing.ErrPasswordSpec},
		{"file-fifo", "file:" + fifo, signing.ErrPasswordSpec},
		{"file-folder", "file:" + dir + "/" + hostilePassword + "/..", signing.ErrPasswordSpec},
		{"file-sparse-1TiB", "file:" + sparse, signing.ErrLimit},
	} {
		t.Run(c.name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() {
				_, err := signing.ReadPassword(c.spec)
				done <- err
			}()
			var err error
			select {
			case err = <-done:
			case <-time.After(2 * time.Second):
				t.Fatal("ReadPassword blocked")
			}
			if !errors.Is(err, c.want) || !errors.Is(err, signing.ErrPasswordSpec) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if strings.Contains(err.Error(), hostilePassword) || strings.Contains(err.Error(), dir) {
				t.Errorf("the message shows the spec: %v", err)
			}
		})
	}
}

// TestPKCS12LegacyRC2Checked checks that the check decrypts a legacy
// file's RC2-encrypted content (RC2-40 certificates, as Keychain Access and
// OpenSSL 1.x export them), so that a hostile key bag hidden there is found
// (TestHostileKeys/p12-key-bag-inside-rc2-content-2^31), and that the
// corpus file still loads.
func TestPKCS12LegacyRC2Checked(t *testing.T) {
	data, err := os.ReadFile(testenv.Corpus(t, "ios", "self-signed-rsa-apple-distribution.p12"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := signing.LoadPKCS12(data, "password"); err != nil {
		t.Fatalf("corpus p12: %v", err)
	}
	if !signing.RC2SafeDecrypts(data, "password") {
		t.Error("the check did not decrypt the corpus file's RC2 content")
	}
}
