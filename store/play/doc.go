// Package play uploads Android builds to Google Play through the Google
// Play Developer API (Android Publisher v3, through
// google.golang.org/api/androidpublisher/v3), in a way a planner can run
// unattended: every call is retried after rate limits, server errors and
// dropped connections, builds go up with Google's resumable upload
// protocol, and every refusal says what to do.
//
// Start with [New], then:
//
//   - [Client.Upload] / [Client.UploadFile] put an APK or app bundle on a
//     track (internal, alpha, beta, production or a closed testing track)
//     as a completed, staged (inProgress with a user fraction), draft or
//     halted release, with a release name, release notes per language
//     ([ReadReleaseNotes] reads them from a folder), an in-app update
//     priority and a deobfuscation (mapping) file, in one edit that is
//     committed at the end, or deleted if anything failed;
//   - [Client.Share] / [Client.ShareFile] upload a build to internal app
//     sharing and return its download URL.
//
// # Checks before uploading
//
// The package name and version code are read from the build's manifest.
// The build must be of [UploadOptions.Package] when one is given
// ([*WrongPackageError]); its version code must not be on any track nor
// used by an earlier upload ([*VersionCodeUsedError]); and with
// [UploadOptions.ExpectCertSHA256] its signer's certificate must have that
// SHA-256 ([*WrongSignerError]), so a build signed with the wrong key
// fails before Play refuses it.
//
// # Credentials
//
// Without options, New uses an access token from STORESIGN_PLAY_TOKEN
// when set, else Application Default Credentials: the file
// GOOGLE_APPLICATION_CREDENTIALS names (google-github-actions/auth writes
// one for Workload Identity Federation), gcloud's, or the metadata server.
// [WithCredentialsFile] and [WithCredentialsJSON] take a service account
// key or an external_account file; [WithAccessToken] a ready token. The
// service account must be invited in Play Console (Users and permissions)
// with the app's release permissions. Tokens are never logged nor put in
// an error, nor is a resumable session's URL.
//
// # Errors
//
// Failures are *[Error] values whose message says what to do; they wrap
// the sentinels [ErrNotInvited] (403: the account was not invited in Play
// Console), [ErrAppNotFound] (the app was not created in Play Console),
// [ErrDraftApp] ("Only releases with status draft may be created on draft
// app."), [ErrVersionCodeUsed], [ErrTrackNotFound], [ErrEditGone] (another
// upload to the app committed first; Upload starts over by itself a few
// times before returning it), [ErrAuth],
// [ErrRateLimited] and [ErrRejected] (any other refusal, quoting Play).
//
// # Testing
//
// Package store/play/playtest is a fake Android Publisher server; point a
// client at it with [WithEndpoint] or the STORESIGN_PLAY_ENDPOINT
// environment variable.
package play
