// Package drivetest is an in-memory fake of the Google Drive v3 REST API
// subset that package drive uses, served over real HTTP so that tests
// drive it with the real google.golang.org/api/drive/v3 client.
//
// Start with [New] and serve the [Server] with httptest.NewServer; point
// a drive.Client at it with drive.WithEndpoint(ts.URL). Populate it with
// [Server.AddFolder], [Server.AddSharedDrive], [Server.AddFile],
// [Server.AddShortcut] and [Server.AddGoogleDoc], and make Drive's failure
// modes happen with [Server.Hide] (404), [Server.ReadOnly] (403),
// Options.NoQuota (a service account's storageQuotaExceeded) and
// [Faults]: a seeded share of requests answered 500, 503, 429 or 403
// userRateLimitExceeded, cut mid-body, or slowed down. [Server.Requests]
// is the request log.
//
// What it implements: files.get (metadata and alt=media with Range),
// files.list with a query subset ("'ID' in parents", name = / contains,
// mimeType, trashed, and/or/not, parentheses) and paging, files.create and
// files.update (metadata only, and media with uploadType media, multipart
// and resumable: a session Location, chunks PUT or POSTed with
// Content-Range, "bytes */N" status queries, the 308 reply or, when the
// client sends X-GUploader-No-308, 200 with X-Http-Status-Code-Override),
// files.delete, md5Checksum and sha256Checksum, size as a JSON string,
// shared drives (supportsAllDrives, includeItemsFromAllDrives, corpora),
// shortcuts, trash and resource keys. File contents live on disk.
//
// The command drivetest/cmd/fakedrive serves a folder of local files.
package drivetest
