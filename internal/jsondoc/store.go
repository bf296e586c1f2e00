package jsondoc

import (
	"strconv"
	"strings"

	"github.com/storesign/storesign/store/appstore"
	"github.com/storesign/storesign/store/play"
)

// PlayUploadDoc is the document of play upload.
type PlayUploadDoc struct {
	Header
	File File `json:"file"`
	App  App  `json:"app"`
	// Kind is "aab" or "apk".
	Kind string `json:"kind"`
	// Track, Status (as Play spells it: "completed", "inProgress",
	// "draft", "halted"), UserFraction (left out unless staged) and
	// ReleaseName (left out when Play names the release) describe the
	// release.
	Track        string  `json:"track"`
	Status       string  `json:"status"`
	UserFraction float64 `json:"userFraction,omitempty"`
	ReleaseName  string  `json:"releaseName,omitempty"`
	// CertificateSHA256 is the signer's certificate, when
	// --expect-cert-sha256 checked it (left out otherwise).
	CertificateSHA256 string `json:"certificateSha256,omitempty"`
	// Mapping reports that a deobfuscation file was uploaded too.
	Mapping bool `json:"mapping"`
	// EditID is the Play edit; Committed false for an edit left
	// uncommitted.
	EditID    string `json:"editId"`
	Committed bool   `json:"committed"`
	// StoreURL is the app's Play Store page.
	StoreURL string `json:"storeUrl"`
}

// PlayUpload is the document of play upload, res what
// [play.Client.UploadFile] returned for the build at file. It reads the
// file.
func PlayUpload(file string, res *play.UploadResult) *PlayUploadDoc {
	d := &PlayUploadDoc{Header: header("play upload"), File: newFile(file)}
	if res == nil {
		return d
	}
	if d.File.SHA256 == "" {
		d.File.SHA256 = strings.ToLower(res.SHA256)
	}
	d.App = App{ID: res.Package, Version: res.VersionName, Build: strconv.FormatInt(res.VersionCode, 10)}
	d.Kind, d.Track, d.Status = string(res.Kind), res.Track, string(res.Status)
	d.UserFraction, d.ReleaseName = res.UserFraction, res.ReleaseName
	d.CertificateSHA256, d.Mapping = strings.ToLower(res.CertSHA256), res.Mapping
	d.EditID, d.Committed, d.StoreURL = res.EditID, res.Committed, res.StoreURL
	return d
}

// PlayShareDoc is the document of play share.
type PlayShareDoc struct {
	Header
	File File `json:"file"`
	// App holds the package name (id) and version code (build).
	App App `json:"app"`
	// Kind is "aab" or "apk".
	Kind string `json:"kind"`
	// DownloadURL installs the build on a tester's device.
	DownloadURL string `json:"downloadUrl"`
	// SigningCertificateSHA256 is the certificate Play signs the shared
	// build with (left out when Play does not say).
	SigningCertificateSHA256 string `json:"signingCertificateSha256,omitempty"`
}

// PlayShare is the document of play share, res what
// [play.Client.ShareFile] returned for the build at file. It reads the
// file.
func PlayShare(file string, res *play.ShareResult) *PlayShareDoc {
	d := &PlayShareDoc{Header: header("play share"), File: newFile(file)}
	if res == nil {
		return d
	}
	if d.File.SHA256 == "" {
		d.File.SHA256 = strings.ToLower(res.SHA256)
	}
	d.App = App{ID: res.Package, Build: strconv.FormatInt(res.VersionCode, 10)}
	d.Kind, d.DownloadURL = string(res.Kind), res.DownloadURL
	d.SigningCertificateSHA256 = strings.ToLower(strings.ReplaceAll(res.CertificateFingerprint, ":", ""))
	return d
}

// AppStoreUploadDoc is the document of appstore upload.
type AppStoreUploadDoc struct {
	Header
	File File `json:"file"`
	App  App  `json:"app"`
	// AppID is the app's App Store Connect ID; BuildUploadID the upload's;
	// BuildID the build's, once App Store Connect made it (left out
	// before).
	AppID         string `json:"appId"`
	BuildUploadID string `json:"buildUploadId"`
	BuildID       string `json:"buildId,omitempty"`
	// State is App Store Connect's state of the build or upload, as it
	// spells it ("PROCESSING", "COMPLETE", "VALID"); Final reports that
	// processing is over.
	State string `json:"state"`
	Final bool   `json:"final"`
	// URL is the build's page in App Store Connect (TestFlight).
	URL string `json:"url"`
	// MD5 is the file's MD5, as sent to App Store Connect.
	MD5 string `json:"md5"`
	// Warnings are App Store Connect's warnings and the pre-flight
	// findings that are not errors, "CODE: description".
	Warnings []string `json:"warnings"`
}

// AppStoreUpload is the document of appstore upload, res what
// [appstore.Client.UploadFile] returned for the IPA at file. It reads
// the file.
func AppStoreUpload(file string, res *appstore.Result) *AppStoreUploadDoc {
	d := &AppStoreUploadDoc{Header: header("appstore upload"), File: newFile(file), Warnings: []string{}}
	if res == nil {
		return d
	}
	if d.File.SHA256 == "" {
		d.File.SHA256, d.File.Size = strings.ToLower(res.SHA256), res.Size
	}
	d.MD5 = strings.ToLower(res.MD5)
	d.App = App{ID: res.BundleID, Version: res.Version, Build: res.Build}
	d.AppID, d.BuildUploadID, d.BuildID = res.AppID, res.BuildUploadID, res.BuildID
	d.State, d.Final, d.URL = res.State, res.Final, res.URL
	for _, w := range res.Warnings {
		d.Warnings = append(d.Warnings, w.String())
	}
	return d
}
