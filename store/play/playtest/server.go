package playtest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options configures a [Server]. The zero value is a fault-free server
// without apps, keeping uploads in a temp dir removed by Close.
type Options struct {
	// Dir holds uploaded files. Empty means a new temp dir, removed by
	// Close.
	Dir string
	// Faults injects failures; see [Faults].
	Faults Faults
	// Token, if set, is the OAuth access token the server wants: requests
	// without "Authorization: Bearer <Token>" get 401.
	Token string
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// Log receives one line per request at debug level (nil discards).
	Log *slog.Logger
	// LargeBundle, if set, is the size above which a bundle is refused
	// unless uploaded with ackBundleInstallationWarning=true, as Play
	// refuses bundles of a large install size.
	LargeBundle int64
}

// Faults says which requests fail. Each request is faulted with
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

// Fault kinds.
const (
	Fault500       Fault = "500"      // 500 backendError, before the call is carried out
	Fault503       Fault = "503"      // 503 service unavailable
	Fault429       Fault = "429"      // 429 too many requests
	FaultRateLimit Fault = "403-rate" // 403 userRateLimitExceeded
	// FaultCut drops the connection: part-way through an upload chunk,
	// or for other calls after the call was carried out, so that its
	// answer is lost.
	FaultCut  Fault = "cut"
	FaultSlow Fault = "slow" // reply after Faults.Delay, then normally
	FaultNone Fault = ""
)

// AllFaults lists every fault kind.
func AllFaults() []Fault {
	return []Fault{Fault500, Fault503, Fault429, FaultRateLimit, FaultCut, FaultSlow}
}

// App is an app as it exists in Play Console, given to [Server.AddApp].
type App struct {
	// Draft is an app never published: it takes only draft releases.
	Draft bool
	// NoAccess makes every call about the app answer 403, as for a
	// service account not invited in Play Console.
	NoAccess bool
	// Tracks are custom closed testing tracks, beside internal, alpha,
	// beta and production.
	Tracks []string
	// ManagedReview is an app whose changes are not sent for review
	// automatically (managed publishing, or changes Play rejected
	// before): a commit must set changesNotSentForReview.
	ManagedReview bool
}

// Release is one release on a track.
type Release struct {
	Name         string  `json:"name,omitempty"`
	Status       string  `json:"status"`
	VersionCodes []int64 `json:"versionCodes"`
	UserFraction float64 `json:"userFraction,omitempty"`
	// Notes maps a language to its release notes.
	Notes               map[string]string `json:"notes,omitempty"`
	InAppUpdatePriority int               `json:"inAppUpdatePriority,omitempty"`
}

// Track is a track and its releases.
type Track struct {
	Name     string    `json:"name"`
	Releases []Release `json:"releases"`
}

// Upload is a build (or deobfuscation file) received by the server.
type Upload struct {
	Kind        string `json:"kind"` // "bundle", "apk", "proguard", "nativeCode"
	Package     string `json:"package"`
	VersionCode int64  `json:"versionCode"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256,omitempty"`
	SHA1        string `json:"sha1,omitempty"`
	// Path is where the content is kept on disk ("" for uploads added
	// with [Server.AddUpload]).
	Path string `json:"path,omitempty"`
	// Protocol is the uploadType used: "resumable", "multipart", "media".
	Protocol string `json:"protocol,omitempty"`
}

// Commit is a committed edit.
type Commit struct {
	EditID                  string `json:"editId"`
	ChangesNotSentForReview bool   `json:"changesNotSentForReview,omitempty"`
	// Tracks are the tracks the edit changed, as committed.
	Tracks []Track `json:"tracks"`
	// Uploads are the builds and deobfuscation files of the edit.
	Uploads []Upload  `json:"uploads"`
	Time    time.Time `json:"time"`
}

// Request is one line of the request log.
type Request struct {
	Method       string
	Path         string
	Query        string
	ContentRange string
	Status       int // 0 when the connection was cut
	Fault        Fault
	BytesIn      int64
}

type app struct {
	pkg      string
	opts     App
	tracks   map[string]*Track
	uploads  []Upload // committed (and added) uploads
	commits  []Commit
	shared   []Upload
	editSeq  int
	sessions int
}

type edit struct {
	id        string
	pkg       string
	tracks    map[string]*Track // a copy of the app's, changed by the edit
	changed   map[string]bool
	uploads   []Upload
	expiry    time.Time
	deleted   string // why the edit is gone, "" while open
	committed bool
}

// Server is an in-memory fake of the Android Publisher v3 subset used by
// package store/play. It is an http.Handler: serve it with
// httptest.NewServer or http.Serve.
type Server struct {
	opts Options
	dir  string
	own  bool

	mu       sync.Mutex
	apps     map[string]*app
	edits    map[string]*edit
	sessions map[string]*session
	reqs     []Request
	rng      *rand.Rand
	faults   Faults
	scripted int
	seq      int
}

// New returns a server with no apps.
func New(opts Options) (*Server, error) {
	s := &Server{opts: opts, apps: map[string]*app{}, edits: map[string]*edit{}, sessions: map[string]*session{}}
	s.dir = opts.Dir
	if s.dir == "" {
		d, err := os.MkdirTemp("", "playtest-")
		if err != nil {
			return nil, fmt.Errorf("playtest: %w", err)
		}
		s.dir, s.own = d, true
	} else if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return nil, fmt.Errorf("playtest: %w", err)
	}
	if s.opts.Log == nil {
		s.opts.Log = slog.New(slog.DiscardHandler)
	}
	s.SetFaults(opts.Faults)
	return s, nil
}

// Close ends open upload sessions and removes the uploads when New made
// the temp dir.
func (s *Server) Close() error {
	s.mu.Lock()
	sessions := s.sessions
	s.sessions = map[string]*session{}
	s.mu.Unlock()
	for _, se := range sessions {
		se.mu.Lock()
		se.end()
		se.mu.Unlock()
	}
	if s.own {
		return os.RemoveAll(s.dir)
	}
	return nil
}

// SetFaults changes fault injection from now on.
func (s *Server) SetFaults(f Faults) {
	if len(f.Kinds) == 0 {
		f.Kinds = AllFaults()
	}
	if f.Delay <= 0 {
		f.Delay = 50 * time.Millisecond
	}
	s.mu.Lock()
	s.faults = f
	s.scripted = 0
	s.rng = rand.New(rand.NewPCG(f.Seed, f.Seed^0x9e3779b97f4a7c15))
	s.mu.Unlock()
}

// pickFault picks the next request's fault and a random number.
func (s *Server) pickFault() (Fault, int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rnd := s.rng.Int64()
	if s.scripted < len(s.faults.Script) {
		f := s.faults.Script[s.scripted]
		s.scripted++
		return f, rnd
	}
	if s.faults.Rate <= 0 || s.rng.Float64() >= s.faults.Rate {
		return FaultNone, rnd
	}
	return s.faults.Kinds[s.rng.IntN(len(s.faults.Kinds))], rnd
}

func (s *Server) now() time.Time {
	if s.opts.Now != nil {
		return s.opts.Now()
	}
	return time.Now()
}

// standardTracks exist on every app.
var standardTracks = []string{"internal", "alpha", "beta", "production"}

// AddApp creates an app, as creating it in Play Console does.
func (s *Server) AddApp(pkg string, opts App) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := &app{pkg: pkg, opts: opts, tracks: map[string]*Track{}}
	for _, t := range append(slices.Clone(standardTracks), opts.Tracks...) {
		a.tracks[t] = &Track{Name: t}
	}
	s.apps[pkg] = a
}

// SetAccess grants or removes the account's access to an app.
func (s *Server) SetAccess(pkg string, ok bool) error {
	return s.withApp(pkg, func(a *app) { a.opts.NoAccess = !ok })
}

// SetDraft marks an app as draft (never published) or published.
func (s *Server) SetDraft(pkg string, draft bool) error {
	return s.withApp(pkg, func(a *app) { a.opts.Draft = draft })
}

// AddRelease puts a release on a committed track, as if made earlier, and
// records its version codes as uploaded bundles.
func (s *Server) AddRelease(pkg, track string, r Release) error {
	var err error
	werr := s.withApp(pkg, func(a *app) {
		t := a.tracks[track]
		if t == nil {
			err = fmt.Errorf("playtest: app %s has no track %s", pkg, track)
			return
		}
		t.Releases = append(t.Releases, cloneRelease(r))
		for _, vc := range r.VersionCodes {
			a.uploads = append(a.uploads, Upload{Kind: "bundle", Package: pkg, VersionCode: vc})
		}
	})
	if werr != nil {
		return werr
	}
	return err
}

// AddUpload records a build uploaded earlier (kind "bundle" or "apk")
// that is on no track.
func (s *Server) AddUpload(pkg, kind string, versionCode int64) error {
	return s.withApp(pkg, func(a *app) {
		a.uploads = append(a.uploads, Upload{Kind: kind, Package: pkg, VersionCode: versionCode})
	})
}

func (s *Server) withApp(pkg string, fn func(a *app)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.apps[pkg]
	if a == nil {
		return fmt.Errorf("playtest: no app %s", pkg)
	}
	fn(a)
	return nil
}

// Track returns a committed track.
func (s *Server) Track(pkg, name string) (Track, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.apps[pkg]
	if a == nil || a.tracks[name] == nil {
		return Track{}, false
	}
	return cloneTrack(a.tracks[name]), true
}

// Commits returns the app's committed edits, oldest first.
func (s *Server) Commits(pkg string) []Commit {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.apps[pkg]; a != nil {
		return slices.Clone(a.commits)
	}
	return nil
}

// Uploads returns the app's committed uploads (and those added with
// [Server.AddUpload] or [Server.AddRelease]).
func (s *Server) Uploads(pkg string) []Upload {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.apps[pkg]; a != nil {
		return slices.Clone(a.uploads)
	}
	return nil
}

// Shared returns the app's internal app sharing uploads.
func (s *Server) Shared(pkg string) []Upload {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.apps[pkg]; a != nil {
		return slices.Clone(a.shared)
	}
	return nil
}

// OpenEdits returns the number of the app's edits neither committed nor
// deleted.
func (s *Server) OpenEdits(pkg string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, e := range s.edits {
		if e.pkg == pkg && e.deleted == "" {
			n++
		}
	}
	return n
}

// ExpireEdits makes every open edit expire, as Play does after a while.
func (s *Server) ExpireEdits() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.edits {
		if e.deleted == "" {
			e.deleted = "This Edit has expired."
		}
	}
}

// ExpireSessions forgets every open resumable upload session: their
// next request gets 404.
func (s *Server) ExpireSessions() {
	s.mu.Lock()
	var ended []*session
	for id, se := range s.sessions {
		ended = append(ended, se)
		delete(s.sessions, id)
	}
	s.mu.Unlock()
	for _, se := range ended {
		se.mu.Lock()
		if se.done == nil {
			se.end()
		}
		se.mu.Unlock()
	}
}

// Requests returns the request log.
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

// SigningCertSHA256 is the certificate fingerprint the fake answers for
// internal app sharing: a stand-in for Play's app signing key of pkg.
func SigningCertSHA256(pkg string) string {
	h := sha256.Sum256([]byte("playtest app signing key " + pkg))
	return hex.EncodeToString(h[:])
}

func cloneRelease(r Release) Release {
	r.VersionCodes = slices.Clone(r.VersionCodes)
	if r.Notes != nil {
		n := make(map[string]string, len(r.Notes))
		for k, v := range r.Notes {
			n[k] = v
		}
		r.Notes = n
	}
	return r
}

func cloneTrack(t *Track) Track {
	c := Track{Name: t.Name}
	for _, r := range t.Releases {
		c.Releases = append(c.Releases, cloneRelease(r))
	}
	return c
}

func (s *Server) newEditLocked(a *app) *edit {
	s.seq++
	a.editSeq++
	e := &edit{id: "e" + strconv.Itoa(s.seq) + "x" + strconv.Itoa(a.editSeq), pkg: a.pkg,
		tracks: map[string]*Track{}, changed: map[string]bool{}, expiry: s.now().Add(7 * 24 * time.Hour)}
	for n, t := range a.tracks {
		c := cloneTrack(t)
		e.tracks[n] = &c
	}
	s.edits[e.id] = e
	return e
}

// AppState is an app's committed state, as [Server.State] reports it.
type AppState struct {
	Package string   `json:"package"`
	Draft   bool     `json:"draft,omitempty"`
	Tracks  []Track  `json:"tracks"`
	Commits []Commit `json:"commits,omitempty"`
	Shared  []Upload `json:"shared,omitempty"`
}

// StatePath is where the server answers its [Server.State] as JSON (GET),
// for scripts that check what a run did.
const StatePath = "/playtest/v1/state"

// State returns every app's committed tracks, commits and shared builds,
// sorted by package and track name.
func (s *Server) State() []AppState {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []AppState
	for _, a := range s.apps {
		st := AppState{Package: a.pkg, Draft: a.opts.Draft, Commits: slices.Clone(a.commits), Shared: slices.Clone(a.shared)}
		for _, t := range a.tracks {
			st.Tracks = append(st.Tracks, cloneTrack(t))
		}
		slices.SortFunc(st.Tracks, func(x, y Track) int { return strings.Compare(x.Name, y.Name) })
		out = append(out, st)
	}
	slices.SortFunc(out, func(x, y AppState) int { return strings.Compare(x.Package, y.Package) })
	return out
}
