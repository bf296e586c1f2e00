package drive

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	drive "google.golang.org/api/drive/v3"
	"google.golang.org/api/googleapi"
)

// Drive MIME types that matter here.
const (
	FolderMimeType   = "application/vnd.google-apps.folder"
	ShortcutMimeType = "application/vnd.google-apps.shortcut"
	googleAppsPrefix = "application/vnd.google-apps."
)

const fileFields = "id,name,mimeType,size,md5Checksum,sha256Checksum,modifiedTime,parents,driveId,webViewLink,resourceKey,trashed,appProperties,shortcutDetails(targetId,targetMimeType,targetResourceKey)"

// File is a Drive file's metadata.
type File struct {
	ID           string
	Name         string
	MimeType     string
	Size         int64
	MD5          string // hex; empty for Google Docs types and folders
	SHA256       string // hex; empty when Drive does not give it
	ModifiedTime time.Time
	Parents      []string
	DriveID      string // the shared drive holding it, if any
	WebViewLink  string
	ResourceKey  string
	Trashed      bool
	// ShortcutTarget is the target's ID when the file is a shortcut.
	ShortcutTarget string
	// AppProperties are the private key-value pairs the uploading app set
	// (see [UploadOptions.AppProperties]).
	AppProperties map[string]string
}

// IsFolder reports whether f is a folder.
func (f *File) IsFolder() bool { return f.MimeType == FolderMimeType }

// IsGoogleDoc reports whether f is a Google Docs editors file (or another
// application/vnd.google-apps.* type), which has no bytes to download.
func (f *File) IsGoogleDoc() bool {
	return strings.HasPrefix(f.MimeType, googleAppsPrefix) && !f.IsFolder() && f.MimeType != ShortcutMimeType
}

func fromAPI(df *drive.File) *File {
	f := &File{
		ID: df.Id, Name: df.Name, MimeType: df.MimeType, Size: df.Size,
		MD5: df.Md5Checksum, SHA256: df.Sha256Checksum, Parents: df.Parents,
		DriveID: df.DriveId, WebViewLink: df.WebViewLink, ResourceKey: df.ResourceKey,
		Trashed: df.Trashed, AppProperties: df.AppProperties,
	}
	if t, err := time.Parse(time.RFC3339Nano, df.ModifiedTime); err == nil {
		f.ModifiedTime = t
	}
	if df.ShortcutDetails != nil {
		f.ShortcutTarget = df.ShortcutDetails.TargetId
	}
	return f
}

// Stat returns the metadata of the file or folder ref names (an ID or a
// link, see [ParseRef]). A shortcut is followed to its target.
func (c *Client) Stat(ctx context.Context, ref string) (*File, error) {
	r, err := ParseRef(ref)
	if err != nil {
		return nil, err
	}
	return c.stat(ctx, r)
}

func (c *Client) stat(ctx context.Context, r Ref) (*File, error) {
	for hops := 0; ; hops++ {
		var df *drive.File
		err := c.call(ctx, "looking up "+r.ID, r.ID, func() error {
			call := c.svc.Files.Get(r.ID).SupportsAllDrives(true).Fields(fileFields).Context(ctx)
			if r.ResourceKey != "" {
				call.Header().Set("X-Goog-Drive-Resource-Keys", r.ID+"/"+r.ResourceKey)
			}
			var err error
			df, err = call.Do()
			return err
		})
		if err != nil {
			return nil, err
		}
		f := fromAPI(df)
		if err := checkMeta(f); err != nil {
			return nil, &Error{Op: "looking up " + r.ID, Err: err}
		}
		if f.MimeType != ShortcutMimeType {
			return f, nil
		}
		if hops == 4 || df.ShortcutDetails == nil {
			return nil, &Error{Op: "looking up " + r.ID, Msg: "shortcut " + shownName(f.Name) + " has no reachable target", Err: ErrNotFound}
		}
		c.log.Debug("drive: following shortcut", "name", f.Name, "target", df.ShortcutDetails.TargetId)
		r = Ref{ID: df.ShortcutDetails.TargetId, ResourceKey: df.ShortcutDetails.TargetResourceKey}
	}
}

func (c *Client) folder(ctx context.Context, ref string) (*File, error) {
	r, err := ParseRef(ref)
	if err != nil {
		return nil, err
	}
	f, err := c.stat(ctx, r)
	if err != nil {
		return nil, err
	}
	if !f.IsFolder() {
		return nil, &Error{Op: "opening folder " + r.ID, Msg: fmt.Sprintf("%s (%s) is a file, not a folder: give the folder's ID or link", shownName(f.Name), f.ID), Err: ErrNotFolder}
	}
	f.ResourceKey = r.ResourceKey
	return f, nil
}

// quote escapes s for a Drive query string literal.
func quote(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	s = strings.ReplaceAll(s, `'`, `\'`)
	return "'" + s + "'"
}

// list returns the untrashed items of folder matching the extra query.
func (c *Client) list(ctx context.Context, folder *File, extra string) ([]*File, error) {
	q := fmt.Sprintf("%s in parents and trashed = false", quote(folder.ID))
	if extra != "" {
		q += " and " + extra
	}
	var out []*File
	token := ""
	seen := map[string]bool{}
	for page := 1; ; page++ {
		if page > MaxListPages {
			return nil, &Error{Op: "listing folder " + folder.ID, Err: fmt.Errorf("%w: more than %d pages: check STORESIGN_DRIVE_ENDPOINT, or list a smaller folder", ErrBadMetadata, MaxListPages)}
		}
		var fl *drive.FileList
		err := c.call(ctx, "listing folder "+folder.ID, folder.ID, func() error {
			call := c.svc.Files.List().Q(q).PageSize(1000).SupportsAllDrives(true).IncludeItemsFromAllDrives(true).
				Fields(googleapi.Field("nextPageToken,incompleteSearch,files(" + fileFields + ")")).Context(ctx)
			if folder.DriveID != "" {
				call.Corpora("drive").DriveId(folder.DriveID)
			}
			if token != "" {
				call.PageToken(token)
			}
			if folder.ResourceKey != "" {
				call.Header().Set("X-Goog-Drive-Resource-Keys", folder.ID+"/"+folder.ResourceKey)
			}
			var err error
			fl, err = call.Do()
			return err
		})
		if err != nil {
			return nil, err
		}
		for _, df := range fl.Files {
			f := fromAPI(df)
			if err := checkMeta(f); err != nil {
				// One malformed item must not hide the rest of the folder.
				c.log.Debug("drive: skipping a listed item", "folder", folder.ID, "err", err)
				continue
			}
			out = append(out, f)
		}
		if len(out) > MaxListFiles {
			return nil, &Error{Op: "listing folder " + folder.ID, Err: fmt.Errorf("%w: more than %d items: move old builds to another folder", ErrBadMetadata, MaxListFiles)}
		}
		if fl.NextPageToken == "" {
			break
		}
		if seen[fl.NextPageToken] {
			return nil, &Error{Op: "listing folder " + folder.ID, Err: fmt.Errorf("%w: the same page token twice: check STORESIGN_DRIVE_ENDPOINT, or try again later", ErrBadMetadata)}
		}
		seen[fl.NextPageToken] = true
		token = fl.NextPageToken
	}
	return out, nil
}

// List returns the files and folders in a folder, except trashed ones,
// newest first.
func (c *Client) List(ctx context.Context, folder string) ([]*File, error) {
	fo, err := c.folder(ctx, folder)
	if err != nil {
		return nil, err
	}
	files, err := c.list(ctx, fo, "")
	if err != nil {
		return nil, err
	}
	sortNewest(files)
	return files, nil
}

func sortNewest(files []*File) {
	slices.SortStableFunc(files, func(a, b *File) int {
		if c := b.ModifiedTime.Compare(a.ModifiedTime); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
}

// FindOptions says which file [Client.Find] picks.
type FindOptions struct {
	// Name is an exact file name or a glob (path.Match syntax: *, ?, [a-z]).
	Name string
	// Names are more names or globs: a file matching any of Name and
	// Names is a candidate ("*.ipa", "*.apk", "*.aab").
	Names []string
	// Newest picks the most recently modified match instead of failing
	// with an *AmbiguousError when several files match.
	Newest bool
}

// Find returns the one file in folder matching opts.Name, skipping trashed
// items and folders. A name is taken literally unless it holds *, ? or [;
// a glob also matches a name equal to it. A shortcut that matches is
// followed to its target.
func (c *Client) Find(ctx context.Context, folder string, opts FindOptions) (*File, error) {
	var names []string
	for _, n := range append([]string{opts.Name}, opts.Names...) {
		if n == "" {
			continue
		}
		if _, err := path.Match(n, ""); err != nil {
			return nil, fmt.Errorf("drive: bad name pattern %q: %v", n, err)
		}
		names = append(names, n)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("drive: finding a file: no name given")
	}
	pattern := strings.Join(names, " or ")
	fo, err := c.folder(ctx, folder)
	if err != nil {
		return nil, err
	}
	extra := "mimeType != " + quote(FolderMimeType)
	anyGlob := false
	var exact []string
	for _, n := range names {
		if strings.ContainsAny(n, `*?[`) {
			anyGlob = true
		}
		exact = append(exact, "name = "+quote(n))
	}
	if !anyGlob {
		extra += " and (" + strings.Join(exact, " or ") + ")"
	}
	files, err := c.list(ctx, fo, extra)
	if err != nil {
		return nil, err
	}
	var match []*File
	for _, f := range files {
		if !f.IsFolder() && matchAny(names, f.Name) {
			match = append(match, f)
		}
	}
	sortNewest(match)
	switch {
	case len(match) == 0:
		return nil, &Error{Op: "finding " + pattern, Msg: fmt.Sprintf("no file in folder %s (%s) matches %q: check the name and that the upload finished", fo.Name, fo.ID, pattern), Err: ErrNotFound}
	case len(match) > 1 && !opts.Newest:
		return nil, &AmbiguousError{Folder: fo.Name, Pattern: pattern, Candidates: match}
	}
	f := match[0]
	if f.MimeType == ShortcutMimeType {
		return c.stat(ctx, Ref{ID: f.ShortcutTarget})
	}
	return f, nil
}

// matchAny reports whether name equals one of patterns or matches one
// that is a glob.
func matchAny(patterns []string, name string) bool {
	for _, p := range patterns {
		if p == name {
			return true
		}
		if strings.ContainsAny(p, `*?[`) {
			if ok, _ := path.Match(p, name); ok {
				return true
			}
		}
	}
	return false
}
