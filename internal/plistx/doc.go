// Package plistx writes property lists byte for byte as Apple's tools
// write them, so that a plist storesign rewrites (an Info.plist edit,
// entitlements, _CodeSignature/CodeResources) cannot be told from one
// written on a Mac.
//
// [MarshalXML] writes the XML layout of CoreFoundation's
// CFPropertyListCreateData (what codesign and `plutil -convert xml1`
// write): the XML declaration and DOCTYPE lines, tab indentation, keys
// sorted by UTF-16 code unit (CFStringCompare without options), only
// &, < and > escaped, <dict/> and <array/> when empty, <real> as C's
// "%.17g" ("0.0", "nan", "+infinity"), dates to the second in UTC, and
// <data> as base64 lines of 76 characters less 8 per level of
// indentation (indentation counted up to 8 levels), each line indented
// like the tags.
//
// [MarshalBinary] writes bplist00 as Xcode's build writes Info.plists
// today: objects numbered depth first (a dictionary, then all its keys,
// then all its values; an array, then its elements), dictionary keys
// sorted as above, strings, numbers, dates and data written once and
// referenced wherever an equal value recurs (keys included; booleans too,
// which no corpus file shows repeated), strings in
// ASCII when they are, else UTF-16BE, integers in 1, 2, 4 or 8 bytes
// (negative ones in 8, those above 2^63-1 in 16), references and offsets
// in the fewest bytes of 1, 2, 4 or 8, top object 0. Older Xcodes (2015,
// 2016), ibtool and Apple's own framework builds wrote keys in
// CFDictionary's hash order and shared only identical objects; those
// files cannot be reproduced from their values, and [Canonical] says so.
//
// Values are what howett.net/plist decodes into: map[string]any, []any,
// string, bool, int64, uint64 (and the other integer kinds), float64,
// float32 (written as a 4-byte real in binary), []byte and time.Time;
// maps with string keys and slices of other element types are accepted
// too.
package plistx
