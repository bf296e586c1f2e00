package apk

import (
	"bytes"
	"crypto"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"unicode/utf16"

	"github.com/storesign/storesign/internal/jar"
	"github.com/storesign/storesign/signing"
)

// digestNeeded reports whether a JAR manifest lists an entry, as apksig's
// isJarEntryDigestNeededInManifest decides: not directories, not the
// signature files directly in META-INF/.
func digestNeeded(name string) bool {
	if strings.HasSuffix(name, "/") {
		return false
	}
	rest, ok := strings.CutPrefix(name, "META-INF/")
	if !ok || strings.Contains(rest, "/") {
		return true
	}
	rest = strings.ToLower(rest)
	return !(rest == "manifest.mf" || strings.HasSuffix(rest, ".sf") || strings.HasSuffix(rest, ".rsa") ||
		strings.HasSuffix(rest, ".dsa") || strings.HasSuffix(rest, ".ec") || strings.HasPrefix(rest, "sig-"))
}

// manifestLineLen is the line length of apksig's ManifestWriter (70,
// where java.util.jar uses 72).
const manifestLineLen = 70

// writeAttr writes "name: value" wrapped as apksig's ManifestWriter does.
func writeAttr(b *bytes.Buffer, name, value string) {
	line := name + ": " + value
	first := true
	for len(line) > 0 {
		n := manifestLineLen
		if !first {
			b.WriteString("\r\n ")
			n--
		}
		n = min(n, len(line))
		b.WriteString(line[:n])
		line = line[n:]
		first = false
	}
	b.WriteString("\r\n")
}

// javaLess orders strings as Java's String.compareTo does: by UTF-16
// code units.
func javaLess(a, b string) bool {
	return slices.Compare(utf16.Encode([]rune(a)), utf16.Encode([]rune(b))) < 0
}

// javaSort sorts strings as Java's String.compareTo does.
func javaSort(s []string) {
	type key struct {
		s string
		u []uint16
	}
	keys := make([]key, len(s))
	for i, x := range s {
		keys[i] = key{x, utf16.Encode([]rune(x))}
	}
	slices.SortStableFunc(keys, func(a, b key) int { return slices.Compare(a.u, b.u) })
	for i, k := range keys {
		s[i] = k.s
	}
}

// mainAttributes merges a manifest's main attributes as java.util.jar
// does (names case-insensitive: the first spelling and the last value
// win) and returns them sorted by name as apksig writes them.
func mainAttributes(attrs jar.Attributes) jar.Attributes {
	var out jar.Attributes
	for _, a := range attrs {
		out.Set(a.Name, a.Value)
	}
	slices.SortStableFunc(out, func(a, b jar.Attribute) int {
		if javaLess(a.Name, b.Name) {
			return -1
		}
		if javaLess(b.Name, a.Name) {
			return 1
		}
		return 0
	})
	return out
}

// v1Digest is an output entry's digest for the JAR manifest.
type v1Digest struct {
	name string
	sum  []byte
}

// v1Files builds META-INF/MANIFEST.MF, the .SF file and the signature
// block as apksig's V1SchemeSigner does. source is the input's
// MANIFEST.MF (nil when it has none); its main attributes are kept.
func (c *config) v1Files(source []byte, digests []v1Digest) (mf, sf, block []byte, err error) {
	h := c.v1Hash
	alg := jar.DigestName(h)

	// MANIFEST.MF: main section, then one section per entry, sorted.
	var main jar.Attributes
	if source != nil {
		m, err := jar.ParseManifest(source)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("%w: reading META-INF/MANIFEST.MF: %v", ErrMalformed, err)
		}
		main = mainAttributes(m.Main)
	}
	version, ok := main.Get("Manifest-Version")
	if !ok {
		version = "1.0"
	}
	var b bytes.Buffer
	writeAttr(&b, "Manifest-Version", version)
	for _, a := range main {
		if a.Name != "Manifest-Version" {
			writeAttr(&b, a.Name, a.Value)
		}
	}
	b.WriteString("\r\n")

	byName := make(map[string][]byte, len(digests))
	names := make([]string, 0, len(digests))
	for _, d := range digests {
		if strings.ContainsAny(d.name, "\r\n\x00") {
			return nil, nil, nil, fmt.Errorf("%w: entry name %q has a character JAR signing cannot list (CR, LF or NUL)", ErrMalformed, d.name)
		}
		byName[d.name] = d.sum
		names = append(names, d.name)
	}
	javaSort(names)
	sections := make([][]byte, len(names))
	for i, name := range names {
		start := b.Len()
		writeAttr(&b, "Name", name)
		writeAttr(&b, alg+"-Digest", base64.StdEncoding.EncodeToString(byName[name]))
		b.WriteString("\r\n")
		sections[i] = b.Bytes()[start:]
	}
	mf = b.Bytes()

	// The .SF file: main attributes sorted by name after the version.
	var s bytes.Buffer
	writeAttr(&s, "Signature-Version", "1.0")
	sfMain := jar.Attributes{
		{Name: "Created-By", Value: c.createdBy},
		{Name: alg + "-Digest-Manifest", Value: digestB64(h, mf)},
	}
	var ids []string
	if c.v2 {
		ids = append(ids, "2")
	}
	if c.v3 {
		ids = append(ids, "3")
	}
	if len(ids) > 0 {
		sfMain = append(sfMain, jar.Attribute{Name: "X-Android-APK-Signed", Value: strings.Join(ids, ", ")})
	}
	for _, a := range mainAttributes(sfMain) {
		writeAttr(&s, a.Name, a.Value)
	}
	s.WriteString("\r\n")
	for i, name := range names {
		writeAttr(&s, "Name", name)
		writeAttr(&s, alg+"-Digest", digestB64(h, sections[i]))
		s.WriteString("\r\n")
	}
	// Android 1.6 and older choke on a .SF whose size is a multiple of
	// 1024; apksig adds a blank line then.
	if s.Len() > 0 && s.Len()%1024 == 0 {
		s.WriteString("\r\n")
	}
	sf = s.Bytes()

	if block, err = c.signSF(c.id, v1SignatureHash(c.id.Certificate.PublicKey, c.minSDK), sf); err != nil {
		return nil, nil, nil, err
	}
	return mf, sf, block, nil
}

// signSF signs the .SF file with id's key: the PKCS#7 signature block.
func (c *config) signSF(id *signing.Identity, h crypto.Hash, sf []byte) ([]byte, error) {
	block, err := jar.SignPKCS7(id.Signer, id.Certificates(), sf, jar.PKCS7Options{Hash: h, KeyAlgorithmOID: true, Rand: c.rand})
	if err != nil {
		return nil, fmt.Errorf("signing the JAR signature file: %w", err)
	}
	return block, nil
}

// isCoSignerFile reports a further signer's v1 signature file name.
func (c *config) isCoSignerFile(name string) bool {
	for _, s := range c.coSigners {
		if name == "META-INF/"+s.name+".SF" || name == "META-INF/"+s.name+"."+s.v1Block {
			return true
		}
	}
	return false
}

func digestB64(h crypto.Hash, b []byte) string {
	d := h.New()
	d.Write(b)
	return base64.StdEncoding.EncodeToString(d.Sum(nil))
}
