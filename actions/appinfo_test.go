package actions

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/storesign/storesign/signing/signingtest"
)

// pb encodes length-delimited protocol buffer fields.
func pb(fields ...any) []byte {
	var b []byte
	for i := 0; i < len(fields); i += 2 {
		num := fields[i].(int)
		var data []byte
		switch v := fields[i+1].(type) {
		case string:
			data = []byte(v)
		case []byte:
			data = v
		}
		b = binary.AppendUvarint(b, uint64(num<<3|2))
		b = binary.AppendUvarint(b, uint64(len(data)))
		b = append(b, data...)
	}
	return b
}

func TestProtoManifestInfo(t *testing.T) {
	const android = "http://schemas.android.com/apk/res/android"
	// An aapt2 XmlNode: element manifest with a namespace declaration, its
	// attributes (one with a compiled item and a varint resource id), a
	// child element.
	attr := func(ns, name, value string) []byte {
		a := pb(1, ns, 2, name, 3, value)
		return append(a, 5<<3|0, 0x9b, 0x02) // resource_id varint
	}
	elem := pb(
		1, pb(1, "android", 2, android),
		3, "manifest",
		4, attr("", "package", "com.example.game"),
		4, attr(android, "versionCode", "231"),
		4, attr(android, "versionName", "2.3.1"),
		5, pb(1, pb(3, "application")),
	)
	node := pb(1, elem)
	info, err := protoManifestInfo(node)
	if err != nil {
		t.Fatal(err)
	}
	if *info != (AppInfo{BundleID: "com.example.game", Version: "2.3.1", Build: "231"}) {
		t.Errorf("info = %+v", info)
	}
	for name, bad := range map[string][]byte{
		"truncated":    node[:len(node)-3],
		"not manifest": pb(1, pb(3, "application", 4, attr("", "package", "x"))),
		"empty":        nil,
		"garbage":      []byte{0xff, 0xff, 0xff},
	} {
		if _, err := protoManifestInfo(bad); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestReadAppInfo(t *testing.T) {
	app := signingtest.APKOptions{Package: "com.example.game", VersionName: "2.3.1", VersionCode: 231}
	for _, tc := range []struct {
		kind Kind
		data []byte
		want AppInfo
	}{
		{KindAPK, signingtest.APK(app), AppInfo{BundleID: "com.example.game", Version: "2.3.1", Build: "231"}},
		{KindAAB, signingtest.Bundle(app), AppInfo{BundleID: "com.example.game", Version: "2.3.1", Build: "231"}},
		{KindIPA, signingtest.IPA(signingtest.IPAOptions{}), AppInfo{Name: "Example", BundleID: "com.example.app", Version: "1.0", Build: "1"}},
	} {
		info, err := ReadAppInfo(bytes.NewReader(tc.data), int64(len(tc.data)), tc.kind)
		if err != nil {
			t.Errorf("%s: %v", tc.kind, err)
			continue
		}
		if *info != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.kind, *info, tc.want)
		}
	}
}

func FuzzProtoManifestInfo(f *testing.F) {
	f.Add(pb(1, pb(3, "manifest", 4, pb(2, "package", 3, "a.b"))))
	f.Add([]byte{0x0a, 0x80})
	f.Fuzz(func(t *testing.T, data []byte) {
		protoManifestInfo(data) // must not panic
	})
}
