package signing

import (
	"crypto/cipher"
	"encoding/asn1"
)

// Internals the external tests build hostile files with.
var (
	PKCS12KDF = pkcs12KDF
	BMPString = bmpString
)

// NewRC2 returns an RC2 cipher of key with its length as effective bits.
func NewRC2(key []byte) cipher.Block { return newRC2(key, 8*len(key)) }

// RC2SafeDecrypts reports whether every encrypted content of the PKCS#12
// file decrypts to SafeContents with password.
func RC2SafeDecrypts(data []byte, password string) bool {
	var pfx p12PFX
	if _, err := asn1.Unmarshal(data, &pfx); err != nil {
		return false
	}
	var content []byte
	var safe []p12ContentInfo
	if _, err := asn1.Unmarshal(pfx.AuthSafe.Content.Bytes, &content); err != nil {
		return false
	}
	if _, err := asn1.Unmarshal(content, &safe); err != nil {
		return false
	}
	n := 0
	for _, ci := range safe {
		if !ci.ContentType.Equal(oidEncryptedData) {
			continue
		}
		var ed p12EncryptedData
		if _, err := asn1.Unmarshal(ci.Content.Bytes, &ed); err != nil {
			return false
		}
		plain, err := decryptSafe(&encryptedPrivateKeyInfo{Algo: ed.Info.Algorithm, Data: ed.Info.Content}, []byte(password))
		if err != nil {
			return false
		}
		var bags []p12SafeBag
		if _, err := asn1.Unmarshal(plain, &bags); err != nil || len(bags) == 0 {
			return false
		}
		n++
	}
	return n > 0
}
