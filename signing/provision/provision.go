package provision

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"go.mozilla.org/pkcs7"
	"howett.net/plist"

	"github.com/storesign/storesign/internal/atomicfile"
	"github.com/storesign/storesign/internal/limits"
)

// Errors callers branch on.
var (
	// ErrNotProfile is returned for data that is not a CMS-signed plist.
	ErrNotProfile = errors.New("provision: not a provisioning profile (want a CMS-signed plist, .mobileprovision)")
	// ErrBadSignature is returned when the profile's CMS signature does not
	// verify: the file was altered after Apple signed it.
	ErrBadSignature = errors.New("provision: the profile's signature does not verify")
	// ErrExpired is returned by [Profile.CheckValid] for an expired profile.
	ErrExpired = errors.New("provision: the profile has expired")
	// ErrCertificateNotInProfile is returned by [Profile.CheckCertificate]
	// when the signing certificate is not one of the profile's developer
	// certificates.
	ErrCertificateNotInProfile = errors.New("provision: the signing certificate is not in the profile")
)

// Kind is the distribution method a profile allows.
type Kind int

// The kinds of profile.
const (
	AppStore Kind = iota
	AdHoc
	Enterprise
	Development
)

func (k Kind) String() string {
	switch k {
	case AppStore:
		return "app-store"
	case AdHoc:
		return "ad-hoc"
	case Enterprise:
		return "enterprise"
	case Development:
		return "development"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Profile is a parsed provisioning profile.
type Profile struct {
	Name      string
	UUID      string
	AppIDName string
	TeamID    string // TeamIdentifier[0]
	TeamName  string
	// AppIDPrefix is the application-identifier prefix (usually the team ID).
	AppIDPrefix string
	// ApplicationIdentifier is the entitlement as the profile states it:
	// "ABCDE12345.com.example.app" or a wildcard "ABCDE12345.com.example.*".
	ApplicationIdentifier string
	Platforms             []string
	// Entitlements are the entitlements the profile grants.
	Entitlements map[string]any
	// DeveloperCertificates are the certificates allowed to sign with it.
	DeveloperCertificates []*x509.Certificate
	ProvisionedDevices    []string
	ProvisionsAllDevices  bool
	CreationDate          time.Time
	ExpirationDate        time.Time
	Kind                  Kind

	// Signer is the certificate that signed the profile; Certificates all
	// those embedded in the CMS structure.
	Signer       *x509.Certificate
	Certificates []*x509.Certificate
	// Raw is the whole .mobileprovision file, as embedded in a bundle.
	Raw []byte
	// Plist is the signed content.
	Plist []byte
}

type rawProfile struct {
	AppIDName                   string         `plist:"AppIDName"`
	ApplicationIdentifierPrefix []string       `plist:"ApplicationIdentifierPrefix"`
	CreationDate                time.Time      `plist:"CreationDate"`
	ExpirationDate              time.Time      `plist:"ExpirationDate"`
	Platform                    []string       `plist:"Platform"`
	DeveloperCertificates       [][]byte       `plist:"DeveloperCertificates"`
	Entitlements                map[string]any `plist:"Entitlements"`
	Name                        string         `plist:"Name"`
	TeamIdentifier              []string       `plist:"TeamIdentifier"`
	TeamName                    string         `plist:"TeamName"`
	UUID                        string         `plist:"UUID"`
	ProvisionedDevices          []string       `plist:"ProvisionedDevices"`
	ProvisionsAllDevices        bool           `plist:"ProvisionsAllDevices"`
}

// ReadFile reads and parses the profile at path. It must be a regular file
// (a FIFO or device is refused before it is opened for reading) of at most
// [MaxSize] bytes.
func ReadFile(path string) (*Profile, error) {
	data, err := atomicfile.ReadInput(path, "a provisioning profile", MaxSize)
	if err != nil {
		return nil, err
	}
	p, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// Limits of [Parse]: real profiles are tens of KiB (a few hundred KiB with
// many devices) and nest less than 20 deep.
const (
	// MaxSize is the most bytes a profile may hold.
	MaxSize = atomicfile.MaxProfileFile
	// MaxNesting is the deepest the CMS structure, and the plist inside,
	// may nest.
	MaxNesting = limits.MaxNesting
)

// Parse decodes a .mobileprovision file and verifies its CMS signature with
// the certificate it embeds (not the chain: see [Profile.VerifyChain]). A
// profile larger or deeper than [MaxSize] and [MaxNesting] allow is
// refused with a *limits.Error (signing.LimitError), before it is parsed.
func Parse(data []byte) (*Profile, error) {
	if len(data) > MaxSize {
		return nil, fmt.Errorf("provision: %w", &limits.Error{What: "size of the provisioning profile (bytes)", Value: int64(len(data)), Limit: MaxSize, Fix: "check that it is a .mobileprovision file"})
	}
	if err := limits.CheckBERNesting("CMS structure of the provisioning profile", data, MaxNesting); err != nil {
		return nil, fmt.Errorf("provision: %w", err)
	}
	p7, err := parseCMS(data)
	if err != nil {
		return nil, err
	}
	if len(p7.Content) == 0 {
		return nil, fmt.Errorf("%w: the signed content is empty", ErrNotProfile)
	}
	if err := p7.Verify(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	p, err := parsePlist(p7.Content)
	if err != nil {
		return nil, err
	}
	p.Raw = bytes.Clone(data)
	p.Certificates = p7.Certificates
	p.Signer = p7.GetOnlySigner()
	return p, nil
}

func parseCMS(data []byte) (p7 *pkcs7.PKCS7, err error) {
	defer func() {
		// The pkcs7 module's BER decoder is not hardened against every
		// malformed input; a panic there means the input is not a profile.
		if r := recover(); r != nil {
			p7, err = nil, fmt.Errorf("%w: malformed CMS structure", ErrNotProfile)
		}
	}()
	p7, err = pkcs7.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotProfile, err)
	}
	return p7, nil
}

// ParsePlist decodes the plist content of a profile without any CMS
// envelope or signature check (for profiles already unwrapped, and tests).
func ParsePlist(content []byte) (*Profile, error) {
	return parsePlist(content)
}

func parsePlist(content []byte) (*Profile, error) {
	if len(content) > MaxSize {
		return nil, fmt.Errorf("provision: %w", &limits.Error{What: "size of the profile's plist (bytes)", Value: int64(len(content)), Limit: MaxSize, Fix: "check that it is a provisioning profile"})
	}
	if err := limits.CheckPlistNesting("profile's plist", content, MaxNesting); err != nil {
		return nil, fmt.Errorf("provision: %w", err)
	}
	var r rawProfile
	if _, err := plist.Unmarshal(content, &r); err != nil {
		return nil, fmt.Errorf("%w: decoding the plist: %v", ErrNotProfile, err)
	}
	p := &Profile{
		Name:                 r.Name,
		UUID:                 r.UUID,
		AppIDName:            r.AppIDName,
		TeamName:             r.TeamName,
		Platforms:            r.Platform,
		Entitlements:         r.Entitlements,
		ProvisionedDevices:   r.ProvisionedDevices,
		ProvisionsAllDevices: r.ProvisionsAllDevices,
		CreationDate:         r.CreationDate,
		ExpirationDate:       r.ExpirationDate,
		Plist:                bytes.Clone(content),
	}
	if len(r.TeamIdentifier) > 0 {
		p.TeamID = r.TeamIdentifier[0]
	}
	if p.Entitlements == nil {
		p.Entitlements = map[string]any{}
	}
	appID, _ := p.Entitlements["application-identifier"].(string)
	p.ApplicationIdentifier = appID
	if len(r.ApplicationIdentifierPrefix) > 0 {
		p.AppIDPrefix = r.ApplicationIdentifierPrefix[0]
	} else if i := strings.IndexByte(appID, '.'); i > 0 {
		p.AppIDPrefix = appID[:i]
	}
	if p.TeamID == "" {
		p.TeamID, _ = p.Entitlements["com.apple.developer.team-identifier"].(string)
	}
	if appID == "" {
		return nil, fmt.Errorf("%w: no application-identifier entitlement", ErrNotProfile)
	}
	if p.UUID == "" {
		return nil, fmt.Errorf("%w: no UUID", ErrNotProfile)
	}
	for i, der := range r.DeveloperCertificates {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("%w: developer certificate %d: %v", ErrNotProfile, i+1, err)
		}
		p.DeveloperCertificates = append(p.DeveloperCertificates, c)
	}
	getTaskAllow, _ := p.Entitlements["get-task-allow"].(bool)
	switch {
	case p.ProvisionsAllDevices:
		p.Kind = Enterprise
	case len(p.ProvisionedDevices) > 0 && getTaskAllow:
		p.Kind = Development
	case len(p.ProvisionedDevices) > 0:
		p.Kind = AdHoc
	case getTaskAllow:
		// No devices but debuggable: a development profile without
		// devices yet; it can never be uploaded to the store.
		p.Kind = Development
	default:
		p.Kind = AppStore
	}
	return p, nil
}

// BundleIDPattern returns the application identifier without its prefix:
// "com.example.app" or "com.example.*" or "*".
func (p *Profile) BundleIDPattern() string {
	if p.AppIDPrefix != "" && strings.HasPrefix(p.ApplicationIdentifier, p.AppIDPrefix+".") {
		return p.ApplicationIdentifier[len(p.AppIDPrefix)+1:]
	}
	if i := strings.IndexByte(p.ApplicationIdentifier, '.'); i >= 0 {
		return p.ApplicationIdentifier[i+1:]
	}
	return p.ApplicationIdentifier
}

// IsWildcard reports whether the profile's application identifier ends in *.
func (p *Profile) IsWildcard() bool { return strings.HasSuffix(p.ApplicationIdentifier, "*") }

// Score reports how well the profile matches bundleID: 0 for no match, a
// larger number for a better match (an exact identifier beats every
// wildcard; a longer wildcard beats a shorter one).
func (p *Profile) Score(bundleID string) int {
	pat := p.BundleIDPattern()
	if pat == bundleID {
		return 1 << 20
	}
	if strings.HasSuffix(pat, "*") {
		prefix := pat[:len(pat)-1]
		if strings.HasPrefix(bundleID, prefix) && len(bundleID) > len(prefix) {
			return 1 + len(prefix)
		}
	}
	return 0
}

// VerifyChain checks the CMS signer certificate chains to one of roots at
// time at (zero: the profile's creation date, when Apple signed it).
func (p *Profile) VerifyChain(roots *x509.CertPool, at time.Time) error {
	if at.IsZero() {
		at = p.CreationDate
	}
	p7, err := parseCMS(p.Raw)
	if err != nil {
		return err
	}
	if err := p7.VerifyWithChainAtTime(roots, at); err != nil {
		return fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	return nil
}

// CheckValid returns an error wrapping [ErrExpired] when the profile has
// expired at now, or is not valid yet.
func (p *Profile) CheckValid(now time.Time) error {
	if !p.ExpirationDate.IsZero() && now.After(p.ExpirationDate) {
		return fmt.Errorf("%w: %q (%s) expired on %s: download a current one from the Apple Developer portal", ErrExpired, p.Name, printable(p.UUID), p.ExpirationDate.UTC().Format(time.DateOnly))
	}
	if !p.CreationDate.IsZero() && now.Before(p.CreationDate.Add(-24*time.Hour)) {
		return fmt.Errorf("provision: the profile %q (%s) is not valid before %s: check the clock", p.Name, printable(p.UUID), p.CreationDate.UTC().Format(time.RFC3339))
	}
	return nil
}

// CheckCertificate returns an error wrapping [ErrCertificateNotInProfile]
// when cert is not one of the profile's developer certificates.
func (p *Profile) CheckCertificate(cert *x509.Certificate) error {
	for _, c := range p.DeveloperCertificates {
		if c.Equal(cert) {
			return nil
		}
	}
	return fmt.Errorf("%w: %q is not one of the %d certificates of profile %q (%s): use the certificate the profile was made for, or regenerate the profile with it",
		ErrCertificateNotInProfile, cert.Subject.CommonName, len(p.DeveloperCertificates), p.Name, printable(p.UUID))
}

// NoProfileError reports a bundle ID none of the given profiles matches.
type NoProfileError struct {
	BundleID string
	TeamID   string   // the team of the profiles tried, when they agree
	Tried    []string // application identifiers of the profiles tried
}

func (e *NoProfileError) Error() string {
	want := e.BundleID
	if e.TeamID != "" {
		want = e.TeamID + "." + e.BundleID
	}
	if len(e.Tried) == 0 {
		return fmt.Sprintf("provision: the provisioning profile for %s is missing: pass one whose application-identifier matches %s", printable(e.BundleID), printable(want))
	}
	tried := make([]string, len(e.Tried))
	for i, t := range e.Tried {
		tried[i] = printable(t)
	}
	return fmt.Sprintf("provision: the provisioning profile for %s is missing: pass one whose application-identifier matches %s (tried %s)", printable(e.BundleID), printable(want), strings.Join(tried, ", "))
}

// printable returns s as it is when it is printable, quoted otherwise:
// strings from a profile or a bundle never break a one-line message.
func printable(s string) string {
	if strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) {
		return strconv.Quote(s)
	}
	return s
}

// Match returns the profile that best matches bundleID, or a
// *[NoProfileError]. Ties go to the profile that expires last.
func Match(profiles []*Profile, bundleID string) (*Profile, error) {
	var best *Profile
	bestScore := 0
	for _, p := range profiles {
		s := p.Score(bundleID)
		if s == 0 {
			continue
		}
		if s > bestScore || (s == bestScore && p.ExpirationDate.After(best.ExpirationDate)) {
			best, bestScore = p, s
		}
	}
	if best != nil {
		return best, nil
	}
	e := &NoProfileError{BundleID: bundleID}
	for _, p := range profiles {
		e.Tried = append(e.Tried, p.ApplicationIdentifier)
		if e.TeamID == "" {
			e.TeamID = p.AppIDPrefix
		} else if e.TeamID != p.AppIDPrefix {
			e.TeamID = "<team>"
		}
	}
	if e.TeamID == "<team>" {
		e.TeamID = ""
	}
	slices.Sort(e.Tried)
	e.Tried = slices.Compact(e.Tried)
	return nil, e
}
