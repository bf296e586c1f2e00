package actions

import (
	"bytes"
	"testing"

	"github.com/storesign/storesign/signing/signingtest"
)

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
