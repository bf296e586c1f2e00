package zipx

import (
	"bytes"
	"compress/flate"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand"
	"os/exec"
	"strings"
	"testing"
)

// deflateInputs are varied inputs: text like JAR manifests, random bytes,
// long runs, and sizes around zlib's window and block limits.
func deflateInputs() map[string][]byte {
	m := map[string][]byte{"empty": {}, "one": {'a'}, "two": []byte("ab")}
	var mf strings.Builder
	mf.WriteString("Manifest-Version: 1.0\r\nCreated-By: 1.0 (Android)\r\n\r\n")
	for i := 0; i < 6000; i++ {
		fmt.Fprintf(&mf, "Name: res/drawable-xhdpi/icon_%d.png\r\nSHA-256-Digest: %x\r\n\r\n", i, sha256.Sum256([]byte{byte(i), byte(i >> 8)}))
	}
	m["manifest"] = []byte(mf.String())
	m["manifest-small"] = []byte(mf.String()[:700])
	r := rand.New(rand.NewSource(1))
	rnd := make([]byte, 100000)
	r.Read(rnd)
	m["random"] = rnd
	m["zeros"] = make([]byte, 200000)
	mixed := make([]byte, 0, 300000)
	for len(mixed) < 300000 {
		if r.Intn(3) == 0 {
			mixed = append(mixed, rnd[:r.Intn(300)]...)
		} else {
			mixed = append(mixed, mf.String()[r.Intn(1000):][:r.Intn(2000)]...)
		}
	}
	m["mixed"] = mixed
	small := make([]byte, 70000)
	for i := range small {
		small[i] = byte('a' + r.Intn(4))
	}
	m["alphabet4"] = small
	return m
}

func TestDeflateRoundTrip(t *testing.T) {
	for name, in := range deflateInputs() {
		for _, level := range []int{6, 9} {
			out := Deflate(in, level)
			got, err := io.ReadAll(flate.NewReader(bytes.NewReader(out)))
			if err != nil || !bytes.Equal(got, in) {
				t.Errorf("%s level %d: round trip failed: %v", name, level, err)
			}
		}
	}
}

// TestDeflateMatchesZlib compares with the system zlib through Python's
// zlib module, when python3 is present.
func TestDeflateMatchesZlib(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not found")
	}
	for name, in := range deflateInputs() {
		for _, level := range []int{6, 9} {
			cmd := exec.Command(py, "-c", fmt.Sprintf("import sys,zlib;c=zlib.compressobj(%d,zlib.DEFLATED,-15,8);sys.stdout.buffer.write(c.compress(sys.stdin.buffer.read())+c.flush())", level))
			cmd.Stdin = bytes.NewReader(in)
			want, err := cmd.Output()
			if err != nil {
				t.Fatal(err)
			}
			if got := Deflate(in, level); !bytes.Equal(got, want) {
				t.Errorf("%s level %d: %d bytes, zlib %d bytes", name, level, len(got), len(want))
			}
		}
	}
}
