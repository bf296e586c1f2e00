package signingtest

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"strings"
	"sync"
	"time"

	"go.mozilla.org/pkcs7"
	"howett.net/plist"

	"github.com/storesign/storesign/signing"
)

// ProfileOptions describe a test provisioning profile. The zero value gives
// an App Store profile "Test Profile" for the wildcard "com.example.*" of
// the Apple identity's team, valid for ten years from Epoch.
type ProfileOptions struct {
	Name string
	UUID string // "": derived from Name and AppID
	// AppID is the bundle ID pattern without the team prefix:
	// "com.example.app", "com.example.*" (default) or "*".
	AppID  string
	TeamID string // "": the identity's team (its subject OU)
	// Kind is "app-store" (default), "ad-hoc", "development" or "enterprise".
	Kind string
	// Devices are the provisioned device UDIDs for ad-hoc and development
	// profiles (default: one made-up UDID).
	Devices []string
	// Entitlements are added to (or replace) the profile's defaults:
	// application-identifier, team-identifier, keychain-access-groups and
	// get-task-allow.
	Entitlements map[string]any
	// Certificates are the developer certificates; nil: the Apple identity's.
	Certificates []*x509.Certificate
	Created      time.Time // zero: Epoch
	Expires      time.Time // zero: Created + 10 years
}

var profileSigners sync.Map // *CA -> *signing.Identity

// ProfileSigner returns the fake "Apple iPhone OS Provisioning Profile
// Signing" identity of a, issued by a's root as Apple's is.
func (a *Apple) ProfileSigner() *signing.Identity {
	if id, ok := profileSigners.Load(a.Root); ok {
		return id.(*signing.Identity)
	}
	id := a.Root.Issue(CertOptions{Subject: pkix.Name{
		CommonName:   "Test Apple iPhone OS Provisioning Profile Signing",
		Organization: []string{"Apple Inc."},
		Country:      []string{"US"},
	}})
	v, _ := profileSigners.LoadOrStore(a.Root, id)
	return v.(*signing.Identity)
}

// ProfilePlist returns the XML plist content of the profile opts describe.
func (a *Apple) ProfilePlist(opts ProfileOptions) []byte {
	team := opts.TeamID
	if team == "" {
		if ou := a.Identity.Certificate.Subject.OrganizationalUnit; len(ou) > 0 {
			team = ou[0]
		}
	}
	if opts.AppID == "" {
		opts.AppID = "com.example.*"
	}
	if opts.Name == "" {
		opts.Name = "Test Profile"
	}
	if opts.Kind == "" {
		opts.Kind = "app-store"
	}
	if opts.UUID == "" {
		h := Reader("profile uuid " + opts.Name + "/" + opts.AppID + "/" + opts.Kind)
		var b [16]byte
		h.Read(b[:])
		b[6] = b[6]&0x0f | 0x40
		b[8] = b[8]&0x3f | 0x80
		opts.UUID = fmt.Sprintf("%X-%X-%X-%X-%X", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
	}
	created := opts.Created
	if created.IsZero() {
		created = Epoch
	}
	expires := opts.Expires
	if expires.IsZero() {
		expires = created.AddDate(10, 0, 0)
	}
	certs := opts.Certificates
	if certs == nil {
		certs = []*x509.Certificate{a.Identity.Certificate}
	}
	var ders [][]byte
	for _, c := range certs {
		ders = append(ders, c.Raw)
	}
	ents := map[string]any{
		"application-identifier":              team + "." + opts.AppID,
		"com.apple.developer.team-identifier": team,
		"keychain-access-groups":              []string{team + ".*"},
		"get-task-allow":                      opts.Kind == "development",
	}
	if opts.Kind == "app-store" {
		ents["beta-reports-active"] = true
	}
	for k, v := range opts.Entitlements {
		ents[k] = v
	}
	doc := map[string]any{
		"AppIDName":                   "Test " + strings.TrimSuffix(opts.AppID, ".*"),
		"ApplicationIdentifierPrefix": []string{team},
		"CreationDate":                created.UTC(),
		"ExpirationDate":              expires.UTC(),
		"Platform":                    []string{"iOS"},
		"IsXcodeManaged":              false,
		"DeveloperCertificates":       ders,
		"Entitlements":                ents,
		"Name":                        opts.Name,
		"TeamIdentifier":              []string{team},
		"TeamName":                    orgOf(a.Identity.Certificate),
		"TimeToLive":                  int(expires.Sub(created).Hours() / 24),
		"UUID":                        opts.UUID,
		"Version":                     1,
	}
	switch opts.Kind {
	case "ad-hoc", "development":
		devs := opts.Devices
		if devs == nil {
			devs = []string{"00008030-001A2B3C4D5E6F70"}
		}
		doc["ProvisionedDevices"] = devs
	case "enterprise":
		doc["ProvisionsAllDevices"] = true
	case "app-store":
	default:
		panic("signingtest: unknown profile kind " + opts.Kind)
	}
	out, err := plist.MarshalIndent(doc, plist.XMLFormat, "\t")
	if err != nil {
		panic(err)
	}
	return out
}

func orgOf(c *x509.Certificate) string {
	if len(c.Subject.Organization) > 0 {
		return c.Subject.Organization[0]
	}
	return c.Subject.CommonName
}

// Profile returns a .mobileprovision: the plist of opts in a CMS SignedData
// signed by a's fake profile-signing certificate, which chains to a.Root.
// It is deterministic (no signing-time attribute).
func (a *Apple) Profile(opts ProfileOptions) []byte {
	return a.SignProfile(a.ProfilePlist(opts))
}

// SignProfile wraps content in a CMS SignedData signed by a's fake
// profile-signing certificate.
func (a *Apple) SignProfile(content []byte) []byte {
	signer := a.ProfileSigner()
	sd, err := pkcs7.NewSignedData(content)
	if err != nil {
		panic(err)
	}
	sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA256)
	if err := sd.SignWithoutAttr(signer.Certificate, signer.Signer, pkcs7.SignerInfoConfig{}); err != nil {
		panic(err)
	}
	sd.AddCertificate(a.Root.Certificate)
	der, err := sd.Finish()
	if err != nil {
		panic(err)
	}
	return der
}
