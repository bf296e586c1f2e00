package actions

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/storesign/storesign/drive"
)

// Plan lists the builds of a deliveries folder (the drive-folder input;
// with name, the files the pattern matches) that are not released yet
// into output-folder, and sets the outputs a workflow fans out on:
//
//	matrix  {"include":[{"file":ID,"name":NAME},...]}, for
//	        strategy.matrix: ${{ fromJSON(needs.plan.outputs.matrix) }}
//	builds  the same builds as a JSON array of [Build]
//	count   how many; a matrix of none is an error in GitHub Actions, so
//	        the release job runs only if count != '0'
//
// The step summary lists every build of the folder and whether it is
// released. At most max-builds (default and at most 256, GitHub's limit
// of jobs per matrix) are planned, oldest first; the rest wait for the
// next run.
//
// With the planned input (the builds output of an earlier Plan), Plan
// reports instead: the summary is a table of those builds with the
// signed build of each that was released, and a warning for each that
// was not. A batch workflow's last job runs it, after the matrix.
//
// A build is released when a file anywhere under output-folder (at most
// four folders down) carries the delivery's Drive ID and MD5 as the
// appProperties the release action sets ([SourceProperty],
// [SourceMD5Property]): renaming or moving the signed build keeps it
// released, and a delivery replaced by a new version (same ID, other
// content) is released again.
func Plan(ctx context.Context, a *Action) error {
	return runStep(ctx, a, "Planning the releases", (*actionStep).plan)
}

// Build is a delivered build as [Plan] lists it.
type Build struct {
	File     string    `json:"file"` // the delivery's Drive ID: the release's drive-file
	Name     string    `json:"name"` // its name in Drive
	MD5      string    `json:"md5,omitempty"`
	Modified time.Time `json:"modified"`
	// Signed is the link to the signed build when the delivery was
	// released, and SignedPath its path under the output folder.
	Signed     string `json:"signed,omitempty"`
	SignedPath string `json:"signedPath,omitempty"`
}

// Released reports whether the build was released.
func (b *Build) Released() bool { return b.Signed != "" }

// PlanOptions says which deliveries [ListBuilds] considers.
type PlanOptions struct {
	// Pattern, if set, is the file name pattern of the builds
	// (filepath.Match: "MyGame-*.ipa"); empty means every .ipa, .apk and
	// .aab.
	Pattern string
}

// maxDepth is how many folders down the output folder is searched for
// signed builds: the default layout puts them two down.
const maxDepth = 4

// ListBuilds lists the builds in the deliveries folder, oldest first,
// each with the signed build of it in the output folder if there is one
// (see [Plan] for the rule).
func ListBuilds(ctx context.Context, c *drive.Client, deliveries, output string, opts PlanOptions) ([]Build, error) {
	files, err := c.List(ctx, deliveries)
	if err != nil {
		return nil, fmt.Errorf("listing the deliveries: %w", err)
	}
	signed, err := signedBuilds(ctx, c, output)
	if err != nil {
		return nil, fmt.Errorf("listing the output folder: %w", err)
	}
	var out []Build
	for _, f := range files {
		if f.IsFolder() || !isBuildName(f.Name, opts.Pattern) {
			continue
		}
		if f.ShortcutTarget != "" {
			t, err := c.Stat(ctx, f.ID)
			if err != nil {
				return nil, fmt.Errorf("following the shortcut %s: %w", shown(f.Name), err)
			}
			f = t
		}
		b := Build{File: f.ID, Name: f.Name, MD5: f.MD5, Modified: f.ModifiedTime}
		if s, ok := signed[f.ID]; ok && (f.MD5 == "" || strings.EqualFold(s.md5, f.MD5)) {
			b.Signed, b.SignedPath = s.link, s.path
		}
		out = append(out, b)
	}
	slices.Reverse(out) // List is newest first
	return out, nil
}

// isBuildName says whether a delivery's name is a build the plan takes.
func isBuildName(name, pattern string) bool {
	if pattern != "" {
		ok, _ := filepath.Match(pattern, name)
		return ok
	}
	return slices.Contains(buildExts, strings.ToLower(filepath.Ext(name)))
}

// signedBuild is an upload of the release action, by source.
type signedBuild struct {
	md5, link, path string
}

// signedBuilds walks the output folder for the uploads of the release
// action, by the Drive ID of the delivery each came from.
func signedBuilds(ctx context.Context, c *drive.Client, output string) (map[string]signedBuild, error) {
	out := map[string]signedBuild{}
	var walk func(folder, prefix string, depth int) error
	walk = func(folder, prefix string, depth int) error {
		files, err := c.List(ctx, folder)
		if err != nil {
			return err
		}
		for _, f := range files {
			if f.IsFolder() {
				if depth < maxDepth {
					if err := walk(f.ID, prefix+f.Name+"/", depth+1); err != nil {
						return err
					}
				}
				continue
			}
			src := f.AppProperties[SourceProperty]
			if src == "" {
				continue
			}
			if _, dup := out[src]; dup {
				continue // the newest, as List sorts
			}
			link := f.WebViewLink
			if link == "" {
				link = "https://drive.google.com/file/d/" + f.ID + "/view"
			}
			out[src] = signedBuild{md5: f.AppProperties[SourceMD5Property], link: link, path: prefix + f.Name}
		}
		return nil
	}
	return out, walk(output, "", 1)
}

// maxMatrix is GitHub's limit of jobs per matrix.
const maxMatrix = 256

// plan is the plan step.
func (st *actionStep) plan(ctx context.Context) error {
	dir, err := st.secretsDir()
	if err != nil {
		return err
	}
	max := maxMatrix
	if v := st.a.Input("max-builds"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxMatrix {
			return inputErr("max-builds", "is %q: give a number from 1 to %d", v, maxMatrix)
		}
		max = n
	}
	c, err := st.driveClient(ctx, st.credentialsFile(dir))
	if err != nil {
		return err
	}
	builds, err := ListBuilds(ctx, c, st.a.Input("drive-folder"), st.a.Input("output-folder"), PlanOptions{Pattern: st.a.Input("name")})
	if err != nil {
		in := "drive-folder"
		if strings.HasPrefix(err.Error(), "listing the output folder") {
			in = "output-folder"
		}
		return driveInputErr(in, err)
	}
	if planned := strings.TrimSpace(st.a.Input("planned")); planned != "" {
		return st.planResults(planned, builds)
	}
	var todo []Build
	for _, b := range builds {
		if !b.Released() {
			todo = append(todo, b)
		}
	}
	if len(todo) > max {
		st.a.Notice("More builds than one run releases", fmt.Sprintf("%d builds are not released yet; this run releases the %d oldest, run the workflow again for the rest", len(todo), max))
		todo = todo[:max]
	}
	type leg struct {
		File string `json:"file"`
		Name string `json:"name"`
	}
	matrix := struct {
		Include []leg `json:"include"`
	}{Include: []leg{}}
	for _, b := range todo {
		matrix.Include = append(matrix.Include, leg{File: b.File, Name: b.Name})
	}
	mj, err := json.Marshal(matrix)
	if err != nil {
		return err
	}
	if todo == nil {
		todo = []Build{}
	}
	bj, err := json.Marshal(todo)
	if err != nil {
		return err
	}
	if err := st.setOutputs("matrix", string(mj), "builds", string(bj), "count", strconv.Itoa(len(todo))); err != nil {
		return err
	}
	st.a.Infof("%d build(s) in the deliveries folder, %d to release.", len(builds), len(todo))
	return st.a.AddSummary(planMarkdown(builds, todo))
}

// planMarkdown is the plan's summary: every build of the folder, and
// whether this run releases it.
func planMarkdown(builds, todo []Build) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### Releases planned: %d of %d build(s)\n\n", len(todo), len(builds))
	if len(builds) == 0 {
		b.WriteString("The deliveries folder holds no build.\n")
		return b.String()
	}
	b.WriteString("| Build | Delivered | Status |\n|---|---|---|\n")
	planned := map[string]bool{}
	for _, t := range todo {
		planned[t.File] = true
	}
	for _, x := range builds {
		status := "waits for the next run"
		switch {
		case x.Released():
			status = "released: " + signedLink(x)
		case planned[x.File]:
			status = "**to release**"
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", cell(x.Name), x.Modified.UTC().Format("2006-01-02 15:04"), status)
	}
	return b.String()
}

// signedLink is the Markdown link to a build's signed upload.
func signedLink(x Build) string {
	text := x.SignedPath
	if text == "" {
		text = "open"
	}
	if link := safeLink(x.Signed); link != "" {
		return fmt.Sprintf("[%s](%s)", cell(text), link)
	}
	return cell(text)
}

// planResults writes the table of the planned builds: released or not.
func (st *actionStep) planResults(planned string, builds []Build) error {
	var want []Build
	if err := json.Unmarshal([]byte(planned), &want); err != nil {
		return inputErr("planned", "is not the builds output of a plan step: %v", err)
	}
	now := map[string]Build{}
	for _, b := range builds {
		now[b.File] = b
	}
	var b strings.Builder
	failed := 0
	rows := ""
	for _, w := range want {
		x, ok := now[w.File]
		if ok && x.Released() {
			rows += fmt.Sprintf("| %s | released | %s |\n", cell(w.Name), signedLink(x))
			continue
		}
		failed++
		rows += fmt.Sprintf("| %s | **not released** | see the log of its release job |\n", cell(w.Name))
		st.a.Warning("Not released", fmt.Sprintf("%s was planned but has no signed build in the output folder: see the log of its release job", shown(w.Name)))
	}
	fmt.Fprintf(&b, "### Release results: %d of %d build(s) released\n\n", len(want)-failed, len(want))
	if len(want) > 0 {
		b.WriteString("| Build | Result | Signed build |\n|---|---|---|\n" + rows)
	}
	if err := st.setOutputs("released", strconv.Itoa(len(want)-failed), "failed", strconv.Itoa(failed)); err != nil {
		return err
	}
	st.a.Infof("%d of %d planned build(s) released.", len(want)-failed, len(want))
	return st.a.AddSummary(b.String())
}
