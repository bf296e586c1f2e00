package jsondoc

import (
	"time"

	"github.com/storesign/storesign/signing/apk"
)

// LineageDoc is the document of apk lineage and apk rotate: the signers
// of a signing certificate lineage and their capabilities.
type LineageDoc struct {
	Header
	// File is the lineage file or signed APK read (apk lineage), or the
	// lineage written (apk rotate).
	File File `json:"file"`
	// Signers are the lineage's certificates, oldest first.
	Signers []LineageSigner `json:"signers"`
	// Updated is the lineage file written with changed capabilities
	// (--out); left out when nothing was written.
	Updated *File `json:"updated,omitempty"`
}

// APKLineage is the document of apk lineage: l read from in and, when
// out is not "", written to out. It reads the files.
func APKLineage(in string, l *apk.Lineage, out string) *LineageDoc {
	d := &LineageDoc{Header: header("apk lineage"), File: newFile(in), Signers: list(lineageSigners(l)), Updated: optFile(out)}
	return d
}

// APKRotate is the document of apk rotate: the lineage l, started or
// extended by a new signer, written to out. It reads the file.
func APKRotate(l *apk.Lineage, out string) *LineageDoc {
	return &LineageDoc{Header: header("apk rotate"), File: newFile(out), Signers: list(lineageSigners(l))}
}

// BuildInfo is which storesign this is, as the version command works it
// out: the release or module version, the VCS revision and time, whether
// the tree was modified, and the Go toolchain and platform. Its fields
// are those of the command's own version type, which converts to it.
type BuildInfo struct {
	Version  string
	Revision string
	Time     string
	// Modified is nil when the build has no VCS information.
	Modified  *bool
	GoVersion string
	OS        string
	Arch      string
}

// VersionDoc is the document of version.
type VersionDoc struct {
	Header
	// Version is the release (v1.2.3), a pseudo-version or "(devel)".
	Version string `json:"version"`
	// Revision is the VCS commit, Time its time, and Modified reports
	// uncommitted changes in the tree built: each is left out when
	// unknown (a build without VCS information, as -buildvcs=false makes).
	Revision string `json:"revision,omitempty"`
	Time     string `json:"time,omitempty"`
	Modified *bool  `json:"modified,omitempty"`
	// GoVersion is the Go toolchain; OS and Arch the platform ("linux",
	// "amd64").
	GoVersion string `json:"goVersion"`
	OS        string `json:"os"`
	Arch      string `json:"arch"`
}

// Version is the document of version. A time in RFC 3339 is given in
// UTC.
func Version(b BuildInfo) *VersionDoc {
	t := b.Time
	if tm, err := time.Parse(time.RFC3339Nano, t); err == nil {
		t = timeString(tm)
	}
	return &VersionDoc{
		Header: header("version"), Version: b.Version, Revision: b.Revision, Time: t, Modified: b.Modified,
		GoVersion: b.GoVersion, OS: b.OS, Arch: b.Arch,
	}
}
