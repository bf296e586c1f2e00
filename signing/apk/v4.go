package apk

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/storesign/storesign/signing"
)

// APK Signature Scheme v4 constants (apksig's V4Signature).
const (
	v4Version      = 2
	v4HashSHA256   = 1
	v4Log2Block    = 12 // 4096-byte blocks
	v4DigestLength = sha256.Size
)

// merkleLeaves returns the SHA-256 of salt and each 4 KiB block of b, the
// last one padded with zeros: the bottom level of a Merkle tree (v4's
// has no salt, the verity content digest's has one).
func merkleLeaves(b, salt []byte) [][]byte {
	out := make([][]byte, 0, (len(b)+v4BlockSize-1)/v4BlockSize)
	for len(b) > 0 {
		out = append(out, saltedSum(salt, b[:min(len(b), v4BlockSize)]))
		b = b[min(len(b), v4BlockSize):]
	}
	return out
}

// saltedSum is the SHA-256 of salt and the 4 KiB block b (padded with
// zeros).
func saltedSum(salt, b []byte) []byte {
	if len(salt) == 0 && len(b) == v4BlockSize {
		sum := sha256.Sum256(b)
		return sum[:]
	}
	h := sha256.New()
	h.Write(salt)
	h.Write(b)
	if len(b) < v4BlockSize {
		h.Write(make([]byte, v4BlockSize-len(b)))
	}
	return h.Sum(nil)
}

// padPage pads b with zeros to a multiple of 4096 bytes.
func padPage(b []byte) []byte {
	if r := len(b) % v4BlockSize; r != 0 {
		b = append(b, make([]byte, v4BlockSize-r)...)
	}
	return b
}

// merkleTree builds the fs-verity Merkle tree (v4's has no salt) over the file
// whose 4 KiB block digests are leaves, as apksig's VerityTreeBuilder
// does: levels padded to 4096 bytes, stored top level first. It returns
// the tree and its root hash (the digest of the top level's page).
func merkleTree(leaves [][]byte, salt []byte) (tree, root []byte) {
	level := padPage(bytes.Join(leaves, nil))
	levels := [][]byte{level}
	for n := len(leaves); n*v4DigestLength > v4BlockSize; {
		var next []byte
		for i := 0; i < len(level); i += v4BlockSize {
			next = append(next, saltedSum(salt, level[i:i+v4BlockSize])...)
		}
		n = len(next) / v4DigestLength
		level = padPage(next)
		levels = append(levels, level)
	}
	for i := len(levels) - 1; i >= 0; i-- {
		tree = append(tree, levels[i]...)
	}
	return tree, saltedSum(salt, tree[:v4BlockSize])
}

// v4Signature builds the .idsig file for an APK of fileSize bytes whose
// 4 KiB block digests are leaves, as apksig's V4SchemeSigner writes it:
// version, hashing info, signing info, Merkle tree. The signing info is
// the v3.0 signer's over the v3 content digest (else the v2 signer's over
// the v2 one); with v3.1, a second one of the v3.1 signer follows, in a
// block tagged with the v3.1 block ID. digests are the content digests
// by hash.
func (c *config) v4Signature(leaves [][]byte, fileSize int64, digests map[crypto.Hash][]byte) ([]byte, error) {
	tree, root := merkleTree(leaves, nil)
	var hashing enc
	hashing.u32(v4HashSHA256)
	hashing.WriteByte(v4Log2Block)
	hashing.lp(nil) // salt
	hashing.lp(root)

	id, alg := c.id, c.alg
	if c.v3 && len(c.v30) > 0 {
		id, alg = c.v30[0].id, c.v30[0].alg
	}
	infos, err := c.v4SigningInfo(id, alg, digests, root, fileSize)
	if err != nil {
		return nil, err
	}
	if c.v3 && len(c.v31) > 0 {
		s := c.v31[0]
		info, err := c.v4SigningInfo(s.id, s.alg, digests, root, fileSize)
		if err != nil {
			return nil, err
		}
		var block enc
		block.u32(blockIDSchemeV31).lp(info)
		infos = append(infos, block.Bytes()...)
	}

	var out enc
	out.u32(v4Version)
	out.lp(hashing.Bytes())
	out.lp(infos)
	out.lp(tree)
	return out.Bytes(), nil
}

// v4SigningInfo is one signer's v4 signing info: its content digest
// (the verity one when it has one, as apksig prefers it, though it names
// the signer's own algorithm), its certificate and public key, and its
// signature over the file size, hashing info and those.
func (c *config) v4SigningInfo(id *signing.Identity, alg schemeAlg, digests map[crypto.Hash][]byte, root []byte, fileSize int64) ([]byte, error) {
	apkDigest := digests[alg.hash]
	if _, ok := c.verityAlg(alg); ok {
		apkDigest = digests[verityKey]
	}
	if len(id.Chain) > 0 {
		return nil, errors.New("apk: v4 signing takes a single certificate, and the identity has a chain: sign without v4")
	}
	cert := id.Certificate.Raw
	var body enc
	body.Write(make([]byte, 8)) // file size, below
	body.u32(v4HashSHA256)
	body.WriteByte(v4Log2Block)
	body.lp(nil)
	body.lp(root)
	body.lp(apkDigest)
	body.lp(cert)
	body.lp(nil) // additional data
	var signed enc
	signed.u32(uint32(4 + body.Len()))
	b := body.Bytes()
	for i := range 8 {
		b[i] = byte(uint64(fileSize) >> (8 * i))
	}
	signed.Write(b)
	sig, err := schemeSign(c, id, alg, signed.Bytes())
	if err != nil {
		return nil, fmt.Errorf("v4: %w", err)
	}

	var info enc
	info.lp(apkDigest)
	info.lp(cert)
	info.lp(nil)
	info.lp(id.Certificate.RawSubjectPublicKeyInfo)
	info.u32(alg.id)
	info.lp(sig)
	return info.Bytes(), nil
}
