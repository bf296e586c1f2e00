// Package ipa re-signs iOS app archives (.ipa) for App Store, Ad Hoc or
// Enterprise distribution, and verifies them, on any OS and without
// extracting them.
//
// Start with [Resign] (or [ResignFile]), which reads an IPA through an
// io.ReaderAt and writes the re-signed IPA to an io.Writer, and [Verify] /
// [Inspect], which check an IPA the way the device does and report what
// `codesign -dvvv` shows for each bundle.
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
// profile and no entitlements, as with Xcode.
//
// Info.plist edits keep the file's form (binary or XML): Options.BundleID
// replaces the app's ID and, by prefix, the IDs of nested bundles and the
// references to them (WKCompanionAppBundleIdentifier,
// WKAppBundleIdentifier, NSExtension attributes); ShortVersion and
// BundleVersion are set on the app and its extensions (App Store Connect
// requires them to agree); DisplayName on the app only.
//
// _CodeSignature/CodeResources is written as Xcode's codesign writes it
// for iOS: "files" (SHA-1, v1 rules), "files2" (SHA-1 and SHA-256, v2
// rules), symlinks as symlinks, "rules" and "rules2". Xcode's iOS rule
// set has no "nested" rule, so a parent seals its frameworks, extensions
// and dylibs file by file (their signed executables and CodeResources
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
// block's length, the entry's CRC-32 and size, and hashes the bytes for
// the parent's seal in the same pass as their page hashes are checked;
// the cdhashes read back must be the ones Resign signed.
//
// # Entitlements policy
//
// Unless Options.Entitlements is given (it then replaces the main app's
// entitlements as is, except that get-task-allow is removed for a
// non-development profile), each app and extension is signed with its
// profile's entitlements fitted to the bundle:
//
//   - application-identifier is <AppIDPrefix>.<bundle ID>, also when the
//     profile is a wildcard; com.apple.developer.team-identifier is the
//     profile's team;
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
// # Streaming
//
// Entries that do not change are copied raw (compressed bytes, modes,
// times, symlinks and zip64 kept); only Info.plists that change, profiles,
// CodeResources and Mach-O files are rewritten. Files are hashed for
// CodeResources in parallel on every core while the output is written in
// order; binaries are signed as they are inflated (each binary is read
// once), and what is written is deflated in 1 MiB blocks on every core.
// Memory stays bounded whatever the size of the archive; nothing is
// written to disk.
//
// # Compression
//
// Rewritten entries are deflated at level 1 ([DefaultCompressionLevel])
// unless Options.CompressionLevel says otherwise. Signed binaries are most
// of what an app's bytes are, so this level sets both the time Resign
// takes and the size of the result. Measured on real arm64 and x86-64
// code, level 6 deflates three to five times slower than level 1 and
// makes binaries 9 to 11% smaller; level 9 gains nothing more. On the
// 400 MB benchmark IPA (bench/ipa, whose synthetic code compresses
// poorly), level 6 costs 60% more CPU for the whole re-signing and gives
// a 3% larger output; filled with real code instead, 75% more CPU and
// time for a 5% smaller IPA. The App Store recompresses what it delivers, so the
// upload size is all that level 1 costs; pass 6 when that matters more
// than time. Each 1 MiB block is compressed without the previous block's
// dictionary, which costs well under 1%.
//
// The formats are Apple's (codesign, Technical Note TN2206 and TN3125);
// they were learned from zsign and rcodesign; the code is our own.
package ipa
