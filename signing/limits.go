package signing

import (
	"fmt"

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

// The limits of the key and keystore readers. Each is well above what real
// tools write, and low enough that a hostile file is refused at once
// instead of hanging the tool or exhausting memory.
const (
	// MaxKeyInput is the most bytes a keystore, PKCS#12 file, key or
	// certificate file may hold: a keystore of a few keys and chains is a
	// few KiB.
	MaxKeyInput = 4 << 20
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
)

// checkSize refuses key material larger than MaxKeyInput.
func checkSize(what string, data []byte) error {
	if len(data) > MaxKeyInput {
		return fmt.Errorf("signing: %w", &LimitError{What: "size of the " + what + " (bytes)", Value: int64(len(data)), Limit: MaxKeyInput, Fix: "check that it is the right file"})
	}
	return nil
}

// iterationsError is the error for a key derivation that asks for more
// iterations than allowed; fix says how to write the file again.
func iterationsError(what string, n int64, fix string) error {
	return fmt.Errorf("signing: %w", &LimitError{What: what + " key derivation iterations", Value: n, Limit: MaxKDFIterations, Fix: fix})
}
