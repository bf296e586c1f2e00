package drive

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	drive "google.golang.org/api/drive/v3"
	"google.golang.org/api/googleapi"

	"github.com/storesign/storesign/internal/atomicfile"
	"github.com/storesign/storesign/internal/gapi"
)

// UploadOptions says where [Client.Upload] puts a file.
type UploadOptions struct {
	// Folder is the destination folder's ID or link (required).
	Folder string
	// Path is an optional sub-path under Folder ("2024/build-42"); missing
	// folders are created.
	Path string
	// Name is the file's name in Drive (required for Upload; UploadFile
	// defaults it to the local base name).
	Name string
	// MimeType defaults to application/octet-stream.
	MimeType string
	// Replace uploads a new revision of the same-named file, keeping its ID
	// and link. Without it, a different same-named file is an error
	// wrapping ErrExists; an identical one (same size and MD5) is never
	// uploaded again either way.
	Replace bool
	// ChunkSize overrides the client's chunk size for this upload: the
	// bytes sent per request, and so at most lost per failure.
	ChunkSize int64
	// Progress, if set, is called after each acknowledged chunk.
	Progress func(Progress)
	// AppProperties are private key-value pairs stored with the file,
	// visible to this app only (Drive's appProperties): where a signed
	// build came from, say. A replaced file gets them too.
	AppProperties map[string]string
}

// UploadResult tells what [Client.Upload] did.
type UploadResult struct {
	File *File
	// Skipped is true when an identical file was already there.
	Skipped bool
	// Replaced is true when a new revision of an existing file was made.
	Replaced bool
}

// UploadFile uploads the local file at path; see [Client.Upload].
func (c *Client) UploadFile(ctx context.Context, path string, opts UploadOptions) (*UploadResult, error) {
	// A folder, FIFO or device is refused before it can block open.
	f, size, err := atomicfile.OpenInput(path, "a file to upload")
	if err != nil {
		var nr *atomicfile.NotRegularError
		if errors.As(err, &nr) {
			return nil, fmt.Errorf("drive: %w", err)
		}
		return nil, fmt.Errorf("drive: opening upload: %w", err)
	}
	defer f.Close()
	if opts.Name == "" {
		opts.Name = filepath.Base(path)
	}
	return c.Upload(ctx, f, size, opts)
}

// Upload puts size bytes of src into a Drive folder with the resumable
// protocol: a failed chunk is retried after asking the server how much it
// kept. After the upload, the server's size and MD5 are compared with the
// local ones; a mismatch removes a newly created file and returns an error
// wrapping ErrChecksum. No chunk is held in memory: each is read from
// src as it is sent.
func (c *Client) Upload(ctx context.Context, src io.ReaderAt, size int64, opts UploadOptions) (*UploadResult, error) {
	// The name is checked as a download's would be: what storesign
	// uploads, it (and the next step) can download by name.
	if _, err := LocalName(opts.Name); err != nil {
		return nil, fmt.Errorf("%w: choose another name for the upload", err)
	}
	if opts.Folder == "" {
		return nil, errors.New("drive: uploading: no destination folder given")
	}
	if opts.MimeType == "" {
		opts.MimeType = "application/octet-stream"
	}
	chunk := c.chunkSize
	if opts.ChunkSize > 0 {
		chunk = roundChunk(opts.ChunkSize)
	}
	op := "uploading " + opts.Name

	// The local MD5 runs on its own core while the upload proceeds.
	type sum struct {
		md5 string
		err error
	}
	sumc := make(chan sum, 1)
	hctx, hcancel := context.WithCancel(ctx)
	defer hcancel()
	go func() {
		h := md5.New()
		// Reads large enough to make syscalls few, small enough for the
		// buffer to stay in the core's cache between the read and MD5.
		_, err := io.CopyBuffer(h, &ctxReader{ctx: hctx, r: io.NewSectionReader(src, 0, size)}, make([]byte, 256<<10))
		sumc <- sum{hex.EncodeToString(h.Sum(nil)), err}
	}()
	var local *sum
	localMD5 := func() (string, error) {
		if local == nil {
			s := <-sumc
			local = &s
		}
		if local.err != nil {
			return "", fmt.Errorf("%s: reading the local file: %w", op, local.err)
		}
		return local.md5, nil
	}

	folder, err := c.folder(ctx, opts.Folder)
	if err != nil {
		return nil, err
	}
	if opts.Path != "" {
		for _, seg := range strings.Split(strings.Trim(opts.Path, "/"), "/") {
			if _, err := LocalName(seg); err != nil {
				return nil, fmt.Errorf("drive: uploading: bad sub-path %s: %w", DisplayName(opts.Path), err)
			}
			folder, err = c.ensureFolder(ctx, folder, seg)
			if err != nil {
				return nil, err
			}
		}
	}
	same, err := c.list(ctx, folder, "name = "+quote(opts.Name)+" and mimeType != "+quote(FolderMimeType))
	if err != nil {
		return nil, err
	}
	var replaceID string
	if len(same) > 0 {
		for _, f := range same {
			if f.Size != size || f.MD5 == "" {
				continue
			}
			m, err := localMD5()
			if err != nil {
				return nil, err
			}
			if strings.EqualFold(m, f.MD5) {
				c.log.Debug("drive: identical file already there", "name", f.Name, "id", f.ID)
				return &UploadResult{File: f, Skipped: true}, nil
			}
		}
		if !opts.Replace {
			return nil, &Error{Op: op, Msg: fmt.Sprintf("a different file named %q is already in folder %s (%s): pass --replace to upload a new revision of it, or choose another name", opts.Name, folder.Name, same[0].ID), Err: ErrExists}
		}
		if len(same) > 1 {
			return nil, &AmbiguousError{Folder: folder.Name, Pattern: opts.Name, Candidates: same}
		}
		replaceID = same[0].ID
	}

	f, err := c.resumable(ctx, op, src, size, chunk, folder.ID, replaceID, opts)
	if err != nil {
		return nil, err
	}
	m, err := localMD5()
	if err != nil {
		return nil, err
	}
	if f.Size != size || (f.MD5 != "" && !strings.EqualFold(f.MD5, m)) {
		msg := fmt.Sprintf("Drive stored %d bytes with MD5 %s, the local file has %d bytes with MD5 %s: the upload was corrupted", f.Size, f.MD5, size, m)
		if replaceID == "" {
			if derr := c.call(ctx, "removing corrupt upload", f.ID, func() error {
				return c.svc.Files.Delete(f.ID).SupportsAllDrives(true).Context(ctx).Do()
			}); derr != nil {
				msg += fmt.Sprintf("; removing it failed too (%v): delete %s by hand", derr, f.ID)
			} else {
				msg += " and was removed"
			}
		}
		return nil, &Error{Op: op, Msg: msg + ": run again", Err: ErrChecksum}
	}
	return &UploadResult{File: f, Replaced: replaceID != ""}, nil
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (r *ctxReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}

// ensureFolder finds or creates the folder name under parent. A retried
// create first looks again, so a lost reply never makes two folders.
func (c *Client) ensureFolder(ctx context.Context, parent *File, name string) (*File, error) {
	op := fmt.Sprintf("creating folder %s in %s", name, parent.Name)
	var out *File
	err := c.retryLoop(ctx, op, func() (bool, error) {
		found, err := c.list(ctx, parent, "name = "+quote(name)+" and mimeType = "+quote(FolderMimeType))
		if err != nil {
			return false, permanent{Err: err}
		}
		if len(found) > 0 {
			sortNewest(found)
			out = found[len(found)-1] // the oldest: the one made first
			return false, nil
		}
		df, err := c.svc.Files.Create(&drive.File{Name: name, MimeType: FolderMimeType, Parents: []string{parent.ID}}).
			SupportsAllDrives(true).Fields(fileFields).Context(ctx).Do()
		if err != nil {
			return false, err
		}
		out = fromAPI(df)
		return false, nil
	})
	if err != nil {
		return nil, c.explain(op, parent.ID, err)
	}
	if out.DriveID == "" {
		out.DriveID = parent.DriveID
	}
	return out, nil
}

// resumable runs Drive's resumable upload protocol: a session is opened
// with the metadata, then chunks are PUT with Content-Range. After a
// failure the session is asked how much it holds ("Content-Range: bytes
// */size") and the upload continues from there; an expired session starts
// over.
func (c *Client) resumable(ctx context.Context, op string, src io.ReaderAt, size, chunk int64, folderID, replaceID string, opts UploadOptions) (*File, error) {
	start := time.Now()
	for restarts := 0; ; restarts++ {
		session, err := c.openSession(ctx, op, size, folderID, replaceID, opts)
		if err != nil {
			return nil, err
		}
		var done *File
		var progress func(off int64)
		if opts.Progress != nil {
			progress = func(off int64) { opts.Progress(Progress{Done: off, Total: size, Elapsed: time.Since(start)}) }
		}
		err = c.retrier().Resume(ctx, op, size, chunk, func(off, n int64) (bool, int64, error) {
			f, next, err := c.putChunk(ctx, session, src, off, n, size)
			if f != nil {
				done = f
			}
			return f != nil, next, err
		}, progress)
		if err == nil {
			if opts.Progress != nil {
				opts.Progress(Progress{Done: size, Total: size, Elapsed: time.Since(start)})
			}
			return done, nil
		}
		var ge *googleapi.Error
		if errors.As(err, &ge) && (ge.Code == 404 || ge.Code == 410) && restarts < 3 {
			c.log.Debug("drive: upload session expired, starting over", "op", op)
			continue
		}
		return nil, c.explain(op, folderID, err)
	}
}

func (c *Client) openSession(ctx context.Context, op string, size int64, folderID, replaceID string, opts UploadOptions) (string, error) {
	meta := map[string]any{"name": opts.Name, "mimeType": opts.MimeType}
	if len(opts.AppProperties) > 0 {
		meta["appProperties"] = opts.AppProperties
	}
	method, u := "POST", c.upload+"files"
	if replaceID != "" {
		method, u = "PATCH", c.upload+"files/"+url.PathEscape(replaceID)
	} else {
		meta["parents"] = []string{folderID}
	}
	u += "?uploadType=resumable&supportsAllDrives=true&fields=" + url.QueryEscape(fileFields)
	body, _ := json.Marshal(meta)
	var loc string
	err := c.call(ctx, op, folderID, func() error {
		req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
		if err != nil {
			return permanent{Err: err}
		}
		req.Header.Set("Content-Type", "application/json; charset=UTF-8")
		req.Header.Set("X-Upload-Content-Type", opts.MimeType)
		req.Header.Set("X-Upload-Content-Length", strconv.FormatInt(size, 10))
		resp, err := c.hc.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if err := googleapi.CheckResponse(resp); err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		loc = resp.Header.Get("Location")
		if loc == "" {
			return permanent{Err: errors.New("the server opened no upload session (no Location header)")}
		}
		return nil
	})
	return loc, err
}

// putChunk sends bytes [off, off+n) of src, of size bytes in all, or,
// with a nil src, asks for the session's status. The bytes are read from
// src as they go out: no chunk is held in memory, and a retry reads them
// again. From a file, on Linux, they go out with sendfile(2) where the
// connection allows it (plain HTTP; see fileChunk). It returns the finished file, or the offset the server wants
// next.
func (c *Client) putChunk(ctx context.Context, session string, src io.ReaderAt, off, n, size int64) (*File, int64, error) {
	actx, wd := newWatchdog(ctx, c.retry.Stall)
	defer wd.stop()
	var body io.Reader = http.NoBody
	cr := fmt.Sprintf("bytes */%d", size)
	if src != nil && n > 0 {
		if fc := openFileChunk(src, off, n, wd); fc != nil {
			defer fc.Close()
			body = fc
		} else {
			chunk := gapi.NewChunkReader(io.NewSectionReader(src, off, n), n, wd.kick, nil)
			defer chunk.Detach()
			body = chunk
		}
		cr = fmt.Sprintf("bytes %d-%d/%d", off, off+n-1, size)
	} else {
		n = 0
	}
	req, err := http.NewRequestWithContext(actx, "PUT", session, body)
	if err != nil {
		return nil, 0, permanent{Err: err}
	}
	req.ContentLength = n
	req.Header.Set("Content-Range", cr)
	req.Header.Set("X-GUploader-No-308", "yes")
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, 0, stallCause(actx, gapi.HideSession(err))
	}
	defer resp.Body.Close()
	wd.kick()
	if resp.StatusCode == 308 || resp.Header.Get("X-Http-Status-Code-Override") == "308" {
		io.Copy(io.Discard, resp.Body)
		end, err := parseRangeEnd(resp.Header.Get("Range"))
		if err != nil {
			return nil, 0, err
		}
		return nil, end + 1, nil
	}
	if err := googleapi.CheckResponse(resp); err != nil {
		return nil, 0, err
	}
	var df drive.File
	if err := json.NewDecoder(resp.Body).Decode(&df); err != nil {
		return nil, 0, stallCause(actx, fmt.Errorf("reading the finished upload's metadata: %w", err))
	}
	return fromAPI(&df), 0, nil
}
