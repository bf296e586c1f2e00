// Package signingtest makes throwaway signing material for tests: RSA and
// ECDSA keys derived from a name (the same name gives the same key, so test
// outputs are reproducible), certificate authorities, Android-style
// self-signed identities, Apple-style distribution identities under a fake
// Apple root, and PKCS#12 and JKS encoders.
//
// Nothing here is secret or fit for production: every key can be derived by
// anyone who reads this package.
package signingtest
