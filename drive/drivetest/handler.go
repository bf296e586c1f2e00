package drivetest

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/storesign/storesign/internal/fanout"
)

// recorder wraps a ResponseWriter to log the request and to cut the
// connection on demand.
type recorder struct {
	http.ResponseWriter
	req    Request
	status int
	out    int64
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

// ReadFrom lets the server use sendfile for downloads.
func (r *recorder) ReadFrom(src io.Reader) (int64, error) {
	if r.status == 0 {
		r.status = 200
	}
	if rf, ok := r.ResponseWriter.(io.ReaderFrom); ok {
		n, err := rf.ReadFrom(src)
		r.out += n
		return n, err
	}
	n, err := io.CopyBuffer(struct{ io.Writer }{r.ResponseWriter}, src, make([]byte, 256<<10))
	r.out += n
	return n, err
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = 200
	}
	n, err := r.ResponseWriter.Write(b)
	r.out += int64(n)
	return n, err
}

// abort sends what was written so far and drops the connection.
func (r *recorder) abort() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
	r.status = 0
	panic(http.ErrAbortHandler)
}

// countingBody counts request body bytes read.
type countingBody struct {
	r io.ReadCloser
	n int64
}

func (c *countingBody) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (c *countingBody) Close() error { return c.r.Close() }

// ServeHTTP answers the Drive v3 REST subset: under /drive/v3/ files.get,
// files.list, files.create (metadata), files.update (metadata),
// files.delete; under /upload/drive/v3/ files.create and files.update with
// uploadType media, multipart or resumable, and the resumable session's
// chunk PUTs/POSTs.
func (s *Server) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body := &countingBody{r: req.Body}
	req.Body = body
	rec := &recorder{ResponseWriter: w, req: Request{
		Method: req.Method, Path: req.URL.Path, Query: req.URL.RawQuery,
		Range: req.Header.Get("Range"), ContentRange: req.Header.Get("Content-Range"),
	}}
	fault, rnd := s.pickFault()
	rec.req.Fault = fault
	defer func() {
		rec.req.Status = rec.status
		rec.req.BytesIn = body.n
		rec.req.BytesOut = rec.out
		s.mu.Lock()
		s.reqs = append(s.reqs, rec.req)
		s.mu.Unlock()
		s.opts.Log.Debug("drivetest", "method", req.Method, "path", req.URL.Path, "query", req.URL.RawQuery,
			"status", rec.req.Status, "fault", string(fault), "in", body.n, "out", rec.out)
	}()
	if s.opts.Token != "" && req.Header.Get("Authorization") != "Bearer "+s.opts.Token {
		rec.Header().Set("WWW-Authenticate", `Bearer realm="https://accounts.google.com/", error="invalid_token"`)
		apiError(rec, 401, "authError", "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.")
		return
	}
	switch fault {
	case Fault500:
		apiError(rec, 500, "backendError", "Internal Error (injected)")
		return
	case Fault503:
		apiError(rec, 503, "backendError", "Service Unavailable (injected)")
		return
	case Fault429:
		apiError(rec, 429, "rateLimitExceeded", "Too Many Requests (injected)")
		return
	case FaultRateLimit:
		apiError(rec, 403, "userRateLimitExceeded", "User Rate Limit Exceeded (injected)")
		return
	case FaultSlow:
		s.mu.Lock()
		d := s.faults.Delay
		s.mu.Unlock()
		select {
		case <-time.After(d):
		case <-req.Context().Done():
			return
		}
	}
	cut := fault == FaultCut
	if rnd < 0 {
		rnd = -rnd
	}
	h := &call{s: s, w: rec, req: req, cut: cut, rnd: rnd}
	h.route()
}

// call is one request being answered.
type call struct {
	s   *Server
	w   *recorder
	req *http.Request
	cut bool  // cut the connection mid-body
	rnd int64 // where to cut
}

func (h *call) q(k string) string { return h.req.URL.Query().Get(k) }

func (h *call) json(code int, v any) { writeJSON(h.w, code, v, h.cut, h.w) }

func (h *call) route() {
	p := h.req.URL.Path
	m := h.req.Method
	switch {
	case strings.HasPrefix(p, "/upload/drive/v3/files"):
		if h.q("upload_id") != "" {
			if m != "PUT" && m != "POST" {
				apiError(h.w, 405, "badRequest", "Method not allowed on an upload session.")
				return
			}
			h.chunk(h.q("upload_id"))
			return
		}
		id := strings.TrimPrefix(strings.TrimPrefix(p, "/upload/drive/v3/files"), "/")
		switch {
		case m == "POST" && id == "", m == "PATCH" && id != "":
			h.upload(id)
		default:
			apiError(h.w, 405, "badRequest", "Method not allowed.")
		}
	case strings.HasPrefix(p, "/drive/v3/files"):
		id := strings.TrimPrefix(strings.TrimPrefix(p, "/drive/v3/files"), "/")
		switch {
		case m == "GET" && id == "":
			h.list()
		case m == "GET":
			h.get(id)
		case m == "POST" && id == "":
			h.createMeta()
		case m == "PATCH" && id != "":
			h.updateMeta(id)
		case m == "DELETE" && id != "":
			h.delete(id)
		default:
			apiError(h.w, 405, "badRequest", "Method not allowed.")
		}
	default:
		apiError(h.w, 404, "notFound", "Not Found: "+p)
	}
}

func (h *call) get(id string) {
	s := h.s
	s.mu.Lock()
	e, err := s.lookupLocked(h.req, id)
	var a apiFile
	if err == nil {
		a = s.toAPI(e)
	}
	var content string
	var size int64
	if e != nil {
		content, size = e.content, e.Size
	}
	s.mu.Unlock()
	if err != nil {
		notFound(h.w, id)
		return
	}
	if h.q("alt") != "media" {
		h.json(200, a)
		return
	}
	if content == "" {
		apiError(h.w, 403, "fileNotDownloadable", "Only files with binary content can be downloaded. Use Export with Docs Editors files.")
		return
	}
	f, err := os.Open(content)
	if err != nil {
		apiError(h.w, 500, "backendError", "Internal Error")
		return
	}
	defer f.Close()
	start, end, partial, ok := parseRange(h.req.Header.Get("Range"), size)
	if !ok {
		h.w.Header().Set("Content-Range", fmt.Sprintf("bytes */%d", size))
		apiError(h.w, 416, "requestedRangeNotSatisfiable", "Request range not satisfiable")
		return
	}
	n := end - start
	hd := h.w.Header()
	hd.Set("Content-Type", "application/octet-stream")
	hd.Set("Content-Length", strconv.FormatInt(n, 10))
	hd.Set("Accept-Ranges", "bytes")
	code := 200
	if partial {
		code = 206
		hd.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end-1, size))
	}
	h.w.WriteHeader(code)
	if _, err := f.Seek(start, io.SeekStart); err != nil {
		h.w.abort()
	}
	if h.cut && n > 0 {
		h.w.ReadFrom(io.LimitReader(f, h.rnd%n))
		h.w.abort()
	}
	h.w.ReadFrom(io.LimitReader(f, n))
}

// parseRange reads "bytes=a-b", "bytes=a-" or "bytes=-n" against size and
// returns [start, end). ok is false for an unsatisfiable range.
func parseRange(hdr string, size int64) (start, end int64, partial, ok bool) {
	if hdr == "" || !strings.HasPrefix(hdr, "bytes=") || strings.Contains(hdr, ",") {
		return 0, size, false, true
	}
	spec := strings.TrimPrefix(hdr, "bytes=")
	a, b, found := strings.Cut(spec, "-")
	if !found {
		return 0, size, false, true
	}
	if a == "" {
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n <= 0 {
			return 0, 0, false, false
		}
		return max(size-n, 0), size, true, true
	}
	start, err := strconv.ParseInt(a, 10, 64)
	if err != nil || start < 0 || start >= size {
		return 0, 0, false, false
	}
	end = size
	if b != "" {
		e, err := strconv.ParseInt(b, 10, 64)
		if err != nil || e < start {
			return 0, 0, false, false
		}
		end = min(e+1, size)
	}
	return start, end, true, true
}

func (h *call) list() {
	s := h.s
	qs := h.req.URL.Query()
	match, err := parseQuery(qs.Get("q"))
	if err != nil {
		apiError(h.w, 400, "invalid", "Invalid Value: q: "+err.Error())
		return
	}
	allDrives := qs.Get("includeItemsFromAllDrives") == "true" && qs.Get("supportsAllDrives") == "true"
	corpora, driveID := qs.Get("corpora"), qs.Get("driveId")
	if (corpora == "drive") != (driveID != "") {
		apiError(h.w, 400, "invalid", "The driveId parameter must be specified if and only if corpora is set to drive.")
		return
	}
	if driveID != "" && !allDrives {
		apiError(h.w, 403, "teamDrivesParameterNotSupported", "includeItemsFromAllDrives and supportsAllDrives must be true with driveId.")
		return
	}
	pageSize := 100
	if v := qs.Get("pageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			apiError(h.w, 400, "invalid", "Invalid Value: pageSize")
			return
		}
		pageSize = n
	}
	offset := 0
	if t := qs.Get("pageToken"); t != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(t, "p"))
		if err != nil || n < 0 {
			apiError(h.w, 400, "invalid", "Invalid Value: pageToken")
			return
		}
		offset = n
	}
	s.mu.Lock()
	var all []*entry
	for _, e := range s.files {
		if e.hidden || (e.DriveID != "" && !allDrives) || (driveID != "" && e.DriveID != driveID) {
			continue
		}
		if e.ID == e.DriveID { // a shared drive's root
			continue
		}
		if match(e) {
			all = append(all, e)
		}
	}
	slices.SortFunc(all, func(a, b *entry) int {
		if c := b.ModifiedTime.Compare(a.ModifiedTime); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	files := []apiFile{}
	for i := offset; i < len(all) && i < offset+pageSize; i++ {
		files = append(files, s.toAPI(all[i]))
	}
	s.mu.Unlock()
	out := map[string]any{"kind": "drive#fileList", "incompleteSearch": false, "files": files}
	if offset+pageSize < len(all) {
		out["nextPageToken"] = "p" + strconv.Itoa(offset+pageSize)
	}
	h.json(200, out)
}

// meta is the JSON metadata clients send on create and update.
type meta struct {
	Name     *string  `json:"name"`
	MimeType string   `json:"mimeType"`
	Parents  []string `json:"parents"`
	Trashed  *bool    `json:"trashed"`
	// AppProperties set keys; a null value removes one, as Drive does.
	AppProperties map[string]*string `json:"appProperties"`
}

// setAppProperties applies the appProperties of m to e. The map is
// replaced, never changed, so that copies of the File handed out stay as
// they were.
func (m meta) setAppProperties(e *entry) {
	if len(m.AppProperties) == 0 {
		return
	}
	props := maps.Clone(e.AppProperties)
	if props == nil {
		props = map[string]string{}
	}
	for k, v := range m.AppProperties {
		if v == nil {
			delete(props, k)
			continue
		}
		props[k] = *v
	}
	e.AppProperties = props
}

func readMeta(r io.Reader) (meta, error) {
	var m meta
	b, err := io.ReadAll(io.LimitReader(r, 1<<20))
	if err != nil {
		return m, err
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return m, nil
	}
	err = json.Unmarshal(b, &m)
	return m, err
}

// checkCreateLocked validates a new item's parent; it writes the error
// reply and returns false when the create must fail.
func (h *call) checkCreateLocked(m meta, content bool) (parent string, ok bool) {
	s := h.s
	if len(m.Parents) > 1 {
		apiError(h.w, 400, "cannotAddParent", "A shared drive item must have exactly one parent.")
		return "", false
	}
	if len(m.Parents) == 1 {
		parent = m.Parents[0]
		p, err := s.lookupLocked(h.req, parent)
		if err != nil {
			notFound(h.w, parent)
			return "", false
		}
		if p.MimeType != FolderMimeType {
			apiError(h.w, 400, "invalidParent", "The parent is not a folder: "+parent)
			return "", false
		}
		if p.readOnly {
			apiError(h.w, 403, "insufficientFilePermissions", "The user does not have sufficient permissions for this file.")
			return "", false
		}
	}
	if content && s.opts.NoQuota && (parent == "" || s.files[parent].DriveID == "") {
		apiError(h.w, 403, "storageQuotaExceeded", "Service Accounts do not have storage quota. Leverage shared drives (https://developers.google.com/workspace/drive/api/guides/about-shareddrives), or use OAuth delegation (http://support.google.com/a/answer/7281227) instead.")
		return "", false
	}
	return parent, true
}

func (h *call) createMeta() {
	m, err := readMeta(h.req.Body)
	if err != nil {
		apiError(h.w, 400, "parseError", "Parse Error")
		return
	}
	s := h.s
	s.mu.Lock()
	parent, ok := h.checkCreateLocked(m, false)
	if !ok {
		s.mu.Unlock()
		return
	}
	e := &entry{File: File{MimeType: m.MimeType}}
	if m.Name != nil {
		e.Name = *m.Name
	}
	if e.Name == "" {
		e.Name = "Untitled"
	}
	if e.MimeType == "" {
		e.MimeType = "application/octet-stream"
	}
	m.setAppProperties(e)
	if _, err := s.addLocked(e, parent); err != nil {
		s.mu.Unlock()
		apiError(h.w, 500, "backendError", err.Error())
		return
	}
	a := s.toAPI(e)
	s.mu.Unlock()
	h.json(200, a)
}

func (h *call) updateMeta(id string) {
	m, err := readMeta(h.req.Body)
	if err != nil {
		apiError(h.w, 400, "parseError", "Parse Error")
		return
	}
	s := h.s
	s.mu.Lock()
	e, ok := h.writableLocked(id)
	if !ok {
		s.mu.Unlock()
		return
	}
	if m.Name != nil {
		e.Name = *m.Name
	}
	if m.Trashed != nil {
		e.Trashed = *m.Trashed
	}
	m.setAppProperties(e)
	e.ModifiedTime = s.now()
	a := s.toAPI(e)
	s.mu.Unlock()
	h.json(200, a)
}

func (h *call) delete(id string) {
	s := h.s
	s.mu.Lock()
	e, ok := h.writableLocked(id)
	if !ok {
		s.mu.Unlock()
		return
	}
	delete(s.files, id)
	if e.content != "" {
		os.Remove(e.content)
	}
	s.mu.Unlock()
	h.w.WriteHeader(204)
}

// writableLocked returns the entry id names if the caller may change it;
// otherwise it writes the 404 or 403 reply and returns ok=false. s.mu is
// held.
func (h *call) writableLocked(id string) (e *entry, ok bool) {
	e, err := h.s.lookupLocked(h.req, id)
	if err != nil {
		notFound(h.w, id)
		return nil, false
	}
	if e.readOnly {
		apiError(h.w, 403, "insufficientFilePermissions", "The user does not have sufficient permissions for this file.")
		return nil, false
	}
	return e, true
}

// session is an open resumable upload.
type session struct {
	mu     sync.Mutex
	id     string
	fileID string // the file updated, "" for a create
	parent string
	meta   meta
	total  int64 // -1 until known
	tmp    *os.File
	hash   hashers
	// fan writes and hashes the bytes received, on three goroutines that
	// run while the next bytes arrive (a chunk is acknowledged once read:
	// finish waits for the rest).
	fan      *fanout.Fanout
	received int64
	done     *entry // the finished file
	gone     bool   // expired or closed
}

// end stops the session's pipeline and removes its temp file, unless it
// finished. Call with se.mu held.
func (se *session) end() {
	if se.gone {
		return
	}
	se.gone = true
	se.fan.Close()
	if se.done == nil {
		se.tmp.Close()
		os.Remove(se.tmp.Name())
	}
}

// upload starts files.create / files.update with media.
func (h *call) upload(id string) {
	switch t := h.q("uploadType"); t {
	case "resumable":
		h.openSession(id)
	case "multipart", "media":
		h.simpleUpload(id, t == "multipart")
	default:
		apiError(h.w, 400, "invalid", "Invalid Value: uploadType="+t)
	}
}

// target checks what an upload may write and returns the entry being
// updated (nil for a create) and the parent. It writes the error reply and
// returns ok=false when the upload must fail.
func (h *call) targetLocked(id string, m meta) (upd *entry, parent string, ok bool) {
	s := h.s
	if id != "" {
		e, err := s.lookupLocked(h.req, id)
		if err != nil {
			notFound(h.w, id)
			return nil, "", false
		}
		if e.MimeType == FolderMimeType || e.MimeType == ShortcutMimeType || strings.HasPrefix(e.MimeType, "application/vnd.google-apps.") {
			apiError(h.w, 400, "invalid", "Cannot upload content to this item.")
			return nil, "", false
		}
		if e.readOnly {
			apiError(h.w, 403, "insufficientFilePermissions", "The user does not have sufficient permissions for this file.")
			return nil, "", false
		}
		return e, "", true
	}
	parent, ok = h.checkCreateLocked(m, true)
	return nil, parent, ok
}

func (h *call) openSession(id string) {
	m, err := readMeta(h.req.Body)
	if err != nil {
		apiError(h.w, 400, "parseError", "Parse Error")
		return
	}
	s := h.s
	total := int64(-1)
	if v := h.req.Header.Get("X-Upload-Content-Length"); v != "" {
		total, err = strconv.ParseInt(v, 10, 64)
		if err != nil || total < 0 {
			apiError(h.w, 400, "invalid", "Invalid X-Upload-Content-Length")
			return
		}
	}
	if m.MimeType == "" {
		m.MimeType = h.req.Header.Get("X-Upload-Content-Type")
	}
	tmp, err := os.CreateTemp(s.dir, "upload-*")
	if err != nil {
		apiError(h.w, 500, "backendError", err.Error())
		return
	}
	s.mu.Lock()
	_, parent, ok := h.targetLocked(id, m)
	if !ok {
		s.mu.Unlock()
		tmp.Close()
		os.Remove(tmp.Name())
		return
	}
	s.seq++
	hs := newHashers()
	se := &session{id: fmt.Sprintf("s%d-%s", s.seq, strconv.FormatInt(h.rnd%1e9, 36)), fileID: id, parent: parent,
		meta: m, total: total, tmp: tmp, hash: hs, fan: s.hashFanout(tmp, hs)}
	s.sessions[se.id] = se
	s.mu.Unlock()
	scheme := "http"
	if h.req.TLS != nil {
		scheme = "https"
	}
	loc := fmt.Sprintf("%s://%s%s?uploadType=resumable&upload_id=%s", scheme, h.req.Host, h.req.URL.Path, se.id)
	for _, k := range []string{"supportsAllDrives", "fields"} {
		if v := h.q(k); v != "" {
			loc += "&" + k + "=" + urlQueryEscape(v)
		}
	}
	h.w.Header().Set("Location", loc)
	h.w.Header().Set("X-GUploader-UploadID", se.id)
	h.w.WriteHeader(200)
}

func urlQueryEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// parseContentRange reads "bytes a-b/total", "bytes a-b/*", "bytes */total"
// and "bytes */*". first is -1 when no bytes are given; total is -1 for *.
func parseContentRange(v string) (first, last, total int64, err error) {
	spec, ok := strings.CutPrefix(v, "bytes ")
	if !ok {
		return 0, 0, 0, fmt.Errorf("bad Content-Range %q", v)
	}
	rng, tot, ok := strings.Cut(spec, "/")
	if !ok {
		return 0, 0, 0, fmt.Errorf("bad Content-Range %q", v)
	}
	total = -1
	if tot != "*" {
		if total, err = strconv.ParseInt(tot, 10, 64); err != nil || total < 0 {
			return 0, 0, 0, fmt.Errorf("bad Content-Range %q", v)
		}
	}
	if rng == "*" {
		return -1, -1, total, nil
	}
	a, b, ok := strings.Cut(rng, "-")
	if !ok {
		return 0, 0, 0, fmt.Errorf("bad Content-Range %q", v)
	}
	if first, err = strconv.ParseInt(a, 10, 64); err != nil || first < 0 {
		return 0, 0, 0, fmt.Errorf("bad Content-Range %q", v)
	}
	if last, err = strconv.ParseInt(b, 10, 64); err != nil || last < first {
		return 0, 0, 0, fmt.Errorf("bad Content-Range %q", v)
	}
	if total >= 0 && last >= total {
		return 0, 0, 0, fmt.Errorf("bad Content-Range %q", v)
	}
	return first, last, total, nil
}

// chunk receives a PUT or POST to a resumable session.
func (h *call) chunk(id string) {
	s := h.s
	s.mu.Lock()
	se := s.sessions[id]
	s.mu.Unlock()
	if se == nil {
		apiError(h.w, 404, "notFound", "No such upload session.")
		return
	}
	// One request at a time per session, as on Drive.
	se.mu.Lock()
	defer se.mu.Unlock()
	if se.gone && se.done == nil {
		apiError(h.w, 404, "notFound", "No such upload session.")
		return
	}
	if se.done != nil {
		s.mu.Lock()
		a := s.toAPI(se.done)
		s.mu.Unlock()
		h.json(200, a)
		return
	}
	cr := h.req.Header.Get("Content-Range")
	first, last, total, err := int64(-1), int64(-1), se.total, error(nil)
	if cr != "" {
		var t int64
		first, last, t, err = parseContentRange(cr)
		if err != nil {
			apiError(h.w, 400, "badContent", err.Error())
			return
		}
		if t >= 0 {
			if se.total >= 0 && t != se.total {
				apiError(h.w, 400, "badContent", "Content-Range total does not match the session.")
				return
			}
			total = t
		}
	} else if h.req.ContentLength > 0 {
		first, last = 0, h.req.ContentLength-1
	}
	if first >= 0 {
		n := last - first + 1
		if h.req.ContentLength >= 0 && h.req.ContentLength != n {
			apiError(h.w, 400, "badContent", "Content-Length does not match Content-Range.")
			return
		}
		if first > se.received {
			apiError(h.w, 400, "badContent", fmt.Sprintf("Chunk starts at %d but only %d bytes were received.", first, se.received))
			return
		}
		if err := se.fan.Err(); err != nil {
			apiError(h.w, 500, "backendError", err.Error())
			return
		}
		// Skip what was already persisted (a resent chunk overlaps it).
		skip := se.received - first
		body := h.req.Body
		if skip > 0 {
			if _, err := io.CopyN(io.Discard, body, min(skip, n)); err != nil {
				return
			}
		}
		want := n - min(skip, n)
		limit := want
		if h.cut && want > 0 {
			limit = h.rnd % want
		}
		got, err := se.fan.Copy(body, limit)
		se.received += got
		if err != nil {
			if ferr := se.fan.Err(); ferr != nil {
				apiError(h.w, 500, "backendError", ferr.Error())
			}
			// Otherwise the client hung up: keep what arrived.
			return
		}
		if h.cut {
			h.w.abort()
		}
		if se.received > last+1 {
			se.received = last + 1 // unreachable: kept for safety
		}
	}
	if total >= 0 && se.received == total {
		h.finish(se, total)
		return
	}
	if total >= 0 && se.received > total {
		apiError(h.w, 400, "badContent", "More bytes than the declared total.")
		return
	}
	if se.received > 0 {
		h.w.Header().Set("Range", fmt.Sprintf("bytes=0-%d", se.received-1))
	}
	if h.req.Header.Get("X-GUploader-No-308") == "yes" {
		h.w.Header().Set("X-Http-Status-Code-Override", "308")
		h.w.Header().Set("Content-Length", "0")
		h.w.WriteHeader(200)
		return
	}
	h.w.Header().Set("Content-Length", "0")
	h.w.WriteHeader(308)
}

// finish stores a complete upload and replies with the file's metadata.
func (h *call) finish(se *session, total int64) {
	s := h.s
	if err := se.fan.Close(); err != nil {
		apiError(h.w, 500, "backendError", err.Error())
		return
	}
	if err := se.tmp.Close(); err != nil {
		apiError(h.w, 500, "backendError", err.Error())
		return
	}
	md, sh := hex.EncodeToString(se.hash.md5.Sum(nil)), hex.EncodeToString(se.hash.sha.Sum(nil))
	e, err := s.store(h.req, se.fileID, se.parent, se.meta, se.tmp.Name(), total, md, sh)
	if err != nil {
		apiError(h.w, 404, "notFound", err.Error())
		return
	}
	s.mu.Lock()
	se.done = e
	a := s.toAPI(e)
	if s.opts.OnUpload != nil {
		defer s.opts.OnUpload(e.File, s.folderPathLocked(e), e.content)
	}
	s.mu.Unlock()
	h.json(200, a)
}

// folderPathLocked lists the folder names from the top-level folder (or
// shared drive) down to e's parent.
func (s *Server) folderPathLocked(e *entry) []string {
	var path []string
	for p := e; len(p.Parents) > 0 && len(path) < 64; {
		p = s.files[p.Parents[0]]
		if p == nil {
			break
		}
		path = append([]string{p.Name}, path...)
	}
	return path
}

// store makes a new file (fileID "") or a new revision of fileID from the
// content at tmp.
func (s *Server) store(req *http.Request, fileID, parent string, m meta, tmp string, size int64, md, sh string) (*entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var e *entry
	if fileID != "" {
		e = s.files[fileID]
		if e == nil {
			os.Remove(tmp)
			return nil, errors.New("File not found: " + fileID)
		}
		e.Version++
		if m.Name != nil && *m.Name != "" {
			e.Name = *m.Name
		}
	} else {
		e = &entry{File: File{Name: "Untitled", MimeType: m.MimeType}}
		if m.Name != nil && *m.Name != "" {
			e.Name = *m.Name
		}
		if e.MimeType == "" {
			e.MimeType = "application/octet-stream"
		}
		if _, err := s.addLocked(e, parent); err != nil {
			os.Remove(tmp)
			return nil, err
		}
	}
	old := e.content
	e.content = filepath.Join(s.dir, e.ID+"."+strconv.FormatInt(e.Version, 10))
	if err := os.Rename(tmp, e.content); err != nil {
		return nil, err
	}
	if old != "" && old != e.content {
		os.Remove(old)
	}
	e.Size, e.MD5, e.SHA256 = size, md, sh
	m.setAppProperties(e)
	e.ModifiedTime = s.now()
	return e, nil
}

// simpleUpload handles uploadType=media and multipart.
func (h *call) simpleUpload(id string, multi bool) {
	s := h.s
	var m meta
	var media io.Reader = h.req.Body
	if multi {
		mt, params, err := mime.ParseMediaType(h.req.Header.Get("Content-Type"))
		if err != nil || !strings.HasPrefix(mt, "multipart/") {
			apiError(h.w, 400, "badContent", "Multipart upload wants a multipart/related body.")
			return
		}
		mr := multipart.NewReader(h.req.Body, params["boundary"])
		p, err := mr.NextPart()
		if err != nil {
			apiError(h.w, 400, "badContent", "Missing metadata part.")
			return
		}
		if m, err = readMeta(p); err != nil {
			apiError(h.w, 400, "parseError", "Parse Error")
			return
		}
		p, err = mr.NextPart()
		if err != nil {
			apiError(h.w, 400, "badContent", "Missing media part.")
			return
		}
		if m.MimeType == "" {
			m.MimeType = p.Header.Get("Content-Type")
		}
		media = p
	} else {
		m.MimeType = h.req.Header.Get("Content-Type")
	}
	s.mu.Lock()
	_, parent, ok := h.targetLocked(id, m)
	s.mu.Unlock()
	if !ok {
		return
	}
	tmp, err := os.CreateTemp(s.dir, "upload-*")
	if err != nil {
		apiError(h.w, 500, "backendError", err.Error())
		return
	}
	hs := newHashers()
	fan := s.hashFanout(tmp, hs)
	n, err := fan.Copy(media, -1)
	if ferr := fan.Close(); ferr != nil {
		err = ferr
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp.Name())
		return // the client hung up
	}
	if h.cut {
		os.Remove(tmp.Name())
		h.w.abort()
	}
	e, err := s.store(h.req, id, parent, m, tmp.Name(), n, hex.EncodeToString(hs.md5.Sum(nil)), hex.EncodeToString(hs.sha.Sum(nil)))
	if err != nil {
		apiError(h.w, 404, "notFound", err.Error())
		return
	}
	s.mu.Lock()
	a := s.toAPI(e)
	if s.opts.OnUpload != nil {
		defer s.opts.OnUpload(e.File, s.folderPathLocked(e), e.content)
	}
	s.mu.Unlock()
	h.json(200, a)
}
