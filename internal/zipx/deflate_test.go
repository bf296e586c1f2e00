package zipx

import (
	"bytes"
	"compress/flate"
	"crypto/sha256"
	"encoding/binary"
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
// zlib module, when python3 is present. One python3 run compresses every
// input (length-prefixed on stdin and stdout), since starting it is the
// slow part.
func TestDeflateMatchesZlib(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not found")
	}
	const script = `import sys,zlib,struct
i=sys.stdin.buffer; o=sys.stdout.buffer
while True:
    h=i.read(8)
    if len(h)<8: break
    lvl,n=struct.unpack('<II',h); d=i.read(n)
    c=zlib.compressobj(lvl,zlib.DEFLATED,-15,8); r=c.compress(d)+c.flush()
    o.write(struct.pack('<I',len(r))+r)
`
	type job struct {
		name  string
		level int
		in    []byte
	}
	var jobs []job
	var stdin bytes.Buffer
	for name, in := range deflateInputs() {
		for _, level := range []int{6, 9} {
			jobs = append(jobs, job{name, level, in})
			stdin.Write(binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, uint32(level)), uint32(len(in))))
			stdin.Write(in)
		}
	}
	cmd := exec.Command(py, "-c", script)
	cmd.Stdin = &stdin
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs {
		if len(out) < 4 {
			t.Fatal("python3 output is short")
		}
		n := binary.LittleEndian.Uint32(out)
		want := out[4 : 4+n]
		out = out[4+n:]
		if got := Deflate(j.in, j.level); !bytes.Equal(got, want) {
			t.Errorf("%s level %d: %d bytes, zlib %d bytes", j.name, j.level, len(got), len(want))
		}
	}
}
