package signing

import (
	"crypto"
	"crypto/dsa" //nolint:staticcheck // DSA is loaded for verification only.
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"strconv"

	"github.com/storesign/storesign/internal/atomicfile"
	"github.com/storesign/storesign/internal/limits"
)

// LimitError reports an input that asks for more than storesign allows: a
// key file too large, a key derivation with too many iterations, too many
// entries. Every storesign package returns this same type (it is
// internal/limits.Error), so that callers tell "too big for storesign" from
// "damaged" with errors.As, or errors.Is(err, [ErrLimit]).
type LimitError = limits.Error

// ErrLimit matches every *[LimitError] with errors.Is.
var ErrLimit = limits.ErrExceeded

// NotRegularError reports an input that is not a regular file (a folder, a
// FIFO, a device), refused before it is read: every storesign function
// that opens a file returns this same type.
type NotRegularError = atomicfile.NotRegularError

// The limits of the key and keystore readers. Each is well above what real
// tools write, and low enough that a hostile file is refused at once
// instead of hanging the tool or exhausting memory.
const (
	// MaxKeyInput is the most bytes a keystore, PKCS#12 file, key or
	// certificate file may hold: a keystore of a few keys and chains is a
	// few KiB.
	MaxKeyInput = atomicfile.MaxKeyFile
	// MaxKDFIterations is the most iterations one password-based key
	// derivation may ask for (PKCS#12 MAC or encryption, PKCS#8 PBES1,
	// PBES2/PBKDF2). Tools write 1 to 600,000: openssl 2048, Java keytool
	// 10,000 (100,000 for the MAC before JDK 11.0.12 / 17), Keychain
	// Access 2048, Bouncy Castle 600,000 (which itself reads at most
	// 5,000,000, as here).
	MaxKDFIterations = 5_000_000
	// MaxKDFWork bounds the iterations of all the key derivations that
	// opening one file takes (a PKCS#12 MAC, then each encrypted part), a
	// few seconds of work.
	MaxKDFWork = 16_000_000
	// MaxKeystoreEntries is the most entries (keys and certificates) a
	// JKS keystore or PKCS#12 file may hold.
	MaxKeystoreEntries = 1024
	// MaxChainLength is the most certificates one key's chain may hold.
	MaxChainLength = 64
	// MaxRSABits is the largest RSA key (modulus bits) loaded: checking a
	// signature with a 200,000-bit key takes seconds. Real keys are 2048
	// to 4096 bits; 16384 is also Java's and OpenSSL's bound.
	MaxRSABits = 16384
	// maxDSABits is the largest DSA prime loaded (FIPS 186 stops at 3072).
	maxDSABits = 4096
	// maxKeyDER is the most bytes of one unencrypted private key (DER): a
	// 16384-bit RSA key is about 9.5 KiB.
	maxKeyDER = 32 << 10
)

// checkSize refuses key material larger than MaxKeyInput.
func checkSize(what string, data []byte) error {
	if len(data) > MaxKeyInput {
		return fmt.Errorf("signing: %w", &LimitError{What: "size of the " + what + " (bytes)", Value: int64(len(data)), Limit: MaxKeyInput, Fix: "check that it is the right file"})
	}
	return nil
}

// checkCertificates refuses more certificates than a chain may hold and
// public keys larger than storesign checks signatures with.
func checkCertificates(certs []*x509.Certificate) error {
	if len(certs) > MaxChainLength+1 {
		return fmt.Errorf("signing: %w", &LimitError{What: "certificates in the chain", Value: int64(len(certs)), Limit: MaxChainLength + 1, Fix: "keep only the leaf certificate and those that issued it"})
	}
	for _, c := range certs {
		if err := checkPublicKeySize(c.PublicKey, "certificate "+strconv.Quote(c.Subject.CommonName)); err != nil {
			return err
		}
	}
	return nil
}

// checkPublicKeySize refuses RSA and DSA keys too large to use in bounded
// time; what names the key in the error.
func checkPublicKeySize(pub crypto.PublicKey, what string) error {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if n := k.N.BitLen(); n > MaxRSABits {
			return fmt.Errorf("signing: %w", &LimitError{What: "RSA key size of the " + what + " (bits)", Value: int64(n), Limit: MaxRSABits, Fix: "use a key of 2048 to 4096 bits"})
		}
	case *dsa.PublicKey:
		if n := k.P.BitLen(); n > maxDSABits {
			return fmt.Errorf("signing: %w", &LimitError{What: "DSA key size of the " + what + " (bits)", Value: int64(n), Limit: maxDSABits, Fix: "use an RSA or EC key"})
		}
	}
	return nil
}

// iterationsError is the error for a key derivation that asks for more
// iterations than allowed; fix says how to write the file again.
func iterationsError(what string, n int64, fix string) error {
	return fmt.Errorf("signing: %w", &LimitError{What: "key derivation iterations of the " + what, Value: n, Limit: MaxKDFIterations, Fix: fix})
}
