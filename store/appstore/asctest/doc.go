// Package asctest is an in-memory fake of the App Store Connect API's
// build uploads (API 4.1), over real HTTP, for tests of code that uploads
// with package appstore, and for manual runs (cmd/fakeasc).
//
//	s := asctest.New(asctest.Options{PartSize: 64 << 10})
//	srv := httptest.NewServer(s)
//	s.AddKey(key, asctest.RoleAppManager)
//	s.AddApp("com.example.app", "Example")
//	c, _ := appstore.New(ctx, key, appstore.WithEndpoint(srv.URL))
//
// It serves GET /v1/apps (filter[bundleId], matched by prefix as Apple
// does), GET /v1/builds (filter[app], filter[version],
// filter[preReleaseVersion.version]) and /v1/builds/{id}, POST
// /v1/buildUploads (409 for a version and build already used, 403 for a
// key whose role may not upload), GET /v1/buildUploads/{id}, POST, GET
// and PATCH /v1/buildUploadFiles. Upload operations point at its own
// presigned URLs (/upload/...), which check their signature and expiry,
// the operation's Content-Type and length, and refuse an Authorization
// header. The commit checks every part arrived and the MD5 checksums
// (file and composite, see package appstore); processing then goes
// PROCESSING -> COMPLETE with a VALID build, or FAILED
// ([Server.FailProcessing]).
//
// Every API request must carry a token of a key given to [Server.AddKey]:
// ES256 signature, kid, iss, aud appstoreconnect-v1, exp at most 20
// minutes after iat and not past. Faults ([Server.Inject]: status codes,
// dropped connections, per method and path), expired tokens
// ([Server.ExpireTokens]) and state inspection ([Server.Uploads],
// [Server.Builds], [Server.Requests], [Server.Tokens]) are for tests.
package asctest
