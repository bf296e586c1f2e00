// Package cms writes and reads the CMS (PKCS#7) SignedData signatures of
// all three signers: JAR signature blocks (APK v1 as apksigner 35 writes
// them, AAB as jarsigner 17 does) and Apple code signatures (as codesign
// writes them). One encoder, [Sign], and one parser, [Parse], with
// options for where the reference tools differ; [SignedData.Verify]
// checks a signer over its signed attributes exactly as stored.
//
// The format is RFC 5652 (CMS) and RFC 2315 (PKCS#7 1.5). What each
// reference tool writes, all detached, with the digest algorithm's
// parameters NULL and the certificates in DER SET OF order:
//
//	                     apksigner 35    jarsigner 17        codesign (2023)
//	signatureAlgorithm   rsaEncryption   sha256WithRSA       sha256WithRSA
//	                     id-ecPublicKey  ecdsa-with-SHA256   ecdsa-with-SHA256
//	                     (NULL params)   (NULL for RSA)      (NULL for RSA)
//	signed attributes    none            contentType,        contentType,
//	                                     signingTime,        signingTime,
//	                                     algProtection,      messageDigest,
//	                                     messageDigest       cdhashes (9.1, 9.2)
//	encoding             DER             DER                 BER: indefinite
//	                                                         lengths on the four
//	                                                         outer layers
//
// Attributes are in DER order, and so are the values of each attribute.
// codesign of 2020 stored the two values of Apple's
// 1.2.840.113635.100.9.2 attribute in neither DER nor CodeDirectory
// order, and named rsaEncryption; current codesign and the App Store
// write them in DER order (for the SHA-1 + SHA-256 pair, also
// CodeDirectory order) and name sha256WithRSAEncryption. So the parser
// keeps the stored bytes and verification never re-encodes them. The
// App Store's signatures carry no signingTime. These facts were read from
// Apple-signed apps of 2015, 2020 and 2023 and an App Store dylib (see
// the tests); the ECDSA naming (ecdsa-with-SHA256, no parameters) is
// rcodesign's, as no EC-signed Apple binary was at hand.
//
// [Parse] reads BER and DER under [Limits] (size, counts, nesting) and
// fails with [ErrMalformed] or a [*LimitError] (internal/limits' error,
// which also matches ErrMalformed); it never panics on any
// input (FuzzParse).
package cms
