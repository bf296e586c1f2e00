package play

import (
	"context"
	"fmt"
	"io"
	"net/url"

	androidpublisher "google.golang.org/api/androidpublisher/v3"

	"github.com/storesign/storesign/internal/atomicfile"
)

// ShareOptions says what [Client.Share] does. The zero value is usable.
type ShareOptions struct {
	// Package is as for [UploadOptions]: empty means the build's.
	Package string
	// ExpectCertSHA256 is as for [UploadOptions].
	ExpectCertSHA256 string
	// ChunkSize overrides the client's chunk size.
	ChunkSize int64
	// Progress, if set, is called after each acknowledged chunk.
	Progress func(Progress)
}

// ShareResult is a build shared through internal app sharing.
type ShareResult struct {
	Package     string `json:"package"`
	Kind        Kind   `json:"kind"`
	VersionCode int64  `json:"versionCode"`
	// DownloadURL installs the build on a tester's device (who must have
	// internal app sharing enabled in the Play Store app).
	DownloadURL string `json:"downloadUrl"`
	// CertificateFingerprint is the SHA-256 of the certificate Play
	// signs the shared build with; SHA256 the file's.
	CertificateFingerprint string `json:"certificateFingerprint,omitempty"`
	SHA256                 string `json:"sha256,omitempty"`
}

// ShareFile shares the build at path; see [Client.Share].
func (c *Client) ShareFile(ctx context.Context, path string, opts ShareOptions) (*ShareResult, error) {
	f, size, err := atomicfile.OpenInput(path, "an APK or app bundle")
	if err != nil {
		return nil, fmt.Errorf("play: opening the build: %w", err)
	}
	defer f.Close()
	return c.Share(ctx, f, size, opts)
}

// Share uploads the APK or bundle in src (size bytes) to internal app
// sharing (internalappsharingartifacts.uploadapk / uploadbundle) and
// returns its download URL. Internal sharing takes any version code, so
// only the package and, when asked, the signer are checked.
func (c *Client) Share(ctx context.Context, src io.ReaderAt, size int64, opts ShareOptions) (*ShareResult, error) {
	if opts.ExpectCertSHA256 != "" {
		if _, err := normFingerprint(opts.ExpectCertSHA256); err != nil {
			return nil, err
		}
	}
	b, err := inspect(ctx, src, size, opts.Package, opts.ExpectCertSHA256)
	if err != nil {
		return nil, err
	}
	kind := "apk"
	if b.kind == KindAAB {
		kind = "bundle"
	}
	var out androidpublisher.InternalAppSharingArtifact
	path := "applications/internalappsharing/" + url.PathEscape(b.pkg) + "/artifacts/" + kind
	op := fmt.Sprintf("sharing %s %d of %s", b.kind, b.code, b.pkg)
	if err := c.resumable(ctx, op, b.pkg, path, src, size, opts.ChunkSize, kind, opts.Progress, &out); err != nil {
		return nil, err
	}
	if out.DownloadUrl == "" {
		return nil, &Error{Op: op, Msg: "Google Play answered without a download URL: run again", Err: ErrRejected}
	}
	return &ShareResult{Package: b.pkg, Kind: b.kind, VersionCode: b.code, DownloadURL: out.DownloadUrl,
		CertificateFingerprint: out.CertificateFingerprint, SHA256: out.Sha256}, nil
}
