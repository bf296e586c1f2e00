package signing

import (
	"crypto"
	"crypto/dsa" //nolint:staticcheck // DSA is loaded for verification only.
	"encoding/asn1"
	"errors"
	"math/big"
)

var oidDSA = asn1.ObjectIdentifier{1, 2, 840, 10040, 4, 1}

// parseDSAPKCS8 parses a PKCS#8 DSA private key, which crypto/x509 does not.
func parseDSAPKCS8(der []byte) (crypto.Signer, error) {
	var p8 struct {
		Version int
		Algo    struct {
			Algorithm  asn1.ObjectIdentifier
			Parameters struct{ P, Q, G *big.Int }
		}
		PrivateKey []byte
	}
	if rest, err := asn1.Unmarshal(der, &p8); err != nil || len(rest) != 0 {
		return nil, errors.New("not PKCS#8")
	}
	if !p8.Algo.Algorithm.Equal(oidDSA) {
		return nil, errors.New("not DSA")
	}
	x := new(big.Int)
	if _, err := asn1.Unmarshal(p8.PrivateKey, &x); err != nil {
		return nil, err
	}
	params := dsa.Parameters{P: p8.Algo.Parameters.P, Q: p8.Algo.Parameters.Q, G: p8.Algo.Parameters.G}
	if params.P == nil || params.Q == nil || params.G == nil {
		return nil, errors.New("DSA parameters missing")
	}
	// Bound the exponentiation below: FIPS 186 stops at a 3072-bit P and
	// a 256-bit Q, and x < Q.
	if params.P.Sign() <= 0 || params.Q.Sign() <= 0 || x.Sign() <= 0 ||
		params.P.BitLen() > maxDSABits || params.Q.BitLen() > 512 || x.Cmp(params.Q) >= 0 {
		return nil, errors.New("DSA parameters out of range")
	}
	y := new(big.Int).Exp(params.G, x, params.P)
	return &dsaSigner{dsa.PrivateKey{PublicKey: dsa.PublicKey{Parameters: params, Y: y}, X: x}}, nil
}
