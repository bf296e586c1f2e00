// Package macho signs and verifies the code signature of Mach-O binaries,
// thin or fat (universal), as Apple's codesign does for iOS apps.
//
// Start with [Sign], which writes a signed copy of a binary, and [Verify],
// which recomputes and checks every hash and the CMS signature of a signed
// binary. [ResolveChain] finds the Apple WWDR intermediate certificate a
// signing identity needs (from the identity, a caller-given file or the
// leaf's Authority Information Access URL, cached on disk); call it once
// per app and pass the result to every [Sign].
//
// The signature written is the one codesign writes for App Store
// distribution: an embedded signature super blob (LC_CODE_SIGNATURE at the
// end of __LINKEDIT) holding a CodeDirectory of version 0x20400 with
// exec-segment fields and 4 KiB page hashes (SHA-256; plus a SHA-1
// CodeDirectory as the primary when the binary's minimum iOS version is
// below 11), a requirement set with the designated requirement, the
// entitlements as XML and in Apple's DER form, and a detached CMS
// SignedData over the first CodeDirectory carrying the cdhashes attributes
// (OIDs 1.2.840.113635.100.9.1 and .2). The formats are Apple's (cs_blobs.h,
// requirement.h, libsecurity_codesigning); they were learned from zsign and
// rcodesign, and the code is our own. Use [ReadSignature] to read an
// existing signature without verifying it.
//
// # Same inputs, same bytes as codesign
//
// Given what codesign was given (a certificate with the same subject, the
// same identifier, entitlements, Info.plist and CodeResources), Sign
// writes codesign's CodeDirectories, requirements and entitlements blobs
// byte for byte, and so the same code pages; only the CMS signature
// differs. The tests check this against every binary of an Apple-signed
// app in the corpus. Each choice follows codesign:
//
//	choice                          codesign's behaviour followed
//	hash types                      SHA-1 + SHA-256 below iOS/tvOS 11, watchOS 4, macOS 10.11.4; else SHA-256
//	room reserved for the signature its estimate: blobs + CodeDirectories (sized as 0x20500) + 18000 bytes of CMS, 16-byte aligned
//	__LINKEDIT vmsize               codesign_allocate: new file size rounded to 16 KiB (ARM) or 4 KiB (Intel)
//	CS_EXECSEG_MAIN_BINARY          only for MH_EXECUTE, with the flags its entitlements call for
//	                                (get-task-allow, run-unsigned-code, dynamic-codesigning, ...)
//	DER entitlements (slot 7)       only for MH_EXECUTE; bundles and dylibs get the XML blob alone
//	Info.plist slot (1)             the bundle's Info.plist, else the one linked into the binary
//	                                (__TEXT,__info_plist), else empty
//	special slot count              up to the last non-empty slot
//	CMS signature                   current codesign's encoding (cms.go): BER outer layers, SHA-256,
//	                                sha256WithRSAEncryption/NULL, certificates and attributes in DER
//	                                order; byte for byte but the signature value (TestCMSLikeCodesign)
//
// A signature in an older format (CodeDirectory before 0x20400, no DER
// entitlements) is never copied: re-signing writes the current format,
// which iOS 15 and later require.
//
// # Access pattern and memory
//
// [Sign] reads src in two passes: first the fat header and each slice's
// Mach-O header, load commands and linked-in Info.plist (small reads at
// increasing offsets), then every byte it keeps once, sequentially from
// offset 0 to the end of the last slice, in chunks of at most 1 MiB. It
// never seeks back within the second pass, so src may be a re-openable
// decompressor that restarts when an offset lower than the previous one
// is asked for. With SignOptions.EntitlementsLater it also reads the old
// signature, where the code ends, then the first pages once more (to hash
// them with the final header): a restart that inflates a few KiB. Output
// is written sequentially to dst, in order, as it is read; the signature
// of each slice is appended after its code. Memory is a few MiB of
// buffers plus 32+20 bytes of page hash per 4 KiB page (about 1.3 MiB for
// a 100 MiB slice), whatever the binary size.
// Page hashes are computed in parallel on every core.
//
// [Verify] reads r at random offsets.
//
// # Verification
//
// [Verify] recomputes every page hash of every CodeDirectory, the special
// slots it can (requirements, entitlements; Info.plist and CodeResources
// when given), checks the CMS signature over the first CodeDirectory (and
// the chain when roots are given; Apple's critical code signing
// certificate extensions are accepted), the cdhashes attributes against
// every CodeDirectory, and that the DER entitlements say what the XML
// ones say. Signatures made before the cdhashes attributes existed (a
// single CodeDirectory, as Xcode wrote until 2016) verify too; ad-hoc
// signatures do not.
//
// # Compatibility
//
// The output is checked in the tests by a second parser
// (github.com/blacktop/go-macho) with every page hash recomputed, by
// openssl cms -verify on each CMS blob, against DER entitlements bytes
// that codesign wrote, and against binaries Xcode built and signed.
// ld may round __LINKEDIT's file size past the end of the file; the
// missing bytes are hashed as zeros, as codesign does.
package macho
