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
	// coSigners are the signers after the first of v1 and v2 when
	// several sign without a lineage (apksigner's --next-signer alone).
	coSigners []*coSigner
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
	if opts.Lineage == nil && len(opts.NextIdentities) > 0 {
		if err := c.addCoSigners(opts.NextIdentities); err != nil {
			return nil, err
		}
	}
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

// coSigner is a further v1 and v2 signer.
type coSigner struct {
	id      *signing.Identity
	alg     schemeAlg   // v2 algorithm
	hash    crypto.Hash // v1 signature digest
	name    string      // safe v1 name
	v1Block string      // "RSA" or "EC"
}

// v1SignatureHash is the digest apksig's V1SchemeSigner picks for a
// key's JAR signature: SHA-1 for RSA below API level 18, else SHA-256.
func v1SignatureHash(pub crypto.PublicKey, minSDK int) crypto.Hash {
	if _, ok := pub.(*rsa.PublicKey); ok && minSDK < 18 {
		return crypto.SHA1
	}
	return crypto.SHA256
}

// addCoSigners sets up the signers after the first for v1 and v2, as
// apksig does for several signers without a lineage.
func (c *config) addCoSigners(ids []*signing.Identity) error {
	if n := 1 + len(ids); n > vMaxSigners {
		scheme := "v2"
		if c.v1 {
			scheme = "v1"
		}
		return fmt.Errorf("apk: APK Signature Scheme %s takes at most %d signers, %d given (as apksigner)", scheme, vMaxSigners, n)
	}
	names := map[string]int{c.v1Name: 1}
	for i, id := range ids {
		n := i + 2
		pub := id.Certificate.PublicKey
		alg, err := lineageAlg(pub)
		if err != nil {
			return err
		}
		if _, ok := pub.(*ecdsa.PublicKey); ok && c.v1 && c.minSDK < 18 {
			return fmt.Errorf("%w: ECDSA JAR signatures need minSdkVersion 18 or higher (the APK says %d): sign with an RSA key, or turn v1 off", signing.ErrUnsupportedKey, c.minSDK)
		}
		if err := checkKeyPair(id); err != nil {
			return fmt.Errorf("signer #%d: %w", n, err)
		}
		name := ""
		if i < len(c.opts.NextSignerNames) {
			name = c.opts.NextSignerNames[i]
		}
		if name == "" {
			name = id.Alias
		}
		if name == "" {
			name = "CERT"
		}
		name = jar.SignerName(name)
		if c.v1 {
			if other, dup := names[name]; dup {
				return fmt.Errorf("apk: signers #%d and #%d have the same name: %s. v1 signer names must be unique (Options.SignerName, NextSignerNames)", other, n, name)
			}
			names[name] = n
		}
		if c.stamp != nil && c.v2 && alg.hash != c.alg.hash {
			return errors.New("apk: a source stamp over v2 signers whose content digests differ is not supported")
		}
		s := &coSigner{id: id, alg: alg, hash: v1SignatureHash(pub, c.minSDK), name: name, v1Block: jar.BlockExtension(signing.KeyAlgorithm(pub))}
		if s.hash == crypto.SHA256 {
			c.v1Hash = crypto.SHA256 // the strongest signer's
		}
		c.coSigners = append(c.coSigners, s)
	}
	return nil
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
