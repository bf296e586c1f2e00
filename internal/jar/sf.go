package jar

import (
	"crypto"
	_ "crypto/sha1" // SHA-1 digests of old signatures
	_ "crypto/sha256"
	_ "crypto/sha512"
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf16"
)

// DigestName returns the JAR name of a digest algorithm, as used in
// "<name>-Digest" attributes: "SHA-256", "SHA1", "SHA-384", "SHA-512".
func DigestName(h crypto.Hash) string {
	switch h {
	case crypto.SHA1:
		return "SHA1"
	case crypto.SHA256:
		return "SHA-256"
	case crypto.SHA384:
		return "SHA-384"
	case crypto.SHA512:
		return "SHA-512"
	}
	return ""
}

// ParseDigestName maps a JAR digest name ("SHA-256", "SHA1", "SHA-1",
// case-insensitive) to its hash, or 0 when unknown.
func ParseDigestName(name string) crypto.Hash {
	switch strings.ToUpper(name) {
	case "SHA1", "SHA-1":
		return crypto.SHA1
	case "SHA-256", "SHA256":
		return crypto.SHA256
	case "SHA-384", "SHA384":
		return crypto.SHA384
	case "SHA-512", "SHA512":
		return crypto.SHA512
	}
	return 0
}

// Digest returns the base64 digest of data, as digest attributes hold it.
func Digest(h crypto.Hash, data []byte) string {
	d := h.New()
	d.Write(data)
	return base64.StdEncoding.EncodeToString(d.Sum(nil))
}

// SignatureFileOptions says what a signature file holds besides its
// digests.
type SignatureFileOptions struct {
	// Hash is the digest algorithm; zero means SHA-256.
	Hash crypto.Hash
	// Main holds main attributes written after "Signature-Version: 1.0"
	// and before the manifest digests, in order: jarsigner writes
	// Created-By; apksigner writes Created-By and X-Android-APK-Signed.
	Main Attributes
	// MainAttributesDigest adds "<Alg>-Digest-Manifest-Main-Attributes",
	// as jarsigner does (apksigner does not).
	MainAttributesDigest bool
}

// BuildSignatureFile returns the bytes of a signature file (.SF) for the
// manifest whose exact bytes are manifest: "Signature-Version: 1.0", the
// options' main attributes, "<Alg>-Digest-Manifest" over the whole
// manifest, optionally "<Alg>-Digest-Manifest-Main-Attributes", then one
// section per manifest section, in manifest order, holding the digest of
// that section's raw bytes.
func BuildSignatureFile(manifest []byte, opts SignatureFileOptions) ([]byte, error) {
	h := opts.Hash
	if h == 0 {
		h = crypto.SHA256
	}
	alg := DigestName(h)
	if alg == "" || !h.Available() {
		return nil, fmt.Errorf("jar: unsupported digest algorithm %v", h)
	}
	mf, err := ParseManifest(manifest)
	if err != nil {
		return nil, err
	}
	sf := &Manifest{Main: Attributes{{"Signature-Version", "1.0"}}}
	sf.Main = append(sf.Main, opts.Main...)
	sf.Main = append(sf.Main, Attribute{alg + "-Digest-Manifest", Digest(h, manifest)})
	if opts.MainAttributesDigest {
		sf.Main = append(sf.Main, Attribute{alg + "-Digest-Manifest-Main-Attributes", Digest(h, mf.MainRaw)})
	}
	for _, s := range mf.Sections {
		sf.Sections = append(sf.Sections, &Section{Name: s.Name, Attrs: Attributes{{alg + "-Digest", Digest(h, s.Raw)}}})
	}
	return sf.Marshal(), nil
}

// SignerName turns a keystore alias into a signature file base name the
// way jarsigner does: the first 8 characters, upper-cased, with every
// character outside A-Z, 0-9, '-' and '_' replaced by '_'. An empty alias
// gives "".
func SignerName(alias string) string {
	u := utf16.Encode([]rune(alias))
	if len(u) > 8 {
		u = u[:8]
	}
	var b strings.Builder
	for _, c := range u {
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			c = '_'
		}
		b.WriteByte(byte(c))
	}
	return b.String()
}

// BlockExtension returns the signature block file extension for a key
// algorithm as signing.KeyAlgorithm names it: "RSA", "EC" or "DSA".
func BlockExtension(keyAlgorithm string) string {
	switch keyAlgorithm {
	case "EC", "ECDSA":
		return "EC"
	case "DSA":
		return "DSA"
	}
	return "RSA"
}

// IsSignatureFile reports whether name (a zip entry name) is a file that
// JAR signing owns: META-INF/MANIFEST.MF, or directly in META-INF/ a
// signature file (*.SF), a signature block (*.RSA, *.DSA, *.EC) or a
// SIG-* file, compared case-insensitively as Java does.
func IsSignatureFile(name string) bool {
	up := strings.ToUpper(name)
	rest, ok := strings.CutPrefix(up, "META-INF/")
	if !ok || strings.Contains(rest, "/") {
		return false
	}
	if rest == "MANIFEST.MF" {
		return true
	}
	for _, ext := range []string{".SF", ".RSA", ".DSA", ".EC"} {
		if strings.HasSuffix(rest, ext) {
			return true
		}
	}
	return strings.HasPrefix(rest, "SIG-")
}
