// Package playtest is an in-memory fake of the Google Play Developer API
// (Android Publisher v3) over real HTTP, for tests of package store/play
// and for users' own tests. Serve a [Server] with httptest.NewServer and
// point a client at it with play.WithEndpoint or STORESIGN_PLAY_ENDPOINT:
//
//	s, _ := playtest.New(playtest.Options{})
//	defer s.Close()
//	s.AddApp("com.example.app", playtest.App{})
//	srv := httptest.NewServer(s)
//	c, _ := play.New(ctx, play.WithEndpoint(srv.URL))
//
// It implements what store/play and the generated Go client use: edits
// insert, get, delete, validate and commit (with changesNotSentForReview);
// edits.tracks list, get, update and patch; edits.bundles and edits.apks
// list and upload; edits.deobfuscationfiles upload; and
// internalappsharingartifacts uploadbundle and uploadapk. Uploads take the
// three protocols of Google's upload endpoint: uploadType=resumable
// (sessions with Content-Range chunks, status queries, 308 or
// X-GUploader-No-308), multipart and media. Uploaded builds are stored on
// disk and read for their package and version code, as Play does.
//
// Play's rules that a client meets are enforced with Play's messages: the
// account must have access to the app ([App.NoAccess] answers 403), the
// app must exist (404 on edits.insert), a draft app takes only draft
// releases ("Only releases with status draft may be created on draft
// app."), a version code is used once, a release's version codes must
// have been uploaded, a staged rollout needs a user fraction, release
// notes are at most 500 characters, an app whose changes are not sent for
// review automatically ([App.ManagedReview]) needs changesNotSentForReview,
// a bundle over [Options.LargeBundle] needs ackBundleInstallationWarning,
// and committing one edit invalidates the app's other open edits.
//
// Tests inspect what a client did through [Server.Track], [Server.Commits],
// [Server.Uploads], [Server.Shared], [Server.OpenEdits] and
// [Server.Requests], and inject failures with [Faults]: 5xx, 429 and
// rate-limit 403 answers, slow answers, and dropped connections (mid-way
// through a chunk, or after a call was carried out so that its answer is
// lost). Command playtest/cmd/fakeplay serves one from the command line.
package playtest
