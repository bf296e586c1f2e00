// Package aab signs and verifies Android App Bundles (.aab) the way
// Google Play expects an upload: a JAR signature, as jarsigner (JDK 17)
// writes it.
//
// Start with [Sign] (or [SignFile]) to sign a bundle with a
// [signing.Identity], and [Verify] (or [VerifyFile]) to check one.
//
// As in packages apk and ipa, signing takes ctx, the input (an
// io.ReaderAt and its size), the output io.Writer and the options, the
// identity in them: Sign(ctx, src, size, dst, Options{Identity: id});
// SignFile(ctx, in, out, opts) wraps it for files. Verify returns an
// error when the bundle does not verify, wrapping [ErrNotSigned] or
// [ErrInvalidSignature] with the reason in its message, together with a
// non-nil [Result]; other errors (not a bundle, unreadable zip) come with
// a nil one. A nil error means verified.
// Signing
// drops every earlier signature (META-INF/MANIFEST.MF digests are
// recomputed, old .SF, .RSA, .EC, .DSA and SIG-* files are removed) and
// writes:
//
//   - META-INF/MANIFEST.MF with a SHA-256-Digest for every entry;
//   - META-INF/<ALIAS>.SF, the signature file (alias upper-cased and cut
//     to 8 characters as jarsigner does);
//   - META-INF/<ALIAS>.RSA or .EC, a PKCS#7 SignedData block with the
//     signed attributes jarsigner 17 writes (contentType, signingTime,
//     CMSAlgorithmProtection, messageDigest) and the digest jarsigner
//     picks for the key (SHA-256, SHA-384 for RSA over 3072 bits and
//     P-384, SHA-512 for P-521).
//
// Every other entry is copied raw, never re-compressed; entry digests are
// computed in parallel and memory stays bounded whatever the bundle size.
// Each pass (signing, and the check of the output) reads every entry
// once: inflated by the package's own inflater, about twice as fast as
// compress/flate, then checked against its CRC-32 and size and hashed. The
// CRC-32 comes from the archive, not from the inflater, so a wrong byte
// out of the inflater fails the entry instead of reaching a manifest.
// [SignFile] has the kernel copy the entries from the input file to the
// output (copy_file_range on Linux), consecutive entries in one range.
// Bundles that need zip64 (65,535 entries or more, entries or offsets
// past 4 GiB) are read and written, with zip64 fields laid out as
// java.util.zip writes them. Hostile archives are refused before
// anything is written: unsafe entry names, methods other than stored and
// deflate, encryption, multi-disk records, local headers or data
// descriptors that disagree with the central directory, overlapping
// entries, and counts or sizes beyond internal/zipx's limits.
//
// The format is the JAR File Specification's "Signed JAR File" section;
// the exact bytes follow java.util.jar and jdk.security.jarsigner, as the
// oracle tests check with jarsigner -verify -strict.
package aab
