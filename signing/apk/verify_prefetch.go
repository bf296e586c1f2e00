package apk

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"io"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/storesign/storesign/internal/zipx"
)

// vPrefetch computes, in one batch on every core, the digests the
// verifier will most likely ask for: the chunked SHA-256 content digest
// of an APK with an APK Signing Block, and the SHA-256 of each JAR entry
// when JAR signatures are checked. Running both together keeps every
// core busy while the verifier parses signatures, and no core idles at
// the end of one kind of work waiting for the other to start.
//
// It is only a cache: anything it could not compute (a read error, an
// entry that does not inflate to its size) is left out, and the verifier
// computes it again on demand, finding the same error.
type vPrefetch struct {
	cancel context.CancelFunc
	stop   sync.WaitGroup // the workers

	blockOff      int64         // content digest of the APK with its signing block here
	content       []byte        // chunked SHA-256 digest; nil if not computed
	contentDone   chan struct{} // closed when content is final
	entries       map[*zipx.Entry][]byte
	entriesDone   chan struct{} // closed when entries is final
	wantContent   bool
	wantEntries   bool
	contentFailed bool
}

// startPrefetch decides what to prefetch for an APK checked from minSDK
// to maxSDK and starts the workers.
func (v *vVerifier) startPrefetch(minSDK, maxSDK int) {
	pf := &vPrefetch{blockOff: -1, contentDone: make(chan struct{}), entriesDone: make(chan struct{})}
	// The content digest, when a v2/v3/v3.1 signer will need it.
	if maxSDK >= vSDKN {
		if blk, err := v.signingBlock(); err == nil {
			for _, s := range []struct {
				id     uint32
				scheme int
			}{{vBlockIDV31, vSchemeV31}, {vBlockIDV3, vSchemeV3}, {vBlockIDV2, vSchemeV2}} {
				val, err := blk.find(s.id)
				if err != nil {
					continue
				}
				_, kinds := parseSignersForVerify(val, &vSchemeParams{scheme: s.scheme, minSDK: minSDK, maxSDK: maxSDK})
				if kinds[vChunkedSHA256] {
					pf.wantContent, pf.blockOff = true, blk.offset
					break
				}
			}
		}
	}
	// The JAR entries' SHA-256 digests, when JAR signatures will be
	// checked and the manifest has such digests.
	var entries []*zipx.Entry
	if minSDK < vSDKN {
		if mf := v.entry("META-INF/MANIFEST.MF"); mf != nil && mf.UncompressedSize <= vMaxJarMeta {
			if b, err := v.readEntry(mf); err == nil && bytes.Contains(b, []byte("SHA-256-Digest:")) {
				for _, e := range v.a.Entries {
					if !strings.HasPrefix(e.Name, "META-INF/") && !strings.HasSuffix(e.Name, "/") {
						entries = append(entries, e)
					}
				}
				pf.wantEntries = len(entries) > 0
			}
		}
	}
	if !pf.wantContent {
		close(pf.contentDone)
	}
	if !pf.wantEntries {
		close(pf.entriesDone)
	}
	if !pf.wantContent && !pf.wantEntries {
		return
	}
	v.prefetch = pf

	// The jobs, most expensive first so that the cores finish together.
	type job struct {
		cost  int64
		chunk int // index in chunks, or -1
		entry int // index in entries, or -1
	}
	var (
		secs   []vSection
		chunks []vChunk
		jobs   []job
	)
	if pf.wantContent {
		eocd := bytes.Clone(v.a.EOCD)
		if len(eocd) < 22 {
			pf.wantContent = false
			close(pf.contentDone)
		} else {
			binary.LittleEndian.PutUint32(eocd[16:], uint32(pf.blockOff))
			secs = []vSection{{off: 0, n: pf.blockOff}, {off: v.a.CDOffset, n: v.a.CDSize}, {mem: eocd, n: int64(len(eocd))}}
			for i, s := range secs {
				for off := int64(0); off < s.n; off += vChunkSize {
					jobs = append(jobs, job{cost: min(vChunkSize, s.n-off), chunk: len(chunks), entry: -1})
					chunks = append(chunks, vChunk{sec: i, off: off, n: min(vChunkSize, s.n-off), position: len(chunks)})
				}
			}
		}
	}
	if pf.wantEntries {
		for i, e := range entries {
			cost := e.UncompressedSize
			if e.Method != zipx.Store {
				cost *= 2 // inflating costs about as much as hashing
			}
			jobs = append(jobs, job{cost: cost, chunk: -1, entry: i})
		}
	}
	slices.SortStableFunc(jobs, func(a, b job) int { return cmp.Compare(b.cost, a.cost) })

	ctx, cancel := context.WithCancel(v.ctx)
	pf.cancel = cancel
	chunkSums := make([]byte, len(chunks)*sha256.Size)
	entrySums := make([][]byte, len(entries))
	var mu sync.Mutex
	chunksLeft, entriesLeft := len(chunks), len(entries)
	chunkFailed := false
	done := func(j job, ok bool) {
		mu.Lock()
		defer mu.Unlock()
		if j.chunk >= 0 {
			chunkFailed = chunkFailed || !ok
			if chunksLeft--; chunksLeft == 0 {
				if !chunkFailed {
					pf.content = vTopDigestSHA256(chunkSums, len(chunks))
				}
				close(pf.contentDone)
			}
			return
		}
		if entriesLeft--; entriesLeft == 0 {
			pf.entries = make(map[*zipx.Entry][]byte, len(entries))
			for i, e := range entries {
				if entrySums[i] != nil {
					pf.entries[e] = entrySums[i]
				}
			}
			close(pf.entriesDone)
		}
	}
	work := make(chan job, len(jobs))
	for _, j := range jobs {
		work <- j
	}
	close(work)
	workers := min(runtime.GOMAXPROCS(0), len(jobs))
	pf.stop.Add(workers)
	for range workers {
		go func() {
			defer pf.stop.Done()
			buf := make([]byte, vChunkSize)
			h := sha256.New()
			var prefix [5]byte
			for j := range work {
				if ctx.Err() != nil {
					done(j, false)
					continue
				}
				if j.chunk >= 0 {
					c := chunks[j.chunk]
					s := secs[c.sec]
					b := buf[:c.n]
					if s.mem != nil {
						b = s.mem[c.off : c.off+c.n]
					} else if _, err := v.r.ReadAt(b, s.off+c.off); err != nil && !(err == io.EOF && int64(len(b)) == c.n) {
						done(j, false)
						continue
					}
					prefix[0] = 0xa5
					binary.LittleEndian.PutUint32(prefix[1:], uint32(c.n))
					h.Reset()
					h.Write(prefix[:])
					h.Write(b)
					h.Sum(chunkSums[c.position*sha256.Size : c.position*sha256.Size])
					done(j, true)
					continue
				}
				e := entries[j.entry]
				rc, err := v.openEntry(e)
				if err != nil {
					done(j, false)
					continue
				}
				h.Reset()
				_, err = io.CopyBuffer(h, rc, buf)
				rc.Close()
				if err == nil {
					entrySums[j.entry] = h.Sum(nil)
				}
				done(j, err == nil)
			}
		}()
	}
}

// stopPrefetch cancels the prefetch and waits for its workers.
func (v *vVerifier) stopPrefetch() {
	if v.prefetch == nil {
		return
	}
	v.prefetch.cancel()
	v.prefetch.stop.Wait()
}

// prefetchedContent returns the chunked SHA-256 content digest of the
// APK with its signing block at blockOff, if the prefetch computed it.
func (v *vVerifier) prefetchedContent(blockOff int64) []byte {
	pf := v.prefetch
	if pf == nil || !pf.wantContent || pf.blockOff != blockOff {
		return nil
	}
	<-pf.contentDone
	return pf.content
}

// prefetchedEntry returns the SHA-256 of e's uncompressed data, if the
// prefetch computed it.
func (v *vVerifier) prefetchedEntry(e *zipx.Entry) []byte {
	pf := v.prefetch
	if pf == nil || !pf.wantEntries {
		return nil
	}
	<-pf.entriesDone
	return pf.entries[e]
}

// vTopDigestSHA256 combines n SHA-256 chunk digests, back to back in
// sums, into the chunked SHA-256 content digest.
func vTopDigestSHA256(sums []byte, n int) []byte {
	h := sha256.New()
	var prefix [5]byte
	prefix[0] = 0x5a
	binary.LittleEndian.PutUint32(prefix[1:], uint32(n))
	h.Write(prefix[:])
	h.Write(sums)
	return h.Sum(nil)
}
