package drivetest

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"math/rand/v2"
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

// MIME types with a meaning to Drive.
const (
	FolderMimeType   = "application/vnd.google-apps.folder"
	ShortcutMimeType = "application/vnd.google-apps.shortcut"
	DocMimeType      = "application/vnd.google-apps.document"
)

// Options configures a [Server]. The zero value is a fault-free server
// keeping contents in a temp dir removed by Close.
type Options struct {
	// Dir holds file contents (one file per ID and revision). Empty means a
	// new temp dir, removed by Close.
	Dir string
	// Faults injects failures; see [Faults].
	Faults Faults
	// NoQuota makes the server behave like Drive for a service account:
	// creating a file outside a shared drive fails with 403
	// storageQuotaExceeded.
	NoQuota bool
	// Now is the clock for modified times (nil: time.Now).
	Now func() time.Time
	// OnUpload, if set, is called after each completed upload with the
	// file's metadata, its folder path from the top-level folder or
	// shared drive (e.g. ["out", "2026", "build-42"]) and the path of its
	// content on disk.
	OnUpload func(f File, folders []string, content string)
	// Token, if set, is the OAuth access token the server wants: requests
	// without "Authorization: Bearer <Token>" get 401.
	Token string
	// Log receives one line per request at debug level (nil discards).
	Log *slog.Logger
}

// Faults says which requests fail. Each request (except those the client
// cannot retry, such as opening a session twice) is faulted with
// probability Rate, with a kind picked uniformly from Kinds.
type Faults struct {
	Rate  float64
	Kinds []Fault // empty: all kinds
	Seed  uint64  // the fault sequence is deterministic for a seed
	// Delay is how long FaultSlow waits before replying (default 50ms).
	Delay time.Duration
	// Script, if set, gives the faults of the first requests in order
	// (FaultNone for a request served normally); Rate applies after it.
	Script []Fault
}

// Fault is a kind of injected failure.
type Fault string

const (
	Fault500       Fault = "500"      // 500 backendError
	Fault503       Fault = "503"      // 503 service unavailable
	Fault429       Fault = "429"      // 429 too many requests
	FaultRateLimit Fault = "403-rate" // 403 userRateLimitExceeded
	FaultCut       Fault = "cut"      // connection cut mid-body (either direction)
	FaultSlow      Fault = "slow"     // reply after Faults.Delay, then normally
	FaultNone      Fault = ""
)

// AllFaults lists every fault kind.
func AllFaults() []Fault {
	return []Fault{Fault500, Fault503, Fault429, FaultRateLimit, FaultCut, FaultSlow}
}

// File is the metadata the fake keeps.
type File struct {
	ID             string
	Name           string
	MimeType       string
	Parents        []string
	DriveID        string
	Size           int64
	MD5            string
	SHA256         string
	ModifiedTime   time.Time
	Trashed        bool
	ShortcutTarget string
	ResourceKey    string
	Version        int64
	// AppProperties are the private key-value pairs an app set on the
	// file (files.create and files.update with appProperties).
	AppProperties map[string]string
}

type entry struct {
	File
	content  string // path on disk, "" for folders and Google Docs
	hidden   bool   // answers 404
	readOnly bool   // writes into or onto it answer 403
}

// Request is one line of the request log.
type Request struct {
	Method       string
	Path         string
	Query        string
	Range        string // request Range header
	ContentRange string // request Content-Range header
	Status       int    // 0 when the connection was cut
	Fault        Fault
	BytesIn      int64 // request body bytes read
	BytesOut     int64 // response body bytes written
}

// Server is an in-memory fake of the Drive v3 REST subset used by package
// drive. It is an http.Handler: serve it with httptest.NewServer or
// http.Serve. Contents live on disk, so large files cost no memory.
type Server struct {
	opts Options
	dir  string
	own  bool

	mu       sync.Mutex
	files    map[string]*entry
	drives   map[string]string
	sessions map[string]*session
	reqs     []Request
	rng      *rand.Rand
	faults   Faults
	scripted int
	seq      int

	bufs *sync.Pool // hashFanout's buffers
}

// New returns a server with no files.
func New(opts Options) (*Server, error) {
	s := &Server{opts: opts, files: map[string]*entry{}, drives: map[string]string{}, sessions: map[string]*session{}}
	s.bufs = fanout.NewPool(fanoutBuf)
	s.dir = opts.Dir
	if s.dir == "" {
		d, err := os.MkdirTemp("", "drivetest-")
		if err != nil {
			return nil, fmt.Errorf("drivetest: %w", err)
		}
		s.dir, s.own = d, true
	} else if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return nil, fmt.Errorf("drivetest: %w", err)
	}
	if s.opts.Log == nil {
		s.opts.Log = slog.New(slog.DiscardHandler)
	}
	s.SetFaults(opts.Faults)
	return s, nil
}

// Close removes the contents when New made the temp dir.
func (s *Server) Close() error {
	s.endSessions(func(*session) bool { return true })
	if s.own {
		return os.RemoveAll(s.dir)
	}
	return nil
}

// ExpireSessions forgets every open resumable upload session, as Drive
// does after a week: their next request gets 404.
func (s *Server) ExpireSessions() {
	s.endSessions(func(se *session) bool { return se.done == nil })
}

// endSessions ends and forgets the sessions that match. A session's lock
// is taken without holding s.mu, which a chunk being received takes
// inside it.
func (s *Server) endSessions(match func(*session) bool) {
	var ended []*session
	s.mu.Lock()
	for id, se := range s.sessions {
		if match(se) { // se.done is set under s.mu
			ended = append(ended, se)
			delete(s.sessions, id)
		}
	}
	s.mu.Unlock()
	for _, se := range ended {
		se.mu.Lock()
		se.end()
		se.mu.Unlock()
	}
}

// fanoutBuf is the size of hashFanout's buffers: small, so that a block
// is still in the CPU caches when the writer and the hashes get to it,
// with fanoutBufs of them (1 MiB) in flight so that the slowest hash (MD5)
// can lag behind. Measured on the 1 GiB upload benchmark (medians of 7
// runs): 4.5 CPU-seconds per GiB with 32 KiB blocks, 5.8 with 128 KiB,
// 6.5+ with 1 MiB; with 64 KiB blocks, 1 MiB in flight beat 512 KiB.
const (
	fanoutBuf  = 32 << 10
	fanoutBufs = 32
)

// hashFanout writes to w and hashes into hs on three goroutines.
func (s *Server) hashFanout(w io.Writer, hs hashers) *fanout.Fanout {
	return fanout.New(fanoutBufs, s.bufs, fanout.Writer(w), fanout.Writer(hs.md5), fanout.Writer(hs.sha))
}

// SetFaults changes fault injection from now on.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(f.Kinds) == 0 {
		f.Kinds = AllFaults()
	}
	if f.Delay == 0 {
		f.Delay = 50 * time.Millisecond
	}
	s.faults = f
	s.scripted = 0
	s.rng = rand.New(rand.NewPCG(f.Seed, 0x5eed))
}

func (s *Server) now() time.Time {
	if s.opts.Now != nil {
		return s.opts.Now().UTC()
	}
	return time.Now().UTC()
}

// IDFor is how the fake names things: "1" followed by 32 characters of
// base64url(SHA-256(parent + "/" + name)), so IDs look like Drive's and are
// the same on every run. A second item of the same name in a folder gets
// IDFor(parent, name+"#2"), and so on.
func IDFor(parent, name string) string {
	sum := sha256.Sum256([]byte(parent + "/" + name))
	return "1" + base64.RawURLEncoding.EncodeToString(sum[:])[:32]
}

func (s *Server) newIDLocked(parent, name string) string {
	id := IDFor(parent, name)
	for n := 2; s.files[id] != nil || s.drives[id] != ""; n++ {
		id = IDFor(parent, name+"#"+strconv.Itoa(n))
	}
	return id
}

// AddSharedDrive makes a shared drive; its ID is also the ID of its root
// folder. An empty id means IDFor("drives", name).
func (s *Server) AddSharedDrive(id, name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id == "" {
		id = IDFor("drives", name)
	}
	s.drives[id] = name
	s.files[id] = &entry{File: File{ID: id, Name: name, MimeType: FolderMimeType, DriveID: id, ModifiedTime: s.now()}}
	return id
}

// AddFolder makes a folder in parent ("" for a top-level folder shared
// with the account) and returns its ID. An empty id means IDFor(parent, name).
func (s *Server) AddFolder(id, parent, name string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addLocked(&entry{File: File{ID: id, Name: name, MimeType: FolderMimeType}}, parent)
}

func (s *Server) addLocked(e *entry, parent string) (string, error) {
	if parent != "" {
		p := s.files[parent]
		if p == nil || p.MimeType != FolderMimeType {
			return "", fmt.Errorf("drivetest: no folder %s", parent)
		}
		e.Parents = []string{parent}
		e.DriveID = p.DriveID
	}
	if e.ID == "" {
		e.ID = s.newIDLocked(parent, e.Name)
	}
	if s.files[e.ID] != nil {
		return "", fmt.Errorf("drivetest: ID %s is taken", e.ID)
	}
	if e.ModifiedTime.IsZero() {
		e.ModifiedTime = s.now()
	}
	e.Version = 1
	s.files[e.ID] = e
	return e.ID, nil
}

// AddFile stores the content of r as a file named name in parent and
// returns its metadata.
func (s *Server) AddFile(parent, name string, r io.Reader) (File, error) {
	tmp, err := os.CreateTemp(s.dir, "add-*")
	if err != nil {
		return File{}, err
	}
	hs := newHashers()
	md, sh := hs.md5, hs.sha
	fan := s.hashFanout(tmp, hs)
	n, err := fan.Copy(r, -1)
	if ferr := fan.Close(); ferr != nil {
		err = ferr
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp.Name())
		return File{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e := &entry{File: File{Name: name, MimeType: "application/octet-stream", Size: n,
		MD5: hex.EncodeToString(md.Sum(nil)), SHA256: hex.EncodeToString(sh.Sum(nil))}}
	if _, err := s.addLocked(e, parent); err != nil {
		os.Remove(tmp.Name())
		return File{}, err
	}
	e.content = filepath.Join(s.dir, e.ID+".1")
	if err := os.Rename(tmp.Name(), e.content); err != nil {
		return File{}, err
	}
	return e.File, nil
}

// AddGoogleDoc makes a Google Docs document (no binary content).
func (s *Server) AddGoogleDoc(parent, name string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addLocked(&entry{File: File{Name: name, MimeType: DocMimeType}}, parent)
}

// AddShortcut makes a shortcut in parent pointing at target.
func (s *Server) AddShortcut(parent, name, target string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.files[target] == nil {
		return "", fmt.Errorf("drivetest: no file %s", target)
	}
	return s.addLocked(&entry{File: File{Name: name, MimeType: ShortcutMimeType, ShortcutTarget: target}}, parent)
}

func (s *Server) edit(id string, fn func(e *entry)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.files[id]
	if e == nil {
		return fmt.Errorf("drivetest: no file %s", id)
	}
	fn(e)
	return nil
}

// SetModified sets a file's modified time.
func (s *Server) SetModified(id string, t time.Time) error {
	return s.edit(id, func(e *entry) { e.ModifiedTime = t.UTC() })
}

// Delete removes a file (not a folder's contents) and its content.
func (s *Server) Delete(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.files[id]
	if e == nil {
		return fmt.Errorf("drivetest: no file %s", id)
	}
	delete(s.files, id)
	if e.content != "" {
		return os.Remove(e.content)
	}
	return nil
}

// Trash moves a file to the trash.
func (s *Server) Trash(id string) error { return s.edit(id, func(e *entry) { e.Trashed = true }) }

// Hide makes a file invisible to the client (404), as when it is not
// shared with the account.
func (s *Server) Hide(id string) error { return s.edit(id, func(e *entry) { e.hidden = true }) }

// ReadOnly makes writes into a folder or onto a file answer 403
// insufficientFilePermissions, as for a Viewer.
func (s *Server) ReadOnly(id string) error { return s.edit(id, func(e *entry) { e.readOnly = true }) }

// RequireResourceKey makes a file reachable only with its resource key in
// the X-Goog-Drive-Resource-Keys header.
func (s *Server) RequireResourceKey(id, key string) error {
	return s.edit(id, func(e *entry) { e.ResourceKey = key })
}

// Corrupt flips a byte in the middle of a file's content without updating
// its checksums, as a storage fault would.
func (s *Server) Corrupt(id string) error {
	s.mu.Lock()
	e := s.files[id]
	s.mu.Unlock()
	if e == nil || e.content == "" || e.Size == 0 {
		return fmt.Errorf("drivetest: no content for %s", id)
	}
	f, err := os.OpenFile(e.content, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, e.Size/2); err != nil {
		return err
	}
	b[0] ^= 0xff
	_, err = f.WriteAt(b, e.Size/2)
	return err
}

// Get returns a file's metadata.
func (s *Server) Get(id string) (File, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.files[id]
	if e == nil {
		return File{}, false
	}
	return e.File, true
}

// Open returns a file's content.
func (s *Server) Open(id string) (*os.File, error) {
	s.mu.Lock()
	e := s.files[id]
	s.mu.Unlock()
	if e == nil || e.content == "" {
		return nil, fmt.Errorf("drivetest: no content for %s", id)
	}
	return os.Open(e.content)
}

// Children returns the items in a folder, trashed ones too, by name.
func (s *Server) Children(parent string) []File {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []File
	for _, e := range s.files {
		if slices.Contains(e.Parents, parent) {
			out = append(out, e.File)
		}
	}
	slices.SortFunc(out, func(a, b File) int { return strings.Compare(a.Name+a.ID, b.Name+b.ID) })
	return out
}

// Requests returns the request log so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.reqs)
}

// ResetRequests empties the request log.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	s.reqs = nil
	s.mu.Unlock()
}

// BytesServed sums the response bytes of file downloads (alt=media) in the log.
func (s *Server) BytesServed() int64 {
	var n int64
	for _, r := range s.Requests() {
		if strings.Contains(r.Query, "alt=media") {
			n += r.BytesOut
		}
	}
	return n
}

func (s *Server) pickFault() (Fault, int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.faults
	if s.scripted < len(f.Script) {
		s.scripted++
		return f.Script[s.scripted-1], s.rng.Int64()
	}
	if f.Rate <= 0 || s.rng.Float64() >= f.Rate {
		return FaultNone, 0
	}
	return f.Kinds[s.rng.IntN(len(f.Kinds))], s.rng.Int64()
}

// apiError writes Drive's JSON error body.
func apiError(w http.ResponseWriter, code int, reason, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
		"code": code, "message": msg,
		"errors": []map[string]string{{"domain": "global", "reason": reason, "message": msg}},
	}})
}

type apiFile struct {
	Kind            string            `json:"kind"`
	ID              string            `json:"id"`
	Name            string            `json:"name"`
	MimeType        string            `json:"mimeType"`
	Parents         []string          `json:"parents,omitempty"`
	DriveID         string            `json:"driveId,omitempty"`
	Size            string            `json:"size,omitempty"`
	MD5             string            `json:"md5Checksum,omitempty"`
	SHA256          string            `json:"sha256Checksum,omitempty"`
	ModifiedTime    string            `json:"modifiedTime"`
	Trashed         bool              `json:"trashed"`
	WebViewLink     string            `json:"webViewLink"`
	ResourceKey     string            `json:"resourceKey,omitempty"`
	Version         string            `json:"version"`
	ShortcutDetails map[string]any    `json:"shortcutDetails,omitempty"`
	AppProperties   map[string]string `json:"appProperties,omitempty"`
}

func (s *Server) toAPI(e *entry) apiFile {
	a := apiFile{Kind: "drive#file", ID: e.ID, Name: e.Name, MimeType: e.MimeType, Parents: e.Parents,
		DriveID: e.DriveID, MD5: e.MD5, SHA256: e.SHA256, ModifiedTime: e.ModifiedTime.Format(time.RFC3339Nano),
		Trashed: e.Trashed, ResourceKey: e.ResourceKey, Version: strconv.FormatInt(e.Version, 10),
		AppProperties: e.AppProperties}
	switch e.MimeType {
	case FolderMimeType:
		a.WebViewLink = "https://drive.google.com/drive/folders/" + e.ID
	case ShortcutMimeType:
		a.WebViewLink = "https://drive.google.com/file/d/" + e.ID + "/view?usp=drivesdk"
		t := s.files[e.ShortcutTarget]
		a.ShortcutDetails = map[string]any{"targetId": e.ShortcutTarget}
		if t != nil {
			a.ShortcutDetails["targetMimeType"] = t.MimeType
			if t.ResourceKey != "" {
				a.ShortcutDetails["targetResourceKey"] = t.ResourceKey
			}
		}
	default:
		a.WebViewLink = "https://drive.google.com/file/d/" + e.ID + "/view?usp=drivesdk"
	}
	if e.content != "" {
		a.Size = strconv.FormatInt(e.Size, 10)
	}
	return a
}

func writeJSON(w http.ResponseWriter, code int, v any, cut bool, r *recorder) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(code)
	if cut {
		w.Write(b[:len(b)/2])
		r.abort()
	}
	w.Write(b)
}

var errNotFound = errors.New("not found")

// lookup finds a visible file for a request, honouring supportsAllDrives
// and resource keys.
func (s *Server) lookupLocked(req *http.Request, id string) (*entry, error) {
	e := s.files[id]
	if e == nil || e.hidden {
		return nil, errNotFound
	}
	if e.DriveID != "" && req.URL.Query().Get("supportsAllDrives") != "true" {
		return nil, errNotFound
	}
	if e.ResourceKey != "" && !strings.Contains(req.Header.Get("X-Goog-Drive-Resource-Keys"), id+"/"+e.ResourceKey) {
		return nil, errNotFound
	}
	return e, nil
}

func notFound(w http.ResponseWriter, id string) {
	apiError(w, 404, "notFound", "File not found: "+id+".")
}

// hashers is a running MD5 and SHA-256.
type hashers struct{ md5, sha hash.Hash }

func newHashers() hashers { return hashers{md5.New(), sha256.New()} }
