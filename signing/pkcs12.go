package signing

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
)

// Object identifiers of RFC 7292 (PKCS #12) and RFC 5652 (CMS) that the
// PKCS#12 check walks.
var (
	oidData           = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidEncryptedData  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 6}
	oidPBMAC1         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 14}
	oidKeyBag         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 1}
	oidShroudedKeyBag = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 2}
)

// The shapes of RFC 7292 section 4, as far as the check reads them.
type p12PFX struct {
	Version  int
	AuthSafe p12ContentInfo
	MacData  p12MacData `asn1:"optional"`
}

type p12ContentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue `asn1:"tag:0,explicit,optional"`
}

type p12MacData struct {
	Mac struct {
		Algorithm pkix.AlgorithmIdentifier
		Digest    []byte
	}
	MacSalt    []byte
	Iterations int64 `asn1:"optional,default:1"`
}

type p12EncryptedData struct {
	Version int
	Info    struct {
		ContentType asn1.ObjectIdentifier
		Algorithm   pkix.AlgorithmIdentifier
		Content     []byte `asn1:"tag:0,optional"`
	}
}

type p12SafeBag struct {
	ID         asn1.ObjectIdentifier
	Value      asn1.RawValue `asn1:"tag:0,explicit"`
	Attributes asn1.RawValue `asn1:"optional"`
}

// p12Check holds what checking one PKCS#12 file has counted so far.
type p12Check struct {
	password []byte
	work     int64 // key derivation iterations, all derivations together
	bags     int
}

// checkPKCS12 walks a PKCS#12 file before it is decoded and refuses, with
// a *LimitError, one whose key derivations (MAC, encrypted contents,
// shrouded key bags) ask for more than [MaxKDFIterations] iterations each
// or [MaxKDFWork] together, or that holds more than [MaxKeystoreEntries]
// bags. Encrypted contents are decrypted (with bounded work; 3DES, RC2 and
// PBES2 schemes) to check the key bags inside them too (nested
// SafeContents bags, which the decoder skips, are skipped too); contents
// it cannot decrypt (a wrong password, which the decoder's MAC check then
// refuses, or RC4) are left to the decoder.
//
// Structures it does not understand are not its business: it returns nil
// and lets the decoder say what is wrong.
func checkPKCS12(data []byte, password string) error {
	var pfx p12PFX
	if rest, err := asn1.Unmarshal(data, &pfx); err != nil || len(rest) != 0 || !pfx.AuthSafe.ContentType.Equal(oidData) {
		return nil
	}
	c := &p12Check{password: []byte(password)}
	fix := "re-export it with fewer (openssl pkcs12 -export -iter 2048 -maciter 2048, or Keychain Access)"
	if alg := pfx.MacData.Mac.Algorithm.Algorithm; len(alg) != 0 {
		var n int64
		if alg.Equal(oidPBMAC1) {
			var p struct {
				KDF    pkix.AlgorithmIdentifier
				MacAlg pkix.AlgorithmIdentifier
			}
			if rest, err := asn1.Unmarshal(pfx.MacData.Mac.Algorithm.Parameters.FullBytes, &p); err != nil || len(rest) != 0 {
				return nil
			}
			var kp pbkdf2Params
			if rest, err := asn1.Unmarshal(p.KDF.Parameters.FullBytes, &kp); err != nil || len(rest) != 0 {
				return nil
			}
			n = kp.Iterations
		} else {
			n = pfx.MacData.Iterations
		}
		if n > MaxKDFIterations {
			return iterationsError("PKCS#12 MAC", n, fix)
		}
		// The decoder tries an empty password twice (as "" and as no
		// bytes at all).
		tries := int64(1)
		if password == "" {
			tries = 2
		}
		if err := c.spend(n*tries, fix); err != nil {
			return err
		}
	}
	var content []byte
	if rest, err := asn1.Unmarshal(pfx.AuthSafe.Content.Bytes, &content); err != nil || len(rest) != 0 {
		return nil
	}
	var safe []p12ContentInfo
	if rest, err := asn1.Unmarshal(content, &safe); err != nil || len(rest) != 0 {
		return nil
	}
	if len(safe) > MaxKeystoreEntries {
		return fmt.Errorf("signing: %w", &LimitError{What: "parts of the PKCS#12 file", Value: int64(len(safe)), Limit: MaxKeystoreEntries, Fix: "check that it is the right file"})
	}
	for _, ci := range safe {
		var bags []byte
		switch {
		case ci.ContentType.Equal(oidData):
			if rest, err := asn1.Unmarshal(ci.Content.Bytes, &bags); err != nil || len(rest) != 0 {
				return nil
			}
		case ci.ContentType.Equal(oidEncryptedData):
			var ed p12EncryptedData
			if rest, err := asn1.Unmarshal(ci.Content.Bytes, &ed); err != nil || len(rest) != 0 {
				return nil
			}
			info := &encryptedPrivateKeyInfo{Algo: ed.Info.Algorithm, Data: ed.Info.Content}
			if err := c.checkAlgorithm(info.Algo, "PKCS#12 encrypted content", fix); err != nil {
				return err
			}
			plain, err := decryptSafe(info, c.password)
			if err != nil {
				continue // the decoder will say why, if it gets that far
			}
			bags = plain
		default:
			continue
		}
		if err := c.checkBags(bags, fix); err != nil {
			return err
		}
	}
	return nil
}

// decryptSafe decrypts an encrypted SafeContents: as a PKCS#8 key is
// decrypted, and with RC2 as legacy files encrypt their certificates. An
// empty password is tried both ways the decoder tries it (two zero bytes,
// and no bytes).
func decryptSafe(info *encryptedPrivateKeyInfo, password []byte) ([]byte, error) {
	plain, err := decryptSafeBMP(info, password, bmpString(password))
	if err != nil && len(password) == 0 {
		return decryptSafeBMP(info, password, nil)
	}
	return plain, err
}

func decryptSafeBMP(info *encryptedPrivateKeyInfo, password, bmp []byte) ([]byte, error) {
	alg := info.Algo.Algorithm
	if len(alg) == len(oidPKCS12)+1 && alg[:len(oidPKCS12)].Equal(oidPKCS12) {
		keyBytes := map[int]int{5: 16, 6: 5}[alg[len(oidPKCS12)]]
		if keyBytes != 0 {
			p, err := parsePBEParams(info.Algo.Parameters.FullBytes, "RC2")
			if err != nil {
				return nil, err
			}
			return decryptPKCS12RC2(p, keyBytes, info.Data, bmp)
		}
	}
	return decryptPKCS8BMP(info, password, bmp)
}

// checkBags checks the bags of one SafeContents.
func (c *p12Check) checkBags(der []byte, fix string) error {
	var bags []p12SafeBag
	if rest, err := asn1.Unmarshal(der, &bags); err != nil || len(rest) != 0 {
		return nil
	}
	c.bags += len(bags)
	if c.bags > MaxKeystoreEntries {
		return fmt.Errorf("signing: %w", &LimitError{What: "entries of the PKCS#12 file", Value: int64(c.bags), Limit: MaxKeystoreEntries, Fix: "check that it is the right file"})
	}
	for _, b := range bags {
		switch {
		case b.ID.Equal(oidKeyBag):
			if n := len(b.Value.Bytes); n > maxKeyDER {
				return fmt.Errorf("signing: %w", &LimitError{What: "size of the PKCS#12 private key (bytes)", Value: int64(n), Limit: maxKeyDER, Fix: "check that it is the right file (a 16384-bit RSA key takes 10 KiB)"})
			}
		case b.ID.Equal(oidShroudedKeyBag):
			info, ok := parseEncryptedInfo(b.Value.Bytes)
			if !ok {
				continue
			}
			if err := checkEncryptedKeySize(info); err != nil {
				return err
			}
			if err := c.checkAlgorithm(info.Algo, "PKCS#12 private key encryption", fix); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkAlgorithm checks the key derivation of a password-based encryption
// algorithm and adds its iterations to the work.
func (c *p12Check) checkAlgorithm(alg pkix.AlgorithmIdentifier, what, fix string) error {
	var n, derivations int64
	switch {
	case alg.Algorithm.Equal(oidPBES2):
		var p pbes2Params
		if rest, err := asn1.Unmarshal(alg.Parameters.FullBytes, &p); err != nil || len(rest) != 0 {
			return nil
		}
		if !p.KDF.Algorithm.Equal(oidPBKDF2) {
			return nil // scrypt and others: checked when decrypted
		}
		var kp pbkdf2Params
		if rest, err := asn1.Unmarshal(p.KDF.Parameters.FullBytes, &kp); err != nil || len(rest) != 0 {
			return nil
		}
		n, derivations = kp.Iterations, 2 // up to 32 bytes of key from a 20-byte hash
	case alg.Algorithm.Equal(oidPBESHA1), alg.Algorithm.Equal(oidPBEMD5),
		len(alg.Algorithm) == len(oidPKCS12)+1 && alg.Algorithm[:len(oidPKCS12)].Equal(oidPKCS12):
		var p pbeParams
		if rest, err := asn1.Unmarshal(alg.Parameters.FullBytes, &p); err != nil || len(rest) != 0 {
			return nil
		}
		n, derivations = p.Iterations, 3 // key (up to two blocks) and IV
	default:
		return nil
	}
	if n > MaxKDFIterations {
		return iterationsError(what, n, fix)
	}
	return c.spend(n*derivations, fix)
}

// spend adds n iterations to the work of opening the file.
func (c *p12Check) spend(n int64, fix string) error {
	if n < 0 {
		return nil
	}
	c.work += n // both at most a few times MaxKDFIterations: no overflow
	if c.work > MaxKDFWork {
		return fmt.Errorf("signing: %w", &LimitError{What: "key derivation iterations of the PKCS#12 file, all parts together", Value: c.work, Limit: MaxKDFWork, Fix: fix})
	}
	return nil
}
