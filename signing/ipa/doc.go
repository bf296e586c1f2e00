// Package ipa re-signs iOS app archives (.ipa) for App Store, Ad Hoc or
// Enterprise distribution, and verifies them, on any OS and without
// extracting them.
//
// Start with [Resign] (or [ResignFile]), which reads an IPA through an
// io.ReaderAt and writes the re-signed IPA to an io.Writer, and [Verify] /
// [Inspect], which check an IPA the way the device does and report what
// `codesign -dvvv` shows for each bundle.
//
// As in packages apk and aab, the entry points take ctx, the input (an
// io.ReaderAt and its size), the output io.Writer and the options, the
// identity in them: Resign(ctx, src, size, dst, Options{Identity: id});
// ResignFile(ctx, in, out, opts) wraps it for files. Verify returns an
// error when the IPA does not verify, wrapping [ErrInvalid], together
// with the [Report] (never nil then), whose bundles' Problems say what is
// wrong; other errors (not an IPA, unsafe archive) come with a nil one. A
// nil error means verified.
//
// # What Resign does
//
// It walks Payload/<name>.app and signs the code innermost first: loose
// Mach-O files (Frameworks/*.dylib), frameworks (each with its own
// CodeResources), PlugIns/*.appex, Extensions/*, Watch/*.app with their
// extensions, AppClips/*.app, and the app last, so that each parent seals
// its nested code as signed. Each app and
// extension gets the provisioning profile of Options.Profiles that best
// matches its (new) bundle ID (an exact application identifier beats a
// wildcard, a longer wildcard a shorter one); embedded.mobileprovision is
// replaced. A bundle without a matching profile is an error naming its
// bundle ID and the profiles tried. Frameworks and dylibs carry no
// profile and no entitlements, as with Xcode. Test bundles (.xctest), XPC
// services (.xpc) and loadable bundles with code (.bundle) are bundles
// too: their Info.plist and CodeResources are bound to their signature;
// they keep the entitlements they were signed with (fitted to the profile
// of their ID) and get no embedded profile, as Xcode signs them. Code
// Apple itself signed (a framework, XPC service or bundle with a
// com.apple. ID whose designated requirement is "anchor apple"), and
// what it holds, is left as it was, as Xcode leaves it. A
// bundle's main executable is marked as such (CS_EXECSEG_MAIN_BINARY) and
// given DER entitlements when it is an MH_EXECUTE file, as codesign
// decides; loose binaries get codesign's identifier
// (see macho.DefaultIdentifier).
//
// Info.plist edits keep the file's form (binary or XML): Options.BundleID
// replaces the app's ID and, by prefix, the IDs of nested bundles and the
// references to them (WKCompanionAppBundleIdentifier,
// WKAppBundleIdentifier, NSExtension attributes); ShortVersion and
// BundleVersion are set on the app and its extensions (App Store Connect
// requires them to agree); DisplayName on the app only.
//
// _CodeSignature/CodeResources is written byte for byte as codesign
// writes it for iOS, in CFPropertyListCreateData's XML layout
// (internal/plistx). "files" holds the SHA-1 of each file under the v1
// rules: bare <data>, or {hash, optional} for lproj files. "files2", under
// the v2 rules, holds one digest per hash type of the executable's
// CodeDirectories: {hash2} for a SHA-256-only signature (what current
// Xcode writes), {hash, hash2} when SHA-1 is needed too (codesign adds it
// for an executable that runs on iOS or tvOS before 11 or watchOS before
// 4; Resign predicts this from the bundle's MinimumOSVersion), bare <data>
// for SHA-1 alone (codesign before 2016); symlinks as {symlink}. "rules"
// and "rules2" are Xcode's iOS rule sets; a bundle sealed under the older
// ones (Xcode 6 and 7.0: "^" of weight 20, "nested" rules) is resealed
// under the current ones. The corpus test rebuilds the CodeResources of
// Apple-signed apps from 2015 to 2023 byte for byte. Xcode's iOS rule set
// has no "nested" rule, so a parent seals its frameworks, extensions and
// dylibs file by file (their signed executables and CodeResources
// included), as Xcode and zsign do; sealing nested code by cdhash and
// designated requirement is what macOS bundles get. [Verify] accepts both,
// and applies each CodeResources' own rules, as codesign does.
//
// [ResignFile] verifies its output with [Verify] before renaming it into
// place: every signature, every rewritten file and every seal is checked
// anew; entries copied raw are trusted to hold what the hash pass read
// from the input when their CRC-32 and sizes are unchanged. The binaries
// it signed are read back from the compressed output by a decompressor of
// our own that inflates their 1 MiB blocks on every core, checks each
// block's length and the entry's CRC-32 and size while their page hashes
// are checked; the cdhashes read back must be the ones Resign signed.
// The hashes of a nested binary for its parent's seal are those computed
// of its bytes as they were written, which the CRC-32 of every byte read
// back (the zip writer's, of the same bytes) shows unchanged. Since the
// check hashes every page anyway, the signed binaries that ResignFile can
// sign again (the app's executable on its lane, the extensions it signs
// aside, see below) take the hashes of their unchanged pages (all but
// the first and last MiB) from the signatures they came with instead of
// hashing them (macho's ReusePageHashesUnchecked); when the check finds
// one wrong (a binary changed after it was signed), ResignFile signs
// again, hashing every page.
//
// # Entitlements policy
//
// Each app and extension keeps the entitlements it was signed with (read
// from its executable's signature), fitted to its new profile as Xcode
// does when it exports an archive for distribution:
//
//	key                                 rule                                        source
//	application-identifier              <AppIDPrefix>.<bundle ID>; a wildcard the   profile, bundle ID
//	                                    app was signed with stays when it is the
//	                                    profile's own, but for the App Store
//	com.apple.developer.team-identifier the profile's team                          profile
//	keychain-access-groups              old team or App ID prefix -> new one, old   app, re-prefixed
//	                                    bundle ID after it -> new one; each group
//	                                    kept when the profile's (TEAM.*) allow it
//	com.apple.security.application-     each group kept when the profile lists it   app
//	groups                              (or grants "*")
//	get-task-allow                      development profile: as the app had it,     app, profile kind
//	                                    true when absent; other profiles: true ->
//	                                    false (as Xcode exports), false stays,
//	                                    absent stays absent
//	beta-reports-active                 kept, or added, when the profile grants it  profile
//	                                    (App Store); dropped otherwise
//	aps-environment                     the profile's value, when the app has it    profile
//	com.apple.developer.icloud-         Development with a development profile,     profile kind
//	container-environment               else Production; added when the app has
//	                                    iCloud containers
//	identifiers prefixed with the old   re-prefixed as keychain groups (App Clip    app, re-prefixed
//	team (ubiquity-kvstore-identifier,  and parent app IDs also follow
//	pass types, App Clip parents)       Options.BundleID), then checked as below
//	every other key (associated         kept as the app had it when the profile     app
//	domains, iCloud containers and      grants it: "*" allows any value, a list
//	services, ...)                      its members, "prefix.*" the strings it
//	                                    prefixes, a scalar an equal value, true
//	                                    allows true and false
//
// An entitlement, or a value of a list, the profile does not grant fails
// with an [EntitlementNotGrantedError] naming the bundle, the key and the
// capability to enable for the App ID, unless
// Options.DropUngrantedEntitlements, which signs without it. Keys the
// profile grants but the app did not ask for are not added (a profile's
// "*" is a permission, not a value). Every key's fate (kept, changed,
// dropped, added) and why is in [BundleReport].EntitlementChanges. When
// nothing changes, the entitlements are signed as the original bytes, so
// the entitlements blob stays as Xcode wrote it; otherwise they are
// written in codesign's XML layout (internal/plistx).
//
// An executable signed without entitlements (an unsigned build) gets its
// profile's entitlements fitted to the bundle instead:
//
//   - application-identifier and com.apple.developer.team-identifier as
//     above;
//   - keychain-access-groups: a wildcard group (TEAM.*) becomes the
//     bundle's own group <AppIDPrefix>.<bundle ID>; explicit groups are
//     kept; so are app groups (com.apple.security.application-groups),
//     which a profile lists explicitly;
//   - get-task-allow is true only with a Development profile, and never
//     present for App Store, Ad Hoc or Enterprise;
//   - an iCloud environment given as a list becomes Production (or
//     Development with a Development profile);
//   - any other wildcard value ("*", "TEAM.*") is dropped, since a signed
//     entitlement must be concrete.
//
// Options.Entitlements, when given, replaces the main app's entitlements
// as is, except that get-task-allow is removed for a non-development
// profile.
//
// # Streaming
//
// Entries that do not change are copied raw (compressed bytes, modes,
// times, symlinks and zip64 kept); only Info.plists that change, profiles,
// CodeResources and Mach-O files are rewritten. Files are hashed for
// CodeResources in parallel on every core while the output is written in
// order; binaries are signed as they are inflated (each binary is read
// once, inflated a few MiB ahead on a goroutine of its own). Memory stays
// bounded whatever the size of the archive; nothing is written to disk.
//
// Archives other tools wrote are accepted and written out clean: folder
// entries (zsign stores them as 5-byte deflate streams) become stored,
// empty entries of mode 0755, in their place; files without a Unix mode
// (MS-DOS attributes only) get 0644, 0755 for Mach-O files; a bundle's
// _CodeSignature/ folder entry is kept, just before its CodeResources.
//
// Entry order: every entry of the input is written, folder entries before
// what they hold, and the files copied as they were keep the input's
// order within their folder. Where streaming cannot keep the input's
// order, it does not: bundles are written innermost first (a parent seals
// its nested code's new signatures, so they must exist before its
// CodeResources), a bundle's executable and CodeResources come after its
// other files, and [ResignFile] puts the app's executable last (below).
// Hostile archives are refused before anything is written: unsafe names
// ([ErrUnsafePath]); methods other than stored and deflate, encryption,
// multi-disk records, local headers or data descriptors that disagree
// with the central directory, overlapping entries, counts or sizes beyond
// the limits ([ErrUnsafeArchive]).
//
// Inflating a binary is the one step no second core can share. The app's
// executable, usually the largest file, must be signed last (its
// CodeResources seals the nested code), so [ResignFile], which writes to
// a file, signs it from the start on a core of its own, into a sparse
// region far past the end of the archive, while everything else is
// written; only its signature waits for the rest. Until its code is
// read, the rest's heavy work (hashing files, inflating the other
// binaries, kernel copies) runs on the other cores only: Go shares the
// cores evenly among the goroutines that can run, which left the lane
// half a core while the rest lasted. Once the rest is
// written, the kernel copies what is signed of it into its place as the
// archive's last entry (copy_file_range), where the rest of it is
// written, and the region is cut off. A signed, thin executable is read
// once: the entitlements it was signed with come from its end, where its
// code ends, and its header (which holds the new signature's size) is
// written last. This is done when the binaries are stored (the default);
// the archive's bytes are the same whatever the timing. The executables
// of extensions (and of the other bundles with a profile) are read once
// too when ResignFile writes a file: one that is signed, thin and at most
// 32 MiB is signed aside (in the output file, past any end the archive
// can reach, else in memory), its entitlements fitted from its own
// signature, and written into the archive when its header is final; an
// entitlement its profile does not grant then stops the writing, and the
// output is removed. [Resign], which writes a stream, reads each signed
// executable's entitlements first (one more inflating pass), so that
// nothing is written before every bundle's entitlements check out, and
// signs the app's executable last.
//
// # Compression
//
// Signed binaries and the other rewritten entries are stored by default
// (CompressionLevel 0, [DefaultCompressionLevel]), as zsign does: inside
// deflate entries, as stored blocks, except the app's executable, a zip
// stored entry whose sizes and CRC-32 are in its local header. Re-signing
// then costs little more than reading the IPA once, and the check of the
// output before the rename reads the binaries without inflating them. The
// IPA grows by what its binaries gained from compression: on the 400 MiB
// benchmark IPA (bench/ipa) 1.23 times the input's size; filled with real
// code (the Go compiler's, which deflates 2.6:1), 1.89 times. The App
// Store recompresses what it delivers, so only the upload is larger.
//
// CompressionLevel 1 to 9 deflates the rewritten entries instead, in 1 MiB
// blocks on every core (each without the previous block's dictionary,
// which costs well under 1%): with real code, level 1 gives an output
// 1.07 times the input's size and takes about twice the time of storing;
// level 6 makes binaries 9 to 11% smaller than level 1 and deflates three
// to five times slower; level 9 gains nothing more.
//
// The formats are Apple's (codesign, Technical Note TN2206 and TN3125);
// they were learned from zsign and rcodesign; the code is our own.
package ipa
