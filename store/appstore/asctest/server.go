package asctest

import (
	"crypto/ecdsa"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/storesign/storesign/store/appstore"
)

// DefaultPartSize is the size of each upload operation's part.
const DefaultPartSize = 5 << 20

// Roles that may upload builds; any other role gets 403 on uploads.
const (
	RoleAdmin      = "ADMIN"
	RoleAppManager = "APP_MANAGER"
	RoleDeveloper  = "DEVELOPER"
	RoleFinance    = "FINANCE"
	RoleSales      = "SALES"
)

// Options tune [New]. The zero value serves 5 MiB parts, completes
// processing at the first look after the commit and gives upload URLs an
// hour of life.
type Options struct {
	// PartSize is the length of each upload operation (default
	// DefaultPartSize).
	PartSize int64
	// ProcessingPolls is how many looks at a committed upload see it
	// PROCESSING before it completes (default 0: complete at once).
	ProcessingPolls int
	// URLLifetime is how long presigned upload URLs are valid (default
	// 1h).
	URLLifetime time.Duration
	// Now is the server's clock (default time.Now).
	Now func() time.Time
	// Log receives one line per request (nil discards).
	Log *slog.Logger
}

// Fault is a failure the server injects into the requests it matches.
type Fault struct {
	// Method ("" any) and Path prefix ("" any; "/upload/" matches the
	// presigned part uploads, "/v1/apps" the app lookups).
	Method, Path string
	// Skip lets this many matching requests through first.
	Skip int
	// Times is how many matching requests fail (0: one).
	Times int
	// Status is the answer (e.g. 500, 503, 429, 401, 403); 0 with Drop.
	Status int
	// Drop closes the connection without an answer.
	Drop bool
}

// App is an app of the fake account.
type App struct {
	ID, BundleID, Name string
}

// Build is a processed build.
type Build struct {
	ID, AppID, Version, Build string
	// ProcessingState is VALID, INVALID, FAILED or PROCESSING.
	ProcessingState string
}

// Upload is a build upload and its file.
type Upload struct {
	ID, AppID, Version, Build, Platform string
	// State is AWAITING_UPLOAD, PROCESSING, COMPLETE or FAILED.
	State    string
	Errors   []appstore.StateDetail
	Warnings []appstore.StateDetail
	BuildID  string
	// File is the upload's file, when created.
	File  *File
	polls int
}

// File is a build upload file.
type File struct {
	ID, Name, UTI, AssetType string
	Size                     int64
	// Data is what the part uploads wrote.
	Data []byte
	// Puts counts the accepted uploads of each part, by offset: a part
	// sent twice shows 2.
	Puts map[int64]int
	// Uploaded is set by the commit; MD5 and Composite are the
	// checksums it gave.
	Uploaded       bool
	MD5, Composite string
	received       map[int64]bool
	sigs           map[int64]string
	expires        time.Time
}

type apiKey struct {
	pub    *ecdsa.PublicKey
	issuer string
	role   string
}

// Server is a fake App Store Connect API (build uploads) over real HTTP.
// It is an http.Handler: serve it with httptest.NewServer or
// http.Server. It checks every token (ES256 signature of a known key,
// kid, iss, aud, exp at most 20 minutes after iat, not expired), and the
// presigned part uploads (signature, expiry, no Authorization header,
// the operation's headers and length).
type Server struct {
	opts Options

	mu       sync.Mutex
	keys     map[string]apiKey
	seen     map[string]bool // tokens seen
	expired  map[string]bool // tokens refused as expired
	apps     map[string]*App
	builds   map[string]*Build
	uploads  map[string]*Upload
	files    map[string]*Upload // by file ID
	faults   []*Fault
	failNext []appstore.StateDetail
	warnNext []appstore.StateDetail
	nextID   int
	requests []string
}

// New returns an empty fake: add keys with [Server.AddKey] and apps with
// [Server.AddApp].
func New(opts Options) *Server {
	if opts.PartSize <= 0 {
		opts.PartSize = DefaultPartSize
	}
	if opts.URLLifetime <= 0 {
		opts.URLLifetime = time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	return &Server{
		opts: opts, keys: map[string]apiKey{}, seen: map[string]bool{}, expired: map[string]bool{},
		apps: map[string]*App{}, builds: map[string]*Build{}, uploads: map[string]*Upload{}, files: map[string]*Upload{},
	}
}

func (s *Server) id(prefix string) string {
	s.nextID++
	return fmt.Sprintf("%s%04d", prefix, s.nextID)
}

// AddKey accepts the tokens of key (its public half) with a role
// (RoleAppManager when "").
func (s *Server) AddKey(key *appstore.Key, role string) {
	if role == "" {
		role = RoleAppManager
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[key.ID] = apiKey{pub: key.Public(), issuer: key.IssuerID, role: role}
}

// AddApp adds an app and returns its ID.
func (s *Server) AddApp(bundleID, name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := &App{ID: s.id("6"), BundleID: bundleID, Name: name}
	s.apps[a.ID] = a
	return a.ID
}

// AddBuild records a build already uploaded and processed (VALID).
func (s *Server) AddBuild(appID, version, build string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := &Build{ID: s.id("b"), AppID: appID, Version: version, Build: build, ProcessingState: appstore.StateValid}
	s.builds[b.ID] = b
	return b.ID
}

// Inject adds a fault.
func (s *Server) Inject(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Times <= 0 {
		f.Times = 1
	}
	s.faults = append(s.faults, &f)
}

// ClearFaults removes every fault not yet used up.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// FailProcessing makes the next committed upload fail processing with
// these errors.
func (s *Server) FailProcessing(errs ...appstore.StateDetail) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext = errs
}

// WarnProcessing makes the next committed upload complete with these
// warnings.
func (s *Server) WarnProcessing(warns ...appstore.StateDetail) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.warnNext = warns
}

// ExpireTokens makes every token seen so far expired: the next request
// with one gets 401, as when a token outlives its exp.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for t := range s.seen {
		s.expired[t] = true
	}
}

// Tokens returns how many distinct tokens the server has seen.
func (s *Server) Tokens() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.seen)
}

// Requests returns the request log: "METHOD /path" per request (the
// query left out).
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

// Uploads returns copies of the build uploads, oldest first.
func (s *Server) Uploads() []Upload {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Upload
	for _, u := range s.uploads {
		c := *u
		if u.File != nil {
			f := *u.File
			f.Data = append([]byte(nil), u.File.Data...)
			f.Puts = map[int64]int{}
			for k, v := range u.File.Puts {
				f.Puts[k] = v
			}
			c.File = &f
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Builds returns copies of the builds.
func (s *Server) Builds() []Build {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Build
	for _, b := range s.builds {
		out = append(out, *b)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// errorDoc writes an API error document.
func writeError(w http.ResponseWriter, status int, code, title, detail string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]string{{
		"id": "fake", "status": strconv.Itoa(status), "code": code, "title": title, "detail": detail,
	}}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// fault returns the first fault matching r, counting it.
func (s *Server) fault(r *http.Request) *Fault {
	for _, f := range s.faults {
		if f.Times <= 0 || (f.Method != "" && f.Method != r.Method) || !strings.HasPrefix(r.URL.Path, f.Path) {
			continue
		}
		if f.Skip > 0 {
			f.Skip--
			continue
		}
		f.Times--
		c := *f
		return &c
	}
	return nil
}

// ServeHTTP serves the API under /v1/ and the part uploads under
// /upload/.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, r.Method+" "+r.URL.Path)
	s.opts.Log.Debug("asctest", "method", r.Method, "path", r.URL.Path)
	if f := s.fault(r); f != nil {
		if f.Drop {
			if hj, ok := w.(http.Hijacker); ok {
				if conn, _, err := hj.Hijack(); err == nil {
					conn.Close()
					return
				}
			}
			panic(http.ErrAbortHandler)
		}
		if f.Status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "0")
		}
		writeError(w, f.Status, "FAULT", "Injected fault", "the fake server was told to fail this request")
		return
	}
	if strings.HasPrefix(r.URL.Path, "/upload/") {
		s.putPart(w, r)
		return
	}
	key, ok := s.authorize(w, r)
	if !ok {
		return
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/v1/apps":
		s.listApps(w, r)
	case r.Method == http.MethodGet && r.URL.Path == "/v1/builds":
		s.listBuilds(w, r)
	case r.Method == http.MethodGet && len(parts) == 3 && parts[1] == "builds":
		s.getBuild(w, parts[2])
	case r.Method == http.MethodPost && r.URL.Path == "/v1/buildUploads":
		s.createUpload(w, r, key)
	case r.Method == http.MethodGet && len(parts) == 3 && parts[1] == "buildUploads":
		s.getUpload(w, parts[2])
	case r.Method == http.MethodPost && r.URL.Path == "/v1/buildUploadFiles":
		s.createFile(w, r, key)
	case r.Method == http.MethodGet && len(parts) == 3 && parts[1] == "buildUploadFiles":
		s.getFile(w, r, parts[2])
	case r.Method == http.MethodPatch && len(parts) == 3 && parts[1] == "buildUploadFiles":
		s.commitFile(w, r, parts[2])
	default:
		writeError(w, http.StatusNotFound, "NOT_FOUND", "The specified resource does not exist", "the fake does not serve "+r.Method+" "+r.URL.Path)
	}
}

// authorize checks the bearer token.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) (apiKey, bool) {
	fail := func(detail string) (apiKey, bool) {
		writeError(w, http.StatusUnauthorized, "NOT_AUTHORIZED", "Authentication credentials are missing or invalid.", detail)
		return apiKey{}, false
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return fail("Provide a properly configured and signed bearer token, and make sure that it has not expired.")
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return fail("the token is not a JWT")
	}
	enc := base64.RawURLEncoding
	var header struct{ Alg, Kid, Typ string }
	var claims struct {
		Iss string `json:"iss"`
		Iat int64  `json:"iat"`
		Exp int64  `json:"exp"`
		Aud any    `json:"aud"`
	}
	hb, err1 := enc.DecodeString(parts[0])
	cb, err2 := enc.DecodeString(parts[1])
	sig, err3 := enc.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil || json.Unmarshal(hb, &header) != nil || json.Unmarshal(cb, &claims) != nil {
		return fail("the token does not decode")
	}
	if header.Alg != "ES256" {
		return fail("the token's alg must be ES256")
	}
	key, ok := s.keys[header.Kid]
	if !ok {
		return fail("unknown key ID (kid)")
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if len(sig) != 64 || !ecdsa.Verify(key.pub, sum[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		return fail("the token's signature does not verify")
	}
	if claims.Iss != key.issuer {
		return fail("the issuer ID (iss) is not the key's")
	}
	if aud, _ := claims.Aud.(string); aud != appstore.Audience {
		return fail("aud must be " + appstore.Audience)
	}
	now := s.opts.Now().Unix()
	if claims.Exp-claims.Iat > int64(appstore.MaxTokenLifetime/time.Second) || claims.Exp <= claims.Iat {
		return fail("the token lives more than 20 minutes")
	}
	if claims.Exp <= now || s.expired[tok] {
		s.seen[tok] = true
		return fail("the token has expired")
	}
	if claims.Iat > now+60 {
		return fail("the token was issued in the future")
	}
	s.seen[tok] = true
	return key, true
}

func appResource(a *App) map[string]any {
	return map[string]any{"type": "apps", "id": a.ID, "attributes": map[string]any{"bundleId": a.BundleID, "name": a.Name}}
}

func (s *Server) listApps(w http.ResponseWriter, r *http.Request) {
	want := r.URL.Query().Get("filter[bundleId]")
	data := []any{}
	var ids []string
	for id, a := range s.apps {
		// As Apple's, the filter matches by prefix.
		if want == "" || strings.HasPrefix(a.BundleID, want) {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	for _, id := range ids {
		data = append(data, appResource(s.apps[id]))
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data, "links": map[string]string{"self": r.URL.String()}})
}

func buildResource(b *Build) map[string]any {
	return map[string]any{"type": "builds", "id": b.ID, "attributes": map[string]any{"version": b.Build, "processingState": b.ProcessingState},
		"relationships": map[string]any{"app": map[string]any{"data": map[string]string{"type": "apps", "id": b.AppID}}}}
}

func (s *Server) listBuilds(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	data := []any{}
	var ids []string
	for id, b := range s.builds {
		if v := q.Get("filter[app]"); v != "" && v != b.AppID {
			continue
		}
		if v := q.Get("filter[version]"); v != "" && v != b.Build {
			continue
		}
		if v := q.Get("filter[preReleaseVersion.version]"); v != "" && v != b.Version {
			continue
		}
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		data = append(data, buildResource(s.builds[id]))
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data, "links": map[string]string{"self": r.URL.String()}})
}

func (s *Server) getBuild(w http.ResponseWriter, id string) {
	b, ok := s.builds[id]
	if !ok {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "The specified resource does not exist", "There is no resource of type 'builds' with id '"+id+"'")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": buildResource(b)})
}

// body decodes a JSON:API request document.
type reqDoc struct {
	Data struct {
		Type          string         `json:"type"`
		ID            string         `json:"id"`
		Attributes    map[string]any `json:"attributes"`
		Relationships map[string]struct {
			Data struct{ Type, ID string } `json:"data"`
		} `json:"relationships"`
	} `json:"data"`
}

func decode(w http.ResponseWriter, r *http.Request, typ string) (*reqDoc, bool) {
	var d reqDoc
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&d); err != nil || d.Data.Type != typ {
		writeError(w, http.StatusBadRequest, "PARAMETER_ERROR.INVALID", "A parameter has an invalid value", "the request body is not a "+typ+" document")
		return nil, false
	}
	return &d, true
}

func canUpload(role string) bool {
	return role == RoleAdmin || role == RoleAppManager || role == RoleDeveloper
}

func (s *Server) uploadResource(u *Upload) map[string]any {
	state := map[string]any{"state": u.State, "errors": u.Errors, "warnings": u.Warnings, "infos": []any{}}
	rels := map[string]any{}
	if u.BuildID != "" {
		rels["build"] = map[string]any{"data": map[string]string{"type": "builds", "id": u.BuildID}}
	}
	return map[string]any{"type": "buildUploads", "id": u.ID, "attributes": map[string]any{
		"cfBundleShortVersionString": u.Version, "cfBundleVersion": u.Build, "platform": u.Platform, "state": state,
	}, "relationships": rels}
}

func (s *Server) createUpload(w http.ResponseWriter, r *http.Request, key apiKey) {
	if !canUpload(key.role) {
		writeError(w, http.StatusForbidden, "FORBIDDEN_ERROR", "This request is forbidden for security reasons", "The API key in use does not allow this request")
		return
	}
	d, ok := decode(w, r, "buildUploads")
	if !ok {
		return
	}
	appID := d.Data.Relationships["app"].Data.ID
	if _, ok := s.apps[appID]; !ok {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "The specified resource does not exist", "There is no resource of type 'apps' with id '"+appID+"'")
		return
	}
	version, _ := d.Data.Attributes["cfBundleShortVersionString"].(string)
	build, _ := d.Data.Attributes["cfBundleVersion"].(string)
	platform, _ := d.Data.Attributes["platform"].(string)
	if version == "" || build == "" || platform == "" {
		writeError(w, http.StatusUnprocessableEntity, "ENTITY_ERROR.ATTRIBUTE.REQUIRED", "An attribute value is required", "cfBundleShortVersionString, cfBundleVersion and platform are required")
		return
	}
	for _, b := range s.builds {
		if b.AppID == appID && b.Version == version && b.Build == build {
			writeError(w, http.StatusConflict, "ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE", "The provided entity includes an attribute with a value that has already been used", "The bundle version must be higher than the previously uploaded version.")
			return
		}
	}
	for _, u := range s.uploads {
		if u.AppID == appID && u.Version == version && u.Build == build && u.State != appstore.StateFailed {
			writeError(w, http.StatusConflict, "ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE", "The provided entity includes an attribute with a value that has already been used", "A build upload with this version and build number exists.")
			return
		}
	}
	u := &Upload{ID: s.id("u"), AppID: appID, Version: version, Build: build, Platform: platform, State: appstore.StateAwaitingUpload}
	s.uploads[u.ID] = u
	writeJSON(w, http.StatusCreated, map[string]any{"data": s.uploadResource(u)})
}

func (s *Server) getUpload(w http.ResponseWriter, id string) {
	u, ok := s.uploads[id]
	if !ok {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "The specified resource does not exist", "There is no resource of type 'buildUploads' with id '"+id+"'")
		return
	}
	if u.State == appstore.StateProcessing {
		u.polls++
		if u.polls > s.opts.ProcessingPolls {
			s.process(u)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": s.uploadResource(u)})
}

// process ends the processing of u.
func (s *Server) process(u *Upload) {
	if s.failNext != nil {
		u.State, u.Errors, s.failNext = appstore.StateFailed, s.failNext, nil
		return
	}
	u.Warnings, s.warnNext = s.warnNext, nil
	b := &Build{ID: s.id("b"), AppID: u.AppID, Version: u.Version, Build: u.Build, ProcessingState: appstore.StateValid}
	s.builds[b.ID] = b
	u.State, u.BuildID = appstore.StateComplete, b.ID
}

// sign makes a part's presigned signature.
func sign() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (s *Server) fileResource(r *http.Request, u *Upload) map[string]any {
	f := u.File
	var ops []any
	if !f.Uploaded {
		f.expires = s.opts.Now().Add(s.opts.URLLifetime)
		part := int64(1)
		for off := int64(0); off < f.Size; off += s.opts.PartSize {
			n := min(s.opts.PartSize, f.Size-off)
			sig := sign()
			f.sigs[off] = sig
			q := url.Values{"X-Signature": {sig}, "X-Expires": {strconv.FormatInt(f.expires.Unix(), 10)}}
			ops = append(ops, map[string]any{
				"method": http.MethodPut,
				"url":    fmt.Sprintf("http://%s/upload/%s/%d?%s", r.Host, f.ID, off, q.Encode()),
				"offset": off, "length": n, "partNumber": part,
				"expiration":     f.expires.UTC().Format(time.RFC3339),
				"requestHeaders": []map[string]string{{"name": "Content-Type", "value": "application/octet-stream"}},
			})
			part++
		}
	}
	state := appstore.StateAwaitingUpload
	if f.Uploaded {
		state = "UPLOAD_COMPLETE"
	}
	return map[string]any{"type": "buildUploadFiles", "id": f.ID, "attributes": map[string]any{
		"fileName": f.Name, "fileSize": f.Size, "uti": f.UTI, "assetType": f.AssetType,
		"assetDeliveryState": map[string]any{"state": state}, "uploadOperations": ops,
	}}
}

func (s *Server) createFile(w http.ResponseWriter, r *http.Request, key apiKey) {
	if !canUpload(key.role) {
		writeError(w, http.StatusForbidden, "FORBIDDEN_ERROR", "This request is forbidden for security reasons", "The API key in use does not allow this request")
		return
	}
	d, ok := decode(w, r, "buildUploadFiles")
	if !ok {
		return
	}
	u, ok := s.uploads[d.Data.Relationships["buildUpload"].Data.ID]
	if !ok {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "The specified resource does not exist", "no such build upload")
		return
	}
	if u.File != nil {
		writeError(w, http.StatusConflict, "ENTITY_ERROR", "The request entity is invalid", "the build upload already has a file")
		return
	}
	name, _ := d.Data.Attributes["fileName"].(string)
	size, _ := d.Data.Attributes["fileSize"].(float64)
	uti, _ := d.Data.Attributes["uti"].(string)
	assetType, _ := d.Data.Attributes["assetType"].(string)
	if name == "" || size < 1 || size > 1<<32 || uti != "com.apple.ipa" || assetType != "ASSET" {
		writeError(w, http.StatusUnprocessableEntity, "ENTITY_ERROR.ATTRIBUTE.INVALID", "An attribute value is invalid", "fileName, fileSize (1 to 4 GiB), uti com.apple.ipa and assetType ASSET are required")
		return
	}
	u.File = &File{ID: s.id("f"), Name: name, UTI: uti, AssetType: assetType, Size: int64(size), Data: make([]byte, int64(size)),
		Puts: map[int64]int{}, received: map[int64]bool{}, sigs: map[int64]string{}}
	s.files[u.File.ID] = u
	writeJSON(w, http.StatusCreated, map[string]any{"data": s.fileResource(r, u)})
}

func (s *Server) getFile(w http.ResponseWriter, r *http.Request, id string) {
	u, ok := s.files[id]
	if !ok {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "The specified resource does not exist", "no such build upload file")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": s.fileResource(r, u)})
}

// putPart receives one presigned part upload.
func (s *Server) putPart(w http.ResponseWriter, r *http.Request) {
	fail := func(status int, msg string) {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(status)
		fmt.Fprintf(w, "<Error><Code>%d</Code><Message>%s</Message></Error>", status, msg)
	}
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/upload/"), "/")
	if len(parts) != 2 || r.Method != http.MethodPut {
		fail(http.StatusMethodNotAllowed, "PUT /upload/FILE/OFFSET")
		return
	}
	u, ok := s.files[parts[0]]
	off, err := strconv.ParseInt(parts[1], 10, 64)
	if !ok || err != nil {
		fail(http.StatusNotFound, "NoSuchUpload")
		return
	}
	f := u.File
	sig, known := f.sigs[off]
	if !known || r.URL.Query().Get("X-Signature") != sig {
		fail(http.StatusForbidden, "SignatureDoesNotMatch")
		return
	}
	if exp, _ := strconv.ParseInt(r.URL.Query().Get("X-Expires"), 10, 64); s.opts.Now().Unix() >= exp {
		fail(http.StatusForbidden, "Request has expired")
		return
	}
	if r.Header.Get("Authorization") != "" {
		fail(http.StatusBadRequest, "Only one auth mechanism allowed: the presigned URL")
		return
	}
	if r.Header.Get("Content-Type") != "application/octet-stream" {
		fail(http.StatusForbidden, "SignatureDoesNotMatch: the Content-Type header is not the operation's")
		return
	}
	n := min(s.opts.PartSize, f.Size-off)
	if r.ContentLength != n {
		fail(http.StatusBadRequest, "IncompleteBody: want Content-Length "+strconv.FormatInt(n, 10))
		return
	}
	// Read without holding the server: other parts come in parallel.
	s.mu.Unlock()
	buf := make([]byte, n)
	_, err = io.ReadFull(r.Body, buf)
	s.mu.Lock()
	if err != nil {
		fail(http.StatusBadRequest, "IncompleteBody")
		return
	}
	if f.Uploaded {
		fail(http.StatusConflict, "the file was committed")
		return
	}
	copy(f.Data[off:], buf)
	f.received[off] = true
	f.Puts[off]++
	sum := md5.Sum(buf)
	w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:])+`"`)
	w.WriteHeader(http.StatusOK)
}

func (s *Server) commitFile(w http.ResponseWriter, r *http.Request, id string) {
	u, ok := s.files[id]
	if !ok {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "The specified resource does not exist", "no such build upload file")
		return
	}
	d, ok := decode(w, r, "buildUploadFiles")
	if !ok {
		return
	}
	if d.Data.ID != id {
		writeError(w, http.StatusConflict, "ENTITY_ERROR.ID.INVALID", "The ID in the request does not match the ID in the URL", "")
		return
	}
	f := u.File
	if up, _ := d.Data.Attributes["uploaded"].(bool); !up {
		writeJSON(w, http.StatusOK, map[string]any{"data": s.fileResource(r, u)})
		return
	}
	for off := int64(0); off < f.Size; off += s.opts.PartSize {
		if !f.received[off] {
			writeError(w, http.StatusConflict, "ENTITY_ERROR.UPLOAD_INCOMPLETE", "The upload is incomplete", fmt.Sprintf("the part at offset %d was not uploaded", off))
			return
		}
	}
	sums, _ := d.Data.Attributes["sourceFileChecksums"].(map[string]any)
	file, _ := sums["file"].(map[string]any)
	comp, _ := sums["composite"].(map[string]any)
	f.MD5, _ = file["hash"].(string)
	f.Composite, _ = comp["hash"].(string)
	whole := md5.Sum(f.Data)
	h := md5.New()
	for off := int64(0); off < f.Size; off += s.opts.PartSize {
		p := md5.Sum(f.Data[off:min(off+s.opts.PartSize, f.Size)])
		h.Write(p[:])
	}
	f.Uploaded = true
	u.State = appstore.StateProcessing
	if alg, _ := file["algorithm"].(string); alg != "MD5" || f.MD5 != hex.EncodeToString(whole[:]) || f.Composite != hex.EncodeToString(h.Sum(nil)) {
		u.State = appstore.StateFailed
		u.Errors = []appstore.StateDetail{{Code: "ITMS-90023", Description: "The checksum of the uploaded file does not match sourceFileChecksums."}}
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": s.fileResource(r, u)})
}
