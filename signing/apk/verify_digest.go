package apk

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"fmt"
	"hash"
	"io"
	"runtime"
	"sync"
)

// vChunkSize is the chunk size of v2/v3 content digests.
const vChunkSize = 1 << 20

// vSection is a byte range of the digested APK: either a range of the
// file or bytes in memory.
type vSection struct {
	off, n int64
	mem    []byte
}

// contentDigests computes the v2/v3 content digests of the given kinds:
// the entries up to the APK Signing Block at blockOff, the central
// directory, and the End of Central Directory with its directory offset
// changed to blockOff.
func (v *vVerifier) contentDigests(blockOff int64, kinds map[vDigestKind]bool) (map[vDigestKind][]byte, error) {
	// v2, v3 and v3.1 digest the same bytes: compute each kind once.
	if v.digests == nil {
		v.digests = map[vDigestKind][]byte{}
	}
	missing := map[vDigestKind]bool{}
	for k := range kinds {
		if _, ok := v.digests[k]; !ok {
			missing[k] = true
		}
	}
	if len(missing) > 0 {
		got, err := v.computeDigests(blockOff, missing)
		if err != nil {
			return nil, err
		}
		for k, d := range got {
			v.digests[k] = d
		}
	}
	out := map[vDigestKind][]byte{}
	for k := range kinds {
		out[k] = v.digests[k]
	}
	return out, nil
}

func (v *vVerifier) computeDigests(blockOff int64, kinds map[vDigestKind]bool) (map[vDigestKind][]byte, error) {
	eocd := append([]byte(nil), v.a.EOCD...)
	if len(eocd) < 22 {
		return nil, fmt.Errorf("apk: short End of Central Directory record")
	}
	binary.LittleEndian.PutUint32(eocd[16:], uint32(blockOff))
	secs := []vSection{
		{off: 0, n: blockOff},
		{off: v.a.CDOffset, n: v.a.CDSize},
		{mem: eocd, n: int64(len(eocd))},
	}
	out := map[vDigestKind][]byte{}
	var chunked []vDigestKind
	for k := range kinds {
		if k == vChunkedSHA256 {
			if d := v.prefetchedContent(blockOff); d != nil {
				out[k] = d
				continue
			}
		}
		switch k {
		case vChunkedSHA256, vChunkedSHA512:
			chunked = append(chunked, k)
		case vVeritySHA256:
			d, err := v.verityDigest(secs)
			if err != nil {
				return nil, err
			}
			out[k] = d
		}
	}
	if len(chunked) > 0 {
		ds, err := v.chunkedDigests(secs, chunked)
		if err != nil {
			return nil, err
		}
		for i, k := range chunked {
			out[k] = ds[i]
		}
	}
	return out, nil
}

type vChunk struct {
	sec      int
	off, n   int64
	position int
}

// chunkedDigests computes the chunked SHA-256/SHA-512 digests, hashing
// chunks on every core.
func (v *vVerifier) chunkedDigests(secs []vSection, kinds []vDigestKind) ([][]byte, error) {
	var chunks []vChunk
	for i, s := range secs {
		for off := int64(0); off < s.n; off += vChunkSize {
			chunks = append(chunks, vChunk{sec: i, off: off, n: min(vChunkSize, s.n-off), position: len(chunks)})
		}
	}
	sizes := make([]int, len(kinds))
	for i, k := range kinds {
		sizes[i] = vDigestSize(k)
	}
	// results[k] holds the chunk digests of kind k, back to back.
	results := make([][]byte, len(kinds))
	for i := range kinds {
		results[i] = make([]byte, len(chunks)*sizes[i])
	}
	work := make(chan vChunk)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	workers := min(runtime.GOMAXPROCS(0), max(1, len(chunks)))
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, vChunkSize)
			hs := make([]hash.Hash, len(kinds))
			for i, k := range kinds {
				hs[i] = vNewHash(k)
			}
			var prefix [5]byte
			for c := range work {
				s := secs[c.sec]
				b := buf[:c.n]
				if s.mem != nil {
					b = s.mem[c.off : c.off+c.n]
				} else if _, err := v.r.ReadAt(b, s.off+c.off); err != nil && !(err == io.EOF && int64(len(b)) == c.n) {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("reading APK at offset %d: %w", s.off+c.off, err)
					}
					mu.Unlock()
					continue
				}
				prefix[0] = 0xa5
				binary.LittleEndian.PutUint32(prefix[1:], uint32(c.n))
				for i, h := range hs {
					h.Reset()
					h.Write(prefix[:])
					h.Write(b)
					h.Sum(results[i][c.position*sizes[i] : c.position*sizes[i]])
				}
			}
		}()
	}
	for _, c := range chunks {
		if err := v.ctx.Err(); err != nil {
			close(work)
			wg.Wait()
			return nil, err
		}
		work <- c
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	out := make([][]byte, len(kinds))
	for i, k := range kinds {
		h := vNewHash(k)
		var prefix [5]byte
		prefix[0] = 0x5a
		binary.LittleEndian.PutUint32(prefix[1:], uint32(len(chunks)))
		h.Write(prefix[:])
		h.Write(results[i])
		out[i] = h.Sum(nil)
	}
	return out, nil
}

func vNewHash(k vDigestKind) hash.Hash {
	if k == vChunkedSHA512 {
		return sha512.New()
	}
	return sha256.New()
}

func vDigestSize(k vDigestKind) int {
	if k == vChunkedSHA512 {
		return sha512.Size
	}
	return sha256.Size
}

// vVerityBlock is the block size of the verity Merkle tree.
const vVerityBlock = 4096

// verityDigest computes VERITY_CHUNKED_SHA256: the root of a SHA-256
// Merkle tree over 4 KiB blocks (8 zero bytes of salt, the last block
// zero-padded), followed by the little-endian 64-bit size of the data.
func (v *vVerifier) verityDigest(secs []vSection) ([]byte, error) {
	var total int64
	for _, s := range secs {
		total += s.n
	}
	salt := make([]byte, 8)
	// Level 0: hash every 4 KiB block of the data.
	var level []byte
	block := make([]byte, 0, vVerityBlock)
	h := sha256.New()
	emit := func() {
		for len(block) < vVerityBlock {
			block = append(block, 0)
		}
		h.Reset()
		h.Write(salt)
		h.Write(block)
		level = h.Sum(level)
		block = block[:0]
	}
	buf := make([]byte, 64<<10)
	for _, s := range secs {
		for off := int64(0); off < s.n; {
			if err := v.ctx.Err(); err != nil {
				return nil, err
			}
			n := min(int64(len(buf)), s.n-off)
			b := buf[:n]
			if s.mem != nil {
				b = s.mem[off : off+n]
			} else if _, err := v.r.ReadAt(b, s.off+off); err != nil && err != io.EOF {
				return nil, fmt.Errorf("reading APK at offset %d: %w", s.off+off, err)
			}
			off += n
			for len(b) > 0 {
				k := min(len(b), vVerityBlock-len(block))
				block = append(block, b[:k]...)
				b = b[k:]
				if len(block) == vVerityBlock {
					emit()
				}
			}
		}
	}
	if len(block) > 0 {
		emit()
	}
	// Upper levels until one block remains.
	for len(level) > vVerityBlock {
		var next []byte
		for i := 0; i < len(level); i += vVerityBlock {
			blk := make([]byte, vVerityBlock)
			copy(blk, level[i:])
			h.Reset()
			h.Write(salt)
			h.Write(blk)
			next = h.Sum(next)
		}
		level = next
	}
	top := make([]byte, vVerityBlock)
	copy(top, level)
	h.Reset()
	h.Write(salt)
	h.Write(top)
	out := h.Sum(nil)
	out = binary.LittleEndian.AppendUint64(out, uint64(total))
	return out, nil
}
