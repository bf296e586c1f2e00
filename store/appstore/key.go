package appstore

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Audience is the "aud" claim of every App Store Connect API token.
const Audience = "appstoreconnect-v1"

// MaxTokenLifetime is the longest a token may live: App Store Connect
// refuses tokens whose exp is more than 20 minutes after iat.
const MaxTokenLifetime = 20 * time.Minute

// Key is an App Store Connect API key: the private key of the .p8 file
// Apple lets you download once (Users and Access > Integrations), its
// key ID and the team's issuer ID. Its private key is never printed:
// String, GoString and LogValue redact it, and it has no exported field
// that holds it.
type Key struct {
	// ID is the key ID (10 characters, the XXXX of AuthKey_XXXX.p8).
	ID string
	// IssuerID is the issuer ID shown above the keys (a UUID).
	IssuerID string
	priv     *ecdsa.PrivateKey
}

// NewKey returns a Key for a P-256 private key (tests, keys held in a
// KMS-like store already decoded).
func NewKey(priv *ecdsa.PrivateKey, keyID, issuerID string) (*Key, error) {
	if priv == nil || priv.Curve != elliptic.P256() {
		return nil, fmt.Errorf("%w: not a P-256 key", ErrBadKey)
	}
	if keyID == "" || issuerID == "" {
		return nil, fmt.Errorf("%w: the key ID and the issuer ID are both needed", ErrBadKey)
	}
	return &Key{ID: keyID, IssuerID: issuerID, priv: priv}, nil
}

// ParseKey reads a .p8 key: a PEM "PRIVATE KEY" block (PKCS#8) holding a
// P-256 EC key, or the same DER bytes, or the base64 of either (as kept
// in a CI secret; line breaks allowed).
func ParseKey(p8 []byte, keyID, issuerID string) (*Key, error) {
	der := p8
	if block, _ := pem.Decode(p8); block != nil {
		der = block.Bytes
	} else if b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(p8)), "")); err == nil {
		if block, _ := pem.Decode(b); block != nil {
			der = block.Bytes
		} else {
			der = b
		}
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		// Never wrap the parser's error: it may quote key bytes.
		return nil, fmt.Errorf("%w: not PKCS#8", ErrBadKey)
	}
	ec, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%w: a %T, not an EC key", ErrBadKey, k)
	}
	return NewKey(ec, keyID, issuerID)
}

// ParseKeyFile reads the .p8 file at name. An empty keyID is taken from
// a file name of the form AuthKey_<ID>.p8.
func ParseKeyFile(name, keyID, issuerID string) (*Key, error) {
	if keyID == "" {
		base := filepath.Base(name)
		if id, ok := strings.CutPrefix(strings.TrimSuffix(base, ".p8"), "AuthKey_"); ok && strings.HasSuffix(base, ".p8") {
			keyID = id
		}
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("reading the API key: %w", err)
	}
	return ParseKey(b, keyID, issuerID)
}

// Public returns the key's public half, which is no secret.
func (k *Key) Public() *ecdsa.PublicKey { return &k.priv.PublicKey }

// String describes the key without its private part.
func (k *Key) String() string {
	if k == nil {
		return "appstore.Key(nil)"
	}
	return fmt.Sprintf("appstore.Key{ID: %s, IssuerID: %s, private key: redacted}", k.ID, k.IssuerID)
}

// GoString is String, so that %#v does not print the private key.
func (k *Key) GoString() string { return k.String() }

// LogValue logs the key IDs only.
func (k *Key) LogValue() slog.Value {
	if k == nil {
		return slog.StringValue("nil")
	}
	return slog.GroupValue(slog.String("id", k.ID), slog.String("issuer", k.IssuerID))
}

// MarshalJSON writes the key IDs only.
func (k *Key) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]string{"id": k.ID, "issuer_id": k.IssuerID})
}

// Token returns a signed API token (JWT, ES256) issued at now and valid
// for lifetime, at most [MaxTokenLifetime].
func (k *Key) Token(now time.Time, lifetime time.Duration) (string, error) {
	if lifetime <= 0 || lifetime > MaxTokenLifetime {
		lifetime = MaxTokenLifetime
	}
	header, _ := json.Marshal(map[string]string{"alg": "ES256", "kid": k.ID, "typ": "JWT"})
	claims, _ := json.Marshal(map[string]any{
		"iss": k.IssuerID,
		"iat": now.Unix(),
		"exp": now.Add(lifetime).Unix(),
		"aud": Audience,
	})
	enc := base64.RawURLEncoding
	input := enc.EncodeToString(header) + "." + enc.EncodeToString(claims)
	sum := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, k.priv, sum[:])
	if err != nil {
		return "", fmt.Errorf("signing the API token: %w", err)
	}
	// JWS wants r||s, each 32 bytes big-endian, not DER.
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return input + "." + enc.EncodeToString(sig), nil
}
