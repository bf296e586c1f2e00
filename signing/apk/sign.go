package apk

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/storesign/storesign/internal/atomicfile"
	"github.com/storesign/storesign/internal/axml"
	"github.com/storesign/storesign/internal/zipx"
	"github.com/storesign/storesign/signing"
)

// Errors returned by [Sign] for inputs it cannot sign.
var (
	// ErrNotZip means the input is not a zip archive at all.
	ErrNotZip = errors.New("apk: not a zip archive")
	// ErrMalformed means the input is a damaged or truncated zip archive.
	ErrMalformed = errors.New("apk: malformed zip archive")
	// ErrNotAPK means the zip archive has no AndroidManifest.xml.
	ErrNotAPK = errors.New("apk: not an APK (no AndroidManifest.xml)")
	// ErrNoScheme means every signature scheme was turned off.
	ErrNoScheme = errors.New("apk: no signature scheme enabled")
	// ErrDebuggable means Options.RefuseDebuggable refused the APK: its
	// manifest says it is debuggable, or does not say whether it is (an
	// android:debuggable that references a resource), as apksigner's
	// --debuggable-apk-permitted false refuses it.
	ErrDebuggable = errors.New("apk: debuggable APKs are refused")
	// ErrSignersWithoutLineage means several signers (Options.Identity
	// and NextIdentities) were given without a Lineage while APK
	// Signature Scheme v3, which takes one signer, is on (the default):
	// apksigner 35 refuses them too. Give the lineage to rotate the key,
	// or turn v3 off (V3SigningEnabled false) to sign v1 and v2 with each
	// signer.
	ErrSignersWithoutLineage = errors.New("apk: several signers need a signing certificate lineage for APK Signature Scheme v3: give the lineage to rotate the key, or turn v3 off to sign v1 and v2 with each signer")
	// ErrZip64 means the APK is, or its signed output would be, a zip64
	// archive (65,535 entries or more, or 4 GiB), which apksigner and
	// Android's package manager refuse.
	ErrZip64 = errors.New("apk: the APK needs zip64 (65,535 entries or more, or 4 GiB), which apksigner and Android refuse: " +
		"publish it as an Android App Bundle (large content in Play Asset Delivery packs), or pack small files into fewer assets")
)

// DuplicateEntryError reports an archive holding two entries with one
// name, which Android refuses to install.
type DuplicateEntryError struct{ Name string }

func (e *DuplicateEntryError) Error() string {
	return fmt.Sprintf("apk: duplicate zip entry %q", e.Name)
}

// Default values of [Options].
const (
	// DefaultLibPageAlignment is the alignment of uncompressed native
	// libraries: 16 KiB, for Android 15's 16 KB pages, as apksigner 35.
	DefaultLibPageAlignment = 16384
	// DefaultCreatedBy is the Created-By value of the v1 .SF file, as
	// apksigner writes it.
	DefaultCreatedBy = "1.0 (Android)"
	// sdkN is Android 7.0, the first release that checks v2 signatures:
	// from it on, JAR signatures are not needed.
	sdkN = 24
)

// Options tunes [Sign]. The zero value signs as `apksigner sign` 35 does
// by default, except that v4 is off and v1 follows minSdkVersion (see
// V1SigningEnabled).
type Options struct {
	// Identity is the signer: its private key and certificate chain.
	// Required.
	Identity *signing.Identity
	// Lineage rotates the signing key (APK Signature Scheme v3 key
	// rotation, apksigner's --lineage): the APK is signed with the
	// original signer for v1, v2 and the Android releases before
	// RotationMinSDKVersion (in the v3.0 block), and with the lineage's
	// newest signer, carrying the lineage as proof, from
	// RotationMinSDKVersion on (in the v3.1 block from Android 13). Give
	// the signers as Identity and NextIdentities, in any order; each must
	// be in the lineage.
	Lineage *Lineage
	// NextIdentities are the signers after Identity (apksigner's
	// --next-signer). With a Lineage they rotate the key; without one,
	// each signs v1 and v2 too, which needs v3 turned off
	// (V3SigningEnabled false), as apksigner: else Sign returns
	// [ErrSignersWithoutLineage].
	NextIdentities []*signing.Identity
	// NextSignerNames are the v1 signature file names of
	// NextIdentities, as SignerName is Identity's; an empty or missing
	// name means the keystore alias, else "CERT". Names must differ.
	NextSignerNames []string
	// RotationMinSDKVersion is the API level from which the rotated
	// signer is used; zero means DefaultRotationMinSDKVersion (33). Values
	// from 28 to 32 rotate from Android 9 on, in the v3.0 block.
	RotationMinSDKVersion int
	// RotationTargetsDevRelease makes the rotated signer also apply to
	// the development release of Android after RotationMinSDKVersion
	// (apksigner's --rotation-targets-dev-release).
	RotationTargetsDevRelease bool
	// StampSigner adds a source stamp (apksigner's --stamp-signer): a
	// signature by this RSA key over the APK's digests, in the APK
	// Signing Block, and the stamp-cert-sha256 entry naming it.
	StampSigner *signing.Identity
	// StampLineage is the stamp signer's lineage, when the stamp key was
	// rotated (apksigner's --stamp-lineage).
	StampLineage *Lineage
	// StampTimestampDisabled leaves the time of stamping out of the
	// stamp (apksigner's --stamp-timestamp-enabled false), which makes
	// the output reproducible.
	StampTimestampDisabled bool
	// StampOverwrite replaces the source stamp of another stamp signer
	// that the input holds (apksigner's --force-stamp-overwrite); without
	// it such an input is refused with [ErrStampMismatch].
	StampOverwrite bool
	// Now is the time of stamping; nil means time.Now.
	Now func() time.Time
	// RefuseDebuggable refuses to sign an APK whose AndroidManifest.xml
	// makes it debuggable (android:debuggable true), or leaves it unknown
	// (a resource reference, which may resolve differently on different
	// devices), with [ErrDebuggable]: apksigner's
	// --debuggable-apk-permitted false. The zero value signs them, as
	// apksigner does by default.
	RefuseDebuggable bool
	// V1SigningEnabled, V2SigningEnabled and V3SigningEnabled turn JAR
	// signing and APK Signature Scheme v2 and v3 on or off. Nil means the
	// default: v1 only when the minimum SDK version is below 24 (Android 7
	// checks v2 and ignores v1), v2 and v3 always.
	V1SigningEnabled, V2SigningEnabled, V3SigningEnabled *bool
	// V4SigningEnabled adds an APK Signature Scheme v4 signature: the
	// .idsig file apksigner writes beside the APK for incremental
	// installs. It needs v2 or v3. [Sign] writes it to V4Signature;
	// [SignFile] to V4Signature, or when that is nil to out+".idsig".
	V4SigningEnabled bool
	V4Signature      io.Writer
	// VerityEnabled adds, to each v2 and v3 signer whose algorithm is
	// RSA or ECDSA with SHA-256, a second signature over the
	// VERITY_CHUNKED_SHA256 content digest (apksigner's
	// --verity-enabled). The .idsig (v4) then names that digest in place
	// of the chunked one, and a source stamp signs it beside the chunked
	// one. Keys that sign over SHA-512 get no verity signature.
	VerityEnabled bool
	// MinSDKVersion is the lowest Android API level the signatures must
	// work on. Zero means the minSdkVersion of AndroidManifest.xml.
	MinSDKVersion int
	// AlignFileSize makes the signed APK's size a multiple of 4096
	// bytes, with zero bytes appended to the zip comment (apksigner's
	// --align-file-size). Like apksigner it does so only when the APK
	// gets an APK Signing Block (v2, v3 or a source stamp).
	AlignFileSize bool
	// AlignmentPreserved keeps the alignment of entries that already have
	// one (apksigner's --alignment-preserved) instead of aligning stored
	// entries to 4 bytes and stored native libraries to LibPageAlignment.
	AlignmentPreserved bool
	// LibPageAlignment aligns uncompressed .so entries; zero means
	// DefaultLibPageAlignment (16 KiB). Use 4096 for the pre-Android 15
	// layout.
	LibPageAlignment int
	// SignerName is the base name of the v1 signature files
	// (META-INF/<NAME>.SF and .RSA or .EC), turned into the safe 8
	// character form apksigner uses. Empty means the identity's keystore
	// alias, else "CERT".
	SignerName string
	// CreatedBy is the .SF file's Created-By value; empty means
	// DefaultCreatedBy.
	CreatedBy string
	// Rand is the randomness for ECDSA signatures; nil means crypto/rand.
	// RSA signatures are deterministic.
	Rand io.Reader
	// Check is called by [SignFile] on the complete output before it is
	// renamed into place; an error abandons the output. Nil means
	// [Verify] with the signing's minimum SDK version, which must find
	// the output verified.
	Check func(ctx context.Context, r io.ReaderAt, size int64) error
	// SkipVerify makes [SignFile] publish its output without checking it
	// first. [Sign] never checks.
	SkipVerify bool
	// Log receives debug messages; nil discards them.
	Log *slog.Logger
}

// Result describes a signed APK.
type Result struct {
	// V1, V2, V3 and V4 report the signature schemes written; V31 that
	// a v3.1 block was written too (key rotation targeting Android 13 or
	// later).
	V1, V2, V3, V4 bool
	V31            bool
	// MinSDKVersion is the minimum SDK version the signatures were
	// chosen for.
	MinSDKVersion int
	// Signer is the signing certificate (with a lineage, the original
	// signer's: the one of v1 and v2); Chain the certificates after it.
	Signer *x509.Certificate
	Chain  []*x509.Certificate
	// RotatedSigner is, when signing with a lineage, the newest signer's
	// certificate, used from RotationMinSDKVersion on (nil without
	// rotation).
	RotatedSigner *x509.Certificate
	// V1Name is the base name of the v1 signature files ("" without v1),
	// V1Digest the digest algorithm of the JAR manifest.
	V1Name   string
	V1Digest crypto.Hash
	// Entries is the number of zip entries written, signature files
	// included.
	Entries int
	// Realigned counts the entries whose alignment padding was rewritten.
	Realigned int
	// LibPageAlignment is the alignment of stored native libraries, or
	// 0 when AlignmentPreserved was set.
	LibPageAlignment int
	// Size is the size of the signed APK in bytes.
	Size int64
	// Duration is how long signing took.
	Duration time.Duration
}

// Schemes lists the schemes written, as "v1", "v2", "v3", "v3.1", "v4".
func (r *Result) Schemes() []string {
	var s []string
	for i, on := range []bool{r.V1, r.V2, r.V3, r.V4} {
		if on {
			s = append(s, fmt.Sprintf("v%d", i+1))
		}
		if i == 2 && r.V31 {
			s = append(s, "v3.1")
		}
	}
	return s
}

// SignFile signs the APK at in and writes the result to out (and with v4
// to out+".idsig"). The output appears only when complete and checked
// (opts.Check, by default [Verify]); the input is never modified.
func SignFile(ctx context.Context, in, out string, opts Options) (*Result, error) {
	f, size, err := atomicfile.OpenInput(in, "an APK")
	if err != nil {
		return nil, unwrapPathError(err)
	}
	defer f.Close()
	o, err := atomicfile.Create(out, in)
	if err != nil {
		return nil, err
	}
	defer o.Abort()
	var idsig *atomicfile.File
	if opts.V4SigningEnabled && opts.V4Signature == nil {
		if idsig, err = atomicfile.Create(out+".idsig", in); err != nil {
			return nil, err
		}
		defer idsig.Abort()
		opts.V4Signature = idsig
	}
	res, err := Sign(ctx, f, size, o.Writeback(), opts)
	if err != nil {
		return nil, err
	}
	// Flush the output to disk while it is checked: Commit then finds
	// little left to sync.
	synced := make(chan error, 1)
	go func() { synced <- o.File.Sync() }()
	check := opts.Check
	if check == nil {
		// Schemes turned off on purpose leave old Android versions out, as
		// apksigner allows: the output is checked for those it serves.
		minSDK := opts.MinSDKVersion
		if off := opts.V1SigningEnabled; off != nil && !*off {
			minSDK = max(minSDK, 24)
			if off := opts.V2SigningEnabled; off != nil && !*off {
				minSDK = max(minSDK, 28)
			}
		}
		check = func(ctx context.Context, r io.ReaderAt, size int64) error {
			v, err := Verify(ctx, r, size, VerifyOptions{MinSDK: minSDK, Log: opts.Log})
			if err != nil {
				return err
			}
			return v.Err()
		}
	}
	if !opts.SkipVerify {
		if err := check(ctx, o.File, res.Size); err != nil {
			<-synced
			return nil, fmt.Errorf("checking the signed APK: %w", err)
		}
	}
	if err := <-synced; err != nil {
		return nil, fmt.Errorf("writing %s: %w", out, err)
	}
	// The APK and its .idsig appear together or not at all, and a failure
	// leaves any previous ones in place.
	outs := []*atomicfile.File{o}
	if idsig != nil {
		outs = append(outs, idsig)
	}
	if err := atomicfile.CommitAll(outs...); err != nil {
		return nil, err
	}
	return res, nil
}

// unwrapPathError drops the "open" operation from *os.PathError, which
// reads badly in a one-line message.
func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Path, pe.Err)
	}
	return err
}

// Sign signs the APK in src (size bytes) with opts.Identity and writes the signed
// APK to dst, the way `apksigner sign` 35 does: it drops the old JAR
// signature files and APK Signing Block, copies every other entry raw
// (aligning stored ones), adds the JAR signature (v1) and an APK Signing
// Block with v2 and v3 signatures. For the same input, identity and
// options the output is byte-identical to apksigner's (RSA keys).
//
// Entries are read once, in order, and written as they are read; content
// digests are computed on all cores while writing. Memory use does not
// grow with the size of the APK (beyond its central directory).
func Sign(ctx context.Context, src io.ReaderAt, size int64, dst io.Writer, opts Options) (*Result, error) {
	id := opts.Identity
	start := time.Now()
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if id == nil || id.Signer == nil || id.Certificate == nil {
		return nil, errors.New("apk: signing needs a private key and its certificate")
	}
	arch, err := readArchive(src, size)
	if err != nil {
		return nil, err
	}
	manifest := arch.find("AndroidManifest.xml")
	if manifest == nil {
		return nil, ErrNotAPK
	}
	minSDK := opts.MinSDKVersion
	var manifestData []byte
	if minSDK <= 0 || opts.RefuseDebuggable {
		manifestData, err = manifest.ReadAll(src, arch.lfhEnd, maxManifestSize)
		if err != nil {
			return nil, fmt.Errorf("%w: reading AndroidManifest.xml: %w", ErrMalformed, err)
		}
	}
	if minSDK <= 0 {
		m, err := axml.ParseManifest(manifestData)
		if err != nil {
			return nil, fmt.Errorf("reading minSdkVersion from AndroidManifest.xml: %w (pass the minimum SDK version to override)", err)
		}
		minSDK = m.MinSDKVersion
	}
	cfg, err := newConfig(id, minSDK, opts)
	if err != nil {
		return nil, err
	}
	if opts.RefuseDebuggable {
		// After the signers' checks, as apksig's engine refuses once it
		// signs.
		if err := checkNotDebuggable(manifestData); err != nil {
			return nil, err
		}
	}
	log.Debug("signing APK", "entries", len(arch.Entries), "minSdk", minSDK, "v1", cfg.v1, "v2", cfg.v2, "v3", cfg.v3, "v4", opts.V4Signature != nil)
	res, err := cfg.sign(ctx, dst, src, arch)
	if err != nil {
		return nil, err
	}
	res.Duration = time.Since(start)
	log.Debug("signed APK", "size", res.Size, "duration", res.Duration)
	return res, nil
}

// checkNotDebuggable refuses a manifest that makes the app debuggable or
// does not tell, as apksig's DefaultApkSignerEngine does when debuggable
// APKs are not permitted.
func checkNotDebuggable(manifest []byte) error {
	d, err := axml.Debuggable(manifest)
	switch {
	case err != nil:
		return fmt.Errorf("%w: cannot tell whether this one is: %w", ErrDebuggable, err)
	case d:
		return fmt.Errorf("%w: AndroidManifest.xml has android:debuggable=\"true\": sign a release build", ErrDebuggable)
	}
	return nil
}

// maxManifestSize bounds the JAR and Android manifests read into memory.
const maxManifestSize = 64 << 20

// archive is the parsed input.
type archive struct {
	*zipx.Archive
	// lfhEnd is the end of the entries section: the start of the APK
	// Signing Block if there is one, else of the central directory.
	lfhEnd int64
	byName map[string]*zipx.Entry
}

func (a *archive) find(name string) *zipx.Entry { return a.byName[name] }

// readZip reads the central directory of an APK, turning zipx's errors
// into the package's own. Sign and Verify both start here.
// Like apksig, it refuses zip64 ([ErrZip64]); unlike apksig, it also
// refuses what zipx refuses (unsafe names, unsupported methods,
// encryption, multi-disk records, limits): those errors match
// [ErrMalformed] and carry zipx's typed error.
func readZip(src io.ReaderAt, size int64) (*zipx.Archive, error) {
	za, err := zipx.Read(src, size)
	if err != nil {
		return nil, zipError(err)
	}
	if za.Zip64 {
		return nil, ErrZip64
	}
	return za, nil
}

// zipError turns zipx's errors into the package's own.
func zipError(err error) error {
	var dup *zipx.DuplicateError
	switch {
	case errors.As(err, &dup):
		return &DuplicateEntryError{Name: dup.Name}
	case errors.Is(err, zipx.ErrEmpty):
		return fmt.Errorf("%w: %w", ErrNotZip, err)
	case errors.Is(err, zipx.ErrFormat):
		return ErrNotZip
	case errors.Is(err, zipx.ErrTruncated), errors.Is(err, zipx.ErrUnsafe):
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return fmt.Errorf("reading APK: %w", err)
}

// checkRecords checks every local record against the central directory
// (see [zipx.Archive.CheckRecords]) up to limit, the end of the entries.
func checkRecords(src io.ReaderAt, za *zipx.Archive, limit int64) error {
	if _, err := za.CheckRecords(src, limit); err != nil {
		return zipError(err)
	}
	return nil
}

func readArchive(src io.ReaderAt, size int64) (*archive, error) {
	za, err := readZip(src, size)
	if err != nil {
		return nil, err
	}
	a := &archive{Archive: za, lfhEnd: za.CDOffset, byName: make(map[string]*zipx.Entry, len(za.Entries))}
	if off, ok := findSigningBlock(src, za.CDOffset); ok {
		a.lfhEnd = off
	}
	if err := checkRecords(src, za, a.lfhEnd); err != nil {
		return nil, err
	}
	for _, e := range za.Entries {
		a.byName[e.Name] = e
	}
	return a, nil
}
