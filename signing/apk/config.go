package apk

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/storesign/storesign/internal/jar"
	"github.com/storesign/storesign/signing"
)

// schemeAlg is an APK Signature Scheme v2/v3 signature algorithm: its ID
// in the signing block and the hash of its chunked content digest and of
// its signature.
type schemeAlg struct {
	id   uint32
	hash crypto.Hash
}

// The signature algorithms apksig picks for RSA and ECDSA keys (apksig's
// SignatureAlgorithm: RSA PKCS#1 v1.5, never PSS, so that signatures are
// deterministic).
var (
	algRSASHA256   = schemeAlg{0x0103, crypto.SHA256}
	algRSASHA512   = schemeAlg{0x0104, crypto.SHA512}
	algECDSASHA256 = schemeAlg{0x0201, crypto.SHA256}
	algECDSASHA512 = schemeAlg{0x0202, crypto.SHA512}
)

// config is one signing run's settings, resolved from Options.
type config struct {
	id         *signing.Identity
	opts       Options
	minSDK     int
	v1, v2, v3 bool
	v4         bool
	alg        schemeAlg   // v1/v2 signer's v2/v3 algorithm
	v30, v31   []*v3Signer // signers of the v3.0 and v3.1 blocks
	// v31MinSDK is the lowest minSdkVersion of the v3.1 signers, which
	// the v3.0 signers carry as their rotation-min-sdk-version attribute
	// (0 without v3.1).
	v31MinSDK int
	stamp     *stamper    // nil without a source stamp
	v1Hash    crypto.Hash // v1 digests
	v1Name    string      // safe signer name, e.g. "CERT"
	v1Block   string      // "RSA" or "EC"
	libAlign  int
	createdBy string
	rand      io.Reader
}

func newConfig(id *signing.Identity, minSDK int, opts Options) (*config, error) {
	c := &config{id: id, opts: opts, minSDK: minSDK}
	c.v1 = minSDK < sdkN
	c.v2, c.v3 = true, true
	if opts.V1SigningEnabled != nil {
		c.v1 = *opts.V1SigningEnabled
	}
	if opts.V2SigningEnabled != nil {
		c.v2 = *opts.V2SigningEnabled
	}
	if opts.V3SigningEnabled != nil {
		c.v3 = *opts.V3SigningEnabled
	}
	c.v4 = opts.V4SigningEnabled
	if !c.v1 && !c.v2 && !c.v3 {
		return nil, ErrNoScheme
	}
	if c.v4 && !c.v2 && !c.v3 {
		return nil, errors.New("apk: v4 signing needs v2 or v3 signing")
	}
	if c.v4 && opts.V4Signature == nil {
		return nil, errors.New("apk: v4 signing needs Options.V4Signature")
	}
	id, err := c.planSigners(id, minSDK)
	if err != nil {
		return nil, err
	}
	c.id = id
	if c.stamp, err = newStamper(opts); err != nil {
		return nil, err
	}
	if c.v4 && opts.Lineage != nil && !c.v3 {
		return nil, errors.New("apk: v4 signing with a signing certificate lineage needs v3 signing (as apksigner)")
	}
	pub := id.Certificate.PublicKey
	switch pub.(type) {
	case *rsa.PublicKey:
		c.alg, _ = lineageAlg(pub)
		c.v1Hash = crypto.SHA256
		if minSDK < 18 {
			c.v1Hash = crypto.SHA1
		}
	case *ecdsa.PublicKey:
		c.alg, _ = lineageAlg(pub)
		c.v1Hash = crypto.SHA256
		if c.v1 && minSDK < 18 {
			return nil, fmt.Errorf("%w: ECDSA JAR signatures need minSdkVersion 18 or higher (the APK says %d): sign with an RSA key, or turn v1 off", signing.ErrUnsupportedKey, minSDK)
		}
	default:
		return nil, fmt.Errorf("%w: %s keys cannot sign APKs", signing.ErrUnsupportedKey, signing.KeyAlgorithm(pub))
	}
	if err := checkKeyPair(id); err != nil {
		return nil, err
	}
	for _, s := range slices.Concat(c.v30, c.v31) {
		if err := checkKeyPair(s.id); err != nil {
			return nil, err
		}
	}
	name := opts.SignerName
	if name == "" {
		name = id.Alias
	}
	if name == "" {
		name = "CERT"
	}
	c.v1Name = jar.SignerName(name)
	c.v1Block = jar.BlockExtension(signing.KeyAlgorithm(pub))
	c.libAlign = opts.LibPageAlignment
	if c.libAlign <= 0 {
		c.libAlign = DefaultLibPageAlignment
	}
	if c.libAlign > 0xffff {
		return nil, fmt.Errorf("apk: library page alignment %d is too large (at most 65535)", c.libAlign)
	}
	c.createdBy = opts.CreatedBy
	if c.createdBy == "" {
		c.createdBy = DefaultCreatedBy
	}
	c.rand = opts.Rand
	if c.rand == nil {
		c.rand = rand.Reader
	}
	return c, nil
}

// checkKeyPair checks that an identity's private key belongs to its
// certificate.
func checkKeyPair(id *signing.Identity) error {
	if k, ok := id.Signer.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !k.Equal(id.Certificate.PublicKey) {
		return signing.ErrKeyMismatch
	}
	return nil
}

// v1EntryNames are the names of the files v1 signing writes.
func (c *config) v1EntryNames() (sf, block, manifest string) {
	return "META-INF/" + c.v1Name + ".SF", "META-INF/" + c.v1Name + "." + c.v1Block, "META-INF/MANIFEST.MF"
}
