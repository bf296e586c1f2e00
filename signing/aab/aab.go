package aab

import (
	"crypto"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"time"

	"github.com/storesign/storesign/signing"
)

// Errors callers branch on.
var (
	// ErrNotBundle is returned for a zip that is not an app bundle: it
	// lacks BundleConfig.pb or base/manifest/AndroidManifest.xml.
	ErrNotBundle = errors.New("aab: not an Android App Bundle")
	// ErrNotSigned is returned by Verify for a bundle without a JAR
	// signature.
	ErrNotSigned = errors.New("aab: the bundle is not signed")
	// ErrInvalidSignature is wrapped by every verification failure of a
	// signed bundle: a digest or signature that does not match, or an
	// entry the signature does not cover.
	ErrInvalidSignature = errors.New("aab: invalid signature")
)

// Files every bundle has; their absence means the zip is not a bundle.
const (
	BundleConfigName = "BundleConfig.pb"
	BaseManifestName = "base/manifest/AndroidManifest.xml"
)

// Options says how [Sign] signs. The zero value signs with SHA-256 entry
// digests, the identity's alias as signature file name, and the current
// time.
type Options struct {
	// Identity is the signer: its private key and certificate chain
	// (the Play upload key). Required.
	Identity *signing.Identity
	// SignerName is the base name of the signature files
	// (META-INF/<NAME>.SF). It is sanitized as jarsigner sanitizes an
	// alias: upper-cased, 8 characters at most. Empty means the identity's
	// alias, or "CERT" (apksigner's name) when it has none.
	SignerName string
	// CreatedBy is the value of the Created-By attribute of a new
	// MANIFEST.MF and of the .SF; empty means "storesign". (jarsigner
	// writes its Java version, e.g. "17.0.15 (Debian)".)
	CreatedBy string
	// Now gives the signing time (signingTime attribute and the new
	// entries' modification time); nil means time.Now.
	Now func() time.Time
	// Rand is the randomness of ECDSA signatures; nil means crypto/rand.
	// RSA signatures are deterministic.
	Rand io.Reader
	// Workers is the number of entries hashed in parallel; 0 means
	// GOMAXPROCS.
	Workers int
	// SkipVerify makes [SignFile] publish its output without verifying
	// it first. [Sign] never verifies.
	SkipVerify bool
	// Log receives progress messages; nil discards them.
	Log *slog.Logger
}

// VerifyOptions says how [Verify] checks. The zero value is the strict
// check: every entry must be signed.
type VerifyOptions struct {
	// Workers is the number of entries hashed in parallel; 0 means
	// GOMAXPROCS.
	Workers int
	// AllowSHA1Unsafe accepts SHA-1 digests and signatures, which
	// jarsigner 17 (jdk.jar.disabledAlgorithms) treats as unsigned.
	AllowSHA1Unsafe bool
	// Log receives progress messages; nil discards them.
	Log *slog.Logger
}

// Result describes a signed bundle.
type Result struct {
	// Signers holds one entry per signature (Sign makes exactly one).
	Signers []*Signer
	// Entries is the number of entries the signature covers: every file
	// but the signature files themselves (directories are not signed).
	Entries int
	// Size is the size of the bundle written (Sign) or read (Verify).
	Size int64
}

// Signer is one JAR signature of a bundle.
type Signer struct {
	// Name is the base name of the signature files: "UPLOAD" for
	// META-INF/UPLOAD.SF and META-INF/UPLOAD.RSA.
	Name string
	// SignatureFile and BlockFile are the entry names of the .SF and of
	// the PKCS#7 block (.RSA, .EC or .DSA).
	SignatureFile, BlockFile string
	// Certificate is the signer's certificate; Chain the other
	// certificates of the block.
	Certificate *x509.Certificate
	Chain       []*x509.Certificate
	// DigestAlgorithm is the entries' digest (crypto.SHA256 by default),
	// BlockDigest the digest of the PKCS#7 signature.
	DigestAlgorithm, BlockDigest crypto.Hash
	// SignatureAlgorithm names the signature as Java does:
	// "SHA256withRSA", "SHA384withECDSA".
	SignatureAlgorithm string
	// SigningTime is the signed signingTime attribute; zero when absent.
	SigningTime time.Time
}

// Fingerprint returns the lowercase hex SHA-256 of the signer's
// certificate, as the Play Console shows the upload key.
func (s *Signer) Fingerprint() string { return signing.CertificateSHA256(s.Certificate) }

func discard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
