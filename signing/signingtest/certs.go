package signingtest

import (
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"time"

	"github.com/storesign/storesign/signing"
)

// Epoch is when every test certificate starts being valid; they expire 30
// years later unless the options say otherwise.
var Epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// CA is a certificate authority for tests.
type CA struct {
	Certificate *x509.Certificate
	Key         crypto.Signer
	// Chain holds the CA's issuers, nearest first (empty for a root).
	Chain []*x509.Certificate
}

// CertOptions describe a certificate to issue. Zero fields get defaults.
type CertOptions struct {
	Subject   pkix.Name
	Key       crypto.Signer // nil: an RSA-2048 key derived from the subject
	NotBefore time.Time     // zero: Epoch
	NotAfter  time.Time     // zero: NotBefore + 30 years
	// IssuingCertificateURL is put in the Authority Information Access
	// extension, as Apple does for its WWDR intermediates.
	IssuingCertificateURL []string
	ExtraExtensions       []pkix.Extension
	ExtKeyUsage           []x509.ExtKeyUsage
	IsCA                  bool
}

// NewRoot returns a self-signed root CA named name.
func NewRoot(name string) *CA {
	key := RSAKey("ca "+name, 2048)
	cert := create(CertOptions{Subject: pkix.Name{CommonName: name, Organization: []string{"storesign test"}}, Key: key, IsCA: true}, nil, key)
	return &CA{Certificate: cert, Key: key}
}

// Intermediate issues a CA certificate under ca.
func (ca *CA) Intermediate(opts CertOptions) *CA {
	opts.IsCA = true
	if opts.Key == nil {
		opts.Key = RSAKey("ca "+opts.Subject.String(), 2048)
	}
	cert := create(opts, ca, ca.Key)
	return &CA{Certificate: cert, Key: opts.Key, Chain: append([]*x509.Certificate{ca.Certificate}, ca.Chain...)}
}

// Issue issues a leaf certificate under ca and returns it as an identity
// whose chain runs up to and including the root.
func (ca *CA) Issue(opts CertOptions) *signing.Identity {
	if opts.Key == nil {
		opts.Key = RSAKey("leaf "+opts.Subject.String(), 2048)
	}
	cert := create(opts, ca, ca.Key)
	id, err := signing.NewIdentity(opts.Key, cert, append([]*x509.Certificate{ca.Certificate}, ca.Chain...)...)
	if err != nil {
		panic(err)
	}
	return id
}

// Pool returns a pool holding only ca's root, for verification.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	root := ca.Certificate
	if n := len(ca.Chain); n > 0 {
		root = ca.Chain[n-1]
	}
	p.AddCert(root)
	return p
}

// SelfSigned returns a self-signed identity, as keytool -genkeypair makes
// for an Android app: CN=name, the given key (nil: RSA-2048 from name).
func SelfSigned(name string, key crypto.Signer) *signing.Identity {
	if key == nil {
		key = RSAKey("self "+name, 2048)
	}
	cert := create(CertOptions{Subject: pkix.Name{CommonName: name, Organization: []string{"storesign test"}, Country: []string{"US"}}, Key: key}, nil, key)
	id, err := signing.NewIdentity(key, cert)
	if err != nil {
		panic(err)
	}
	return id
}

func create(opts CertOptions, parent *CA, parentKey crypto.Signer) *x509.Certificate {
	nb := opts.NotBefore
	if nb.IsZero() {
		nb = Epoch
	}
	na := opts.NotAfter
	if na.IsZero() {
		na = nb.AddDate(30, 0, 0)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(opts.Key.Public())
	if err != nil {
		panic(err)
	}
	h := sha256.Sum256(append([]byte(opts.Subject.String()), pubDER...))
	tmpl := &x509.Certificate{
		SerialNumber:          new(big.Int).SetBytes(h[:12]),
		Subject:               opts.Subject,
		NotBefore:             nb,
		NotAfter:              na,
		BasicConstraintsValid: true,
		IsCA:                  opts.IsCA,
		IssuingCertificateURL: opts.IssuingCertificateURL,
		ExtraExtensions:       opts.ExtraExtensions,
		ExtKeyUsage:           opts.ExtKeyUsage,
		SubjectKeyId:          h[:20],
	}
	if opts.IsCA {
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	} else {
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	}
	parentCert := tmpl
	if parent != nil {
		parentCert = parent.Certificate
	}
	der, err := x509.CreateCertificate(Reader("cert "+opts.Subject.String()), tmpl, parentCert, opts.Key.Public(), parentKey)
	if err != nil {
		panic(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		panic(err)
	}
	return cert
}

// Apple's certificate extension markers.
var (
	// OIDAppleIntermediate marks Apple's WWDR intermediate certificates; the
	// designated requirement checks for it on certificate 1.
	OIDAppleIntermediate = asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 6, 2, 1}
	// OIDAppleDistribution marks an iPhone/Apple Distribution leaf.
	OIDAppleDistribution = asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 6, 1, 4}
	// OIDAppleDevelopment marks an iPhone/Apple Development leaf.
	OIDAppleDevelopment = asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 6, 1, 2}
)

// Apple is a fake Apple PKI: a root, a WWDR intermediate and a
// distribution identity issued by it.
type Apple struct {
	Root     *CA
	WWDR     *CA
	Identity *signing.Identity // leaf "Apple Distribution: <Org> (<Team>)", chain WWDR, root
}

// AppleOptions tune [NewApple]. The zero value gives team ABCDE12345,
// "Example Corp", a distribution certificate valid from Epoch for 30 years.
type AppleOptions struct {
	TeamID       string
	Organization string
	Development  bool // an "Apple Development" certificate instead
	Key          crypto.Signer
	NotBefore    time.Time
	NotAfter     time.Time
	// AIA is the WWDR certificate's URL put in the leaf's Authority
	// Information Access extension.
	AIA string
	// Subject, when not nil, replaces the leaf's subject: a stand-in for
	// a real certificate, to compare signatures with the ones it made.
	Subject *pkix.Name
}

// NewApple returns a fake Apple root, WWDR G3 intermediate and a leaf
// shaped like the ones Apple issues.
func NewApple(opts AppleOptions) *Apple {
	if opts.TeamID == "" {
		opts.TeamID = "ABCDE12345"
	}
	if opts.Organization == "" {
		opts.Organization = "Example Corp"
	}
	root := NewRoot("Test Apple Root CA")
	wwdr := root.Intermediate(CertOptions{
		Subject: pkix.Name{
			CommonName:         "Test Apple Worldwide Developer Relations Certification Authority",
			OrganizationalUnit: []string{"G3"},
			Organization:       []string{"Apple Inc."},
			Country:            []string{"US"},
		},
		ExtraExtensions: []pkix.Extension{{Id: OIDAppleIntermediate, Value: []byte{0x05, 0x00}}},
	})
	kind, marker := "Apple Distribution", OIDAppleDistribution
	if opts.Development {
		kind, marker = "Apple Development", OIDAppleDevelopment
	}
	var aia []string
	if opts.AIA != "" {
		aia = []string{opts.AIA}
	}
	subject := pkix.Name{
		CommonName:         kind + ": " + opts.Organization + " (" + opts.TeamID + ")",
		OrganizationalUnit: []string{opts.TeamID},
		Organization:       []string{opts.Organization},
		Country:            []string{"US"},
		ExtraNames:         []pkix.AttributeTypeAndValue{{Type: asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 1}, Value: opts.TeamID}},
	}
	if opts.Subject != nil {
		subject = *opts.Subject
		subject.ExtraNames = subject.Names // keep every attribute, in order
	}
	id := wwdr.Issue(CertOptions{
		Subject:               subject,
		Key:                   opts.Key,
		NotBefore:             opts.NotBefore,
		NotAfter:              opts.NotAfter,
		IssuingCertificateURL: aia,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		ExtraExtensions:       []pkix.Extension{{Id: marker, Critical: true, Value: []byte{0x05, 0x00}}},
	})
	return &Apple{Root: root, WWDR: wwdr, Identity: id}
}
