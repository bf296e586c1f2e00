package aab

import (
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
)

// inflateAll inflates data with an inflater, at most max bytes.
func inflateAll(f *inflater, data []byte, max int64) ([]byte, error) {
	var out []byte
	err := f.inflate(bytes.NewReader(data), 0, int64(len(data)), max, func(p []byte) error {
		out = append(out, p...)
		return nil
	})
	return out, err
}

// stdInflate inflates data with compress/flate.
func stdInflate(data []byte) ([]byte, error) {
	return io.ReadAll(flate.NewReader(bytes.NewReader(data)))
}

func deflate(t testing.TB, data []byte, level int, flushEvery int) []byte {
	var buf bytes.Buffer
	w, err := flate.NewWriter(&buf, level)
	if err != nil {
		t.Fatal(err)
	}
	for len(data) > 0 {
		n := len(data)
		if flushEvery > 0 {
			n = min(n, flushEvery)
		}
		w.Write(data[:n])
		if flushEvery > 0 {
			w.Flush() // an empty stored block
		}
		data = data[n:]
	}
	w.Close()
	return buf.Bytes()
}

// samples returns contents that exercise every kind of block and match:
// empty, tiny, noise (stored blocks), code-like words, text, long runs
// (distance 1) and short periods (distances 2 to 7).
func samples() map[string][]byte {
	r := rand.New(rand.NewPCG(1, 2))
	noise := make([]byte, 600<<10)
	for i := range noise {
		noise[i] = byte(r.Uint32())
	}
	vocab := make([]uint32, 64)
	for i := range vocab {
		vocab[i] = r.Uint32()
	}
	code := make([]byte, 3<<20)
	for i := 0; i+4 <= len(code); i += 4 {
		w := vocab[r.IntN(len(vocab))]
		if r.IntN(4) == 0 {
			w ^= r.Uint32() & 0xffff
		}
		code[i], code[i+1], code[i+2], code[i+3] = byte(w), byte(w>>8), byte(w>>16), byte(w>>24)
	}
	text := make([]byte, 200<<10)
	for i := range text {
		text[i] = "abcdefgh <>=\"/\n"[r.IntN(15)]
	}
	var periods []byte
	for p := 1; p <= 9; p++ {
		for i := range 5000 + p*37 {
			periods = append(periods, byte('a'+i%p))
		}
		periods = append(periods, noise[:p*11]...)
	}
	return map[string][]byte{
		"empty":   {},
		"one":     {'x'},
		"noise":   noise,
		"code":    code,
		"text":    text,
		"run":     bytes.Repeat([]byte{0}, 1<<20+77),
		"periods": periods,
		"mixed":   append(append(append([]byte(nil), text[:70000]...), noise[:300000]...), code[:500000]...),
	}
}

// TestInflateMatchesFlate inflates what compress/flate deflates, at every
// level (stored, Huffman only, fixed and dynamic codes), with and without
// flushes, and compares with the input.
func TestInflateMatchesFlate(t *testing.T) {
	f := newInflater()
	for name, data := range samples() {
		for _, level := range []int{flate.HuffmanOnly, flate.NoCompression, flate.BestSpeed, 2, flate.DefaultCompression, flate.BestCompression} {
			for _, flush := range []int{0, 1000, 70000} {
				if flush > 0 && len(data) > 1<<20 {
					continue
				}
				t.Run(fmt.Sprintf("%s/level%d/flush%d", name, level, flush), func(t *testing.T) {
					z := deflate(t, data, level, flush)
					got, err := inflateAll(f, z, int64(len(data)))
					if err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(got, data) {
						t.Fatalf("inflated %d bytes, differ from the %d deflated", len(got), len(data))
					}
				})
			}
		}
	}
}

// TestInflateFixedCodes inflates blocks with the fixed codes: small
// inputs, which compress/flate writes that way.
func TestInflateFixedCodes(t *testing.T) {
	f := newInflater()
	for _, s := range []string{"a", "hello, hello, hello world", "abcabcabcabcabcabcabcabcabcabc0123456789"} {
		z := deflate(t, []byte(s), flate.BestCompression, 0)
		if z[0]>>1&3 != 1 {
			t.Logf("%q: block type %d", s, z[0]>>1&3)
		}
		got, err := inflateAll(f, z, int64(len(s)))
		if err != nil || string(got) != s {
			t.Errorf("%q: got %q, %v", s, got, err)
		}
	}
}

// TestInflateRefuses: truncated streams, output beyond the declared
// size, and damaged streams are refused, never a panic; what is accepted
// inflates as compress/flate inflates it.
func TestInflateRefuses(t *testing.T) {
	f := newInflater()
	data := samples()["mixed"]
	z := deflate(t, data, flate.DefaultCompression, 0)
	for _, n := range []int{0, 1, 2, 5, 100, len(z) / 2, len(z) - 5, len(z) - 1} {
		if _, err := inflateAll(f, z[:n], int64(len(data))); err == nil {
			t.Errorf("truncated to %d of %d bytes: no error", n, len(z))
		}
	}
	if _, err := inflateAll(f, z, int64(len(data)-1)); err == nil {
		t.Error("inflating past the declared size: no error")
	}
	small := deflate(t, samples()["text"][:3000], flate.DefaultCompression, 0)
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 3000 {
		b := bytes.Clone(small)
		for range 1 + i%3 {
			b[r.IntN(len(b))] ^= byte(1 << r.IntN(8))
		}
		got, err := inflateAll(f, b, 1<<20)
		want, werr := stdInflate(b)
		if err == nil && werr == nil && !bytes.Equal(got, want) {
			t.Fatalf("damaged stream %d: inflates to other bytes than compress/flate's", i)
		}
	}
}

func FuzzInflate(f *testing.F) {
	for _, s := range []string{"", "a", "hello hello hello hello", "\x00\x01\x02\x03\x04\x05\x06\x07"} {
		for _, level := range []int{flate.HuffmanOnly, flate.NoCompression, flate.BestSpeed, flate.BestCompression} {
			f.Add(deflate(f, []byte(s), level, 0))
		}
	}
	f.Add(deflate(f, samples()["periods"][:20000], flate.DefaultCompression, 0))
	inf := newInflater()
	f.Fuzz(func(t *testing.T, z []byte) {
		got, err := inflateAll(inf, z, 1<<20)
		if err != nil {
			return
		}
		want, werr := stdInflate(z)
		if werr == nil && !bytes.Equal(got, want) {
			t.Fatalf("inflates to %d bytes, compress/flate to %d other bytes", len(got), len(want))
		}
	})
}

func BenchmarkInflate(b *testing.B) {
	data := samples()["code"]
	z := deflate(b, data, flate.DefaultCompression, 0)
	b.Run("aab", func(b *testing.B) {
		f := newInflater()
		b.SetBytes(int64(len(data)))
		defer reportCPU(b, len(data))()
		for range b.N {
			if err := f.inflate(bytes.NewReader(z), 0, int64(len(z)), int64(len(data)), func([]byte) error { return nil }); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("flate", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		buf := make([]byte, 256<<10)
		defer reportCPU(b, len(data))()
		for range b.N {
			io.CopyBuffer(io.Discard, flate.NewReader(bytes.NewReader(z)), buf)
		}
	})
}
