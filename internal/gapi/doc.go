// Package gapi holds what the clients of Google APIs in this module (drive,
// store/play) share: resolving credentials (a credentials JSON file of a
// service account, external_account, authorized_user or
// impersonated_service_account, a ready access token, or Application
// Default Credentials), the retry policy and its backoff loop, and the
// classification of googleapi, oauth2 and transport errors as worth
// another attempt or not.
//
// Messages keep the calling package's prefix ("drive: ", "play: "), so
// that the clients' errors read as before.
package gapi
