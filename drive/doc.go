// Package drive moves builds to and from Google Drive (the v3 API, through
// google.golang.org/api/drive/v3) in a way that survives real networks:
// every call is retried after rate limits, server errors and dropped
// connections; downloads resume with Range requests and are checked
// against Drive's size, MD5 and SHA-256; uploads use the resumable
// protocol and are checked against the local file.
//
// Start with [New], then:
//
//   - [Client.Stat] resolves a file ID or any Drive link ([ParseRef]),
//     following shortcuts;
//   - [Client.Find] picks one file in a folder by exact name or glob,
//     optionally the newest, and lists the candidates when it is ambiguous;
//   - [Client.Download] / [Client.DownloadFile] fetch its bytes;
//   - [Client.Upload] / [Client.UploadFile] put a file in a folder (or a
//     sub-path of it, created as needed), as a new revision with Replace,
//     and skip the transfer when an identical file is already there;
//   - [Client.List] lists a folder.
//
// Shared drives work everywhere (supportsAllDrives,
// includeItemsFromAllDrives, corpora=drive).
//
// # Speed and memory
//
// A download is written as it is read, in 64 KiB blocks, while MD5 and
// SHA-256 run on goroutines of their own, on the blocks in order: the
// three run in parallel, with at most 16 blocks in memory. An
// upload hashes the local file on its own goroutine while the chunks go
// out; from a file on Linux the chunks go out with sendfile(2), without
// passing through user space. Package bench/drive measures both against a
// plain HTTP copy.
//
// # Credentials
//
// Without options, New uses Application Default Credentials: the file
// GOOGLE_APPLICATION_CREDENTIALS names (google-github-actions/auth writes
// one for Workload Identity Federation), gcloud's, or the metadata server.
// [WithCredentialsFile] and [WithCredentialsJSON] take a service account
// key or an external_account file; [WithSubject] adds domain-wide
// delegation. Tokens refresh by themselves, so a transfer may last hours.
// A service account has no storage quota of its own: upload into a shared
// drive it is a member of, or act as a user through delegation.
//
// # Errors
//
// Failures are *[Error] values whose message says what to do; they wrap
// the sentinels [ErrNotFound], [ErrPermission], [ErrNoQuota], [ErrAuth],
// [ErrGoogleDoc], [ErrChecksum] and others for errors.Is. An ambiguous
// Find is an *[AmbiguousError].
//
// # Names and limits
//
// Drive names are chosen by whoever uploads, so they decide no local path
// by themselves: [LocalName] refuses a name with a path separator, a
// control or layout character, a leading dot, "..", or more than 255
// bytes, and [DisplayName] quotes a name for a message. Uploads follow
// the same rules. A listing stops with [ErrBadMetadata] after
// [MaxListFiles] items or [MaxListPages] pages, or when a page token
// repeats; an item with a malformed ID or checksum is left out of a
// listing and refused by Stat.
//
// # Testing
//
// Package drive/drivetest is a fake Drive server; point a client at it
// with [WithEndpoint] or the STORESIGN_DRIVE_ENDPOINT environment
// variable.
package drive
