package signingtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"io"
	"math/big"
	"math/rand/v2"
	"sync"
)

// Reader returns a deterministic stream of bytes derived from seed, for the
// rand arguments of encoders that want one.
func Reader(seed string) io.Reader {
	return rand.NewChaCha8(sha256.Sum256([]byte("storesign signingtest " + seed)))
}

var keyCache sync.Map // "rsa/bits/name" or "ec/curve/name" -> key

// RSAKey returns the RSA key of the given size derived from name.
func RSAKey(name string, bits int) *rsa.PrivateKey {
	ck := fmt.Sprintf("rsa/%d/%s", bits, name)
	if k, ok := keyCache.Load(ck); ok {
		return k.(*rsa.PrivateKey)
	}
	r := Reader(ck)
	e := big.NewInt(65537)
	one := big.NewInt(1)
	for {
		p := prime(r, bits-bits/2)
		q := prime(r, bits/2)
		if p.Cmp(q) == 0 {
			continue
		}
		n := new(big.Int).Mul(p, q)
		if n.BitLen() != bits {
			continue
		}
		pm1 := new(big.Int).Sub(p, one)
		qm1 := new(big.Int).Sub(q, one)
		phi := new(big.Int).Mul(pm1, qm1)
		d := new(big.Int).ModInverse(e, phi)
		if d == nil {
			continue
		}
		key := &rsa.PrivateKey{
			PublicKey: rsa.PublicKey{N: n, E: 65537},
			D:         d,
			Primes:    []*big.Int{p, q},
		}
		key.Precompute()
		if err := key.Validate(); err != nil {
			continue
		}
		k, _ := keyCache.LoadOrStore(ck, key)
		return k.(*rsa.PrivateKey)
	}
}

func prime(r io.Reader, bits int) *big.Int {
	buf := make([]byte, (bits+7)/8)
	for {
		if _, err := io.ReadFull(r, buf); err != nil {
			panic(err)
		}
		if extra := uint(len(buf)*8 - bits); extra > 0 {
			buf[0] &= byte(0xff >> extra)
		}
		p := new(big.Int).SetBytes(buf)
		p.SetBit(p, bits-1, 1)
		p.SetBit(p, bits-2, 1)
		p.SetBit(p, 0, 1)
		for i := 0; i < 1<<16; i += 2 {
			if p.ProbablyPrime(20) {
				return p
			}
			p.Add(p, big.NewInt(2))
		}
	}
}

// ECKey returns the ECDSA key on curve (P-256, P-384 or P-521) derived
// from name.
func ECKey(name string, curve elliptic.Curve) *ecdsa.PrivateKey {
	ck := fmt.Sprintf("ec/%s/%s", curve.Params().Name, name)
	if k, ok := keyCache.Load(ck); ok {
		return k.(*ecdsa.PrivateKey)
	}
	r := Reader(ck)
	size := (curve.Params().BitSize + 7) / 8
	buf := make([]byte, size+8)
	if _, err := io.ReadFull(r, buf); err != nil {
		panic(err)
	}
	nm1 := new(big.Int).Sub(curve.Params().N, big.NewInt(1))
	d := new(big.Int).Mod(new(big.Int).SetBytes(buf), nm1)
	d.Add(d, big.NewInt(1))
	key, err := ecdsa.ParseRawPrivateKey(curve, d.FillBytes(make([]byte, size)))
	if err != nil {
		panic(err)
	}
	k, _ := keyCache.LoadOrStore(ck, key)
	return k.(*ecdsa.PrivateKey)
}
