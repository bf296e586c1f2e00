package main

import (
	"bytes"
	"encoding/json"
	"reflect"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/storesign/storesign/internal/jsondoc"
)

func TestReadVersion(t *testing.T) {
	vcs := func(rev, tm, modified string) []debug.BuildSetting {
		return []debug.BuildSetting{
			{Key: "-trimpath", Value: "true"},
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: rev},
			{Key: "vcs.time", Value: tm},
			{Key: "vcs.modified", Value: modified},
		}
	}
	const rev = "598662c4b8a3f1e0d2c7b6a5948372615f0e1d2c"
	yes, no := true, false
	for _, tc := range []struct {
		name     string
		bi       *debug.BuildInfo
		injected string
		want     buildVersion
		text     []string
	}{
		{
			name: "no build info",
			want: buildVersion{Version: "(devel)", GoVersion: runtime.Version()},
			text: []string{"storesign (devel)\n", "go:       " + runtime.Version()},
		},
		{
			name: "go install of a tag",
			bi:   &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/storesign/storesign", Version: "v1.2.3"}},
			want: buildVersion{Version: "v1.2.3", GoVersion: "go1.26.8"},
			text: []string{"storesign v1.2.3\n", "go:       go1.26.8 "},
		},
		{
			name:     "release build: GoReleaser's version without v",
			bi:       &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: vcs(rev, "2026-12-04T18:00:00Z", "false")},
			injected: "1.2.3",
			want:     buildVersion{Version: "v1.2.3", Revision: rev, Time: "2026-12-04T18:00:00Z", Modified: &no, GoVersion: "go1.26.8"},
			text:     []string{"storesign v1.2.3\n", "revision: " + rev + "\n", "time:     2026-12-04T18:00:00Z\n"},
		},
		{
			name:     "pre-release injected with v",
			bi:       &debug.BuildInfo{GoVersion: "go1.26.8"},
			injected: "v1.3.0-rc.1",
			want:     buildVersion{Version: "v1.3.0-rc.1", GoVersion: "go1.26.8"},
		},
		{
			name: "checkout with changes",
			bi:   &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.4-0.20261204180000-598662c4b8a3+dirty"}, Settings: vcs(rev, "2026-12-04T18:00:00Z", "true")},
			want: buildVersion{Version: "v1.2.4-0.20261204180000-598662c4b8a3+dirty", Revision: rev, Time: "2026-12-04T18:00:00Z", Modified: &yes, GoVersion: "go1.26.8"},
			text: []string{"revision: " + rev + " (modified)\n"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := readVersion(tc.bi, tc.injected)
			tc.want.OS, tc.want.Arch = runtime.GOOS, runtime.GOARCH
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("readVersion = %+v, want %+v", got, tc.want)
			}
			var b strings.Builder
			if err := got.writeText(&b); err != nil {
				t.Fatal(err)
			}
			for _, want := range tc.text {
				if !strings.Contains(b.String(), want) {
					t.Errorf("text lacks %q:\n%s", want, b.String())
				}
			}
			if tc.want.Revision == "" && strings.Contains(b.String(), "revision:") {
				t.Errorf("text shows an empty revision:\n%s", b.String())
			}
		})
	}
}

// TestVersionJSONUnknownVCS checks that --json leaves out what a build
// without VCS information (-buildvcs=false) does not know, instead of
// showing "modified": false, and shows it when known.
func TestVersionJSONUnknownVCS(t *testing.T) {
	for _, tc := range []struct {
		name string
		bi   *debug.BuildInfo
		want map[string]any // nil: left out
	}{
		{"no VCS", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}},
			map[string]any{"revision": nil, "time": nil, "modified": nil}},
		{"VCS, clean", &debug.BuildInfo{GoVersion: "go1.26.8", Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "598662c4b8a3f1e0d2c7b6a5948372615f0e1d2c"}, {Key: "vcs.time", Value: "2026-12-04T18:00:00Z"}, {Key: "vcs.modified", Value: "false"},
		}}, map[string]any{"revision": "598662c4b8a3f1e0d2c7b6a5948372615f0e1d2c", "time": "2026-12-04T18:00:00Z", "modified": false}},
		{"VCS, modified", &debug.BuildInfo{GoVersion: "go1.26.8", Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "598662c4b8a3f1e0d2c7b6a5948372615f0e1d2c"}, {Key: "vcs.time", Value: "2026-12-04T18:00:00Z"}, {Key: "vcs.modified", Value: "true"},
		}}, map[string]any{"revision": "598662c4b8a3f1e0d2c7b6a5948372615f0e1d2c", "modified": true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := jsondoc.Write(&b, jsondoc.Version(jsondoc.BuildInfo(readVersion(tc.bi, "")))); err != nil {
				t.Fatal(err)
			}
			var doc map[string]any
			if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
				t.Fatal(err)
			}
			for k, want := range tc.want {
				got, ok := doc[k]
				switch {
				case want == nil && ok:
					t.Errorf("%q is %v, want it left out:\n%s", k, got, b.String())
				case want != nil && got != want:
					t.Errorf("%q is %v, want %v:\n%s", k, got, want, b.String())
				}
			}
		})
	}
}
