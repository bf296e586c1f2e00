package apk

import (
	"bytes"
	"crypto"
	"crypto/dsa" //nolint:staticcheck // old APKs are DSA-signed; verification only.
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
)

// vDigestKind is a v2/v3 content digest algorithm.
type vDigestKind int

const (
	vChunkedSHA256 vDigestKind = iota + 1
	vChunkedSHA512
	vVeritySHA256
)

func (d vDigestKind) String() string {
	switch d {
	case vChunkedSHA256:
		return "CHUNKED_SHA256"
	case vChunkedSHA512:
		return "CHUNKED_SHA512"
	case vVeritySHA256:
		return "VERITY_CHUNKED_SHA256"
	}
	return "UNKNOWN"
}

// rank orders content digests as apksig prefers them:
// SHA-512 > verity > SHA-256.
func (d vDigestKind) rank() int {
	switch d {
	case vChunkedSHA256:
		return 1
	case vVeritySHA256:
		return 2
	case vChunkedSHA512:
		return 3
	}
	return 0
}

// vSigAlg is an APK Signature Scheme v2/v3 signature algorithm.
type vSigAlg struct {
	id     uint32
	name   string
	digest vDigestKind
	key    string // "RSA", "EC", "DSA"
	hash   crypto.Hash
	pss    bool
	minSDK int
}

var vSigAlgs = []vSigAlg{
	{0x0101, "RSA_PSS_WITH_SHA256", vChunkedSHA256, "RSA", crypto.SHA256, true, 24},
	{0x0102, "RSA_PSS_WITH_SHA512", vChunkedSHA512, "RSA", crypto.SHA512, true, 24},
	{0x0103, "RSA_PKCS1_V1_5_WITH_SHA256", vChunkedSHA256, "RSA", crypto.SHA256, false, 24},
	{0x0104, "RSA_PKCS1_V1_5_WITH_SHA512", vChunkedSHA512, "RSA", crypto.SHA512, false, 24},
	{0x0201, "ECDSA_WITH_SHA256", vChunkedSHA256, "EC", crypto.SHA256, false, 24},
	{0x0202, "ECDSA_WITH_SHA512", vChunkedSHA512, "EC", crypto.SHA512, false, 24},
	{0x0301, "DSA_WITH_SHA256", vChunkedSHA256, "DSA", crypto.SHA256, false, 24},
	{0x0421, "VERITY_RSA_PKCS1_V1_5_WITH_SHA256", vVeritySHA256, "RSA", crypto.SHA256, false, 28},
	{0x0423, "VERITY_ECDSA_WITH_SHA256", vVeritySHA256, "EC", crypto.SHA256, false, 28},
	{0x0425, "VERITY_DSA_WITH_SHA256", vVeritySHA256, "DSA", crypto.SHA256, false, 28},
}

func vFindSigAlg(id uint32) *vSigAlg {
	for i := range vSigAlgs {
		if vSigAlgs[i].id == id {
			return &vSigAlgs[i]
		}
	}
	return nil
}

type vSignature struct {
	alg *vSigAlg
	sig []byte
}

// vSignaturesToVerify picks, for each minimum SDK level, the strongest
// signature, as apksig's getSignaturesToVerify does.
func vSignaturesToVerify(sigs []vSignature, minSDK, maxSDK int) ([]vSignature, error) {
	best := map[int]vSignature{}
	minProvided := int(^uint(0) >> 1)
	for _, s := range sigs {
		m := s.alg.minSDK
		if m > maxSDK {
			continue
		}
		minProvided = min(minProvided, m)
		if c, ok := best[m]; !ok || s.alg.digest.rank() > c.alg.digest.rank() {
			best[m] = s
		}
	}
	if minSDK < minProvided {
		return nil, fmt.Errorf("minimum provided signature version %d > minSdkVersion %d", minProvided, minSDK)
	}
	if len(best) == 0 {
		return nil, errors.New("no supported signature")
	}
	var out []vSignature
	for _, s := range best {
		out = append(out, s)
	}
	// Sort by algorithm ID.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].alg.id < out[j-1].alg.id; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out, nil
}

// vParsePublicKey parses a SubjectPublicKeyInfo for the algorithm's key
// type.
func vParsePublicKey(der []byte, key string) (crypto.PublicKey, error) {
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, err
	}
	switch pub.(type) {
	case *rsa.PublicKey:
		if key == "RSA" {
			return pub, nil
		}
	case *ecdsa.PublicKey:
		if key == "EC" {
			return pub, nil
		}
	case *dsa.PublicKey:
		if key == "DSA" {
			return pub, nil
		}
	}
	return nil, fmt.Errorf("%T is not a %s key", pub, key)
}

// vVerifySignature checks sig over data.
func vVerifySignature(alg *vSigAlg, pub crypto.PublicKey, data, sig []byte) (bool, error) {
	var digest []byte
	switch alg.hash {
	case crypto.SHA256:
		d := sha256.Sum256(data)
		digest = d[:]
	case crypto.SHA512:
		d := sha512.Sum512(data)
		digest = d[:]
	default:
		return false, fmt.Errorf("unsupported hash %v", alg.hash)
	}
	return vVerifyDigest(pub, alg.hash, alg.pss, digest, sig)
}

// vVerifyDigest checks a signature over a digest made with h.
func vVerifyDigest(pub crypto.PublicKey, h crypto.Hash, pss bool, digest, sig []byte) (bool, error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if pss {
			err := rsa.VerifyPSS(k, h, digest, sig, &rsa.PSSOptions{SaltLength: h.Size(), Hash: h})
			return err == nil, nil
		}
		return rsa.VerifyPKCS1v15(k, h, digest, sig) == nil, nil
	case *ecdsa.PublicKey:
		return ecdsa.VerifyASN1(k, digest, sig), nil
	case *dsa.PublicKey:
		var rs struct{ R, S *big.Int }
		rest, err := asn1.Unmarshal(sig, &rs)
		if err != nil || len(rest) != 0 || rs.R == nil || rs.S == nil {
			return false, nil
		}
		if n := (k.Q.BitLen() + 7) / 8; len(digest) > n {
			digest = digest[:n]
		}
		return dsa.Verify(k, digest, rs.R, rs.S), nil
	}
	return false, fmt.Errorf("unsupported public key %T", pub)
}

// vEqualPublicKey compares a certificate's key with the signer's key
// record byte for byte, as apksig does (after re-encoding the
// certificate's key).
func vEqualPublicKey(cert *x509.Certificate, rec []byte) bool {
	if bytes.Equal(cert.RawSubjectPublicKeyInfo, rec) {
		return true
	}
	if cert.PublicKey == nil {
		return false
	}
	enc, err := x509.MarshalPKIXPublicKey(cert.PublicKey)
	return err == nil && bytes.Equal(enc, rec)
}
