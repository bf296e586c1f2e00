package gapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"sync"
)

// Resume sends size bytes through one session of Google's resumable upload
// protocol, chunk bytes per request, under r's retry policy. put sends
// bytes [off, off+n), or with n == 0 asks the session how much it holds
// ("Content-Range: bytes */size"); it reports whether the upload finished,
// else the offset the server wants next. After a failed chunk the session
// is asked first, and the upload continues from what it kept. progress,
// when not nil, gets the offset after each chunk the server kept.
//
// The session's own failures (an expired session: 404, 410) are returned
// for the caller to open another.
func (r Retrier) Resume(ctx context.Context, op string, size, chunk int64, put func(off, n int64) (done bool, next int64, err error), progress func(off int64)) error {
	var off int64
	done := false
	needStatus := false
	return r.Do(ctx, op, func(int) (bool, error) {
		from := off
		if needStatus {
			fin, next, err := put(0, 0)
			if err != nil {
				return false, err
			}
			needStatus = false
			if fin {
				done = true
				return true, nil
			}
			off = next
		}
		for !done {
			n := min(chunk, size-off)
			fin, next, err := put(off, n)
			if err != nil {
				needStatus = true
				return off > from, err
			}
			if fin {
				done = true
				break
			}
			if next <= off && n > 0 {
				// No progress on a whole chunk: ask again after a pause.
				needStatus = true
				return off > from, fmt.Errorf("server kept %d of %d bytes after a chunk ending at %d: %w", next, size, off+n, ErrNoProgress)
			}
			off = next
			if progress != nil {
				progress(off)
			}
		}
		return true, nil
	})
}

// ErrDetached is what a [ChunkReader] returns once detached.
var ErrDetached = errors.New("chunk request already finished")

// ChunkReader hands a chunk of a local file to the HTTP transport. The
// transport may still be reading a request body after Do returns (when the
// server answered early or the connection broke), so the request's sender
// calls Detach before returning: the source is then no longer read.
type ChunkReader struct {
	mu   sync.Mutex
	r    io.Reader // nil once detached
	left int64
	kick func()
	sent func()
}

// NewChunkReader reads n bytes from r. kick, when not nil, is called when
// bytes moved, sent when the whole chunk was read.
func NewChunkReader(r io.Reader, n int64, kick, sent func()) *ChunkReader {
	return &ChunkReader{r: r, left: n, kick: kick, sent: sent}
}

// Read reads the chunk. A local read failure is [Permanent]; a source
// shorter than the chunk is an error.
func (c *ChunkReader) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.r == nil {
		return 0, ErrDetached
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	if n > 0 && c.kick != nil {
		c.kick()
	}
	if c.left == 0 && c.sent != nil {
		c.sent()
	}
	if err == io.EOF && c.left > 0 {
		err = errors.New("the file got shorter during the upload")
	}
	if err != nil && err != io.EOF {
		err = Permanent{Err: fmt.Errorf("reading the local file: %w", err)}
	}
	return n, err
}

// Detach stops the reader: later reads fail with [ErrDetached].
func (c *ChunkReader) Detach() {
	c.mu.Lock()
	c.r = nil
	c.mu.Unlock()
}

// HideSession drops the query from the URL in err: a resumable session's
// upload_id lets anyone holding it write to the upload, so it must not
// reach logs or error messages.
func HideSession(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if i := strings.IndexByte(ue.URL, '?'); i >= 0 {
			ue.URL = ue.URL[:i] + "?upload_id=REDACTED"
		}
	}
	return err
}
