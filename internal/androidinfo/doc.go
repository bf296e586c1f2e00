// Package androidinfo reads what a store needs to know about an Android
// build before it is uploaded: whether it is an APK or an app bundle, its
// package name, its version code and its version name.
//
// Start with [Read]. An APK's AndroidManifest.xml is binary XML (read with
// internal/axml); an app bundle's base/manifest/AndroidManifest.xml is
// usually aapt2's protocol buffer form (XmlNode of aapt2's Resources.proto),
// sometimes binary XML: both are read. Only the archive's central
// directory and the manifest entry are read, with internal/zipx's limits.
package androidinfo
