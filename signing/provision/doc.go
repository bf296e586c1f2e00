// Package provision reads Apple provisioning profiles (.mobileprovision
// files) and matches them to bundle identifiers.
//
// A provisioning profile is a CMS SignedData (RFC 5652) whose content is an
// XML property list. Apple signs it with its "Apple iPhone OS Provisioning
// Profile Signing" certificate, which chains to Apple Root CA. [Parse]
// decodes the profile and checks the CMS signature over the plist with the
// certificate embedded in it; [Profile.VerifyChain] additionally checks that
// certificate against a root pool (Apple's root is not shipped with
// storesign: callers that want the check pass it).
//
// Start with [Parse], then [Match] to pick the profile for a bundle ID
// (an exact application-identifier beats a wildcard, a longer wildcard
// beats a shorter one) and [Profile.CheckCertificate] to make sure the
// signing certificate is one of the profile's developer certificates.
//
// The kind of a profile ([Kind]) is derived as Xcode and fastlane do:
// ProvisionsAllDevices means Enterprise (in-house); ProvisionedDevices with
// get-task-allow means Development, without it Ad Hoc; neither means App
// Store.
//
// Profiles come from outside, so [Parse] refuses one larger than [MaxSize]
// or nesting deeper than [MaxNesting] (in its CMS structure or its plist)
// with a *limits.Error (signing.LimitError) before the recursive parsers
// see it, and [ReadFile] reads only regular files, with that cap.
package provision
