package ipa

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/storesign/storesign/internal/atomicfile"
	"github.com/storesign/storesign/signing"
	"github.com/storesign/storesign/signing/macho"
	"github.com/storesign/storesign/signing/provision"
)

// Errors callers branch on.
var (
	// ErrNotIPA is returned for input that is not a zip holding exactly
	// one Payload/*.app bundle.
	ErrNotIPA = errors.New("ipa: not an iOS app archive (want a zip with Payload/<name>.app)")
	// ErrUnsafePath is returned for entry names that are absolute or
	// climb out of the archive with "..".
	ErrUnsafePath = errors.New("ipa: unsafe entry name in the archive")
	// ErrAbsurdSize is returned for entries claiming sizes no real app has
	// (or compressing implausibly well: a zip bomb).
	ErrAbsurdSize = errors.New("ipa: implausible entry size in the archive")
	// ErrBadPlist is returned for an Info.plist that does not decode.
	ErrBadPlist = errors.New("ipa: malformed Info.plist")
	// ErrCertificateExpired is returned when the signing certificate is
	// expired or not yet valid.
	ErrCertificateExpired = errors.New("ipa: the signing certificate is not valid now")
	// ErrTeamMismatch is returned when a profile's team is not the team of
	// the signing certificate.
	ErrTeamMismatch = errors.New("ipa: the profile belongs to another team than the signing certificate")
	// ErrInvalid is returned by Verify for an app whose signature, resource
	// seal or profile does not check out; the wrapping error says which.
	ErrInvalid = errors.New("ipa: the app's signature is invalid")
)

// DefaultCompressionLevel is the CompressionLevel of rewritten entries
// by default: 0, stored. See the package documentation for the trade-off.
const DefaultCompressionLevel = 0

// Options tune [Resign]. Identity and Profiles are required; every other
// zero value leaves the app as it is.
type Options struct {
	// Identity signs every binary. Its chain should hold the Apple WWDR
	// intermediate (see Chain).
	Identity *signing.Identity
	// Chain, when not nil, replaces Identity.Chain (see macho.ResolveChain).
	Chain []*x509.Certificate
	// Profiles are the provisioning profiles to choose from: each app and
	// extension gets the best match for its (new) bundle ID.
	Profiles []*provision.Profile
	// BundleID replaces the app's bundle ID; nested bundles whose IDs start
	// with the old one get the new prefix, as do the references to them.
	BundleID string
	// ShortVersion and BundleVersion set CFBundleShortVersionString and
	// CFBundleVersion of the app and its extensions. Each must be a
	// version App Store Connect takes (see [ValidShortVersion] and
	// [ValidBundleVersion]); [Resign] refuses others with a
	// [*VersionError] before it reads the archive.
	ShortVersion, BundleVersion string
	// DisplayName sets the app's CFBundleDisplayName.
	DisplayName string
	// Entitlements, when not nil, is an XML plist used for the main app
	// instead of the entitlements derived from its profile. Every key must
	// be granted by the app's profile; get-task-allow is removed unless
	// the profile is a development one.
	Entitlements []byte
	// DropUngrantedEntitlements signs a bundle without the entitlements
	// it was signed with that its new profile does not grant, and reports
	// each one, instead of failing with an [EntitlementNotGrantedError].
	DropUngrantedEntitlements bool
	// DropWatch removes the Watch app; DropPlugins removes the app's
	// extensions (PlugIns/ and Extensions/).
	DropWatch, DropPlugins bool
	// CompressionLevel is the deflate level of the entries Resign
	// rewrites (signed binaries, Info.plists, profiles, CodeResources):
	// 0, the default, stores them (fastest, as zsign does); 1 (fast) to 9
	// (smallest) deflates them. Entries that do not change are copied as
	// they were compressed.
	CompressionLevel int
	// AllowExpiredUnsafe signs even with an expired certificate or
	// profile. The result will not install; for tests and forensics only.
	AllowExpiredUnsafe bool
	// Now is the signing time; nil: time.Now.
	Now func() time.Time
	// Log receives progress; nil discards it.
	Log *slog.Logger

	// sign replaces macho.Sign (tests).
	sign signFunc
	// laneMin, when not 0, replaces laneMinSize (tests).
	laneMin uint64
	// hashAllPages has every page hashed, none reused from the input's
	// signatures (see resigner.reuse); ResignFile sets it when it signs
	// again.
	hashAllPages bool
}

type signFunc func(ctx context.Context, src io.ReaderAt, size int64, dst io.Writer, opts macho.SignOptions) (*macho.SignResult, error)

// Report describes a re-signed or verified app.
type Report struct {
	Name     string         `json:"name"` // CFBundleDisplayName, else CFBundleName
	BundleID string         `json:"bundle_id"`
	Version  string         `json:"version"` // CFBundleShortVersionString
	Build    string         `json:"build"`   // CFBundleVersion
	Bundles  []BundleReport `json:"bundles"`
	// Warnings are problems that do not stop signing (e.g. a development
	// profile used for what looks like a store build).
	Warnings []string `json:"warnings,omitempty"`
}

// BundleReport describes one signed bundle or loose binary.
type BundleReport struct {
	Path     string `json:"path"` // inside the archive
	Kind     string `json:"kind"` // app, appex, framework, xctest, xpc, bundle, dylib
	BundleID string `json:"bundle_id,omitempty"`
	// AppleSigned is set for code Apple itself signed, left as it was
	// (Resign), as Xcode leaves it.
	AppleSigned bool `json:"apple_signed,omitempty"`
	// Identifier and TeamID are the code signature's.
	Identifier string   `json:"identifier"`
	TeamID     string   `json:"team_id"`
	CDHashes   []string `json:"cdhashes"` // hex, one per architecture
	Archs      []string `json:"archs,omitempty"`
	Authority  []string `json:"authority,omitempty"`
	// Anchor is what the certificate chain was checked against (Verify):
	// "Apple Root CA" when the signature embeds it, as codesign's do,
	// "roots" for VerifyOptions.Roots, "" when the chain was not checked
	// (see macho.VerifyOptions.Roots).
	Anchor  string         `json:"anchor,omitempty"`
	Profile *ProfileReport `json:"profile,omitempty"`
	// Requirement is the designated requirement, as codesign -d -r- prints it.
	Requirement string `json:"requirement,omitempty"`
	// SigningTime is the CMS signing time (Verify and Inspect only).
	SigningTime *time.Time `json:"signing_time,omitempty"`
	// CertificateExpires is the signing certificate's expiry, when known.
	CertificateExpires *time.Time `json:"certificate_expires,omitempty"`
	// Certificate is the leaf certificate of the signature (Verify and
	// Inspect only), for callers that describe it.
	Certificate *x509.Certificate `json:"-"`
	// Entitlements is the XML plist signed into the main executable.
	Entitlements string `json:"entitlements,omitempty"`
	// EntitlementChanges says, key by key, how the entitlements the
	// bundle was signed with were fitted to its new profile (Resign only;
	// see the package documentation).
	EntitlementChanges []EntitlementChange `json:"entitlement_changes,omitempty"`
	// Problems lists what Inspect found wrong with this bundle.
	Problems []string `json:"problems,omitempty"`
	// Deviations list how its signature differs from what current
	// codesign writes (see macho.SliceInfo.Deviations), per architecture;
	// VerifyOptions.Strict makes them problems.
	Deviations []string `json:"deviations,omitempty"`
}

// EntitlementChange is what Resign did with one entitlement of a bundle.
type EntitlementChange struct {
	Key string `json:"key"`
	// Action is EntitlementKept, EntitlementChanged, EntitlementDropped
	// or EntitlementAdded.
	Action string `json:"action"`
	// Old and New are the values before and after, on one line (strings
	// as they are, lists as [a, b]); "" when absent.
	Old string `json:"old,omitempty"`
	New string `json:"new,omitempty"`
	// Reason says why it changed ("" when kept).
	Reason string `json:"reason,omitempty"`
}

// ProfileReport summarises an embedded provisioning profile.
type ProfileReport struct {
	Name    string    `json:"name"`
	UUID    string    `json:"uuid"`
	TeamID  string    `json:"team_id"`
	AppID   string    `json:"application_identifier"`
	Kind    string    `json:"kind"`
	Expires time.Time `json:"expires"`
}

func profileReport(p *provision.Profile) *ProfileReport {
	return &ProfileReport{Name: p.Name, UUID: p.UUID, TeamID: p.TeamID, AppID: p.ApplicationIdentifier, Kind: p.Kind.String(), Expires: p.ExpirationDate}
}

// ResignFile re-signs the IPA at in into out. The output is written to a
// temporary file beside out, verified with [Verify], and renamed into
// place only when it checks out; in is never modified.
func ResignFile(ctx context.Context, in, out string, opts Options) (*Report, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	rep, err := resignFile(ctx, in, out, opts)
	var again *reusedPagesError
	if errors.As(err, &again) {
		// Page hashes taken from the input's signatures did not check
		// out: the input was changed after it was signed. Hash them all.
		if opts.Log != nil {
			opts.Log.Info("the input's page hashes do not match its code; signing again, hashing every page", "err", again.err)
		}
		opts.hashAllPages = true
		rep, err = resignFile(ctx, in, out, opts)
	}
	return rep, err
}

// reusedPagesError is the failed check of an output some of whose page
// hashes came from the input's signatures (see resigner.reuse).
type reusedPagesError struct{ err error }

func (e *reusedPagesError) Error() string { return e.err.Error() }
func (e *reusedPagesError) Unwrap() error { return e.err }

func resignFile(ctx context.Context, in, out string, opts Options) (*Report, error) {
	src, size, err := atomicfile.OpenInput(in, "an IPA")
	if err != nil {
		return nil, err
	}
	defer src.Close()
	dst, err := atomicfile.Create(out, in)
	if err != nil {
		return nil, err
	}
	defer dst.Abort()
	r, err := resignStream(ctx, src, size, dst.Writeback(), dst, opts)
	if err != nil {
		return nil, err
	}
	rep := r.rep
	written, err := dst.Stat()
	if err != nil {
		return nil, err
	}
	// Every signature, every rewritten file and every seal is checked
	// anew; entries copied raw are trusted to hold what the hash pass read
	// when their CRC-32 and sizes are unchanged, and the binaries signed
	// (every page of which is checked) to hold what was hashed for their
	// parent's seal as they were written when the CRC-32 of every byte
	// read back is the one the zip writer computed.
	vopts := VerifyOptions{Now: opts.Now, Log: opts.Log, known: r.known, indexes: r.blockIndexes(), written: r.writtenBinaries()}
	r.log.Debug("checking the output", "file", dst.Name())
	if opts.AllowExpiredUnsafe {
		vopts.AllowExpired = true
	}
	// The output goes to disk while it is checked: Commit then finds
	// little left to sync.
	synced := make(chan error, 1)
	go func() { synced <- dst.File.Sync() }()
	checkStart := time.Now()
	vrep, err := Verify(ctx, dst.File, written.Size(), vopts)
	if err == nil {
		err = sameSignatures(rep, vrep)
	}
	r.log.Debug("output checked", "elapsed", time.Since(checkStart))
	if serr := <-synced; err == nil && serr != nil {
		return nil, fmt.Errorf("writing %s: %w", out, serr)
	}
	if err != nil && r.reused.Load() && ctx.Err() == nil {
		return nil, &reusedPagesError{err}
	}
	if err != nil {
		// A bug of ours, not of the input: say so plainly.
		return nil, fmt.Errorf("checking the re-signed app before writing %s: %w", out, err)
	}
	r.log.Debug("output checked; syncing it to disk and renaming it", "file", out)
	syncStart := time.Now()
	if err := dst.Commit(); err != nil {
		return nil, err
	}
	r.log.Debug("committed", "elapsed", time.Since(syncStart))
	return rep, nil
}

// sameSignatures checks that the output holds the signatures Resign made:
// every bundle and loose binary it signed, with the same cdhashes.
func sameSignatures(signed, read *Report) error {
	got := make(map[string][]string, len(read.Bundles))
	for _, b := range read.Bundles {
		got[b.Path] = b.CDHashes
	}
	for _, b := range signed.Bundles {
		h, ok := got[b.Path]
		if !ok {
			return fmt.Errorf("%w: %s was signed but is not in the output", ErrInvalid, b.Path)
		}
		if !slices.Equal(h, b.CDHashes) {
			return fmt.Errorf("%w: %s: cdhash %v written, %v read back", ErrInvalid, b.Path, b.CDHashes, h)
		}
	}
	return nil
}

// VersionError is an Options.ShortVersion or Options.BundleVersion App
// Store Connect would refuse.
type VersionError struct {
	// Key is the Info.plist key: CFBundleShortVersionString or
	// CFBundleVersion.
	Key string
	// Value is the version given.
	Value string
}

func (e *VersionError) Error() string {
	if e.Key == "CFBundleVersion" {
		return fmt.Sprintf("ipa: CFBundleVersion %q is not a build number App Store Connect takes (ITMS-90058): give one to three numbers with dots, such as 42 or 1.4.2", e.Value)
	}
	return fmt.Sprintf("ipa: %s %q is not a version App Store Connect takes (ITMS-90060): give one to three numbers with dots, such as 1.4.0", e.Key, e.Value)
}

// ValidShortVersion reports whether s is a CFBundleShortVersionString
// App Store Connect takes: one to three period-separated non-negative
// integers of at most nine digits each, such as 1.4.0 (else ITMS-90060).
func ValidShortVersion(s string) bool {
	return validVersion(s, 9)
}

// ValidBundleVersion reports whether s is a CFBundleVersion (build
// number) App Store Connect takes: one to three period-separated
// non-negative integers, such as 42 or 1.4.2 (else ITMS-90058).
func ValidBundleVersion(s string) bool {
	return validVersion(s, 0)
}

// validVersion reports whether s is one to three period-separated
// integers of ASCII digits, each of at most maxDigits digits (0: any).
func validVersion(s string, maxDigits int) bool {
	parts := strings.Split(s, ".")
	if len(parts) > 3 {
		return false
	}
	for _, p := range parts {
		if p == "" || (maxDigits > 0 && len(p) > maxDigits) || strings.TrimLeft(p, "0123456789") != "" {
			return false
		}
	}
	return true
}

// check refuses options App Store Connect would refuse the output of.
func (o *Options) check() error {
	if o.ShortVersion != "" && !ValidShortVersion(o.ShortVersion) {
		return &VersionError{Key: "CFBundleShortVersionString", Value: o.ShortVersion}
	}
	if o.BundleVersion != "" && !ValidBundleVersion(o.BundleVersion) {
		return &VersionError{Key: "CFBundleVersion", Value: o.BundleVersion}
	}
	return nil
}
