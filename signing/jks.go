package signing

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// checkJKS walks the structure of a JKS keystore and checks every length
// against the bytes that are there, so that a damaged or hostile file is
// refused before the decoder allocates what its lengths claim.
//
// The layout (big-endian): magic, version (1 or 2), entry count; per entry
// a tag (1 private key, 2 trusted certificate), a UTF alias, a 64-bit
// timestamp, then for a key its encrypted bytes and certificate chain, for
// a certificate its bytes (version 2 adds a UTF certificate type before
// each certificate); last a 20-byte SHA-1 digest.
func checkJKS(data []byte) error {
	r := jksReader{b: data}
	magic := r.u32()
	version := r.u32()
	count := r.u32()
	if r.err != nil {
		return r.err
	}
	if magic == 0xcececece {
		return errors.New("JCEKS keystores are not supported: convert it with keytool -importkeystore -deststoretype PKCS12")
	}
	if magic != 0xfeedfeed || (version != 1 && version != 2) {
		return errors.New("bad header")
	}
	// Every entry takes at least 4+2+8+4 bytes.
	if uint64(count)*18 > uint64(len(data)) {
		return fmt.Errorf("claims %d entries in %d bytes", count, len(data))
	}
	if count > MaxKeystoreEntries {
		return &LimitError{What: "entries of the JKS keystore", Value: int64(count), Limit: MaxKeystoreEntries, Fix: "check that it is the right file"}
	}
	cert := func() {
		if version == 2 {
			r.skip(int(r.u16()))
		}
		r.skip(int(r.u32()))
	}
	for i := uint32(0); i < count && r.err == nil; i++ {
		tag := r.u32()
		r.skip(int(r.u16())) // alias
		r.skip(8)            // timestamp
		switch tag {
		case 1:
			r.skip(int(r.u32()))
			n := r.u32()
			if uint64(n)*4 > uint64(r.left()) {
				return fmt.Errorf("claims a chain of %d certificates", n)
			}
			if n > MaxChainLength+1 {
				return &LimitError{What: "certificates in the chain of a JKS key", Value: int64(n), Limit: MaxChainLength + 1, Fix: "keep only the leaf certificate and those that issued it"}
			}
			for j := uint32(0); j < n && r.err == nil; j++ {
				cert()
			}
		case 2:
			cert()
		default:
			if r.err == nil {
				return fmt.Errorf("unknown entry type %d", tag)
			}
		}
	}
	r.skip(20)
	return r.err
}

type jksReader struct {
	b   []byte
	off int
	err error
}

func (r *jksReader) left() int { return len(r.b) - r.off }

func (r *jksReader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > r.left() {
		r.err = errors.New("truncated")
		return nil
	}
	b := r.b[r.off : r.off+n]
	r.off += n
	return b
}

func (r *jksReader) skip(n int) { r.take(n) }

func (r *jksReader) u16() uint16 {
	if b := r.take(2); b != nil {
		return binary.BigEndian.Uint16(b)
	}
	return 0
}

func (r *jksReader) u32() uint32 {
	if b := r.take(4); b != nil {
		return binary.BigEndian.Uint32(b)
	}
	return 0
}
