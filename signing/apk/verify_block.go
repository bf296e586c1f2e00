package apk

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/storesign/storesign/internal/zipx"
)

// IDs of the APK Signing Block entries the verifier reads.
const (
	vBlockIDV2  = 0x7109871a
	vBlockIDV3  = 0xf05368c0
	vBlockIDV31 = 0x1b93ad61
)

// vMaxSigningBlock bounds the APK Signing Block read into memory.
const vMaxSigningBlock = 64 << 20

// errVNotFound is apksig's SignatureNotFoundException: the scheme is
// treated as absent, not as broken.
type vNotFoundError struct{ msg string }

func (e *vNotFoundError) Error() string { return e.msg }

func vNotFound(format string, args ...any) error {
	return &vNotFoundError{fmt.Sprintf(format, args...)}
}

func isVNotFound(err error) bool {
	var nf *vNotFoundError
	return errors.As(err, &nf)
}

// vSigningBlock is the APK Signing Block of an archive.
type vSigningBlock struct {
	offset int64  // where the block starts (end of the entries' data)
	pairs  []byte // the ID-value pairs
}

// findSigningBlockForVerify locates the APK Signing Block as apksig does.
// Every failure is a "not found".
func findSigningBlockForVerify(r io.ReaderAt, a *zipx.Archive) (*vSigningBlock, error) {
	if a.CDOffset+a.CDSize != a.EOCDOffset {
		return nil, vNotFound("ZIP Central Directory is not immediately followed by End of Central Directory")
	}
	if a.CDOffset < 32 {
		return nil, vNotFound("APK too small for APK Signing Block")
	}
	footer := make([]byte, 24)
	if _, err := r.ReadAt(footer, a.CDOffset-24); err != nil {
		return nil, fmt.Errorf("reading APK Signing Block footer: %w", err)
	}
	if string(footer[8:]) != "APK Sig Block 42" {
		return nil, vNotFound("No APK Signing Block before ZIP Central Directory")
	}
	size := binary.LittleEndian.Uint64(footer)
	if size < 24 || size > 1<<31-9 {
		return nil, vNotFound("APK Signing Block size out of range: %d", size)
	}
	total := int64(size) + 8
	off := a.CDOffset - total
	if off < 0 {
		return nil, vNotFound("APK Signing Block offset out of range: %d", off)
	}
	if total > vMaxSigningBlock {
		return nil, fmt.Errorf("APK Signing Block is too large (%d bytes)", total)
	}
	blk := make([]byte, total)
	if _, err := r.ReadAt(blk, off); err != nil {
		return nil, fmt.Errorf("reading APK Signing Block: %w", err)
	}
	if binary.LittleEndian.Uint64(blk) != size {
		return nil, vNotFound("APK Signing Block sizes in header and footer do not match")
	}
	return &vSigningBlock{offset: off, pairs: blk[8 : total-24]}, nil
}

// find returns the value of the pair with the given ID.
func (b *vSigningBlock) find(id uint32) ([]byte, error) {
	p := b.pairs
	for n := 1; len(p) > 0; n++ {
		if len(p) < 8 {
			return nil, vNotFound("Insufficient data to read size of APK Signing Block entry #%d", n)
		}
		l := binary.LittleEndian.Uint64(p)
		p = p[8:]
		if l < 4 || l > uint64(len(p)) {
			return nil, vNotFound("APK Signing Block entry #%d size out of range: %d", n, l)
		}
		if binary.LittleEndian.Uint32(p) == id {
			return p[4:l:l], nil
		}
		p = p[l:]
	}
	return nil, vNotFound("No block with ID %#x in APK Signing Block", id)
}

// vReader reads the length-prefixed records of v2/v3 signature blocks.
type vReader struct {
	b   []byte
	err bool
}

func (r *vReader) remaining() bool { return !r.err && len(r.b) > 0 }

func (r *vReader) u32() uint32 {
	if r.err || len(r.b) < 4 {
		r.err = true
		return 0
	}
	v := binary.LittleEndian.Uint32(r.b)
	r.b = r.b[4:]
	return v
}

// prefixed returns the next uint32-length-prefixed slice.
func (r *vReader) prefixed() []byte {
	n := r.u32()
	if r.err {
		return nil
	}
	if uint64(n) > uint64(len(r.b)) {
		r.err = true
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *vReader) sub() *vReader {
	b := r.prefixed()
	return &vReader{b: b, err: r.err}
}
