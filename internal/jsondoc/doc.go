// Package jsondoc builds the JSON documents that storesign's commands
// print with --json, all in one style: schema "storesign/v1".
//
// Every document is a JSON object whose first key is "schema" (the
// version of this layout, [Schema]) and whose second is "command" (the
// command path, "apk verify"); its body follows. Keys are camelCase,
// times RFC 3339 in UTC, sizes numbers of bytes, hashes lowercase hex,
// storesign's own enumerations lowercase strings. The same sub-objects
// appear on every platform: a [File] (path, size, sha256), a [Signer]
// (a signing certificate), an [App] (id, name, version, build).
//
// Sign documents ([SignDoc], from [APKSign], [AABSign] and [IPAResign])
// share one top-level shape, as do verify documents ([VerifyDoc], from
// [APKVerify] (and [APKVerifyStamp]), [AABVerify] and [IPAVerify]); what
// only one platform has sits in the object named after it ("apk",
// "aab", "ipa"). The other commands have documents of their own:
// [IPAInspect], [IPACheck], [APKLineage] (and [APKRotate]), [DriveList],
// [DriveGet], [DrivePut], [PlayUpload], [PlayShare], [AppStoreUpload]
// and [Version].
//
// Each constructor takes what the library call of its command returned
// and makes the document in one call, for a command to print with
// [Write]. The constructors that take a local path read that file: its
// size and SHA-256, and for an Android build its package name and
// version from the manifest. No document holds a secret: certificates
// and public-key digests only, never a key, password or token.
//
// docs/json.md is the reference of schema v1: every document and field,
// and the versioning rule (new fields keep v1; a renamed or removed field
// makes v2). Readers should ignore fields they do not know.
package jsondoc
