package playtest

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	androidpublisher "google.golang.org/api/androidpublisher/v3"

	"github.com/storesign/storesign/internal/androidinfo"
)

// Messages of the real API that clients look for.
const (
	MsgDraftApp      = "Only releases with status draft may be created on draft app."
	MsgVersionUsed   = "APK specifies a version code that has already been used."
	MsgNoPermission  = "The current user has insufficient permissions to perform the requested operation."
	MsgEditDeleted   = "This Edit has been deleted."
	MsgEditCommitted = "This Edit has already been committed."
	// MsgNotSentForReview refuses a commit of an App.ManagedReview app
	// without changesNotSentForReview.
	MsgNotSentForReview = "Changes cannot be sent for review automatically. Please set the query parameter changesNotSentForReview to true. Once committed, the changes in this edit can be sent for review from the Google Play Console UI."
)

// recorder wraps a ResponseWriter to log the status and to cut the
// connection on demand.
type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = 200
	}
	return r.ResponseWriter.Write(b)
}

// abort sends what was written so far and drops the connection.
func (r *recorder) abort() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
	r.status = 0
	panic(http.ErrAbortHandler)
}

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

// call is one request being answered.
type call struct {
	s   *Server
	w   *recorder
	req *http.Request
	cut bool
	rnd int64
}

// ServeHTTP answers the Android Publisher v3 subset described in the
// package documentation.
func (s *Server) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.URL.Path == StatePath && req.Method == "GET" {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(s.State())
		return
	}
	body := &countingBody{r: req.Body}
	req.Body = body
	rec := &recorder{ResponseWriter: w}
	fault, rnd := s.pickFault()
	logged := Request{Method: req.Method, Path: req.URL.Path, Query: redactQuery(req.URL.Query()), ContentRange: req.Header.Get("Content-Range"), Fault: fault}
	defer func() {
		logged.Status = rec.status
		logged.BytesIn = body.n
		s.mu.Lock()
		s.reqs = append(s.reqs, logged)
		s.mu.Unlock()
		s.opts.Log.Debug("playtest", "method", req.Method, "path", req.URL.Path, "status", logged.Status, "fault", string(fault), "in", body.n)
	}()
	if s.opts.Token != "" && req.Header.Get("Authorization") != "Bearer "+s.opts.Token {
		rec.Header().Set("WWW-Authenticate", `Bearer realm="https://accounts.google.com/", error="invalid_token"`)
		apiError(rec, 401, "authError", "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.")
		return
	}
	switch fault {
	case Fault500:
		apiError(rec, 500, "backendError", "Internal error encountered (injected).")
		return
	case Fault503:
		apiError(rec, 503, "backendError", "The service is currently unavailable (injected).")
		return
	case Fault429:
		apiError(rec, 429, "rateLimitExceeded", "Too many requests (injected).")
		return
	case FaultRateLimit:
		apiError(rec, 403, "userRateLimitExceeded", "User rate limit exceeded (injected).")
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
	if rnd < 0 {
		rnd = -rnd
	}
	h := &call{s: s, w: rec, req: req, cut: fault == FaultCut, rnd: rnd}
	h.route()
}

// redactQuery keeps upload_id out of the log, as a client must.
func redactQuery(q map[string][]string) string {
	if _, ok := q["upload_id"]; ok {
		q["upload_id"] = []string{"REDACTED"}
	}
	var parts []string
	for k, vs := range q {
		for _, v := range vs {
			parts = append(parts, k+"="+v)
		}
	}
	slices.Sort(parts)
	return strings.Join(parts, "&")
}

func apiError(w http.ResponseWriter, code int, reason, msg string) {
	status := map[int]string{400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
		409: "ABORTED", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}[code]
	body, _ := json.Marshal(map[string]any{"error": map[string]any{
		"code": code, "message": msg, "status": status,
		"errors": []map[string]string{{"message": msg, "domain": "global", "reason": reason}},
	}})
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	w.Write(body)
}

// reply writes v as JSON; with a cut fault, the call was carried out but
// its answer is lost half-way.
func (h *call) reply(code int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		apiError(h.w, 500, "backendError", err.Error())
		return
	}
	h.w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	h.w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	h.w.WriteHeader(code)
	if h.cut {
		h.w.Write(body[:len(body)/2])
		h.w.abort()
	}
	h.w.Write(body)
}

func (h *call) noContent() {
	if h.cut {
		h.w.abort()
	}
	h.w.WriteHeader(204)
}

func (h *call) route() {
	p := h.req.URL.Path
	if rest, ok := strings.CutPrefix(p, "/androidpublisher/v3/applications/"); ok {
		h.api(strings.Split(rest, "/"))
		return
	}
	for _, prefix := range []string{"/upload/androidpublisher/v3/applications/", "/resumable/upload/androidpublisher/v3/applications/"} {
		if rest, ok := strings.CutPrefix(p, prefix); ok {
			if h.req.URL.Query().Get("upload_id") != "" {
				h.chunk(h.req.URL.Query().Get("upload_id"))
				return
			}
			h.upload(strings.Split(rest, "/"))
			return
		}
	}
	apiError(h.w, 404, "notFound", "The requested URL "+p+" was not found on this server.")
}

// appLocked finds the app and checks access; it writes the error reply.
func (h *call) appLocked(pkg string) *app {
	a := h.s.apps[pkg]
	if a == nil {
		apiError(h.w, 404, "notFound", "Package not found: "+pkg+".")
		return nil
	}
	if a.opts.NoAccess {
		apiError(h.w, 403, "forbidden", MsgNoPermission)
		return nil
	}
	return a
}

// editLocked finds an open edit of the app; it writes the error reply.
func (h *call) editLocked(a *app, id string) *edit {
	e := h.s.edits[id]
	if e == nil || e.pkg != a.pkg {
		apiError(h.w, 404, "notFound", "Edit not found: "+id+".")
		return nil
	}
	if e.deleted != "" {
		apiError(h.w, 404, "editDeleted", e.deleted)
		return nil
	}
	return e
}

func (h *call) api(seg []string) {
	s := h.s
	m := h.req.Method
	s.mu.Lock()
	locked := true
	defer func() {
		if locked {
			s.mu.Unlock()
		}
	}()
	a := h.appLocked(seg[0])
	if a == nil {
		return
	}
	if len(seg) < 2 || seg[1] != "edits" {
		apiError(h.w, 404, "notFound", "Method not found.")
		return
	}
	if len(seg) == 2 {
		if m != "POST" {
			apiError(h.w, 405, "methodNotAllowed", "Method not allowed.")
			return
		}
		e := s.newEditLocked(a)
		h.reply(200, s.appEdit(e))
		return
	}
	id, verb, _ := strings.Cut(seg[2], ":")
	e := h.editLocked(a, id)
	if e == nil {
		return
	}
	switch {
	case len(seg) == 3 && verb == "" && m == "GET":
		h.reply(200, s.appEdit(e))
	case len(seg) == 3 && verb == "" && m == "DELETE":
		e.deleted = MsgEditDeleted
		h.noContent()
	case len(seg) == 3 && (verb == "commit" || verb == "validate") && m == "POST":
		if err := h.checkCommitLocked(a, e); err != nil {
			apiError(h.w, 400, "badRequest", err.Error())
			return
		}
		notForReview := h.req.URL.Query().Get("changesNotSentForReview") == "true"
		if verb == "commit" && a.opts.ManagedReview && !notForReview {
			apiError(h.w, 400, "badRequest", MsgNotSentForReview)
			return
		}
		if verb == "commit" {
			s.commitLocked(a, e, notForReview)
		}
		h.reply(200, s.appEdit(e))
	case len(seg) == 4 && seg[3] == "tracks" && m == "GET":
		var out androidpublisher.TracksListResponse
		out.Kind = "androidpublisher#tracksListResponse"
		names := make([]string, 0, len(e.tracks))
		for n := range e.tracks {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			out.Tracks = append(out.Tracks, toAPITrack(e.tracks[n]))
		}
		h.reply(200, &out)
	case len(seg) == 5 && seg[3] == "tracks" && m == "GET":
		t := e.tracks[seg[4]]
		if t == nil {
			apiError(h.w, 404, "notFound", "Track not found: "+seg[4]+".")
			return
		}
		h.reply(200, toAPITrack(t))
	case len(seg) == 5 && seg[3] == "tracks" && (m == "PUT" || m == "PATCH"):
		h.updateTrackLocked(a, e, seg[4])
	case len(seg) == 4 && seg[3] == "bundles" && m == "GET":
		out := androidpublisher.BundlesListResponse{Kind: "androidpublisher#bundlesListResponse"}
		for _, u := range allUploads(a, e) {
			if u.Kind == "bundle" {
				out.Bundles = append(out.Bundles, &androidpublisher.Bundle{VersionCode: u.VersionCode, Sha1: u.SHA1, Sha256: u.SHA256})
			}
		}
		h.reply(200, &out)
	case len(seg) == 4 && seg[3] == "apks" && m == "GET":
		out := androidpublisher.ApksListResponse{Kind: "androidpublisher#apksListResponse"}
		for _, u := range allUploads(a, e) {
			if u.Kind == "apk" {
				out.Apks = append(out.Apks, &androidpublisher.Apk{VersionCode: u.VersionCode, Binary: &androidpublisher.ApkBinary{Sha1: u.SHA1, Sha256: u.SHA256}})
			}
		}
		h.reply(200, &out)
	default:
		apiError(h.w, 404, "notFound", "Method not found.")
	}
}

func allUploads(a *app, e *edit) []Upload {
	return append(slices.Clone(a.uploads), e.uploads...)
}

func (s *Server) appEdit(e *edit) *androidpublisher.AppEdit {
	return &androidpublisher.AppEdit{Id: e.id, ExpiryTimeSeconds: strconv.FormatInt(e.expiry.Unix(), 10)}
}

func toAPITrack(t *Track) *androidpublisher.Track {
	out := &androidpublisher.Track{Track: t.Name}
	for _, r := range t.Releases {
		ar := &androidpublisher.TrackRelease{Name: r.Name, Status: r.Status, VersionCodes: slices.Clone(r.VersionCodes),
			UserFraction: r.UserFraction, InAppUpdatePriority: int64(r.InAppUpdatePriority)}
		langs := make([]string, 0, len(r.Notes))
		for l := range r.Notes {
			langs = append(langs, l)
		}
		slices.Sort(langs)
		for _, l := range langs {
			ar.ReleaseNotes = append(ar.ReleaseNotes, &androidpublisher.LocalizedText{Language: l, Text: r.Notes[l]})
		}
		out.Releases = append(out.Releases, ar)
	}
	return out
}

func (h *call) updateTrackLocked(a *app, e *edit, name string) {
	t := e.tracks[name]
	if t == nil {
		apiError(h.w, 404, "notFound", "Track not found: "+name+".")
		return
	}
	var in androidpublisher.Track
	if err := json.NewDecoder(io.LimitReader(h.req.Body, 1<<20)).Decode(&in); err != nil {
		apiError(h.w, 400, "parseError", "Invalid JSON payload received.")
		return
	}
	nt := &Track{Name: name}
	known := map[int64]bool{}
	for _, u := range allUploads(a, e) {
		if u.Kind == "bundle" || u.Kind == "apk" {
			known[u.VersionCode] = true
		}
	}
	for _, r := range in.Releases {
		switch r.Status {
		case "completed", "draft":
			if r.UserFraction != 0 {
				apiError(h.w, 400, "badRequest", "User fraction can only be specified for releases with status inProgress or halted.")
				return
			}
		case "inProgress", "halted":
			if !(r.UserFraction > 0 && r.UserFraction < 1) {
				apiError(h.w, 400, "badRequest", "A release with status "+r.Status+" must have a user fraction between 0 and 1 (exclusive).")
				return
			}
		default:
			apiError(h.w, 400, "badRequest", fmt.Sprintf("Invalid release status: %q.", r.Status))
			return
		}
		if len(r.VersionCodes) == 0 && r.Status != "draft" {
			apiError(h.w, 400, "badRequest", "A release must contain at least one version code.")
			return
		}
		for _, vc := range r.VersionCodes {
			if !known[vc] {
				apiError(h.w, 400, "badRequest", fmt.Sprintf("Version code %d does not exist: upload it in this edit first.", vc))
				return
			}
		}
		if r.InAppUpdatePriority < 0 || r.InAppUpdatePriority > 5 {
			apiError(h.w, 400, "badRequest", "In-app update priority must be between 0 and 5.")
			return
		}
		rel := Release{Name: r.Name, Status: r.Status, VersionCodes: slices.Clone(r.VersionCodes), UserFraction: r.UserFraction, InAppUpdatePriority: int(r.InAppUpdatePriority)}
		for _, n := range r.ReleaseNotes {
			if n.Language == "" || utf8.RuneCountInString(n.Text) > 500 {
				apiError(h.w, 400, "badRequest", "Release notes must have a language and at most 500 characters.")
				return
			}
			if rel.Notes == nil {
				rel.Notes = map[string]string{}
			}
			rel.Notes[n.Language] = n.Text
		}
		nt.Releases = append(nt.Releases, rel)
	}
	e.tracks[name] = nt
	e.changed[name] = true
	h.reply(200, toAPITrack(nt))
}

func (h *call) checkCommitLocked(a *app, e *edit) error {
	if !a.opts.Draft {
		return nil
	}
	for name := range e.changed {
		for _, r := range e.tracks[name].Releases {
			if r.Status != "draft" {
				return errors.New(MsgDraftApp)
			}
		}
	}
	return nil
}

func (s *Server) commitLocked(a *app, e *edit, notForReview bool) {
	c := Commit{EditID: e.id, ChangesNotSentForReview: notForReview, Uploads: slices.Clone(e.uploads), Time: s.now()}
	names := make([]string, 0, len(e.changed))
	for n := range e.changed {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		t := cloneTrack(e.tracks[n])
		a.tracks[n] = &t
		c.Tracks = append(c.Tracks, cloneTrack(&t))
	}
	a.uploads = append(a.uploads, e.uploads...)
	a.commits = append(a.commits, c)
	e.committed = true
	e.deleted = MsgEditCommitted
	for _, o := range s.edits {
		if o.pkg == a.pkg && o.deleted == "" {
			o.deleted = MsgEditDeleted
		}
	}
}

// target is what an upload goes to.
type target struct {
	pkg    string
	editID string // "" for internal app sharing
	kind   string // "bundle", "apk", "proguard", "nativeCode"
	vc     int64  // deobfuscation files: the version code they belong to
	shared bool
	// ackLarge is ackBundleInstallationWarning=true.
	ackLarge bool
}

// parseTarget reads an upload path; it writes the error reply.
func (h *call) parseTarget(seg []string) (target, bool) {
	switch {
	case len(seg) == 4 && seg[0] == "internalappsharing" && seg[2] == "artifacts" && (seg[3] == "apk" || seg[3] == "bundle"):
		return target{pkg: seg[1], kind: seg[3], shared: true}, true
	case len(seg) == 4 && seg[1] == "edits" && (seg[3] == "bundles" || seg[3] == "apks"):
		return target{pkg: seg[0], editID: seg[2], kind: strings.TrimSuffix(seg[3], "s")}, true
	case len(seg) == 7 && seg[1] == "edits" && seg[3] == "apks" && seg[5] == "deobfuscationFiles":
		vc, err := strconv.ParseInt(seg[4], 10, 64)
		if err != nil || (seg[6] != "proguard" && seg[6] != "nativeCode") {
			apiError(h.w, 400, "invalid", "Invalid deobfuscation file target.")
			return target{}, false
		}
		return target{pkg: seg[0], editID: seg[2], kind: seg[6], vc: vc}, true
	}
	apiError(h.w, 404, "notFound", "Method not found.")
	return target{}, false
}

// checkTargetLocked checks that the app and edit accept the upload.
func (h *call) checkTargetLocked(t target) bool {
	a := h.appLocked(t.pkg)
	if a == nil {
		return false
	}
	if t.shared {
		return true
	}
	e := h.editLocked(a, t.editID)
	if e == nil {
		return false
	}
	if t.vc != 0 && !slices.ContainsFunc(allUploads(a, e), func(u Upload) bool {
		return u.VersionCode == t.vc && (u.Kind == "bundle" || u.Kind == "apk")
	}) {
		apiError(h.w, 404, "notFound", fmt.Sprintf("APK or bundle with version code %d not found in this edit.", t.vc))
		return false
	}
	return true
}

func (h *call) upload(seg []string) {
	t, ok := h.parseTarget(seg)
	if !ok {
		return
	}
	t.ackLarge = h.req.URL.Query().Get("ackBundleInstallationWarning") == "true"
	switch typ := h.req.URL.Query().Get("uploadType"); typ {
	case "resumable":
		h.openSession(t)
	case "multipart", "media":
		h.simpleUpload(t, typ)
	default:
		apiError(h.w, 400, "invalid", "Invalid value for uploadType: "+typ)
	}
}

// session is an open resumable upload.
type session struct {
	mu       sync.Mutex
	id       string
	t        target
	total    int64
	tmp      *os.File
	sha256   hash.Hash
	sha1     hash.Hash
	received int64
	done     []byte // the final answer, once finished
	doneCode int
	gone     bool
}

// end removes the session's temp file unless it finished. Call with se.mu
// held.
func (se *session) end() {
	if se.gone {
		return
	}
	se.gone = true
	if se.tmp != nil {
		se.tmp.Close()
		os.Remove(se.tmp.Name())
	}
}

func (h *call) openSession(t target) {
	s := h.s
	total := int64(-1)
	if v := h.req.Header.Get("X-Upload-Content-Length"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			apiError(h.w, 400, "invalid", "Invalid X-Upload-Content-Length.")
			return
		}
		total = n
	}
	io.Copy(io.Discard, io.LimitReader(h.req.Body, 1<<20))
	s.mu.Lock()
	if !h.checkTargetLocked(t) {
		s.mu.Unlock()
		return
	}
	s.seq++
	id := fmt.Sprintf("u%d-%s", s.seq, strconv.FormatInt(h.rnd%1e12, 36))
	s.mu.Unlock()
	tmp, err := os.CreateTemp(s.dir, "upload-*")
	if err != nil {
		apiError(h.w, 500, "backendError", "Internal error.")
		return
	}
	se := &session{id: id, t: t, total: total, tmp: tmp, sha256: sha256.New(), sha1: sha1.New()}
	s.mu.Lock()
	s.sessions[id] = se
	s.mu.Unlock()
	scheme := "http"
	if h.req.TLS != nil {
		scheme = "https"
	}
	h.w.Header().Set("Location", fmt.Sprintf("%s://%s%s?uploadType=resumable&upload_id=%s", scheme, h.req.Host, h.req.URL.EscapedPath(), id))
	h.w.Header().Set("X-GUploader-UploadID", id)
	if h.cut {
		h.w.abort()
	}
	h.w.Header().Set("Content-Length", "0")
	h.w.WriteHeader(200)
}

// parseContentRange reads "bytes a-b/total", "bytes a-b/*", "bytes
// */total" and "bytes */*". first is -1 when no bytes are given; total is
// -1 for *.
func parseContentRange(v string) (first, last, total int64, err error) {
	bad := fmt.Errorf("bad Content-Range %q", v)
	spec, ok := strings.CutPrefix(v, "bytes ")
	if !ok {
		return 0, 0, 0, bad
	}
	rng, tot, ok := strings.Cut(spec, "/")
	if !ok {
		return 0, 0, 0, bad
	}
	total = -1
	if tot != "*" {
		if total, err = strconv.ParseInt(tot, 10, 64); err != nil || total < 0 {
			return 0, 0, 0, bad
		}
	}
	if rng == "*" {
		return -1, -1, total, nil
	}
	a, b, ok := strings.Cut(rng, "-")
	if !ok {
		return 0, 0, 0, bad
	}
	if first, err = strconv.ParseInt(a, 10, 64); err != nil || first < 0 {
		return 0, 0, 0, bad
	}
	if last, err = strconv.ParseInt(b, 10, 64); err != nil || last < first {
		return 0, 0, 0, bad
	}
	if total >= 0 && last >= total {
		return 0, 0, 0, bad
	}
	return first, last, total, nil
}

// chunk receives a PUT (or POST) to a resumable session.
func (h *call) chunk(id string) {
	s := h.s
	s.mu.Lock()
	se := s.sessions[id]
	s.mu.Unlock()
	if se == nil {
		apiError(h.w, 404, "notFound", "No such upload session.")
		return
	}
	se.mu.Lock()
	defer se.mu.Unlock()
	if se.done != nil {
		h.reply(se.doneCode, json.RawMessage(se.done))
		return
	}
	if se.gone {
		apiError(h.w, 404, "notFound", "No such upload session.")
		return
	}
	first, last, total := int64(-1), int64(-1), se.total
	if cr := h.req.Header.Get("Content-Range"); cr != "" {
		var t int64
		var err error
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
		skip := min(se.received-first, n)
		if skip > 0 {
			if _, err := io.CopyN(io.Discard, h.req.Body, skip); err != nil {
				return
			}
		}
		want := n - skip
		limit := want
		if h.cut && want > 0 {
			limit = h.rnd % want
		}
		got, err := io.Copy(io.MultiWriter(se.tmp, se.sha256, se.sha1), io.LimitReader(h.req.Body, limit))
		se.received += got
		if err != nil {
			return // the client hung up: keep what arrived
		}
		if h.cut {
			h.w.abort()
		}
	}
	if total >= 0 && se.received == total {
		se.tmp.Close()
		code, body := s.finish(se.t, se.tmp.Name(), total, hex.EncodeToString(se.sha256.Sum(nil)), hex.EncodeToString(se.sha1.Sum(nil)), "resumable")
		se.done, se.doneCode = body, code
		h.replyRaw(code, body)
		return
	}
	if total >= 0 && se.received > total {
		apiError(h.w, 400, "badContent", "More bytes than the declared total.")
		return
	}
	if se.received > 0 {
		h.w.Header().Set("Range", fmt.Sprintf("bytes=0-%d", se.received-1))
	}
	h.w.Header().Set("Content-Length", "0")
	if h.req.Header.Get("X-GUploader-No-308") == "yes" {
		h.w.Header().Set("X-Http-Status-Code-Override", "308")
		h.w.WriteHeader(200)
		return
	}
	h.w.WriteHeader(308)
}

func (h *call) replyRaw(code int, body []byte) {
	if code != 200 {
		h.w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		h.w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		h.w.WriteHeader(code)
		h.w.Write(body)
		return
	}
	h.reply(code, json.RawMessage(body))
}

// simpleUpload handles uploadType=media and multipart.
func (h *call) simpleUpload(t target, typ string) {
	s := h.s
	media := io.Reader(h.req.Body)
	if typ == "multipart" {
		mt, params, err := mime.ParseMediaType(h.req.Header.Get("Content-Type"))
		if err != nil || !strings.HasPrefix(mt, "multipart/") {
			apiError(h.w, 400, "badContent", "Multipart upload wants a multipart/related body.")
			return
		}
		mr := multipart.NewReader(h.req.Body, params["boundary"])
		if _, err := mr.NextPart(); err != nil { // the metadata: none for these calls
			apiError(h.w, 400, "badContent", "Missing metadata part.")
			return
		}
		p, err := mr.NextPart()
		if err != nil {
			apiError(h.w, 400, "badContent", "Missing media part.")
			return
		}
		media = p
	}
	s.mu.Lock()
	ok := h.checkTargetLocked(t)
	s.mu.Unlock()
	if !ok {
		return
	}
	tmp, err := os.CreateTemp(s.dir, "upload-*")
	if err != nil {
		apiError(h.w, 500, "backendError", "Internal error.")
		return
	}
	h256, h1 := sha256.New(), sha1.New()
	n, err := io.Copy(io.MultiWriter(tmp, h256, h1), media)
	tmp.Close()
	if err != nil {
		os.Remove(tmp.Name())
		return
	}
	code, body := s.finish(t, tmp.Name(), n, hex.EncodeToString(h256.Sum(nil)), hex.EncodeToString(h1.Sum(nil)), typ)
	h.replyRaw(code, body)
}

func errorBody(code int, reason, msg string) (int, []byte) {
	rec := &bodyRecorder{h: http.Header{}}
	apiError(rec, code, reason, msg)
	return code, rec.b
}

type bodyRecorder struct {
	h http.Header
	b []byte
}

func (r *bodyRecorder) Header() http.Header         { return r.h }
func (r *bodyRecorder) WriteHeader(int)             {}
func (r *bodyRecorder) Write(b []byte) (int, error) { r.b = append(r.b, b...); return len(b), nil }

// finish checks and keeps a complete upload, and returns the answer.
func (s *Server) finish(t target, path string, size int64, sum256, sum1, protocol string) (int, []byte) {
	u := Upload{Kind: t.kind, Package: t.pkg, VersionCode: t.vc, Size: size, SHA256: sum256, SHA1: sum1, Path: path, Protocol: protocol}
	fail := func(code int, reason, msg string) (int, []byte) {
		os.Remove(path)
		return errorBody(code, reason, msg)
	}
	if t.kind == "bundle" || t.kind == "apk" {
		f, err := os.Open(path)
		if err != nil {
			return fail(500, "backendError", "Internal error.")
		}
		info, err := androidinfo.Read(f, size)
		f.Close()
		switch {
		case err != nil:
			return fail(400, "badRequest", fmt.Sprintf("The uploaded %s is invalid: %v", t.kind, err))
		case t.kind == "bundle" && info.Kind != androidinfo.KindAAB:
			return fail(400, "badRequest", "The uploaded bundle is invalid: it has no BundleConfig.pb.")
		case t.kind == "apk" && info.Kind != androidinfo.KindAPK:
			return fail(400, "badRequest", "The uploaded APK is invalid: it has no AndroidManifest.xml.")
		case info.Package != t.pkg:
			return fail(403, "forbidden", fmt.Sprintf("APK has the wrong package name: %s, not %s.", info.Package, t.pkg))
		}
		u.VersionCode = info.VersionCode
		if t.kind == "bundle" && !t.ackLarge && size > s.opts.LargeBundle && s.opts.LargeBundle > 0 {
			return fail(400, "badRequest", "The installation size of the app bundle may be too large for some devices: set ackBundleInstallationWarning to upload it anyway.")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.apps[t.pkg]
	if a == nil {
		return fail(404, "notFound", "Package not found: "+t.pkg+".")
	}
	if t.shared {
		a.shared = append(a.shared, u)
		dl := fmt.Sprintf("https://play.google.com/apps/test/%s/%d-%s", t.pkg, u.VersionCode, sum256[:12])
		return okBody(&androidpublisher.InternalAppSharingArtifact{DownloadUrl: dl, CertificateFingerprint: SigningCertSHA256(t.pkg), Sha256: sum256})
	}
	e := s.edits[t.editID]
	if e == nil || e.deleted != "" {
		return fail(404, "editDeleted", MsgEditDeleted)
	}
	switch t.kind {
	case "bundle", "apk":
		if slices.ContainsFunc(allUploads(a, e), func(x Upload) bool {
			return x.VersionCode == u.VersionCode && (x.Kind == "bundle" || x.Kind == "apk")
		}) {
			return fail(403, "apkUpgradeVersionConflict", MsgVersionUsed)
		}
		e.uploads = append(e.uploads, u)
		if t.kind == "bundle" {
			return okBody(&androidpublisher.Bundle{VersionCode: u.VersionCode, Sha1: sum1, Sha256: sum256})
		}
		return okBody(&androidpublisher.Apk{VersionCode: u.VersionCode, Binary: &androidpublisher.ApkBinary{Sha1: sum1, Sha256: sum256}})
	default:
		e.uploads = slices.DeleteFunc(e.uploads, func(x Upload) bool { return x.Kind == t.kind && x.VersionCode == t.vc })
		e.uploads = append(e.uploads, u)
		return okBody(&androidpublisher.DeobfuscationFilesUploadResponse{DeobfuscationFile: &androidpublisher.DeobfuscationFile{SymbolType: t.kind}})
	}
}

func okBody(v any) (int, []byte) {
	b, err := json.Marshal(v)
	if err != nil {
		return errorBody(500, "backendError", "Internal error.")
	}
	return 200, b
}
