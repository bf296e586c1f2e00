package play

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"google.golang.org/api/googleapi"

	"github.com/storesign/storesign/internal/gapi"
)

// Progress reports an upload's progress.
type Progress struct {
	// What is being uploaded: "bundle", "apk", "mapping".
	What        string
	Done, Total int64
	Elapsed     time.Duration
}

// resumable uploads size bytes of src to the upload path (under
// /upload/androidpublisher/v3/) with Google's resumable protocol and
// decodes the final answer into out. A failed chunk is retried after
// asking the session how much it kept; an expired session starts over.
// No chunk is held in memory.
func (c *Client) resumable(ctx context.Context, op, pkg, path string, src io.ReaderAt, size, chunk int64, what string, progress func(Progress), out any) error {
	if chunk <= 0 {
		chunk = c.chunkSize
	}
	start := time.Now()
	report := func(done int64) {
		if progress != nil {
			progress(Progress{What: what, Done: done, Total: size, Elapsed: time.Since(start)})
		}
	}
	for restarts := 0; ; restarts++ {
		session, err := c.openSession(ctx, op, pkg, path, size)
		if err != nil {
			return err
		}
		err = c.retrier().Resume(ctx, op, size, chunk, func(off, n int64) (bool, int64, error) {
			return c.putChunk(ctx, session, src, off, n, size, out)
		}, report)
		if err == nil {
			report(size)
			return nil
		}
		var ge *googleapi.Error
		if errors.As(err, &ge) && (ge.Code == 404 || ge.Code == 410) && restarts < 3 && isSessionGone(ge) {
			c.log.Debug("play: upload session expired, starting over", "op", op)
			continue
		}
		return c.explain(op, pkg, err)
	}
}

// isSessionGone tells an expired upload session from a 404 about the
// app or the edit (which carry a message).
func isSessionGone(ge *googleapi.Error) bool {
	return ge.Code == 410 || ge.Message == "" || strings.Contains(strings.ToLower(ge.Message), "upload")
}

func (c *Client) openSession(ctx context.Context, op, pkg, path string, size int64) (string, error) {
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	u := c.root + "upload/androidpublisher/v3/" + path + sep + "uploadType=resumable&alt=json"
	var loc string
	err := c.call(ctx, op, pkg, func() error {
		req, err := http.NewRequestWithContext(ctx, "POST", u, http.NoBody)
		if err != nil {
			return permanent{Err: err}
		}
		req.Header.Set("X-Upload-Content-Type", "application/octet-stream")
		req.Header.Set("X-Upload-Content-Length", strconv.FormatInt(size, 10))
		resp, err := c.hc.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if err := googleapi.CheckResponse(resp); err != nil {
			return err
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		loc = resp.Header.Get("Location")
		if loc == "" {
			return permanent{Err: errors.New("the server opened no upload session (no Location header)")}
		}
		return nil
	})
	return loc, err
}

// putChunk sends bytes [off, off+n) of src, of size bytes in all, or,
// with a nil src, asks for the session's status. It reports whether the
// upload finished (out then holds the answer), else the offset the server
// wants next.
func (c *Client) putChunk(ctx context.Context, session string, src io.ReaderAt, off, n, size int64, out any) (bool, int64, error) {
	actx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	wd := time.AfterFunc(c.retry.Stall, func() { cancel(errStalled) })
	defer wd.Stop()
	var body io.Reader = http.NoBody
	cr := fmt.Sprintf("bytes */%d", size)
	if src != nil && n > 0 {
		// Once the whole chunk is sent, the server may check the whole
		// file before it answers: the response header timeout applies,
		// not the stall timeout.
		ch := gapi.NewChunkReader(io.NewSectionReader(src, off, n), n, func() { wd.Reset(c.retry.Stall) }, func() { wd.Stop() })
		defer ch.Detach()
		body = ch
		cr = fmt.Sprintf("bytes %d-%d/%d", off, off+n-1, size)
	} else {
		n = 0
	}
	req, err := http.NewRequestWithContext(actx, "PUT", session, body)
	if err != nil {
		return false, 0, permanent{Err: err}
	}
	req.ContentLength = n
	req.Header.Set("Content-Range", cr)
	req.Header.Set("X-GUploader-No-308", "yes")
	resp, err := c.hc.Do(req)
	if err != nil {
		if cause := context.Cause(actx); errors.Is(cause, errStalled) {
			err = errStalled
		}
		return false, 0, gapi.HideSession(err)
	}
	defer resp.Body.Close()
	wd.Stop()
	if resp.StatusCode == 308 || resp.Header.Get("X-Http-Status-Code-Override") == "308" {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		end, err := parseRangeEnd(resp.Header.Get("Range"))
		if err != nil {
			return false, 0, err
		}
		return false, end + 1, nil
	}
	if err := googleapi.CheckResponse(resp); err != nil {
		return false, 0, err
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(out); err != nil {
		return false, 0, fmt.Errorf("reading the upload's answer: %w", err)
	}
	return true, 0, nil
}

// parseRangeEnd reads the last byte the server holds from a "bytes=0-N"
// Range header; no header means none.
func parseRangeEnd(h string) (int64, error) {
	if h == "" {
		return -1, nil
	}
	r, ok := strings.CutPrefix(h, "bytes=")
	lo, hi, ok2 := strings.Cut(r, "-")
	if !ok || !ok2 || lo != "0" {
		return 0, permanent{Err: fmt.Errorf("the upload server answered a malformed Range %q", h)}
	}
	end, err := strconv.ParseInt(hi, 10, 64)
	if err != nil || end < 0 {
		return 0, permanent{Err: fmt.Errorf("the upload server answered a malformed Range %q", h)}
	}
	return end, nil
}
