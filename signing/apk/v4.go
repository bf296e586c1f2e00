package apk

import "crypto/sha256"

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
