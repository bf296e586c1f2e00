package jsondoc

import (
	"bytes"
	"crypto/dsa" //nolint:staticcheck // old APK signing keys are DSA
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/storesign/storesign/internal/androidinfo"
)

// Schema is the value of every document's "schema" field. Fields added
// keep it; a field renamed or removed, or its meaning changed, makes
// "storesign/v2".
const Schema = "storesign/v1"

// Header starts every document: the schema and the command it is for.
type Header struct {
	Schema  string `json:"schema"`
	Command string `json:"command"` // the command path: "apk verify"
}

func header(command string) Header { return Header{Schema: Schema, Command: command} }

func (h *Header) header() *Header { return h }

// Doc is a document of this package, for [Write]. Only the documents
// this package makes implement it.
type Doc interface {
	header() *Header
}

// Write writes d to w as indented JSON ending with a newline, with
// HTML characters (<, >, &) as they are.
func Write(w io.Writer, d Doc) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		return fmt.Errorf("jsondoc: encoding the %s document: %w", d.header().Command, err)
	}
	_, err := w.Write(b.Bytes())
	return err
}

// File is a local file: an input or an output of a command.
type File struct {
	Path string `json:"path"` // as given on the command line, or the file a command chose
	Size int64  `json:"size"`
	// SHA256 is the file's SHA-256; empty (and the field left out, Size
	// 0) when the file could not be read.
	SHA256 string `json:"sha256,omitempty"`
}

// newFile reads the file at path for its size and SHA-256. A file that
// cannot be read gives only its path.
func newFile(path string) File {
	f := File{Path: path}
	r, err := os.Open(path)
	if err != nil {
		return f
	}
	defer r.Close()
	if fi, err := r.Stat(); err != nil || !fi.Mode().IsRegular() {
		return f
	}
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		return f
	}
	f.Size, f.SHA256 = n, hex.EncodeToString(h.Sum(nil))
	return f
}

// optFile is newFile, or nil for an empty path.
func optFile(path string) *File {
	if path == "" {
		return nil
	}
	f := newFile(path)
	return &f
}

// App is the app a build holds.
type App struct {
	// ID is the Android package name or the iOS bundle ID.
	ID string `json:"id"`
	// Name is the iOS display name (CFBundleDisplayName, else
	// CFBundleName); left out for Android builds.
	Name string `json:"name,omitempty"`
	// Version is the Android versionName or the iOS
	// CFBundleShortVersionString.
	Version string `json:"version,omitempty"`
	// Build is the Android versionCode (in decimal) or the iOS
	// CFBundleVersion.
	Build string `json:"build,omitempty"`
}

// androidApp reads the package and version of the APK or bundle at
// path; nil when it cannot be read.
func androidApp(path string) *App {
	info, err := androidinfo.ReadFile(path)
	if err != nil {
		return nil
	}
	return &App{ID: info.Package, Version: info.VersionName, Build: strconv.FormatInt(info.VersionCode, 10)}
}

// Signer is a signing certificate. All fields are set when the
// certificate is known, which it is in every document storesign prints
// (see docs/json.md).
type Signer struct {
	// Subject is the certificate's distinguished name as keytool and
	// apksigner print it: most specific attribute first, ", " between.
	Subject string `json:"subject,omitempty"`
	// CommonName is the subject's CN ("Apple Distribution: Example Corp
	// (ABCDE12345)").
	CommonName string `json:"commonName"`
	Issuer     string `json:"issuer,omitempty"`
	// CertificateSHA256 and CertificateSHA1 are the digests of the DER
	// certificate (Play Console shows the SHA-256 of the upload key).
	CertificateSHA256 string `json:"certificateSha256,omitempty"`
	CertificateSHA1   string `json:"certificateSha1,omitempty"`
	// PublicKeySHA256 is the digest of the DER SubjectPublicKeyInfo.
	PublicKeySHA256 string `json:"publicKeySha256,omitempty"`
	// KeyAlgorithm is "rsa", "ec", "dsa" or "ed25519"; KeySize its size
	// in bits (the modulus, the curve, or P for DSA).
	KeyAlgorithm string `json:"keyAlgorithm,omitempty"`
	KeySize      int    `json:"keySize,omitempty"`
	NotBefore    string `json:"notBefore,omitempty"`
	NotAfter     string `json:"notAfter,omitempty"`
}

// newSigner describes c.
func newSigner(c *x509.Certificate) Signer {
	if c == nil {
		return Signer{}
	}
	s256, s1 := sha256.Sum256(c.Raw), sha1.Sum(c.Raw)
	k256 := sha256.Sum256(c.RawSubjectPublicKeyInfo)
	alg, bits := keyInfo(c.PublicKey)
	return Signer{
		Subject:           distinguishedName(c.RawSubject),
		CommonName:        c.Subject.CommonName,
		Issuer:            distinguishedName(c.RawIssuer),
		CertificateSHA256: hex.EncodeToString(s256[:]),
		CertificateSHA1:   hex.EncodeToString(s1[:]),
		PublicKeySHA256:   hex.EncodeToString(k256[:]),
		KeyAlgorithm:      alg,
		KeySize:           bits,
		NotBefore:         timeString(c.NotBefore),
		NotAfter:          timeString(c.NotAfter),
	}
}

// signers describes certs, each once, in order, leaving nils out.
func signers(certs ...*x509.Certificate) []Signer {
	out := []Signer{}
	seen := map[string]bool{}
	for _, c := range certs {
		if c == nil || seen[string(c.Raw)] {
			continue
		}
		seen[string(c.Raw)] = true
		out = append(out, newSigner(c))
	}
	return out
}

func keyInfo(pub any) (string, int) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return "rsa", k.N.BitLen()
	case *ecdsa.PublicKey:
		return "ec", k.Curve.Params().BitSize
	case *dsa.PublicKey:
		return "dsa", k.P.BitLen()
	case ed25519.PublicKey:
		return "ed25519", 256
	}
	return "", 0
}

// dnKeyword is the keyword Java's X500Principal prints for an attribute
// type, or "" for one it prints as OID.n.n.n.
func dnKeyword(oid string) string {
	switch oid {
	case "2.5.4.3":
		return "CN"
	case "2.5.4.6":
		return "C"
	case "2.5.4.7":
		return "L"
	case "2.5.4.8":
		return "ST"
	case "2.5.4.9":
		return "STREET"
	case "2.5.4.10":
		return "O"
	case "2.5.4.11":
		return "OU"
	case "2.5.4.5":
		return "SERIALNUMBER"
	case "2.5.4.4":
		return "SURNAME"
	case "2.5.4.42":
		return "GIVENNAME"
	case "2.5.4.12":
		return "T"
	case "2.5.4.46":
		return "DNQUALIFIER"
	case "1.2.840.113549.1.9.1":
		return "EMAILADDRESS"
	case "0.9.2342.19200300.100.1.25":
		return "DC"
	case "0.9.2342.19200300.100.1.1":
		return "UID"
	}
	return ""
}

// distinguishedName formats a DER name as keytool and apksigner print
// it: the most specific attribute first, ", " between attributes, " + "
// inside a multi-valued one, values with special characters quoted.
func distinguishedName(raw []byte) string {
	var seq pkix.RDNSequence
	if rest, err := asn1.Unmarshal(raw, &seq); err != nil || len(rest) > 0 {
		return ""
	}
	parts := make([]string, 0, len(seq))
	for i := len(seq) - 1; i >= 0; i-- {
		attrs := make([]string, 0, len(seq[i]))
		for _, atv := range seq[i] {
			key := dnKeyword(atv.Type.String())
			if key == "" {
				key = "OID." + atv.Type.String()
			}
			attrs = append(attrs, key+"="+dnValue(fmt.Sprint(atv.Value)))
		}
		parts = append(parts, strings.Join(attrs, " + "))
	}
	return strings.Join(parts, ", ")
}

func dnValue(v string) string {
	if v == "" || strings.ContainsAny(v, ",+=\"\\<>;#") || strings.TrimSpace(v) != v {
		return strconv.Quote(v)
	}
	return v
}

// timeString is t in RFC 3339, UTC; "" for the zero time.
func timeString(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// optTime is timeString of *t; "" for nil.
func optTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return timeString(*t)
}

// list returns l, or an empty list for nil: lists are printed [] rather
// than null.
func list[T any](l []T) []T {
	if l == nil {
		return []T{}
	}
	return l
}

// errString is err's message, or "" for nil.
func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
