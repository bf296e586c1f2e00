// Package apk signs and verifies Android application packages (.apk) the
// way apksigner 35 does: zipalign-style alignment (stored entries on 4
// bytes, uncompressed native libraries on 16 KiB pages by default), JAR
// signing (v1), APK Signature Scheme v2 and v3, and the v4 signature
// (.idsig) for incremental installs.
//
// Start with [Sign] (or [SignFile]) to sign with a [signing.Identity],
// and [Verify] (or [VerifyFile]) to check an APK as `apksigner verify`
// does. [Options] and [VerifyOptions] have safe zero values.
//
// # Conventions (shared with packages aab and ipa)
//
// Signing takes ctx first, then the input as an io.ReaderAt and its
// size, then the output io.Writer, then the options, the identity in
// them: Sign(ctx, src, size, dst, Options{Identity: id}). SignFile(ctx,
// in, out, opts) is the file wrapper, which checks its output before
// renaming it into place.
//
// Verify returns an error when the APK does not verify or is not signed:
// it wraps [ErrNotVerified], and comes with the [VerifyResult] (never nil
// then), whose Errors, Warnings and signers say why, for callers to
// print. Other errors (an archive that cannot be read as an APK, a
// cancelled ctx) come with a nil result. A nil error means verified.
//
// Signing streams: entries are copied raw, never inflated and deflated
// again, while the content digests (1 MiB chunks, apksig's chunked
// SHA-256 or SHA-512) and the JAR entry digests are computed on all cores.
// For RSA keys the output is byte-for-byte what apksigner 35.0.2 writes
// for the same input and options (apksig's quirks included), which the
// tests check against apksigner itself.
//
// Where apksigner accepts an archive storesign refuses it: unsafe entry
// names, methods other than stored and deflate, encryption, multi-disk
// records, local headers or data descriptors that disagree with the
// central directory, overlapping entries, counts or sizes beyond
// internal/zipx's limits ([ErrMalformed], with the zipx error inside).
// Like apksig, it refuses zip64 APKs and outputs that would need zip64
// ([ErrZip64], whose message says what to do instead).
//
// Key rotation (APK Signature Scheme v3 and v3.1) starts from a
// [Lineage]: [NewLineage] and [Lineage.Rotate] make one as `apksigner
// rotate` does, [ReadLineage] reads apksigner's files and
// [LineageFromAPK] the one a signed APK carries; [Options.Lineage] with
// [Options.NextIdentities] signs with the original and the rotated keys.
// [Options.StampSigner] adds a source stamp, which [VerifySourceStamp]
// checks. Both are byte-for-byte what apksigner 35 writes (RSA keys).
// Several signers without a lineage sign v1 and v2 each, with v3 turned
// off; while v3 is on (the default) they are refused
// ([ErrSignersWithoutLineage]), as apksigner refuses them.
//
// [Options.VerityEnabled] adds apksigner's verity signatures (over the
// VERITY_CHUNKED_SHA256 content digest) and [Options.AlignFileSize] its
// 4096-byte file size; both byte-for-byte as apksigner 35 writes them.
//
// [Options.RefuseDebuggable] refuses APKs that android:debuggable makes
// debuggable, or whose flag cannot be read (a resource reference)
// ([ErrDebuggable]), as apksigner's --debuggable-apk-permitted false.
// [Verify] checks the .idsig file [VerifyOptions] gives; [VerifyFile]
// with VerifyOptions.V4SignatureBeside checks the one beside the APK,
// which apksigner never looks for.
//
// The formats are those of AOSP's apksig library: ApkSigner,
// DefaultApkSignerEngine, V1SchemeSigner, V2SchemeSigner, V3SchemeSigner,
// V4SchemeSigner, V2SourceStampSigner, SigningCertificateLineage and
// ApkSigningBlockUtils, and the APK Signature Scheme v2/v3/v4 pages of
// source.android.com.
package apk
