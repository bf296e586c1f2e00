package macho

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/storesign/storesign/signing"
)

// Errors callers branch on.
var (
	// ErrNotMachO is returned for input that is not a Mach-O binary, thin or fat.
	ErrNotMachO = errors.New("macho: not a Mach-O binary")
	// ErrEncrypted is returned for a binary whose code is FairPlay-encrypted
	// (cryptid != 0): it came from the App Store and cannot be re-signed.
	ErrEncrypted = errors.New("macho: the binary is FairPlay-encrypted (cryptid 1): re-sign the unencrypted build, not one downloaded from the App Store")
	// ErrNoRoom is returned when an unsigned binary has no room after its
	// load commands for LC_CODE_SIGNATURE: relink it with
	// -headerpad_max_install_names or sign it once with codesign.
	ErrNoRoom = errors.New("macho: no room in the header for LC_CODE_SIGNATURE (relink with -Wl,-headerpad_max_install_names)")
	// ErrTruncated is returned when a structure runs past the end of the
	// input or of its container.
	ErrTruncated = errors.New("macho: truncated or inconsistent binary")
	// ErrNotSigned is returned by Verify for a binary without a code signature.
	ErrNotSigned = errors.New("macho: the binary is not signed")
	// ErrIncompleteChain is returned by Sign when the identity's chain does
	// not contain the leaf's issuer (the Apple WWDR intermediate) and the
	// leaf is not self-signed: resolve it first with [ResolveChain].
	ErrIncompleteChain = errors.New("macho: the signing certificate's issuer (the Apple WWDR intermediate) is missing: pass it with the chain option or let storesign fetch it")
	// ErrNotLate is returned by Sign when EntitlementsLater is set for a
	// binary it cannot serve (fat, or not signed yet).
	ErrNotLate = errors.New("macho: the entitlements can be decided late only for a thin binary that is signed already")
	// ErrNoPageHashes is returned by Sign with
	// SignOptions.ReusePageHashesUnchecked when the input's signature has
	// no page hashes to reuse: sign again without it.
	ErrNoPageHashes = errors.New("macho: the input's signature has no page hashes to reuse")
	// ErrBadSignature is returned by Verify when a hash, a blob or the CMS
	// signature does not match; the error wrapping it says which.
	ErrBadSignature = errors.New("macho: the code signature is invalid")
)

// SignOptions tune [Sign]. Identity is required; every other zero value is
// what codesign does by default.
type SignOptions struct {
	// Identity signs. Its Chain (or Chain below, when set) must contain the
	// leaf's issuer unless the leaf is self-signed; every certificate of
	// the chain is embedded, leaf first, as codesign embeds leaf, WWDR
	// intermediate and Apple Root CA.
	Identity *signing.Identity
	// Chain, when not nil, replaces Identity.Chain: the certificates above
	// the leaf, nearest first, as [ResolveChain] returns them.
	Chain []*x509.Certificate
	// Identifier is the code signing identifier: the bundle ID for a
	// bundle's main executable, the bundle ID of a framework, or the file's
	// base name without extension for a loose dylib, as codesign does.
	// Required.
	Identifier string
	// TeamID is put in the CodeDirectory; "" takes the leaf's subject OU.
	TeamID string
	// Entitlements is the XML plist of entitlements; nil writes no
	// entitlement blobs (as codesign does for frameworks and dylibs).
	Entitlements []byte
	// InfoPlist is the raw Info.plist of the bundle (special slot 1); nil:
	// the Info.plist linked into the binary (__TEXT,__info_plist), as
	// codesign hashes it for a loose dylib or tool, else none.
	InfoPlist []byte
	// CodeResources is the raw _CodeSignature/CodeResources (special slot
	// 3); nil: none.
	CodeResources []byte
	// CodeResourcesLater, when CodeResources is nil, supplies it once
	// every page has been written: an app's executable can then be
	// streamed while the files its CodeResources seals are still being
	// signed. An error from it stops Sign.
	CodeResourcesLater func(ctx context.Context) ([]byte, error)
	// Layout, when not nil, is called with the size of the signed binary
	// before the first byte is written (with EntitlementsLater: once the
	// code is written, before the signature).
	Layout func(size int64)
	// EntitlementsLater, when not nil (and Entitlements nil), decides the
	// entitlements once the code has been read: it is called with the XML
	// entitlements of the input's own signature (nil when it has none),
	// read where the code ends, and returns the ones to sign with. A
	// binary streamed from a compressed archive is then read once, not
	// once for its old entitlements and again to sign it. The Mach-O
	// header is written as found and HeaderLater gets the final one, to
	// be written over the first bytes of the output. Only for a thin
	// binary that is signed already.
	EntitlementsLater func(signed []byte) ([]byte, error)
	// HeaderLater receives the final Mach-O header and load commands when
	// EntitlementsLater is set.
	HeaderLater func(header []byte) error
	// ReusePageHashesUnchecked takes the hashes of the pages that do not
	// change (all but those of the first and last MiB, which hold the
	// header and the code's end) from the input's own signature, read
	// where the code ends, instead of hashing them. It is for a caller
	// that checks every page hash of the output anyway, and signs again
	// without it when that check fails (ipa.ResignFile): the output is
	// what Sign writes without it only when the input's page hashes are
	// right. When the input's signature has no such page hashes (an
	// unsigned binary, another page size or hash type), Sign fails with
	// ErrNoPageHashes once the code of that slice is written, before its
	// signature: in a fat binary, the slices before it are written and
	// signed already, CodeResourcesLater called.
	ReusePageHashesUnchecked bool
	// Requirements is a compiled requirement set blob (magic 0xfade0c01)
	// used as is; nil builds the default designated requirement
	// (see [DesignatedRequirement]).
	Requirements []byte
	// Now is the signing time put in the CMS signature; nil: time.Now.
	Now func() time.Time
	// Log receives debug messages; nil discards them.
	Log *slog.Logger
}

// CDHash is the code directory hash of one architecture slice.
type CDHash struct {
	// Arch names the slice as lipo does: arm64, arm64e, armv7, x86_64...
	Arch string
	// SHA1 is the SHA-1 of the SHA-1 CodeDirectory; nil when the slice
	// has only a SHA-256 one.
	SHA1 []byte
	// SHA256 is the full SHA-256 of the SHA-256 CodeDirectory.
	SHA256 []byte
	// Primary is the 20-byte cdhash of the slice's first CodeDirectory
	// (SHA1 when present, else SHA256 truncated), the value codesign puts
	// in the cdhashes attribute and in a parent's CodeResources.
	Primary []byte
}

// SHA256Truncated returns the SHA-256 cdhash truncated to 20 bytes.
func (h CDHash) SHA256Truncated() []byte {
	if len(h.SHA256) < 20 {
		return nil
	}
	return h.SHA256[:20]
}

// SignResult describes what [Sign] wrote.
type SignResult struct {
	// CDHashes holds one entry per architecture slice, in file order.
	CDHashes []CDHash
	// DesignatedRequirement is the designated requirement in text form,
	// as codesign -d -r- prints it.
	DesignatedRequirement string
	// DesignatedRequirementBlob is the compiled designated requirement
	// (magic 0xfade0c00).
	DesignatedRequirementBlob []byte
	// Size is the number of bytes written to dst.
	Size int64
}

// VerifyOptions tune [Verify].
type VerifyOptions struct {
	// InfoPlist and CodeResources, when not nil, are checked against
	// special slots 1 and 3. When nil, those slots are not checked.
	InfoPlist, CodeResources []byte
	// Roots, when not nil, must contain the root the signing certificate
	// chains to (through the embedded certificates). nil: when the
	// signature embeds Apple Root CA (recognised by its SHA-256
	// fingerprint), as codesign's do and Sign's do when ResolveChain found
	// it, the chain must lead to it; else the chain is not checked, only
	// the signature by the embedded leaf. SliceInfo.Anchor says which.
	Roots *x509.CertPool
	// Now is the time for the chain check; nil: the signing time, or
	// time.Now without one.
	Now func() time.Time
	// Strict fails a signature that current codesign would not have
	// written (see SliceInfo.Deviations).
	Strict bool

	// appleRootSHA256 replaces Apple Root CA's fingerprint (tests).
	appleRootSHA256 string
}

// What a signature's certificate chain was checked against
// (SliceInfo.Anchor).
const (
	AnchorRoots = "roots"         // VerifyOptions.Roots
	AnchorApple = "Apple Root CA" // the embedded Apple Root CA, by fingerprint
)

// ExpiredError is returned by [Verify] for a signature that is sound but
// whose signing certificate, or a certificate above it, is not valid at
// VerifyOptions.Now: its chain holds at the signing time. Verify returns
// the binary's Info with it, complete.
type ExpiredError struct {
	// Certificate is the certificate out of date: the signing
	// certificate when Leaf is set, else one above it.
	Certificate *x509.Certificate
	Leaf        bool
	// Now is the time the chain was checked at.
	Now time.Time
}

func (e *ExpiredError) Error() string {
	c := e.Certificate
	which := fmt.Sprintf("the signing certificate %q", c.Subject.CommonName)
	if !e.Leaf {
		which = fmt.Sprintf("the certificate %q above the signing certificate", c.Subject.CommonName)
	}
	return fmt.Sprintf("macho: %s is valid from %s to %s only", which,
		c.NotBefore.UTC().Format(time.DateOnly), c.NotAfter.UTC().Format(time.DateOnly))
}

// Info describes a verified binary.
type Info struct {
	Slices []SliceInfo
}

// SliceInfo describes the signature of one architecture slice.
type SliceInfo struct {
	Arch         string
	Offset, Size int64 // of the slice in the file
	Identifier   string
	TeamID       string
	CDHash       CDHash
	// HashTypes lists the CodeDirectories' hash types, primary first:
	// "sha1", "sha256".
	HashTypes    []string
	Version      uint32 // of the primary CodeDirectory, e.g. 0x20400
	Flags        uint32 // CodeDirectory flags
	PageSize     int
	CodeLimit    int64
	ExecSegBase  uint64
	ExecSegLimit uint64
	ExecSegFlags uint64
	// SpecialSlots is the number of special slots of the primary
	// CodeDirectory.
	SpecialSlots int
	// Entitlements is the XML entitlements blob's payload; nil when none.
	Entitlements []byte
	// EntitlementsDER is the DER entitlements blob's payload; nil when none.
	EntitlementsDER []byte
	// Requirements is the requirement set in text form, one line per
	// requirement: "designated => identifier ...".
	Requirements string
	// Authority lists the common names of the embedded certificates from
	// the leaf up, as codesign -dvvv prints them.
	Authority []string
	// Certificate is the leaf certificate that signed the CMS; nil for
	// an ad-hoc signature.
	Certificate *x509.Certificate
	// Anchor is what the certificate chain was checked against:
	// [AnchorRoots], [AnchorApple], or "" when it was not checked (see
	// VerifyOptions.Roots).
	Anchor string
	// SigningTime is the CMS signing-time attribute; zero when absent.
	SigningTime time.Time
	// Deviations list how the signature differs from what current
	// codesign writes for the same binary (an older format, exec-segment
	// flags that do not follow the entitlements...): it still verifies,
	// but iOS may refuse it. VerifyOptions.Strict makes them errors.
	Deviations []string
	// Platform is the LC_BUILD_VERSION platform (2 for iOS), or the one
	// implied by an LC_VERSION_MIN_* command; 0 when unknown.
	Platform uint32
	// MinOS is the minimum OS version, "11.0"; "" when unknown.
	MinOS string
}

// Sign writes a signed copy of the Mach-O binary (thin or fat) read from
// src, of size bytes, to dst. It replaces an existing signature, or adds
// LC_CODE_SIGNATURE when there is room after the load commands. See the
// package documentation for how src is read and the memory used.
func Sign(ctx context.Context, src io.ReaderAt, size int64, dst io.Writer, opts SignOptions) (*SignResult, error) {
	return sign(ctx, src, size, dst, opts)
}

// Verify recomputes every page hash and special slot of the signed binary
// read from r, checks the CMS signature over the first CodeDirectory and
// its cdhashes attributes, and describes what it found.
//
// When the code matches its CodeDirectories but the CMS signature or its
// certificate chain does not verify, Verify returns the Info it read
// (identifier, team, cdhashes, authority, entitlements...) with the error,
// as codesign -dvvv displays such a signature: only an [ExpiredError]
// leaves it otherwise sound. On any other error the Info is nil.
func Verify(ctx context.Context, r io.ReaderAt, size int64, opts VerifyOptions) (*Info, error) {
	return verify(ctx, r, size, opts)
}

// IsMachO reports whether head, the first bytes of a file (at least 4),
// starts like a thin or fat Mach-O binary. Java class files share the fat
// magic; they are told apart by the architecture count.
func IsMachO(head []byte) bool {
	return isMachO(head)
}

// IsEncrypted reports whether any slice of the binary has a FairPlay
// encryption load command with cryptid != 0.
func IsEncrypted(r io.ReaderAt, size int64) (bool, error) {
	f, err := parseFile(r, size)
	if err != nil {
		return false, err
	}
	for _, s := range f.slices {
		if s.cryptID != 0 {
			return true, nil
		}
	}
	return false, nil
}

// DesignatedRequirement returns the designated requirement codesign makes
// for identifier signed by leaf, in text form and compiled (magic
// 0xfade0c00):
//
//	identifier "<id>" and anchor apple generic and certificate leaf[subject.CN] = "<CN>" and certificate 1[field.1.2.840.113635.100.6.2.1] /* exists */
//
// For a self-signed leaf it is `identifier "<id>" and certificate root = H"<sha1>"`
// ("certificate leaf" when the certificate names no organization), as
// codesign makes for certificates Apple did not issue.
func DesignatedRequirement(identifier string, leaf *x509.Certificate) (text string, blob []byte) {
	return designatedRequirement(identifier, leaf)
}
