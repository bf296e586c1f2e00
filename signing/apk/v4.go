package apk

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
)

// APK Signature Scheme v4 constants (apksig's V4Signature).
const (
	v4Version      = 2
	v4HashSHA256   = 1
	v4Log2Block    = 12 // 4096-byte blocks
	v4DigestLength = sha256.Size
)

// merkleLeaves returns the SHA-256 of each 4 KiB block of b, the last one
// padded with zeros: the bottom level of the v4 Merkle tree.
func merkleLeaves(b []byte) [][]byte {
	out := make([][]byte, 0, (len(b)+v4BlockSize-1)/v4BlockSize)
	for len(b) > 0 {
		var sum [32]byte
		if len(b) >= v4BlockSize {
			sum = sha256.Sum256(b[:v4BlockSize])
			b = b[v4BlockSize:]
		} else {
			var blk [v4BlockSize]byte
			copy(blk[:], b)
			sum = sha256.Sum256(blk[:])
			b = nil
		}
		out = append(out, sum[:])
	}
	return out
}

// padPage pads b with zeros to a multiple of 4096 bytes.
func padPage(b []byte) []byte {
	if r := len(b) % v4BlockSize; r != 0 {
		b = append(b, make([]byte, v4BlockSize-r)...)
	}
	return b
}

// merkleTree builds the fs-verity Merkle tree (no salt) over the file
// whose 4 KiB block digests are leaves, as apksig's VerityTreeBuilder
// does: levels padded to 4096 bytes, stored top level first. It returns
// the tree and its root hash (the digest of the top level's page).
func merkleTree(leaves [][]byte) (tree, root []byte) {
	level := padPage(bytes.Join(leaves, nil))
	levels := [][]byte{level}
	for n := len(leaves); n*v4DigestLength > v4BlockSize; {
		var next []byte
		for i := 0; i < len(level); i += v4BlockSize {
			sum := sha256.Sum256(level[i : i+v4BlockSize])
			next = append(next, sum[:]...)
		}
		n = len(next) / v4DigestLength
		level = padPage(next)
		levels = append(levels, level)
	}
	for i := len(levels) - 1; i >= 0; i-- {
		tree = append(tree, levels[i]...)
	}
	sum := sha256.Sum256(tree[:v4BlockSize])
	return tree, sum[:]
}

// v4Signature builds the .idsig file for an APK of fileSize bytes whose
// 4 KiB block digests are leaves and whose v3 (else v2) content digest is
// apkDigest, as apksig's V4SchemeSigner writes it: version, hashing info,
// signing info, Merkle tree.
func (c *config) v4Signature(leaves [][]byte, fileSize int64, apkDigest []byte) ([]byte, error) {
	if len(c.id.Chain) > 0 {
		return nil, errors.New("apk: v4 signing takes a single certificate, and the identity has a chain: sign without v4")
	}
	tree, root := merkleTree(leaves)
	var hashing enc
	hashing.u32(v4HashSHA256)
	hashing.WriteByte(v4Log2Block)
	hashing.lp(nil) // salt
	hashing.lp(root)

	cert := c.id.Certificate.Raw
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
	sig, err := schemeSign(c, c.id, c.alg, signed.Bytes())
	if err != nil {
		return nil, fmt.Errorf("v4: %w", err)
	}

	var signing enc
	signing.lp(apkDigest)
	signing.lp(cert)
	signing.lp(nil)
	signing.lp(c.id.Certificate.RawSubjectPublicKeyInfo)
	signing.u32(c.alg.id)
	signing.lp(sig)

	var out enc
	out.u32(v4Version)
	out.lp(hashing.Bytes())
	out.lp(signing.Bytes())
	out.lp(tree)
	return out.Bytes(), nil
}
