// Package signing holds what every signer in storesign shares: an [Identity]
// (a certificate chain and the [crypto.Signer] for its leaf), loaded from the
// containers publishers keep their keys in, and the password syntax of
// apksigner.
//
// Start with [LoadKeystore] for Android keystores (JKS or PKCS#12, detected
// from the bytes), [LoadPKCS12] for an Apple .p12, or [LoadKeyAndCertificate]
// for a PKCS#8 key and an X.509 certificate in DER or PEM
// ([LoadKeyAndCertificateWithPassword] when the key is encrypted, as
// openssl pkcs8 -topk8 writes it; see [ParseEncryptedPrivateKey]).
// Passwords are given as [ReadPassword] specs: "pass:secret", "env:VAR"
// or "file:PATH".
//
// RSA and ECDSA (P-256, P-384, P-521) keys sign. DSA keys load, so that old
// signatures can be verified, but are refused for signing with
// [ErrUnsupportedKey].
//
// No function here logs, and no error message contains a password or key
// material; [ReadPassword] does not even name the variable or file of an
// env: or file: spec, in case the password was typed in its place.
//
// # Hostile input
//
// Keystores and keys may come from anywhere, so every reader is bounded:
// at most [MaxKeyInput] bytes per file, [MaxKDFIterations] iterations per
// password-based key derivation and [MaxKDFWork] for all those of one
// file, [MaxKeystoreEntries] entries, [MaxChainLength] certificates above
// a leaf, RSA keys of at most [MaxRSABits] bits. A PKCS#12 file is walked
// before it is decoded (its MAC, each encrypted content, each shrouded key
// bag, including those inside encrypted contents, which are decrypted with
// bounded work first), so that a file asking for 2^31 iterations is
// refused at once rather than after hours. An input over a limit fails
// with a *[LimitError] (errors.Is(err, [ErrLimit])), the same type every
// storesign package uses, which says what to do.
package signing
