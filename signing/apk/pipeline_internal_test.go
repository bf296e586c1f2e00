package apk

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"math/rand/v2"
	"sync"
	"testing"
)

// TestEntryHashPiecesOutOfOrder feeds an entry's pieces to its JAR
// digest from parallel jobs in every order: the digest must be that of
// the whole, and every chunk buffer must go back to the pool.
func TestEntryHashPiecesOutOfOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 3<<20+123)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	want := sha256.Sum256(data)
	for _, pieceSize := range []int{28673, 1 << 20, len(data)} {
		for round := range 20 {
			pool := make(chan *chunkBuf, len(data)/pieceSize+2)
			slot := &v1Digest{name: "big"}
			eh := newEntryHash(crypto.SHA256, slot, 0, int64(len(data)))
			var feeds []feed
			var bufs []*chunkBuf
			for off := 0; off < len(data); off += pieceSize {
				end := min(off+pieceSize, len(data))
				// Each piece sits in its own chunk, after some other bytes.
				c := &chunkBuf{b: append(bytes.Repeat([]byte{0xee}, 7), data[off:end]...), pool: pool}
				c.refs.Store(1)
				bufs = append(bufs, c)
				feeds = append(feeds, feed{eh: eh, seq: len(feeds), a: 7, b: 7 + end - off, last: end == len(data)})
			}
			order := rng.Perm(len(feeds))
			if round == 0 {
				for i := range order {
					order[i] = len(order) - 1 - i // all in reverse
				}
			}
			var wg sync.WaitGroup
			for _, i := range order {
				wg.Go(func() {
					eh.feed(feeds[i], bufs[i])
					bufs[i].release()
				})
			}
			wg.Wait()
			if !bytes.Equal(slot.sum, want[:]) {
				t.Fatalf("piece size %d, round %d: wrong digest", pieceSize, round)
			}
			if len(pool) != len(bufs) {
				t.Fatalf("piece size %d, round %d: %d of %d buffers back in the pool", pieceSize, round, len(pool), len(bufs))
			}
		}
	}
}
