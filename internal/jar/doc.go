// Package jar holds the building blocks of JAR signing, shared by APK v1
// signatures and Android App Bundle signatures: manifests and signature
// files ([Manifest], [ParseManifest], [BuildSignatureFile]) and PKCS#7
// signature blocks ([SignPKCS7], [ParsePKCS7]).
//
// It follows the JAR File Specification ("Signed JAR File") and matches
// the bytes java.util.jar and jarsigner 17 write: CRLF line ends, lines
// wrapped at 72 bytes, sections in java.util.HashMap order
// ([HashMapOrder]), and the signed attributes jarsigner puts in its
// signature blocks. apksigner's variant (no signed attributes, key
// algorithm OIDs, no main-attributes digest) is selected by options.
// The PKCS#7 encoding and parsing are internal/cms's, shared with the
// APK verifier and the Mach-O signer.
//
// The package only builds and checks the pieces; walking an archive is
// the job of signing/aab and signing/apk.
package jar
