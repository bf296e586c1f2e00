package plistx_test

import (
	"fmt"

	"github.com/storesign/storesign/internal/plistx"
)

func ExampleMarshalXML() {
	b, err := plistx.MarshalXML(map[string]any{
		"com.apple.developer.team-identifier": "ABCDE12345",
		"application-identifier":              "ABCDE12345.com.example.app",
		"get-task-allow":                      false,
		"keychain-access-groups":              []any{"ABCDE12345.*"},
	})
	if err != nil {
		panic(err)
	}
	fmt.Print(string(b))
	// Output:
	// <?xml version="1.0" encoding="UTF-8"?>
	// <!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
	// <plist version="1.0">
	// <dict>
	// 	<key>application-identifier</key>
	// 	<string>ABCDE12345.com.example.app</string>
	// 	<key>com.apple.developer.team-identifier</key>
	// 	<string>ABCDE12345</string>
	// 	<key>get-task-allow</key>
	// 	<false/>
	// 	<key>keychain-access-groups</key>
	// 	<array>
	// 		<string>ABCDE12345.*</string>
	// 	</array>
	// </dict>
	// </plist>
}

func ExampleCanonical() {
	b, _ := plistx.MarshalBinary(map[string]any{"CFBundleIdentifier": "com.example.app"})
	fmt.Println(plistx.Canonical(b), plistx.Canonical([]byte("<plist><dict></dict></plist>")))
	// Output: true false
}
