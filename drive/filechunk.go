package drive

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
)

// fileChunk is a chunk request body read from a file through its own open
// file description, so that the HTTP transport can send it with
// sendfile(2) (net's TCPConn.ReadFrom takes any syscall.Conn): the bytes
// go from the page cache to the socket without passing through user
// space. Its file offset is its own, and it stops at the chunk's end.
// Closing it (the transport does, and so does putChunk once the request
// is over) makes any later read fail: the transport may still be sending
// a body after Do returns.
type fileChunk struct {
	f      *os.File
	pos    int64 // the file offset, while no sendfile may have moved it
	end    int64
	handed bool // SyscallConn was called: only the file knows its offset
	wd     *watchdog
}

// openFileChunk returns a body for bytes [off, off+n) of src, or nil when
// src is not a file that can be opened again privately (see reopen).
func openFileChunk(src io.ReaderAt, off, n int64, wd *watchdog) *fileChunk {
	f, ok := src.(*os.File)
	if !ok {
		return nil
	}
	g := reopen(f)
	if g == nil {
		return nil
	}
	if _, err := g.Seek(off, io.SeekStart); err != nil {
		g.Close()
		return nil
	}
	c := &fileChunk{f: g, pos: off, end: off + n, wd: wd}
	wd.watch(c.offset)
	return c
}

// offset reports how far the chunk has been read, by any means; -1 once
// closed.
func (c *fileChunk) offset() int64 {
	pos, err := c.f.Seek(0, io.SeekCurrent)
	if err != nil {
		return -1
	}
	return pos
}

func (c *fileChunk) Read(p []byte) (int, error) {
	pos := c.pos
	if c.handed {
		var err error
		if pos, err = c.f.Seek(0, io.SeekCurrent); err != nil {
			return 0, c.readErr(err)
		}
	}
	if pos >= c.end {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), c.end-pos)]
	n, err := c.f.Read(p)
	c.pos = pos + int64(n)
	if n > 0 {
		c.wd.kick()
	}
	if err == io.EOF {
		err = errors.New("the file got shorter during the upload")
	}
	if err != nil {
		return n, c.readErr(err)
	}
	return n, nil
}

func (c *fileChunk) readErr(err error) error {
	if errors.Is(err, os.ErrClosed) {
		return errDetached
	}
	return permanent{Err: fmt.Errorf("reading the local file: %w", err)}
}

// SyscallConn lets net's sendfile path read the file directly.
func (c *fileChunk) SyscallConn() (syscall.RawConn, error) {
	c.handed = true
	return c.f.SyscallConn()
}

func (c *fileChunk) Close() error {
	c.f.Close()
	return nil
}
