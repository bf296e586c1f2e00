package apk

import (
	"bytes"
	"encoding/binary"
	"io"
)

// IDs of APK Signing Block entries the signer writes.
const (
	blockIDSchemeV2 = 0x7109871a
	blockIDSchemeV3 = 0xf05368c0
	// blockIDPadding is apksig's VERITY_PADDING_BLOCK_ID, the entry
	// that pads the block to a multiple of 4096 bytes.
	blockIDPadding = 0x42726577
	// attrStrippingProtection in a v2 signer names the newer schemes
	// the APK was also signed with.
	attrStrippingProtection = 0xbeeff00d
)

// signingBlockMagic ends an APK Signing Block.
const signingBlockMagic = "APK Sig Block 42"

// pageAlignment is the alignment of the APK Signing Block.
const pageAlignment = 4096

// findSigningBlock locates an APK Signing Block that ends at cdOffset, as
// apksig's findApkSigningBlock does, and returns its start. It reports
// false when there is none (or what is there is not a well-formed one).
func findSigningBlock(r io.ReaderAt, cdOffset int64) (int64, bool) {
	if cdOffset < 32 {
		return 0, false
	}
	var footer [24]byte
	if _, err := r.ReadAt(footer[:], cdOffset-24); err != nil {
		return 0, false
	}
	if string(footer[8:]) != signingBlockMagic {
		return 0, false
	}
	size := binary.LittleEndian.Uint64(footer[:8])
	if size < 24 || size > 0x7fffffff-8 {
		return 0, false
	}
	start := cdOffset - int64(size) - 8
	if start < 0 {
		return 0, false
	}
	var head [8]byte
	if _, err := r.ReadAt(head[:], start); err != nil {
		return 0, false
	}
	if binary.LittleEndian.Uint64(head[:]) != size {
		return 0, false
	}
	return start, true
}

// idValue is one entry of an APK Signing Block.
type idValue struct {
	id    uint32
	value []byte
}

// buildSigningBlock encodes an APK Signing Block holding pairs, padded to
// a multiple of 4096 bytes with apksig's padding entry.
func buildSigningBlock(pairs []idValue) []byte {
	size := 8 + 8 + 16
	for _, p := range pairs {
		size += 8 + 4 + len(p.value)
	}
	pad := 0
	if size%pageAlignment != 0 {
		pad = pageAlignment - size%pageAlignment
		if pad < 12 {
			pad += pageAlignment
		}
	}
	total := size + pad
	le := binary.LittleEndian
	b := make([]byte, 0, total)
	b = le.AppendUint64(b, uint64(total-8))
	for _, p := range pairs {
		b = le.AppendUint64(b, uint64(4+len(p.value)))
		b = le.AppendUint32(b, p.id)
		b = append(b, p.value...)
	}
	if pad > 0 {
		b = le.AppendUint64(b, uint64(pad-8))
		b = le.AppendUint32(b, blockIDPadding)
		b = append(b, make([]byte, pad-12)...)
	}
	b = le.AppendUint64(b, uint64(total-8))
	return append(b, signingBlockMagic...)
}

// enc builds the little-endian, length-prefixed structures of the
// signing block.
type enc struct{ bytes.Buffer }

func (e *enc) u32(v uint32) *enc {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], v)
	e.Write(b[:])
	return e
}

// lp writes b prefixed with its uint32 length.
func (e *enc) lp(b []byte) *enc {
	e.u32(uint32(len(b)))
	e.Write(b)
	return e
}

// lpSeq writes a length-prefixed sequence of length-prefixed elements.
func lpSeq(elems ...[]byte) []byte {
	var e enc
	for _, el := range elems {
		e.lp(el)
	}
	return e.Bytes()
}

// idBytes is an (ID, length-prefixed bytes) pair as digests and
// signatures are encoded.
func idBytes(id uint32, b []byte) []byte {
	var e enc
	e.u32(id).lp(b)
	return e.Bytes()
}

// schemeV2Signer encodes one signer of a v2 scheme block:
// signedData, signatures (idBytes pairs), publicKey.
func schemeV2Signer(signedData []byte, sigs [][]byte, publicKey []byte) []byte {
	return lpSeq(signedData, lpSeq(sigs...), publicKey)
}

// schemeV2SignedData encodes a v2 signer's signed data: digests (idBytes
// pairs), certificates, additional attributes, and the empty element
// apksig appends.
func schemeV2SignedData(digests [][]byte, certs [][]byte, attrs []byte) []byte {
	return lpSeq(lpSeq(digests...), lpSeq(certs...), attrs, nil)
}

// schemeV3SignedData encodes a v3 signer's signed data: digests,
// certificates, min and max SDK, additional attributes.
func schemeV3SignedData(digests [][]byte, certs [][]byte, minSDK, maxSDK uint32, attrs []byte) []byte {
	var e enc
	e.lp(lpSeq(digests...))
	e.lp(lpSeq(certs...))
	e.u32(minSDK).u32(maxSDK)
	e.lp(attrs)
	return e.Bytes()
}

// schemeV3Signer encodes one signer of a v3 scheme block.
func schemeV3Signer(signedData []byte, minSDK, maxSDK uint32, sigs [][]byte, publicKey []byte) []byte {
	var e enc
	e.lp(signedData)
	e.u32(minSDK).u32(maxSDK)
	e.lp(lpSeq(sigs...))
	e.lp(publicKey)
	return e.Bytes()
}
