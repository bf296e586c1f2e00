package apk

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// ErrV4Malformed is returned by [Verify] when the v4 signature given in
// [VerifyOptions] cannot be read at all (apksigner stops there too).
var ErrV4Malformed = errors.New("apk: malformed v4 signature file")

// v4MaxHeader bounds the hashing and signing info of a .idsig file.
const v4MaxHeader = 1 << 20

// vV4Signature is a parsed .idsig file (apksig's V4Signature).
type vV4Signature struct {
	version                   uint32
	hashAlg                   uint32
	log2Block                 byte
	salt, rootHash            []byte
	apkDigest, cert, addition []byte
	publicKey                 []byte
	sigAlg                    uint32
	sig                       []byte
	// treeOff is where the Merkle tree (length-prefixed) starts.
	treeOff int64
}

// readV4Signature parses the version, hashing info and signing info of
// a .idsig file, and finds the Merkle tree after them.
func readV4Signature(r io.ReaderAt, size int64) (*vV4Signature, error) {
	n := min(size, v4MaxHeader)
	buf := make([]byte, n)
	if _, err := r.ReadAt(buf, 0); err != nil && err != io.EOF {
		return nil, fmt.Errorf("reading the v4 signature: %w", err)
	}
	rd := &vReader{b: buf}
	s := &vV4Signature{version: rd.u32()}
	if rd.err || s.version != v4Version {
		return nil, fmt.Errorf("%w: version %d, want %d", ErrV4Malformed, s.version, v4Version)
	}
	hashing := &vReader{b: rd.prefixed()}
	signing := &vReader{b: rd.prefixed()}
	if rd.err {
		return nil, fmt.Errorf("%w: truncated hashing or signing info", ErrV4Malformed)
	}
	s.treeOff = n - int64(len(rd.b))
	s.hashAlg = hashing.u32()
	if len(hashing.b) > 0 {
		s.log2Block = hashing.b[0]
		hashing.b = hashing.b[1:]
	} else {
		hashing.err = true
	}
	s.salt = hashing.prefixed()
	s.rootHash = hashing.prefixed()
	s.apkDigest = signing.prefixed()
	s.cert = signing.prefixed()
	s.addition = signing.prefixed()
	s.publicKey = signing.prefixed()
	s.sigAlg = signing.u32()
	s.sig = signing.prefixed()
	if hashing.err || signing.err {
		return nil, fmt.Errorf("%w: truncated hashing or signing info", ErrV4Malformed)
	}
	return s, nil
}

// signedData is what the v4 signature signs (apksig's
// V4Signature.getSignedData): the APK's size, the hashing info, the APK
// digest, the certificate and the additional data.
func (s *vV4Signature) signedData(apkSize int64) []byte {
	var body enc
	var sz [8]byte
	binary.LittleEndian.PutUint64(sz[:], uint64(apkSize))
	body.Write(sz[:])
	body.u32(s.hashAlg)
	body.WriteByte(s.log2Block)
	body.lp(s.salt)
	body.lp(s.rootHash)
	body.lp(s.apkDigest)
	body.lp(s.cert)
	body.lp(s.addition)
	var out enc
	out.u32(uint32(4 + body.Len()))
	out.Write(body.Bytes())
	return out.Bytes()
}

// verifyV4 checks the .idsig in sig (size bytes) against the APK, as
// apksig's V4SchemeVerifier and ApkVerifier do: the signature over the
// hashing and signing info, the certificate against the signer of the
// v3 (else v2) block, the APK digest against their content digests, and
// the Merkle root hash against the APK's bytes. Problems go to
// res.V4Errors; as in apksigner they do not change res.Verified.
func (v *vVerifier) verifyV4(sig io.ReaderAt, size, apkSize int64) error {
	res := v.res
	s, err := readV4Signature(sig, size)
	if err != nil {
		return err
	}
	fail := func(format string, args ...any) error {
		res.V4Errors = append(res.V4Errors, fmt.Sprintf(format, args...))
		return nil
	}
	if s.hashAlg != v4HashSHA256 || s.log2Block != v4Log2Block {
		return fail("unsupported v4 hashing: algorithm %d, block size 2^%d", s.hashAlg, s.log2Block)
	}
	alg := vFindSigAlg(s.sigAlg)
	if alg == nil {
		return fail("unknown v4 signature algorithm %#x", s.sigAlg)
	}
	cert, err := vParseCertificateLeniently(s.cert)
	if err != nil {
		return fail("malformed v4 certificate: %v", err)
	}
	pub, err := vParsePublicKey(s.publicKey, alg.key)
	if err != nil {
		return fail("malformed v4 public key: %v", err)
	}
	if !vEqualPublicKey(cert, s.publicKey) {
		return fail("v4 public key does not match the v4 certificate")
	}
	if ok, err := vVerifySignature(alg, pub, s.signedData(apkSize), s.sig); err != nil || !ok {
		return fail("v4 signature over the hashing and signing info did not verify")
	}
	// The signer must be the v3 (else v2) signer, and the APK digest one
	// of their content digests.
	signers := res.V3Signers
	if !res.V3 {
		signers = res.V2Signers
	}
	if !res.V2 && !res.V3 {
		return fail("the APK has no verified v2 or v3 signature for the v4 signature to match")
	}
	if len(signers) != 1 || signers[0].Certificate == nil || !bytes.Equal(signers[0].Certificate.Raw, cert.Raw) {
		return fail("the v4 signer is not the APK's v2/v3 signer")
	}
	match := false
	for _, d := range v.digests {
		if bytes.Equal(d, s.apkDigest) {
			match = true
		}
	}
	if !match {
		return fail("the v4 APK digest does not match the APK's v2/v3 content digest")
	}
	tree, root, err := v.merkleTree(apkSize)
	if err != nil {
		return err
	}
	if !bytes.Equal(root, s.rootHash) {
		return fail("the v4 Merkle tree root hash does not match the APK's bytes")
	}
	// The tree itself, when the file holds all of it: apksig compares it
	// and skips a tree cut short.
	var lenb [4]byte
	if _, err := sig.ReadAt(lenb[:], s.treeOff); err == nil {
		if n := int64(binary.LittleEndian.Uint32(lenb[:])); s.treeOff+4+n <= size {
			got := make([]byte, n)
			if _, err := sig.ReadAt(got, s.treeOff+4); err != nil && err != io.EOF {
				return fmt.Errorf("reading the v4 signature: %w", err)
			}
			if !bytes.Equal(got, tree) {
				return fail("the v4 Merkle tree does not match the APK's bytes")
			}
		}
	}
	res.V4 = true
	return nil
}

// merkleTree returns the fs-verity Merkle tree (4 KiB blocks, no salt)
// of the first size bytes of the APK, and its root hash.
func (v *vVerifier) merkleTree(size int64) (tree, root []byte, err error) {
	var leaves [][]byte
	buf := make([]byte, 1<<20)
	for off := int64(0); off < size; {
		if err := v.ctx.Err(); err != nil {
			return nil, nil, err
		}
		n := min(int64(len(buf)), size-off)
		if _, err := v.r.ReadAt(buf[:n], off); err != nil && err != io.EOF {
			return nil, nil, fmt.Errorf("reading the APK: %w", err)
		}
		for b := buf[:n]; len(b) > 0; {
			var blk [v4BlockSize]byte
			k := copy(blk[:], b)
			sum := sha256.Sum256(blk[:])
			leaves = append(leaves, sum[:])
			b = b[k:]
		}
		off += n
	}
	if len(leaves) == 0 {
		return nil, nil, nil
	}
	tree, root = merkleTree(leaves, nil)
	return tree, root, nil
}
