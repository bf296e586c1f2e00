package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/storesign/storesign/drive"
	"github.com/storesign/storesign/internal/jsondoc"
)

// newDriveCmd is "storesign drive get|put|ls".
func newDriveCmd(e *env) *cobra.Command {
	return newGroup("drive <command>", "Move builds to and from Google Drive",
		`Download, upload and list files in Google Drive folders (shared drives
included), resuming after network failures and checking sizes and
checksums. Credentials: --credentials FILE (a service account key or an
external_account JSON), else Application Default Credentials
(GOOGLE_APPLICATION_CREDENTIALS).`,
		`  storesign drive get --folder FOLDER_ID --name '*.ipa' --newest --out builds/
  storesign drive put --folder FOLDER_ID --path 2026/build-42 signed.ipa
  storesign drive ls --folder FOLDER_ID --json`,
		newDriveGetCmd(e), newDrivePutCmd(e), newDriveLsCmd(e))
}

// driveFlags are the flags every drive command takes.
type driveFlags struct {
	credentials string
	subject     string
	quiet       bool
	verbose     bool
	stderr      io.Writer
}

func (d *driveFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&d.credentials, "credentials", "", "Google credentials `file` (service account key or external_account JSON); default: Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS)")
	fs.StringVar(&d.subject, "subject", "", "act as this user `email` through domain-wide delegation (service account keys only)")
	fs.BoolVar(&d.quiet, "quiet", false, "print no progress")
	fs.BoolVarP(&d.verbose, "verbose", "v", false, "log each retry on stderr")
}

func (d *driveFlags) client(ctx context.Context, scope drive.Scope, chunk int64) (*drive.Client, error) {
	opts := []drive.Option{drive.WithScope(scope)}
	if d.credentials != "" {
		opts = append(opts, drive.WithCredentialsFile(d.credentials))
	}
	if d.subject != "" {
		opts = append(opts, drive.WithSubject(d.subject))
	}
	if chunk > 0 {
		opts = append(opts, drive.WithChunkSize(chunk))
	}
	if d.verbose && d.stderr != nil {
		opts = append(opts, drive.WithLogger(slog.New(slog.NewTextHandler(d.stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	}
	c, err := drive.New(ctx, opts...)
	if err != nil && d.credentials == "" {
		// The library's advice, in the command's words.
		err = rephrase(strings.Replace(err.Error(), " or pass a credentials file", " or pass a service account key with --credentials FILE", 1), err)
	}
	return c, err
}

const driveGetLong = `Downloads a file from Google Drive, resuming after network failures and
checking its size and checksums. --out is the file to write, or an
existing folder to put it in under its Drive name (default: the current
folder). Prints path=, id=, name=, size=, md5= lines on stdout (a value
holding a line break or another control character is printed quoted, as
in Go: "a\nb"), or with --json one JSON document (docs/json.md). A Drive
name that cannot be a local file name (a path separator, a control
character, a leading dot, .., more than 255 bytes) is refused unless
--out names the file.
The STORESIGN_DRIVE_ENDPOINT environment variable points at another
Drive server (a drivetest fake).`

// newDriveGetCmd is "storesign drive get".
func newDriveGetCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "get (--file ID|LINK | --folder ID|LINK --name NAME|GLOB [--name ...] [--newest]) [--out PATH] [--json]",
		Short: "Download a file from Google Drive, checked and resumable",
		Long:  driveGetLong,
		Example: `  storesign drive get --file https://drive.google.com/file/d/FILE_ID/view --out app.ipa
  storesign drive get --folder FOLDER_ID --name '*.aab' --newest --out builds/`,
		Args:              cobra.ArbitraryArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
	}
	fs := cmd.Flags()
	df := driveFlags{stderr: e.stderr}
	df.register(fs)
	file := fs.String("file", "", "the file's Drive `ID or link`")
	folder := fs.String("folder", "", "a Drive folder `ID or link` to find the file in, with --name")
	var names stringList
	fs.Var(&names, "name", "with --folder: the file's exact `name` or a glob (*, ?, [a-z]); repeat for several")
	newest := fs.Bool("newest", false, "with --folder: take the newest match instead of failing when several match")
	out := fs.String("out", "", "output `path` (a file, or an existing folder)")
	asJSON := fs.Bool("json", false, jsonFlagUsage)
	completeFlags(cmd, map[string]cobra.CompletionFunc{"credentials": completeExt("json")})
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		if fs.NArg() > 0 {
			return unexpectedArg("drive get", fs.Args(), ": give the file with --file", "")
		}
		switch {
		case *file != "" && *folder != "":
			return usagef("drive get: give --file, or --folder and --name, not both")
		case *file == "" && *folder == "":
			return usagef("drive get: give --file ID|LINK, or --folder ID|LINK and --name NAME")
		case *folder != "" && len(names) == 0:
			return usagef("drive get: --folder needs --name (a file name or a glob such as '*.ipa')")
		case *file != "" && (len(names) > 0 || *newest):
			return usagef("drive get: --name and --newest go with --folder, not --file")
		}
		c, err := df.client(ctx, drive.ScopeReadOnly, 0)
		if err != nil {
			return err
		}
		var f *drive.File
		if *file != "" {
			f, err = c.Stat(ctx, *file)
		} else {
			f, err = c.Find(ctx, *folder, drive.FindOptions{Names: names, Newest: *newest})
		}
		if err != nil {
			return err
		}
		target := *out
		if target == "" {
			target = "."
		}
		if fi, err := os.Stat(target); err == nil && fi.IsDir() {
			name, err := drive.LocalName(f.Name)
			if err != nil {
				return fmt.Errorf("%s: %w: give --out FILE to choose the local name, or rename the file in Drive", f.ID, err)
			}
			target = filepath.Join(target, name)
		} else if strings.HasSuffix(*out, "/") || strings.HasSuffix(*out, string(filepath.Separator)) {
			return fmt.Errorf("output folder %s does not exist: create it or choose another --out", *out)
		}
		p := newProgress(e.stderr, "downloading "+shown(f.Name), df.quiet)
		err = c.DownloadFile(ctx, f, target, drive.DownloadOptions{Progress: p.update})
		p.finish(err == nil)
		if err != nil {
			return err
		}
		if *asJSON {
			return jsondoc.Write(e.stdout, jsondoc.DriveGet(target, f))
		}
		abs, _ := filepath.Abs(target)
		return printValues(e.stdout, "path", abs, "id", f.ID, "name", f.Name, "size", fmt.Sprint(f.Size), "md5", f.MD5)
	}
	return cmd
}

const drivePutLong = `Uploads FILE into a Drive folder (or a sub-path of it, created as
needed) with Drive's resumable protocol, then checks the size and MD5
Drive stored. An identical file of the same name is not uploaded again;
a different one is an error unless --replace, which uploads a new
revision keeping its ID and link. Prints id=, link=, name=, size=, md5=
and status= (uploaded, replaced or skipped) lines on stdout (values with
control characters quoted, as in Go), or with --json one JSON document
(docs/json.md).`

// newDrivePutCmd is "storesign drive put".
func newDrivePutCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "put --folder ID|LINK [--path SUB/DIR] [--name NAME] [--replace] [--json] FILE",
		Short: "Upload a file into a Google Drive folder, checked and resumable",
		Long:  drivePutLong,
		Example: `  storesign drive put --folder FOLDER_ID signed.ipa
  storesign drive put --folder FOLDER_ID --path "Studio/1.2 (42)" --replace signed.ipa`,
		Args: cobra.ArbitraryArgs,
	}
	fs := cmd.Flags()
	df := driveFlags{stderr: e.stderr}
	df.register(fs)
	folder := fs.String("folder", "", "destination folder `ID or link`")
	sub := fs.String("path", "", "sub-`path` under --folder, created as needed (e.g. 2026/build-42)")
	name := fs.String("name", "", "the `name` in Drive (default: the file's name)")
	replace := fs.Bool("replace", false, "upload a new revision of a different same-named file")
	chunkMiB := fs.Int("chunk-mib", 16, "resumable upload chunk size in `MiB` (the most resent after a failure)")
	asJSON := fs.Bool("json", false, jsonFlagUsage)
	completeFlags(cmd, map[string]cobra.CompletionFunc{"credentials": completeExt("json")})
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		switch {
		case fs.NArg() != 1:
			return usagef("drive put: give exactly one FILE to upload")
		case *folder == "":
			return usagef("drive put: --folder ID|LINK is required")
		case *chunkMiB < 1 || *chunkMiB > 1024:
			return usagef("drive put: --chunk-mib must be between 1 and 1024")
		}
		path := fs.Arg(0)
		fi, err := os.Stat(path)
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%s: no such file to upload", path)
		}
		if err != nil { // a symlink loop, a folder that cannot be read...
			return fmt.Errorf("%s: %w: check the path", path, pathErr(err))
		}
		if fi.IsDir() {
			return fmt.Errorf("%s is a folder: upload a file", path)
		}
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("%s is not a regular file (a FIFO or a device): copy the data to a file and upload that", path)
		}
		c, err := df.client(ctx, drive.ScopeDrive, int64(*chunkMiB)<<20)
		if err != nil {
			return err
		}
		label := *name
		if label == "" {
			label = filepath.Base(path)
		}
		p := newProgress(e.stderr, "uploading "+label, df.quiet)
		res, err := c.UploadFile(ctx, path, drive.UploadOptions{Folder: *folder, Path: *sub, Name: *name, Replace: *replace, Progress: p.update})
		p.finish(err == nil && !res.Skipped)
		if err != nil {
			return err
		}
		if res.Skipped && !df.quiet {
			fmt.Fprintf(e.stderr, "%s is already in the folder with the same content: not uploaded again\n", shown(res.File.Name))
		}
		if *asJSON {
			return jsondoc.Write(e.stdout, jsondoc.DrivePut(path, res))
		}
		status := "uploaded"
		switch {
		case res.Skipped:
			status = "skipped"
		case res.Replaced:
			status = "replaced"
		}
		f := res.File
		return printValues(e.stdout, "id", f.ID, "link", webLink(f), "name", f.Name, "size", fmt.Sprint(f.Size), "md5", f.MD5, "status", status)
	}
	return cmd
}

// webLink is the file's link, made from its ID when Drive gave none.
func webLink(f *drive.File) string {
	if f.WebViewLink != "" {
		return f.WebViewLink
	}
	return "https://drive.google.com/file/d/" + f.ID + "/view"
}

const driveLsLong = `Lists a Drive folder, newest first: ID, size, modified time (UTC), name.
Trashed items are left out; folders end with "/".`

// newDriveLsCmd is "storesign drive ls".
func newDriveLsCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ls --folder ID|LINK [--json]",
		Short: "List a Google Drive folder, newest first",
		Long:  driveLsLong,
		Example: `  storesign drive ls --folder FOLDER_ID
  storesign drive ls --json FOLDER_ID`,
		Args:              cobra.ArbitraryArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
	}
	fs := cmd.Flags()
	df := driveFlags{stderr: e.stderr}
	df.register(fs)
	folder := fs.String("folder", "", "the folder's `ID or link`")
	asJSON := fs.Bool("json", false, jsonFlagUsage)
	completeFlags(cmd, map[string]cobra.CompletionFunc{"credentials": completeExt("json")})
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		// A pass:PASSWORD is no folder: it is refused without being shown.
		if *folder == "" && fs.NArg() == 1 && !strings.HasPrefix(fs.Arg(0), "pass:") {
			*folder = fs.Arg(0)
		} else if fs.NArg() > 0 {
			return unexpectedArg("drive ls", fs.Args(), "", "")
		}
		if *folder == "" {
			return usagef("drive ls: --folder ID|LINK is required")
		}
		c, err := df.client(ctx, drive.ScopeReadOnly, 0)
		if err != nil {
			return err
		}
		files, err := c.List(ctx, *folder)
		if err != nil {
			return err
		}
		if *asJSON {
			return jsondoc.Write(e.stdout, jsondoc.DriveList(*folder, files))
		}
		for _, f := range files {
			size, name := fmt.Sprint(f.Size), shown(f.Name)
			switch {
			case f.IsFolder():
				size, name = "-", name+"/"
			case f.MimeType == drive.ShortcutMimeType:
				size, name = "-", name+" -> "+f.ShortcutTarget
			case f.IsGoogleDoc():
				size, name = "-", name+" ("+strings.TrimPrefix(f.MimeType, "application/vnd.google-apps.")+")"
			}
			fmt.Fprintf(e.stdout, "%s\t%12s\t%s\t%s\n", f.ID, size, f.ModifiedTime.UTC().Format("2006-01-02 15:04:05"), name)
		}
		return nil
	}
	return cmd
}

// progress prints transfer progress on stderr: a line redrawn in place on
// a terminal, else a line every few seconds.
type progress struct {
	w        io.Writer
	label    string
	tty      bool
	off      bool
	every    time.Duration
	mu       sync.Mutex
	last     time.Time
	shown    bool
	p        drive.Progress
	finished bool
}

func newProgress(w io.Writer, label string, quiet bool) *progress {
	p := &progress{w: w, label: label, off: quiet, every: 5 * time.Second, last: time.Now()}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
			p.every = 200 * time.Millisecond
		}
	}
	if v := os.Getenv("STORESIGN_PROGRESS_INTERVAL"); v != "" {
		if d, err := time.ParseDuration(v); err == nil && d > 0 {
			p.every = d
		}
	}
	return p
}

func (p *progress) update(pr drive.Progress) {
	if p.off {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.p = pr
	if time.Since(p.last) < p.every {
		return
	}
	p.last = time.Now()
	p.print(false)
}

func (p *progress) print(final bool) {
	pr := p.p
	secs := pr.Elapsed.Seconds()
	rate := 0.0
	if secs > 0 {
		rate = float64(pr.Done) / secs / 1e6
	}
	var line string
	if final {
		el := pr.Elapsed.Round(100 * time.Millisecond)
		if pr.Elapsed < time.Second {
			el = pr.Elapsed.Round(time.Millisecond)
		}
		line = fmt.Sprintf("%s: %s in %s (%.1f MB/s)", p.label, humanBytes(pr.Total), el, rate)
	} else {
		pct := 100.0
		if pr.Total > 0 {
			pct = float64(pr.Done) * 100 / float64(pr.Total)
		}
		eta := "?"
		if rate > 0 {
			eta = time.Duration(float64(pr.Total-pr.Done) / (rate * 1e6) * float64(time.Second)).Round(time.Second).String()
		}
		line = fmt.Sprintf("%s: %5.1f%% of %s, %.1f MB/s, ETA %s", p.label, pct, humanBytes(pr.Total), rate, eta)
	}
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s", line)
		if final {
			fmt.Fprintln(p.w)
		}
	} else {
		fmt.Fprintln(p.w, line)
	}
	p.shown = true
}

// finish prints the summary line after a successful transfer, and ends a
// redrawn line otherwise.
func (p *progress) finish(ok bool) {
	if p.off {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if ok && p.p.Total > 0 {
		p.print(true)
	} else if p.tty && p.shown {
		fmt.Fprintln(p.w)
	}
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// shown is a remote name (a Drive file name) as a log line shows it: as
// is when it is plain text, else quoted with its control characters
// escaped, so that it cannot start lines of its own.
func shown(name string) string {
	if len(name) <= 255 && drive.SafeText(name) {
		return name
	}
	return drive.DisplayName(name)
}

// lineValue is v as a line read by a machine shows it: as is, or
// Go-quoted ("a\nb") when it holds a control character, a layout
// character or invalid UTF-8 (or starts with a quote, so that quoting is
// unambiguous).
func lineValue(v string) string {
	if !drive.SafeText(v) || strings.HasPrefix(v, `"`) {
		return strconv.QuoteToGraphic(v)
	}
	return v
}

// printValues prints key=value lines, one per pair, for scripts to read. A
// value holding a control character (a line break would forge a line of
// its own) or invalid UTF-8 is printed Go-quoted ("a\nb"), which a plain
// value never starts with unless it held a quote already.
func printValues(w io.Writer, kv ...string) error {
	var b strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		b.WriteString(kv[i] + "=" + lineValue(kv[i+1]) + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
