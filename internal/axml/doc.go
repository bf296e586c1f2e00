// Package axml reads Android binary XML (the compiled ResXMLTree format of
// AndroidManifest.xml inside an APK) far enough to answer what signing and
// verification need: the package name, version, SDK levels, and whether the
// app is debuggable.
//
// Start with [ParseManifest]. The rules follow AOSP apksig's
// AndroidBinXmlParser and ApkUtils: minSdkVersion is 1 when absent, the
// largest of several uses-sdk elements wins, and a codename ("Q") means the
// SDK level apksig pessimistically assumes for it (see [SDKForCodename]).
//
// The parser never panics on malformed input and allocates in proportion to
// what it reads, never to counts declared in the data.
package axml
