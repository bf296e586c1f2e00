package play

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	androidpublisher "google.golang.org/api/androidpublisher/v3"

	"github.com/storesign/storesign/internal/androidinfo"
	"github.com/storesign/storesign/internal/atomicfile"
	"github.com/storesign/storesign/signing"
	"github.com/storesign/storesign/signing/aab"
	"github.com/storesign/storesign/signing/apk"
)

// Kind is the kind of build uploaded.
type Kind string

const (
	// KindAAB is an Android App Bundle (edits.bundles.upload).
	KindAAB Kind = "aab"
	// KindAPK is an APK (edits.apks.upload).
	KindAPK Kind = "apk"
)

// Status is a release's status on its track.
type Status string

const (
	// StatusCompleted releases to every user of the track.
	StatusCompleted Status = "completed"
	// StatusInProgress is a staged rollout to UserFraction of the users.
	StatusInProgress Status = "inProgress"
	// StatusDraft is a release not rolled out yet (the only status a
	// draft app takes).
	StatusDraft Status = "draft"
	// StatusHalted is a staged rollout stopped.
	StatusHalted Status = "halted"
)

// Standard tracks; a custom closed testing track has the name given in
// Play Console.
const (
	TrackInternal   = "internal"
	TrackAlpha      = "alpha"
	TrackBeta       = "beta"
	TrackProduction = "production"
)

// MappingFile is a deobfuscation file uploaded with the build.
type MappingFile struct {
	// R and Size give its bytes.
	R    io.ReaderAt
	Size int64
	// Type is "proguard" (the default, a mapping.txt of R8/ProGuard) or
	// "nativeCode" (a zip of native debug symbols).
	Type string
}

// UploadOptions says what [Client.Upload] does. Track is required; the
// zero value of every other field is the safe default.
type UploadOptions struct {
	// Package is the app's package name. Empty means the one in the
	// build; otherwise the build must be of this package.
	Package string
	// Track is "internal", "alpha", "beta", "production", or the name of
	// a custom closed testing track.
	Track string
	// Status is the release's status; empty means completed.
	Status Status
	// UserFraction is the share of users (0 < f < 1) a staged rollout
	// (inProgress or halted) reaches.
	UserFraction float64
	// ReleaseName names the release in Play Console; empty lets Play
	// name it after the versionName.
	ReleaseName string
	// ReleaseNotes maps a language ("en-US") to the "what's new" text;
	// see [ReadReleaseNotes].
	ReleaseNotes map[string]string
	// InAppUpdatePriority is the in-app update priority, 0 to 5.
	InAppUpdatePriority int
	// Mapping, if set, is uploaded as the build's deobfuscation file.
	Mapping *MappingFile
	// ChangesNotSentForReview commits without sending the changes for
	// review: needed when Play answers that changes are not sent for
	// review automatically for this app.
	ChangesNotSentForReview bool
	// ExpectCertSHA256, if set (hex, colons and case ignored), is the
	// SHA-256 of the certificate the build must be signed with (the
	// upload key); checked before anything is sent.
	ExpectCertSHA256 string
	// AckBundleInstallationWarning accepts Play's warning that the
	// bundle's install size is large (over 150 MB for some devices);
	// without it Play refuses such a bundle.
	AckBundleInstallationWarning bool
	// NoCommit validates the edit (edits.validate: Play's checks of a
	// commit) and deletes it instead of committing: a dry run that
	// uploads the build without releasing it.
	NoCommit bool
	// ChunkSize overrides the client's chunk size for this upload.
	ChunkSize int64
	// Progress, if set, is called after each acknowledged chunk.
	Progress func(Progress)
}

// UploadResult tells what [Client.Upload] did.
type UploadResult struct {
	Package     string `json:"package"`
	Kind        Kind   `json:"kind"`
	VersionCode int64  `json:"versionCode"`
	VersionName string `json:"versionName,omitempty"`
	// SHA256 is the file's SHA-256 as Play computed it.
	SHA256       string  `json:"sha256,omitempty"`
	Track        string  `json:"track"`
	Status       Status  `json:"status"`
	UserFraction float64 `json:"userFraction,omitempty"`
	ReleaseName  string  `json:"releaseName,omitempty"`
	// CertSHA256 is the signer's certificate SHA-256 when it was checked.
	CertSHA256 string `json:"certSha256,omitempty"`
	// Mapping reports that a deobfuscation file was uploaded.
	Mapping bool   `json:"mapping,omitempty"`
	EditID  string `json:"editId"`
	// Committed is false for a NoCommit run.
	Committed bool `json:"committed"`
	// StoreURL is the app's Play Store page (live once the app is
	// published).
	StoreURL string `json:"storeUrl"`
}

// UploadFile uploads the build at path; see [Client.Upload]. A mapping
// file path, if not empty, is uploaded as its deobfuscation file.
func (c *Client) UploadFile(ctx context.Context, path, mapping string, opts UploadOptions) (*UploadResult, error) {
	f, size, err := atomicfile.OpenInput(path, "an APK or app bundle")
	if err != nil {
		return nil, fmt.Errorf("play: opening the build: %w", err)
	}
	defer f.Close()
	if mapping != "" {
		m, msize, err := atomicfile.OpenInput(mapping, "a mapping file")
		if err != nil {
			return nil, fmt.Errorf("play: opening the mapping file: %w", err)
		}
		defer m.Close()
		opts.Mapping = &MappingFile{R: m, Size: msize}
	}
	return c.Upload(ctx, f, size, opts)
}

// Upload puts the APK or app bundle in src (size bytes) on a track, in
// one edit: it reads the package name and version code from the build,
// checks the signer when ExpectCertSHA256 is set, creates an edit, checks
// that no track and no earlier upload uses the version code, uploads the
// build (resumable, retried) and the mapping file, sets the track's
// release, and commits. When anything fails after the edit was created,
// the edit is deleted: nothing reaches Play half done.
//
// Play keeps one edit per app: when another upload to the same app
// commits first, this one's edit is deleted ([ErrEditGone]), and Upload
// starts over in a new edit (at most maxRestarts times), checking the
// version code again against what the other upload released.
func (c *Client) Upload(ctx context.Context, src io.ReaderAt, size int64, opts UploadOptions) (*UploadResult, error) {
	if err := checkUploadOptions(&opts); err != nil {
		return nil, err
	}
	b, err := inspect(ctx, src, size, opts.Package, opts.ExpectCertSHA256)
	if err != nil {
		return nil, err
	}
	for restart := 0; ; restart++ {
		res, err := c.uploadOnce(ctx, src, size, b, opts)
		if err == nil || !errors.Is(err, ErrEditGone) || restart == maxRestarts || ctx.Err() != nil {
			return res, err
		}
		c.log.Debug("play: the edit was deleted meanwhile, starting over", "package", b.pkg, "error", err)
	}
}

// maxRestarts bounds how often Upload starts over after its edit was
// deleted by another upload's commit.
const maxRestarts = 3

// uploadOnce is one attempt of Upload, in one edit.
func (c *Client) uploadOnce(ctx context.Context, src io.ReaderAt, size int64, b *build, opts UploadOptions) (*UploadResult, error) {
	res := &UploadResult{
		Package: b.pkg, Kind: b.kind, VersionCode: b.code, VersionName: b.name, Track: opts.Track,
		Status: opts.Status, UserFraction: opts.UserFraction, ReleaseName: opts.ReleaseName, CertSHA256: b.cert,
		StoreURL: storeURL(b.pkg),
	}
	if opts.Status == StatusInProgress || opts.Status == StatusHalted {
		res.UserFraction = opts.UserFraction
	} else {
		res.UserFraction = 0
	}
	pkg := b.pkg

	var edit *androidpublisher.AppEdit
	if err := c.call(ctx, "creating an edit for "+pkg, pkg, func() error {
		e, err := c.svc.Edits.Insert(pkg, &androidpublisher.AppEdit{}).Context(ctx).Do()
		edit = e
		return err
	}); err != nil {
		return nil, err
	}
	res.EditID = edit.Id
	committed := false
	defer func() {
		if !committed {
			c.deleteEdit(ctx, pkg, edit.Id)
		}
	}()

	tracks, err := c.checkUnused(ctx, pkg, edit.Id, b, opts.Track)
	if err != nil {
		return nil, err
	}

	op := fmt.Sprintf("uploading %s %d of %s", b.kind, b.code, pkg)
	path := "applications/" + url.PathEscape(pkg) + "/edits/" + url.PathEscape(edit.Id) + "/"
	var gotCode int64
	switch b.kind {
	case KindAAB:
		var out androidpublisher.Bundle
		bpath := path + "bundles"
		if opts.AckBundleInstallationWarning {
			bpath += "?ackBundleInstallationWarning=true"
		}
		if err := c.resumable(ctx, op, pkg, bpath, src, size, opts.ChunkSize, "bundle", opts.Progress, &out); err != nil {
			return nil, c.usedByStore(err, pkg, b.code)
		}
		gotCode, res.SHA256 = out.VersionCode, out.Sha256
	default:
		var out androidpublisher.Apk
		if err := c.resumable(ctx, op, pkg, path+"apks", src, size, opts.ChunkSize, "apk", opts.Progress, &out); err != nil {
			return nil, c.usedByStore(err, pkg, b.code)
		}
		gotCode = out.VersionCode
		if out.Binary != nil {
			res.SHA256 = out.Binary.Sha256
		}
	}
	if gotCode != 0 && gotCode != b.code {
		return nil, &Error{Op: op, Msg: fmt.Sprintf("Google Play read version code %d from the upload, the build says %d: the upload was damaged; run again", gotCode, b.code), Err: ErrRejected}
	}

	if m := opts.Mapping; m != nil {
		typ := m.Type
		if typ == "" {
			typ = "proguard"
		}
		mop := fmt.Sprintf("uploading the %s deobfuscation file of %d", typ, b.code)
		var out androidpublisher.DeobfuscationFilesUploadResponse
		mpath := path + "apks/" + strconv.FormatInt(b.code, 10) + "/deobfuscationFiles/" + url.PathEscape(typ)
		if err := c.resumable(ctx, mop, pkg, mpath, m.R, m.Size, opts.ChunkSize, "mapping", opts.Progress, &out); err != nil {
			return nil, err
		}
		res.Mapping = true
	}

	track := newTrack(tracks[opts.Track], opts, b.code)
	if err := c.call(ctx, "setting the release on track "+opts.Track, pkg, func() error {
		_, err := c.svc.Edits.Tracks.Update(pkg, edit.Id, opts.Track, track).Context(ctx).Do()
		return err
	}); err != nil {
		return nil, err
	}

	if opts.NoCommit {
		// Play checks the edit as a commit would, without committing.
		if err := c.call(ctx, "validating the edit of "+pkg, pkg, func() error {
			_, err := c.svc.Edits.Validate(pkg, edit.Id).Context(ctx).Do()
			return err
		}); err != nil {
			return nil, err
		}
		return res, nil
	}
	if err := c.commit(ctx, pkg, edit.Id, opts.ChangesNotSentForReview, opts.Track, b.code); err != nil {
		return nil, err
	}
	committed = true
	res.Committed = true
	return res, nil
}

func checkUploadOptions(o *UploadOptions) error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrBadOptions, fmt.Sprintf(format, a...))
	}
	if o.Track == "" {
		return bad("no track given: pass internal, alpha, beta, production or the name of a closed testing track")
	}
	if o.Status == "" {
		o.Status = StatusCompleted
	}
	switch o.Status {
	case StatusCompleted, StatusDraft:
		if o.UserFraction != 0 {
			return bad("a user fraction goes with status inProgress or halted, not %s", o.Status)
		}
	case StatusInProgress, StatusHalted:
		if !(o.UserFraction > 0 && o.UserFraction < 1) {
			return bad("status %s needs a user fraction between 0 and 1 (0.1 for 10%% of users), got %v", o.Status, o.UserFraction)
		}
	default:
		return bad("unknown status %q: want completed, inProgress, draft or halted", o.Status)
	}
	if o.InAppUpdatePriority < 0 || o.InAppUpdatePriority > 5 {
		return bad("in-app update priority %d is not between 0 and 5", o.InAppUpdatePriority)
	}
	if err := checkNotes(o.ReleaseNotes); err != nil {
		return err
	}
	if o.ExpectCertSHA256 != "" {
		if _, err := normFingerprint(o.ExpectCertSHA256); err != nil {
			return err
		}
	}
	if m := o.Mapping; m != nil && m.Type != "" && m.Type != "proguard" && m.Type != "nativeCode" {
		return bad("unknown deobfuscation file type %q: want proguard or nativeCode", m.Type)
	}
	return nil
}

// normFingerprint turns "AB:CD:..." into "abcd...".
func normFingerprint(s string) (string, error) {
	h := strings.ToLower(strings.NewReplacer(":", "", " ", "").Replace(strings.TrimSpace(s)))
	if b, err := hex.DecodeString(h); err != nil || len(b) != 32 {
		return "", fmt.Errorf("%w: the expected certificate SHA-256 %q is not 64 hex digits (as Play Console shows under Setup > App signing, colons allowed)", ErrBadOptions, s)
	}
	return h, nil
}

// build is what Upload and Share learned from the file.
type build struct {
	kind Kind
	pkg  string
	code int64
	name string
	cert string // checked signer's SHA-256
}

// inspect reads the build's package and version code and checks its
// package and signer.
func inspect(ctx context.Context, src io.ReaderAt, size int64, wantPkg, wantCert string) (*build, error) {
	info, err := androidinfo.Read(src, size)
	if err != nil {
		if errors.Is(err, androidinfo.ErrNotAndroid) {
			return nil, fmt.Errorf("%w: the file has no AndroidManifest.xml nor base/manifest/AndroidManifest.xml: upload a .apk or .aab", ErrNotAndroid)
		}
		return nil, fmt.Errorf("%w: reading the build: %v", ErrNotAndroid, err)
	}
	b := &build{kind: Kind(info.Kind), pkg: info.Package, code: info.VersionCode, name: info.VersionName}
	if wantPkg != "" && wantPkg != b.pkg {
		return nil, &WrongPackageError{Want: wantPkg, Got: b.pkg}
	}
	if b.code <= 0 {
		return nil, fmt.Errorf("%w: the manifest of %s has no android:versionCode: Play needs one", ErrNotAndroid, b.pkg)
	}
	if wantCert == "" {
		return b, nil
	}
	want, err := normFingerprint(wantCert)
	if err != nil {
		return nil, err
	}
	var got []string
	switch b.kind {
	case KindAAB:
		r, err := aab.Verify(ctx, src, size, aab.VerifyOptions{})
		if err != nil {
			return nil, &WrongSignerError{Want: want, Got: nil}
		}
		for _, s := range r.Signers {
			got = append(got, s.Fingerprint())
		}
	default:
		r, err := apk.Verify(ctx, src, size, apk.VerifyOptions{})
		if errors.Is(err, apk.ErrNotVerified) {
			return nil, fmt.Errorf("%w: the APK's signature does not verify (%v): sign it again before uploading", ErrWrongSigner, err)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: reading the APK's signature: %v", ErrNotAndroid, err)
		}
		for _, s := range r.Signers {
			got = append(got, signing.CertificateSHA256(s.Certificate))
		}
	}
	if len(got) == 0 || slices.IndexFunc(got, func(g string) bool { return !strings.EqualFold(g, want) }) >= 0 {
		return nil, &WrongSignerError{Want: want, Got: got}
	}
	b.cert = want
	return b, nil
}

// checkUnused lists the edit's tracks, APKs and bundles and refuses a
// version code already used. It returns the tracks by name, and refuses
// a custom track that does not exist.
func (c *Client) checkUnused(ctx context.Context, pkg, edit string, b *build, track string) (map[string]*androidpublisher.Track, error) {
	var tl *androidpublisher.TracksListResponse
	if err := c.call(ctx, "listing the tracks of "+pkg, pkg, func() error {
		r, err := c.svc.Edits.Tracks.List(pkg, edit).Context(ctx).Do()
		tl = r
		return err
	}); err != nil {
		return nil, err
	}
	tracks := map[string]*androidpublisher.Track{}
	var names []string
	for _, t := range tl.Tracks {
		tracks[t.Track] = t
		names = append(names, t.Track)
		for _, r := range t.Releases {
			if slices.Contains(r.VersionCodes, b.code) {
				return nil, &VersionCodeUsedError{Package: pkg, VersionCode: b.code, Track: t.Track}
			}
		}
	}
	switch track {
	case TrackInternal, TrackAlpha, TrackBeta, TrackProduction:
	default:
		if tracks[track] == nil {
			slices.Sort(names)
			return nil, &Error{Op: "choosing track " + track, Msg: fmt.Sprintf("%s has no track %q (it has %s): create the closed testing track in Play Console first, or use internal, alpha, beta or production", pkg, track, strings.Join(names, ", ")), Err: ErrTrackNotFound}
		}
	}
	var used bool
	if b.kind == KindAAB {
		err := c.call(ctx, "listing the bundles of "+pkg, pkg, func() error {
			r, err := c.svc.Edits.Bundles.List(pkg, edit).Context(ctx).Do()
			if err == nil {
				used = slices.ContainsFunc(r.Bundles, func(x *androidpublisher.Bundle) bool { return x.VersionCode == b.code })
			}
			return err
		})
		if err != nil {
			return nil, err
		}
	} else {
		err := c.call(ctx, "listing the APKs of "+pkg, pkg, func() error {
			r, err := c.svc.Edits.Apks.List(pkg, edit).Context(ctx).Do()
			if err == nil {
				used = slices.ContainsFunc(r.Apks, func(x *androidpublisher.Apk) bool { return x.VersionCode == b.code })
			}
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	if used {
		return nil, &VersionCodeUsedError{Package: pkg, VersionCode: b.code}
	}
	return tracks, nil
}

// usedByStore turns Play's refusal of a used version code into a
// *VersionCodeUsedError.
func (c *Client) usedByStore(err error, pkg string, code int64) error {
	var pe *Error
	if errors.Is(err, ErrVersionCodeUsed) && errors.As(err, &pe) {
		msg := pe.Msg
		if i := strings.Index(msg, `"`); i >= 0 {
			if j := strings.Index(msg[i+1:], `"`); j >= 0 {
				msg = msg[i+1 : i+1+j]
			}
		}
		return &VersionCodeUsedError{Package: pkg, VersionCode: code, Store: msg}
	}
	return err
}

// newTrack is the track after the release: the new release replaces the
// ones it supersedes (same status; and for completed, the staged
// rollouts too) and keeps the others (a completed release stays beside
// a new staged rollout; drafts stay unless a draft replaces them).
func newTrack(old *androidpublisher.Track, o UploadOptions, code int64) *androidpublisher.Track {
	rel := &androidpublisher.TrackRelease{
		Name:                o.ReleaseName,
		Status:              string(o.Status),
		VersionCodes:        []int64{code},
		InAppUpdatePriority: int64(o.InAppUpdatePriority),
	}
	if o.Status == StatusInProgress || o.Status == StatusHalted {
		rel.UserFraction = o.UserFraction
	}
	langs := make([]string, 0, len(o.ReleaseNotes))
	for l := range o.ReleaseNotes {
		langs = append(langs, l)
	}
	slices.Sort(langs)
	for _, l := range langs {
		rel.ReleaseNotes = append(rel.ReleaseNotes, &androidpublisher.LocalizedText{Language: l, Text: o.ReleaseNotes[l]})
	}
	t := &androidpublisher.Track{Track: o.Track}
	if old != nil {
		for _, r := range old.Releases {
			if !supersedes(o.Status, Status(r.Status)) {
				t.Releases = append(t.Releases, r)
			}
		}
	}
	t.Releases = append(t.Releases, rel)
	return t
}

func supersedes(new, old Status) bool {
	switch new {
	case StatusCompleted:
		return old == StatusCompleted || old == StatusInProgress || old == StatusHalted
	case StatusInProgress, StatusHalted:
		return old == StatusInProgress || old == StatusHalted
	default:
		return old == new
	}
}

// commit commits the edit. When a commit's answer is lost and the retry
// finds the edit gone, the commit may have gone through: a new edit tells
// whether the release is on the track.
func (c *Client) commit(ctx context.Context, pkg, edit string, notForReview bool, track string, code int64) error {
	op := "committing the edit of " + pkg
	lost := false
	err := c.retryLoop(ctx, op, func(attempt int) (bool, error) {
		_, err := c.svc.Edits.Commit(pkg, edit).ChangesNotSentForReview(notForReview).Context(ctx).Do()
		if err != nil && retryable(err) {
			lost = true
		}
		return false, err
	})
	if err == nil {
		return nil
	}
	if lost && !errors.Is(err, context.Canceled) {
		if ok, cerr := c.onTrack(ctx, pkg, track, code); cerr == nil && ok {
			c.log.Debug("play: the commit went through, its answer was lost", "package", pkg)
			return nil
		}
	}
	return c.explain(op, pkg, err)
}

// onTrack reports whether code is on track, in a fresh edit deleted after.
func (c *Client) onTrack(ctx context.Context, pkg, track string, code int64) (bool, error) {
	var e *androidpublisher.AppEdit
	if err := c.call(ctx, "creating an edit for "+pkg, pkg, func() error {
		r, err := c.svc.Edits.Insert(pkg, &androidpublisher.AppEdit{}).Context(ctx).Do()
		e = r
		return err
	}); err != nil {
		return false, err
	}
	defer c.deleteEdit(ctx, pkg, e.Id)
	var t *androidpublisher.Track
	if err := c.call(ctx, "reading track "+track, pkg, func() error {
		r, err := c.svc.Edits.Tracks.Get(pkg, e.Id, track).Context(ctx).Do()
		t = r
		return err
	}); err != nil {
		return false, err
	}
	for _, r := range t.Releases {
		if slices.Contains(r.VersionCodes, code) {
			return true, nil
		}
	}
	return false, nil
}

// deleteEdit deletes an edit left uncommitted, even after ctx ended.
func (c *Client) deleteEdit(ctx context.Context, pkg, edit string) {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	err := c.retryLoop(dctx, "deleting edit", func(int) (bool, error) {
		return false, c.svc.Edits.Delete(pkg, edit).Context(dctx).Do()
	})
	if err != nil {
		c.log.Debug("play: deleting the edit failed (Play drops it after a while)", "package", pkg, "error", err)
	}
}

func storeURL(pkg string) string {
	return "https://play.google.com/store/apps/details?id=" + url.QueryEscape(pkg)
}
