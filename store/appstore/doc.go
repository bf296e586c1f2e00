// Package appstore uploads iOS builds to App Store Connect (TestFlight)
// through the App Store Connect API, from any OS: no Xcode, Transporter
// or altool.
//
// Start with [ParseKeyFile] (the AuthKey_<ID>.p8 API key, its key ID and
// the issuer ID), [New] and [Client.UploadFile]:
//
//	key, err := appstore.ParseKeyFile("AuthKey_ABC123DEFG.p8", "", issuerID)
//	c, err := appstore.New(ctx, key)
//	res, err := c.UploadFile(ctx, "App.ipa", appstore.UploadOptions{Wait: 30 * time.Minute})
//	fmt.Println(res.BuildID, res.State, res.URL)
//
// # Authentication
//
// Each request carries a JSON Web Token signed with the key (ES256, the
// key ID as "kid", the issuer ID as "iss", "aud" appstoreconnect-v1),
// made with the standard library. Tokens live [DefaultTokenLifetime]
// (Apple refuses more than 20 minutes), are renewed a minute before they
// expire and at once when the server refuses one, so uploads longer than
// a token's life go on. The key's private part is never printed: [Key]
// redacts it in String, GoString, LogValue and JSON, and errors never
// quote key bytes or tokens. Presigned upload URLs carry their own
// authorisation; the token is not sent with them, and their query (a
// signature) is cut from errors.
//
// # The upload (App Store Connect API 4.1)
//
// [Client.Upload] reads the IPA's bundle ID, CFBundleShortVersionString
// and CFBundleVersion with ipa.Check, whose pre-flight checks stop an IPA
// Apple would refuse before anything is sent ([PreflightError]). Then:
//
//	GET   /v1/apps?filter[bundleId]=ID              the app ([AppNotFoundError])
//	GET   /v1/builds?filter[app]=..&filter[version]=BUILD
//	           &filter[preReleaseVersion.version]=VERSION   unused? ([BuildUsedError])
//	POST  /v1/buildUploads                          version, build, platform, app
//	POST  /v1/buildUploadFiles                      name, size, uti com.apple.ipa, assetType ASSET
//	PUT   <uploadOperations[i].url>                 bytes offset..offset+length, with its requestHeaders
//	PATCH /v1/buildUploadFiles/ID                   sourceFileChecksums, uploaded: true
//	GET   /v1/buildUploads/ID?include=build         state: AWAITING_UPLOAD, PROCESSING, COMPLETE, FAILED
//	GET   /v1/builds/ID                             processingState: PROCESSING, VALID, INVALID, FAILED
//
// Upload operations run four at a time (UploadOptions.Parallel), each
// retried with backoff on 5xx, 429 and dropped connections. An operation
// that still fails (a presigned URL that expired answers 403) makes the
// client read the file's operations again and run those not yet done, up
// to three rounds; after that, an [IncompleteError] holds a [Checkpoint]
// that UploadOptions.Resume continues from, without sending again the
// parts already sent. API calls are retried the same way
// ([WithRetry]); errors become plain words: [ErrUnauthorized] (key ID,
// issuer ID, revoked key), [ErrForbidden] (the key's role),
// [ProcessingError] with Apple's codes and descriptions.
//
// # Choices where Apple's documentation is silent
//
//   - sourceFileChecksums: "file" is the MD5 of the whole file (hex), and
//     "composite" the MD5 of the concatenated binary MD5s of the parts, in
//     offset order (hex), the way multipart object stores compute one;
//     both with algorithm MD5. The SHA-256 is computed too and reported in
//     [Result] for the record.
//   - The build number is checked unused within its version
//     (preReleaseVersion), as App Store Connect requires; a 409 answer to
//     the build upload's creation is also read as a used build number.
//   - filter[bundleId] may match more than the exact ID: only an exact
//     match counts.
//   - A POST whose answer was lost (a dropped connection) is sent again;
//     should App Store Connect have made the build upload the first
//     time, the second answers 409 and Upload reports the build number
//     as used: upload again with the next build number.
//   - The link returned is the build's TestFlight page,
//     https://appstoreconnect.apple.com/apps/<app>/testflight/ios/<build>.
//
// STORESIGN_ASC_ENDPOINT ([EndpointEnv]) or [WithEndpoint] points the
// client at another server, such as the fake of package asctest.
package appstore
