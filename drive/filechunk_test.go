package drive

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"

	"github.com/storesign/storesign/drive/drivetest"
)

func chunkFile(t *testing.T, data []byte) *os.File {
	t.Helper()
	path := filepath.Join(t.TempDir(), "src")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestFileChunkRead(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("sendfile bodies are Linux only")
	}
	data := pattern(300<<10 + 17)
	f := chunkFile(t, data)
	_, wd := newWatchdog(context.Background(), time.Hour)
	defer wd.stop()
	if openFileChunk(bytes.NewReader(data), 0, 10, wd) != nil {
		t.Error("a bytes.Reader got a file body")
	}
	for _, r := range [][2]int64{{0, int64(len(data))}, {1000, 64 << 10}, {int64(len(data)) - 5, 5}} {
		off, n := r[0], r[1]
		fc := openFileChunk(f, off, n, wd)
		if fc == nil {
			t.Fatal("no file body for an *os.File")
		}
		if err := iotest.TestReader(fc, data[off:off+n]); err != nil {
			fc.Close()
			t.Fatalf("[%d, +%d): %v", off, n, err)
		}
		fc.Close()
	}
	// The source's own offset is untouched.
	if pos, _ := f.Seek(0, io.SeekCurrent); pos != 0 {
		t.Errorf("source offset moved to %d", pos)
	}
	// A file that got shorter is a permanent error, not a short chunk.
	fc := openFileChunk(f, 100, int64(len(data)), wd)
	_, err := io.ReadAll(fc)
	fc.Close()
	var p permanent
	if !errors.As(err, &p) {
		t.Errorf("short file: %v, want a permanent error", err)
	}
	// Closed: reads fail, as when the transport reads after the request ended.
	fc = openFileChunk(f, 0, 10, wd)
	fc.Close()
	if _, err := fc.Read(make([]byte, 4)); !errors.Is(err, errDetached) {
		t.Errorf("read after close: %v", err)
	}
}

// TestFileChunkSendfile sends a chunk over a real TCP connection the way
// the HTTP transport does (TCPConn.ReadFrom of a LimitedReader), which
// hands the file to sendfile(2), and checks the bytes and that the body
// then reads as finished.
func TestFileChunkSendfile(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("sendfile bodies are Linux only")
	}
	data := pattern(3<<20 + 5)
	f := chunkFile(t, data)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan []byte, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- nil
			return
		}
		b, _ := io.ReadAll(c)
		c.Close()
		got <- b
	}()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	_, wd := newWatchdog(context.Background(), time.Hour)
	defer wd.stop()
	off, n := int64(12345), int64(2<<20+999)
	fc := openFileChunk(f, off, n, wd)
	defer fc.Close()
	// A first small read, as the transport's buffered writer makes, then
	// the rest through ReadFrom.
	head := make([]byte, 100)
	if _, err := io.ReadFull(fc, head); err != nil {
		t.Fatal(err)
	}
	conn.Write(head)
	sent, err := conn.(*net.TCPConn).ReadFrom(&io.LimitedReader{R: fc, N: n - 100})
	if err != nil || sent != n-100 {
		t.Fatalf("ReadFrom: %d, %v", sent, err)
	}
	if !fc.handed {
		t.Error("the transport path did not take the file (no sendfile)")
	}
	if m, err := fc.Read(make([]byte, 10)); m != 0 || err != io.EOF {
		t.Errorf("after the chunk: %d, %v; want EOF", m, err)
	}
	if pos := fc.offset(); pos != off+n {
		t.Errorf("offset %d, want %d", pos, off+n)
	}
	conn.Close()
	if b := <-got; !bytes.Equal(b, data[off:off+n]) {
		t.Errorf("received %d bytes, not the chunk's %d", len(b), n)
	}
}

// slowBody lets the first slow bytes of a request body through at 25 MB/s
// (or, with stop, stops short of them for long enough for the client to
// give up), then the rest at full speed.
type slowBody struct {
	io.ReadCloser
	slow int64
	stop bool
}

func (b *slowBody) Read(p []byte) (int, error) {
	if b.slow <= 0 {
		return b.ReadCloser.Read(p)
	}
	if b.stop && b.slow <= 1<<20 {
		// Long enough for the client to give up (the request's context
		// ends only once the body is read).
		time.Sleep(time.Second)
		return 0, errors.New("gave up")
	}
	n, err := io.ReadFull(b.ReadCloser, p[:min(int64(len(p)), 512<<10, b.slow)])
	b.slow -= int64(n)
	time.Sleep(time.Duration(n) * 40 * time.Nanosecond) // 25 MB/s
	return n, err
}

// TestUploadStall checks the stall watchdog on chunks sent by sendfile,
// where no Read reports progress: a server reading slowly is no stall,
// one that stops reading is, and the chunk is sent again. The slow part
// comes first: once the body is in the kernel's socket buffers (up to 32
// MiB here), the client cannot tell a slow server from a stopped one.
func TestUploadStall(t *testing.T) {
	for _, stop := range []bool{false, true} {
		name := map[bool]string{false: "slow", true: "stopped"}[stop]
		t.Run(name, func(t *testing.T) {
			s, err := drivetest.New(drivetest.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			var chunks atomic.Int32
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Query().Get("upload_id") != "" && r.ContentLength > 0 && chunks.Add(1) == 1 {
					r.Body = &slowBody{ReadCloser: r.Body, slow: 6 << 20, stop: stop}
				}
				s.ServeHTTP(w, r)
			}))
			defer ts.Close()
			r := fastRetry
			r.Stall = 300 * time.Millisecond
			c, err := New(context.Background(), WithEndpoint(ts.URL), WithRetry(r), WithoutEnvironment())
			if err != nil {
				t.Fatal(err)
			}
			folder, _ := s.AddFolder("", "", "out")
			path := filepath.Join(t.TempDir(), "big.ipa")
			writeBig(t, path, 48<<20)
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			h := md5.New()
			io.Copy(h, f)
			res, err := c.Upload(context.Background(), f, 48<<20, UploadOptions{Folder: folder, Name: "big.ipa", ChunkSize: 48 << 20})
			if err != nil {
				t.Fatal(err)
			}
			if res.File.MD5 != hex.EncodeToString(h.Sum(nil)) {
				t.Fatal("stored bytes differ")
			}
			want := map[bool]int32{false: 1, true: 2}[stop]
			if n := chunks.Load(); n != want {
				t.Errorf("%d chunk requests, want %d", n, want)
			}
		})
	}
}
