package macho

import (
	"bytes"
	"testing"
)

// TestEntitlementsDERGolden checks the DER form against the bytes Apple's
// codesign --generate-entitlement-der writes, as recorded in rcodesign's
// tests (apple-codesign/src/plist_der.rs).
func TestEntitlementsDERGolden(t *testing.T) {
	tests := []struct {
		name  string
		plist string
		der   []byte
	}{
		{"empty", `<dict/>`, []byte{112, 5, 2, 1, 1, 176, 0}},
		{"false", `<dict><key>key</key><false/></dict>`, []byte{112, 15, 2, 1, 1, 176, 10, 48, 8, 12, 3, 107, 101, 121, 1, 1, 0}},
		{"true", `<dict><key>key</key><true/></dict>`, []byte{112, 15, 2, 1, 1, 176, 10, 48, 8, 12, 3, 107, 101, 121, 1, 1, 255}},
		{"0", `<dict><key>key</key><integer>0</integer></dict>`, []byte{112, 15, 2, 1, 1, 176, 10, 48, 8, 12, 3, 107, 101, 121, 2, 1, 0}},
		{"-1", `<dict><key>key</key><integer>-1</integer></dict>`, []byte{112, 15, 2, 1, 1, 176, 10, 48, 8, 12, 3, 107, 101, 121, 2, 1, 255}},
		{"1", `<dict><key>key</key><integer>1</integer></dict>`, []byte{112, 15, 2, 1, 1, 176, 10, 48, 8, 12, 3, 107, 101, 121, 2, 1, 1}},
		{"42", `<dict><key>key</key><integer>42</integer></dict>`, []byte{112, 15, 2, 1, 1, 176, 10, 48, 8, 12, 3, 107, 101, 121, 2, 1, 42}},
		{"empty string", `<dict><key>key</key><string></string></dict>`, []byte{112, 14, 2, 1, 1, 176, 9, 48, 7, 12, 3, 107, 101, 121, 12, 0}},
		{"string", `<dict><key>key</key><string>value</string></dict>`, []byte{112, 19, 2, 1, 1, 176, 14, 48, 12, 12, 3, 107, 101, 121, 12, 5, 118, 97, 108, 117, 101}},
		{"empty array", `<dict><key>key</key><array/></dict>`, []byte{112, 14, 2, 1, 1, 176, 9, 48, 7, 12, 3, 107, 101, 121, 48, 0}},
		{"array false", `<dict><key>key</key><array><false/></array></dict>`, []byte{112, 17, 2, 1, 1, 176, 12, 48, 10, 12, 3, 107, 101, 121, 48, 3, 1, 1, 0}},
		{"array true foo", `<dict><key>key</key><array><true/><string>foo</string></array></dict>`, []byte{112, 22, 2, 1, 1, 176, 17, 48, 15, 12, 3, 107, 101, 121, 48, 8, 1, 1, 255, 12, 3, 102, 111, 111}},
		{"empty dict", `<dict><key>key</key><dict/></dict>`, []byte{112, 14, 2, 1, 1, 176, 9, 48, 7, 12, 3, 107, 101, 121, 176, 0}},
		{"dict", `<dict><key>key</key><dict><key>inner</key><false/></dict></dict>`, []byte{112, 26, 2, 1, 1, 176, 21, 48, 19, 12, 3, 107, 101, 121, 176, 12, 48, 10, 12, 5, 105, 110, 110, 101, 114, 1, 1, 0}},
		{"sorted keys", `<dict><key>key3</key><integer>42</integer><key>key</key><false/><key>key2</key><true/></dict>`, []byte{112, 37, 2, 1, 1, 176, 32, 48, 8, 12, 3, 107, 101, 121, 1, 1, 0, 48, 9, 12, 4, 107, 101, 121, 50, 1, 1, 255, 48, 9, 12, 4, 107, 101, 121, 51, 2, 1, 42}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := parseEntitlements([]byte(`<?xml version="1.0" encoding="UTF-8"?><plist version="1.0">` + tt.plist + `</plist>`))
			if err != nil {
				t.Fatal(err)
			}
			der, err := entitlementsDER(m)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(der, tt.der) {
				t.Errorf("DER\n got %v\nwant %v", der, tt.der)
			}
			if _, err := decodeEntitlementsDER(tt.der); err != nil {
				t.Errorf("decoding: %v", err)
			}
		})
	}
	for _, bad := range []string{`<dict><key>k</key><real>1.5</real></dict>`, `<dict><key>k</key><data>AA==</data></dict>`, `<dict><key>k</key><date>2020-01-01T00:00:00Z</date></dict>`} {
		m, err := parseEntitlements([]byte(`<plist version="1.0">` + bad + `</plist>`))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := entitlementsDER(m); err == nil {
			t.Errorf("%s encodes, codesign refuses it", bad)
		}
	}
}

func TestCheckEntitlementsAgree(t *testing.T) {
	xml := []byte(`<plist version="1.0"><dict><key>a</key><integer>1</integer><key>b</key><array><string>x</string></array></dict></plist>`)
	m, err := parseEntitlements(xml)
	if err != nil {
		t.Fatal(err)
	}
	der, err := entitlementsDER(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkEntitlementsAgree(xml, der); err != nil {
		t.Errorf("agreeing entitlements: %v", err)
	}
	other, _ := entitlementsDER(map[string]any{"a": uint64(2)})
	if err := checkEntitlementsAgree(xml, other); err == nil {
		t.Error("disagreeing entitlements accepted")
	}
}
