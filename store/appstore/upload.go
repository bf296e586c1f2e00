package appstore

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/storesign/storesign/internal/atomicfile"
	"github.com/storesign/storesign/signing/ipa"
)

// The states of a build upload and of a build, as the API names them.
const (
	StateAwaitingUpload = "AWAITING_UPLOAD"
	StateProcessing     = "PROCESSING"
	StateComplete       = "COMPLETE"
	StateFailed         = "FAILED"
	// Build processing states.
	StateValid   = "VALID"
	StateInvalid = "INVALID"
)

// Phases reported to UploadOptions.Progress.
const (
	PhaseChecking   = "checking"
	PhaseUploading  = "uploading"
	PhaseProcessing = "processing"
	PhaseDone       = "done"
)

// Progress is reported during [Client.Upload].
type Progress struct {
	Phase string
	// Sent and Total are the bytes of the IPA sent and to send.
	Sent, Total int64
	// State is App Store Connect's state of the upload or build while
	// processing.
	State string
}

// UploadOptions tune [Client.Upload]. The zero value checks the IPA,
// uploads it with four parts in flight and returns once App Store
// Connect has it, without waiting for processing.
type UploadOptions struct {
	// FileName is the name the file is given in App Store Connect
	// (default "app.ipa"; UploadFile uses the file's own).
	FileName string
	// Platform is "IOS" (default), "TV_OS", "VISION_OS" or "MAC_OS".
	Platform string
	// Wait, when positive, waits up to this long for App Store Connect
	// to finish processing the build. When it runs out, Upload returns
	// the state reached, with Result.Final false, and no error.
	Wait time.Duration
	// PollInterval is the time between two looks at the state while
	// waiting (default 15s).
	PollInterval time.Duration
	// Parallel is how many parts are sent at once (default 4).
	Parallel int
	// Check tunes the pre-flight checks (ipa.Check).
	Check ipa.CheckOptions
	// SkipChecksUnsafe uploads even when the pre-flight checks find
	// errors: App Store Connect will then most likely refuse the build.
	SkipChecksUnsafe bool
	// Resume continues the upload an [IncompleteError] stopped.
	Resume *Checkpoint
	// Progress, when not nil, is called as the upload goes (from one
	// goroutine at a time).
	Progress func(Progress)
}

// Checkpoint is how far an upload went: the build upload and file
// created in App Store Connect, and the parts already sent.
type Checkpoint struct {
	AppID         string `json:"app_id"`
	BuildUploadID string `json:"build_upload_id"`
	FileID        string `json:"file_id"`
	// Parts is the number of parts; Done the ETags of those sent, by
	// offset.
	Parts int              `json:"parts"`
	Done  map[int64]string `json:"done"`
}

// Result is what [Client.Upload] did.
type Result struct {
	AppID         string `json:"app_id"`
	BundleID      string `json:"bundle_id"`
	Version       string `json:"version"` // CFBundleShortVersionString
	Build         string `json:"build"`   // CFBundleVersion
	BuildUploadID string `json:"build_upload_id"`
	// BuildID is the build's ID once App Store Connect made it.
	BuildID string `json:"build_id,omitempty"`
	// State is the build's processing state (VALID) once known, else the
	// upload's (PROCESSING, COMPLETE).
	State string `json:"state"`
	// Final is set when processing is over.
	Final bool `json:"final"`
	// URL is the build's page in App Store Connect (TestFlight).
	URL string `json:"url"`
	// Size, MD5 and SHA256 describe the file sent.
	Size   int64  `json:"size"`
	MD5    string `json:"md5"`
	SHA256 string `json:"sha256"`
	// Warnings are App Store Connect's warnings about the build, and the
	// pre-flight checks' findings that are not errors.
	Warnings []StateDetail `json:"warnings,omitempty"`
}

// UploadFile uploads the IPA at name; see [Client.Upload].
func (c *Client) UploadFile(ctx context.Context, name string, opts UploadOptions) (*Result, error) {
	f, size, err := atomicfile.OpenInput(name, "an IPA")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if opts.FileName == "" {
		opts.FileName = filepath.Base(name)
	}
	return c.Upload(ctx, f, size, opts)
}

// Upload sends the IPA read from src to App Store Connect, as a new
// build of the app with its bundle ID:
//
//  1. the IPA's bundle ID, version and build are read, and the
//     pre-flight checks run ([ipa.Check]); errors stop here;
//  2. the app is found by bundle ID ([AppNotFoundError]) and the
//     version/build pair checked unused ([BuildUsedError]);
//  3. a build upload and its file are created; App Store Connect answers
//     with upload operations (presigned URLs, each for a part of the
//     file), sent in parallel, each retried; parts already sent are
//     never sent again ([IncompleteError] and UploadOptions.Resume);
//  4. the file is committed with its MD5 checksums;
//  5. with UploadOptions.Wait, the state is polled until the build is
//     processed ([ProcessingError] with Apple's reasons when refused).
func (c *Client) Upload(ctx context.Context, src io.ReaderAt, size int64, opts UploadOptions) (*Result, error) {
	progress := func(p Progress) {
		if opts.Progress != nil {
			opts.Progress(p)
		}
	}
	progress(Progress{Phase: PhaseChecking, Total: size})
	check, err := ipa.Check(ctx, src, size, opts.Check)
	if err != nil {
		return nil, fmt.Errorf("reading the IPA: %w", err)
	}
	if check.Failed() && !opts.SkipChecksUnsafe {
		return nil, &PreflightError{Findings: check.Errors()}
	}
	res := &Result{BundleID: check.BundleID, Version: check.Version, Build: check.Build, Size: size}
	for _, f := range check.Findings {
		if f.Severity != ipa.SeverityError {
			res.Warnings = append(res.Warnings, StateDetail{Code: f.Code, Description: f.Bundle + ": " + f.Message})
		}
	}
	if res.Version == "" || res.Build == "" {
		return nil, fmt.Errorf("%w: the app's Info.plist lacks CFBundleShortVersionString or CFBundleVersion", ipa.ErrNotIPA)
	}
	if opts.FileName == "" {
		opts.FileName = "app.ipa"
	}
	if opts.Platform == "" {
		opts.Platform = "IOS"
	}

	var file *resource
	cp := opts.Resume
	if cp == nil {
		appID, err := c.findApp(ctx, res.BundleID)
		if err != nil {
			return nil, err
		}
		res.AppID = appID
		if err := c.checkUnused(ctx, res); err != nil {
			return nil, err
		}
		upID, err := c.createBuildUpload(ctx, res, opts.Platform)
		if err != nil {
			return nil, err
		}
		file, err = c.createFile(ctx, upID, opts.FileName, size)
		if err != nil {
			return nil, err
		}
		cp = &Checkpoint{AppID: appID, BuildUploadID: upID, FileID: file.ID, Done: map[int64]string{}}
	} else {
		res.AppID = cp.AppID
		if cp.Done == nil {
			cp.Done = map[int64]string{}
		}
	}
	res.BuildUploadID = cp.BuildUploadID
	res.URL = buildURL(res.AppID, "")

	sums, err := c.sendParts(ctx, src, size, cp, file, opts, progress)
	if err != nil {
		return nil, err
	}
	res.MD5, res.SHA256 = sums.md5, sums.sha256
	if err := c.commitFile(ctx, cp.FileID, sums); err != nil {
		return nil, err
	}
	c.log.Debug("appstore: file committed", "build_upload", cp.BuildUploadID, "md5", sums.md5)
	if err := c.wait(ctx, res, opts, progress); err != nil {
		return res, err
	}
	progress(Progress{Phase: PhaseDone, Sent: size, Total: size, State: res.State})
	return res, nil
}

func buildURL(appID, buildID string) string {
	u := "https://appstoreconnect.apple.com/apps/" + url.PathEscape(appID) + "/testflight/ios"
	if buildID != "" {
		u += "/" + url.PathEscape(buildID)
	}
	return u
}

// JSON:API documents.
type (
	relData struct {
		Type string `json:"type"`
		ID   string `json:"id"`
	}
	rel struct {
		Data *relData `json:"data"`
	}
	resource struct {
		Type          string         `json:"type"`
		ID            string         `json:"id,omitempty"`
		Attributes    map[string]any `json:"attributes,omitempty"`
		Relationships map[string]rel `json:"relationships,omitempty"`
	}
	document struct {
		Data resource `json:"data"`
	}
	listDocument struct {
		Data []resource `json:"data"`
	}
)

func (r *resource) str(key string) string { s, _ := r.Attributes[key].(string); return s }

func (c *Client) findApp(ctx context.Context, bundleID string) (string, error) {
	var doc listDocument
	q := url.Values{"filter[bundleId]": {bundleID}, "fields[apps]": {"bundleId,name"}, "limit": {"200"}}
	if err := c.call(ctx, http.MethodGet, "v1/apps?"+q.Encode(), nil, &doc); err != nil {
		return "", fmt.Errorf("finding the app %s: %w", bundleID, err)
	}
	// filter[bundleId] matches prefixes too (com.example.app finds
	// com.example.app.beta): keep the exact one.
	for _, a := range doc.Data {
		if a.str("bundleId") == bundleID {
			return a.ID, nil
		}
	}
	return "", &AppNotFoundError{BundleID: bundleID}
}

func (c *Client) checkUnused(ctx context.Context, res *Result) error {
	var doc listDocument
	q := url.Values{
		"filter[app]":                       {res.AppID},
		"filter[version]":                   {res.Build},
		"filter[preReleaseVersion.version]": {res.Version},
		"fields[builds]":                    {"version,processingState"},
		"limit":                             {"1"},
	}
	if err := c.call(ctx, http.MethodGet, "v1/builds?"+q.Encode(), nil, &doc); err != nil {
		return fmt.Errorf("looking for build %s of version %s: %w", res.Build, res.Version, err)
	}
	if len(doc.Data) > 0 {
		return &BuildUsedError{BundleID: res.BundleID, Version: res.Version, Build: res.Build}
	}
	return nil
}

func (c *Client) createBuildUpload(ctx context.Context, res *Result, platform string) (string, error) {
	in := document{Data: resource{
		Type: "buildUploads",
		Attributes: map[string]any{
			"cfBundleShortVersionString": res.Version,
			"cfBundleVersion":            res.Build,
			"platform":                   platform,
		},
		Relationships: map[string]rel{"app": {Data: &relData{Type: "apps", ID: res.AppID}}},
	}}
	var out document
	if err := c.call(ctx, http.MethodPost, "v1/buildUploads", in, &out); err != nil {
		var ae *APIError
		if errors.As(err, &ae) && ae.Status == http.StatusConflict {
			return "", &BuildUsedError{BundleID: res.BundleID, Version: res.Version, Build: res.Build, Detail: ae.Detail}
		}
		return "", fmt.Errorf("creating the build upload: %w", err)
	}
	if out.Data.ID == "" {
		return "", errors.New("creating the build upload: App Store Connect returned no ID")
	}
	return out.Data.ID, nil
}

func (c *Client) createFile(ctx context.Context, uploadID, name string, size int64) (*resource, error) {
	in := document{Data: resource{
		Type: "buildUploadFiles",
		Attributes: map[string]any{
			"assetType": "ASSET",
			"fileName":  name,
			"fileSize":  size,
			"uti":       "com.apple.ipa",
		},
		Relationships: map[string]rel{"buildUpload": {Data: &relData{Type: "buildUploads", ID: uploadID}}},
	}}
	var out document
	if err := c.call(ctx, http.MethodPost, "v1/buildUploadFiles", in, &out); err != nil {
		return nil, fmt.Errorf("creating the upload file: %w", err)
	}
	return &out.Data, nil
}

func (c *Client) getFile(ctx context.Context, id string) (*resource, error) {
	var out document
	if err := c.call(ctx, http.MethodGet, "v1/buildUploadFiles/"+url.PathEscape(id), nil, &out); err != nil {
		return nil, fmt.Errorf("reading the upload file: %w", err)
	}
	return &out.Data, nil
}

// operation is one DeliveryFileUploadOperation.
type operation struct {
	Method  string
	URL     string
	Offset  int64
	Length  int64
	Headers [][2]string
	Part    int64
}

func operations(file *resource, size int64) ([]operation, error) {
	raw, _ := file.Attributes["uploadOperations"].([]any)
	if len(raw) == 0 {
		return nil, errors.New("App Store Connect gave no upload operations for the file")
	}
	var ops []operation
	for _, r := range raw {
		m, _ := r.(map[string]any)
		op := operation{Method: strOf(m["method"]), URL: strOf(m["url"]), Offset: intOf(m["offset"]), Length: intOf(m["length"]), Part: intOf(m["partNumber"])}
		if op.Method == "" {
			op.Method = http.MethodPut
		}
		hs, _ := m["requestHeaders"].([]any)
		for _, h := range hs {
			hm, _ := h.(map[string]any)
			op.Headers = append(op.Headers, [2]string{strOf(hm["name"]), strOf(hm["value"])})
		}
		if op.URL == "" || op.Offset < 0 || op.Length <= 0 || op.Offset+op.Length > size {
			return nil, fmt.Errorf("App Store Connect gave an upload operation outside the file (offset %d, length %d, file %d bytes)", op.Offset, op.Length, size)
		}
		ops = append(ops, op)
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].Offset < ops[j].Offset })
	var next int64
	for _, op := range ops {
		if op.Offset != next {
			return nil, fmt.Errorf("App Store Connect's upload operations do not cover the file (a gap or overlap at byte %d)", next)
		}
		next = op.Offset + op.Length
	}
	if next != size {
		return nil, fmt.Errorf("App Store Connect's upload operations cover %d of %d bytes", next, size)
	}
	return ops, nil
}

func strOf(v any) string { s, _ := v.(string); return s }

func intOf(v any) int64 {
	f, _ := v.(float64)
	return int64(f)
}

// checksums of the file: whole and composite (the MD5 of the parts'
// MD5s, in order).
type checksums struct {
	md5, sha256, composite string
}

// sumFile hashes src once, in order, with the part boundaries of ops.
func sumFile(ctx context.Context, src io.ReaderAt, size int64, ops []operation) (checksums, error) {
	whole, s256, comp := md5.New(), sha256.New(), md5.New()
	buf := make([]byte, 1<<20)
	for _, op := range ops {
		part := md5.New()
		r := io.NewSectionReader(src, op.Offset, op.Length)
		for {
			if err := ctx.Err(); err != nil {
				return checksums{}, err
			}
			n, err := r.Read(buf)
			whole.Write(buf[:n])
			s256.Write(buf[:n])
			part.Write(buf[:n])
			if err == io.EOF {
				break
			}
			if err != nil {
				return checksums{}, fmt.Errorf("reading the IPA: %w", err)
			}
		}
		comp.Write(part.Sum(nil))
	}
	return checksums{hex.EncodeToString(whole.Sum(nil)), hex.EncodeToString(s256.Sum(nil)), hex.EncodeToString(comp.Sum(nil))}, nil
}

// sendParts runs every operation not yet done. When some fail for good,
// it asks App Store Connect for the operations afresh (their URLs may
// have expired) and runs those still to do, up to three rounds; then it
// gives up with an IncompleteError.
func (c *Client) sendParts(ctx context.Context, src io.ReaderAt, size int64, cp *Checkpoint, file *resource, opts UploadOptions, progress func(Progress)) (checksums, error) {
	parallel := opts.Parallel
	if parallel <= 0 {
		parallel = 4
	}
	var (
		sums    checksums
		sumErr  error
		sumDone = make(chan struct{})
		mu      sync.Mutex
		sent    int64
	)
	// The file is hashed once, while its parts are sent; whatever
	// happens, the hashing stops before sendParts returns.
	sumCtx, cancelSum := context.WithCancel(ctx)
	started := false
	defer func() {
		cancelSum()
		if started {
			<-sumDone
		}
	}()
	var lastErr error
	for round := 0; round < 3; round++ {
		if file == nil || round > 0 {
			f, err := c.getFile(ctx, cp.FileID)
			if err != nil {
				return checksums{}, &IncompleteError{Checkpoint: cp, Err: err}
			}
			file = f
		}
		ops, err := operations(file, size)
		if err != nil {
			return checksums{}, err
		}
		mu.Lock()
		cp.Parts = len(ops)
		sent = 0
		for _, op := range ops {
			if _, ok := cp.Done[op.Offset]; ok {
				sent += op.Length
			}
		}
		mu.Unlock()
		if !started {
			started = true
			go func() {
				defer close(sumDone)
				sums, sumErr = sumFile(sumCtx, src, size, ops)
			}()
		}
		progress(Progress{Phase: PhaseUploading, Sent: sent, Total: size})

		sem := make(chan struct{}, parallel)
		var wg sync.WaitGroup
		var failed []error
		for _, op := range ops {
			mu.Lock()
			_, done := cp.Done[op.Offset]
			mu.Unlock()
			if done {
				continue
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
			}
			if ctx.Err() != nil {
				break
			}
			wg.Add(1)
			go func(op operation) {
				defer wg.Done()
				defer func() { <-sem }()
				etag, err := c.sendPart(ctx, src, op)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					failed = append(failed, err)
					return
				}
				cp.Done[op.Offset] = etag
				sent += op.Length
				progress(Progress{Phase: PhaseUploading, Sent: sent, Total: size})
			}(op)
		}
		wg.Wait()
		if err := ctx.Err(); err != nil {
			return checksums{}, &IncompleteError{Checkpoint: cp, Err: err}
		}
		if len(failed) == 0 {
			<-sumDone
			if sumErr != nil {
				return checksums{}, sumErr
			}
			return sums, nil
		}
		lastErr = failed[0]
		c.log.Debug("appstore: parts failed, asking for the operations again", "failed", len(failed), "err", lastErr)
	}
	return checksums{}, &IncompleteError{Checkpoint: cp, Err: lastErr}
}

// sendPart sends one part, retrying transient failures. The presigned
// URL carries its own authorisation: no token is sent with it.
func (c *Client) sendPart(ctx context.Context, src io.ReaderAt, op operation) (string, error) {
	var last error
	for attempt := 0; attempt < c.retry.Attempts; attempt++ {
		if attempt > 0 {
			if err := c.sleep(ctx, c.retry.backoff(attempt-1)); err != nil {
				return "", err
			}
		}
		req, err := http.NewRequestWithContext(ctx, op.Method, op.URL, io.NewSectionReader(src, op.Offset, op.Length))
		if err != nil {
			return "", err
		}
		req.ContentLength = op.Length
		for _, h := range op.Headers {
			if strings.EqualFold(h[0], "Content-Length") {
				continue
			}
			req.Header.Set(h[0], h[1])
		}
		resp, err := c.hc.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return "", ctx.Err()
			}
			last = fmt.Errorf("sending bytes %d-%d: %w", op.Offset, op.Offset+op.Length-1, redactURL(err))
			continue
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		switch {
		case resp.StatusCode >= 200 && resp.StatusCode < 300:
			return strings.Trim(resp.Header.Get("ETag"), `"`), nil
		case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 || resp.StatusCode == http.StatusRequestTimeout:
			last = fmt.Errorf("sending bytes %d-%d: the upload server answered %d", op.Offset, op.Offset+op.Length-1, resp.StatusCode)
			continue
		default:
			// 403 for an expired URL: the caller asks for new ones.
			return "", fmt.Errorf("sending bytes %d-%d: the upload server answered %d", op.Offset, op.Offset+op.Length-1, resp.StatusCode)
		}
	}
	return "", last
}

// redactURL drops the query of a url.Error's URL: a presigned URL's
// signature is a credential.
func redactURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		u := ue.URL
		if i := strings.IndexByte(u, '?'); i >= 0 {
			u = u[:i] + "?…"
		}
		return &url.Error{Op: ue.Op, URL: u, Err: ue.Err}
	}
	return err
}

func (c *Client) commitFile(ctx context.Context, fileID string, sums checksums) error {
	in := document{Data: resource{
		Type: "buildUploadFiles",
		ID:   fileID,
		Attributes: map[string]any{
			"sourceFileChecksums": map[string]any{
				"file":      map[string]string{"hash": sums.md5, "algorithm": "MD5"},
				"composite": map[string]string{"hash": sums.composite, "algorithm": "MD5"},
			},
			"uploaded": true,
		},
	}}
	if err := c.call(ctx, http.MethodPatch, "v1/buildUploadFiles/"+url.PathEscape(fileID), in, nil); err != nil {
		return fmt.Errorf("committing the uploaded file: %w", err)
	}
	return nil
}

// details reads a list of StateDetail.
func details(v any) []StateDetail {
	list, _ := v.([]any)
	var out []StateDetail
	for _, x := range list {
		m, _ := x.(map[string]any)
		out = append(out, StateDetail{Code: strOf(m["code"]), Description: strOf(m["description"])})
	}
	return out
}

// wait looks at the upload's state once, or until it is final when
// opts.Wait is set.
func (c *Client) wait(ctx context.Context, res *Result, opts UploadOptions, progress func(Progress)) error {
	interval := opts.PollInterval
	if interval <= 0 {
		interval = 15 * time.Second
	}
	var deadline time.Time
	if opts.Wait > 0 {
		deadline = time.Now().Add(opts.Wait)
	}
	seenWarnings := map[StateDetail]bool{}
	for {
		final, err := c.poll(ctx, res, seenWarnings)
		if err != nil {
			return err
		}
		progress(Progress{Phase: PhaseProcessing, Sent: res.Size, Total: res.Size, State: res.State})
		if final || opts.Wait <= 0 {
			return nil
		}
		left := time.Until(deadline)
		if left <= 0 {
			c.log.Debug("appstore: stopped waiting", "state", res.State)
			return nil
		}
		if err := c.sleep(ctx, min(interval, left)); err != nil {
			return err
		}
	}
}

func (c *Client) poll(ctx context.Context, res *Result, seen map[StateDetail]bool) (bool, error) {
	var up document
	if err := c.call(ctx, http.MethodGet, "v1/buildUploads/"+url.PathEscape(res.BuildUploadID)+"?include=build", nil, &up); err != nil {
		return false, fmt.Errorf("reading the upload's state: %w", err)
	}
	st, _ := up.Data.Attributes["state"].(map[string]any)
	res.State = strOf(st["state"])
	for _, w := range details(st["warnings"]) {
		if !seen[w] {
			seen[w] = true
			res.Warnings = append(res.Warnings, w)
		}
	}
	switch res.State {
	case StateFailed:
		res.Final = true
		return true, &ProcessingError{BuildUploadID: res.BuildUploadID, State: res.State, Errors: details(st["errors"])}
	case StateComplete:
	default:
		return false, nil
	}
	b := up.Data.Relationships["build"].Data
	if b == nil || b.ID == "" {
		return false, nil
	}
	res.BuildID = b.ID
	res.URL = buildURL(res.AppID, b.ID)
	var build document
	if err := c.call(ctx, http.MethodGet, "v1/builds/"+url.PathEscape(b.ID)+"?fields[builds]=version,processingState", nil, &build); err != nil {
		return false, fmt.Errorf("reading the build's state: %w", err)
	}
	res.State = build.Data.str("processingState")
	switch res.State {
	case StateValid:
		res.Final = true
		return true, nil
	case StateInvalid, StateFailed:
		res.Final = true
		return true, &ProcessingError{BuildUploadID: res.BuildUploadID, State: res.State, Errors: details(st["errors"])}
	}
	return false, nil
}
