package provision_test

import (
	"fmt"

	"github.com/storesign/storesign/signing/provision"
	"github.com/storesign/storesign/signing/signingtest"
)

func ExampleMatch() {
	apple := signingtest.NewApple(signingtest.AppleOptions{})
	var profiles []*provision.Profile
	for _, appID := range []string{"com.example.*", "com.example.app"} {
		p, err := provision.Parse(apple.Profile(signingtest.ProfileOptions{AppID: appID, Name: appID}))
		if err != nil {
			panic(err)
		}
		profiles = append(profiles, p)
	}
	for _, id := range []string{"com.example.app", "com.example.app.widget", "org.other"} {
		p, err := provision.Match(profiles, id)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(id, "->", p.Name, p.Kind)
	}
	// Output:
	// com.example.app -> com.example.app app-store
	// com.example.app.widget -> com.example.* app-store
	// provision: the provisioning profile for org.other is missing: pass one whose application-identifier matches ABCDE12345.org.other (tried ABCDE12345.com.example.*, ABCDE12345.com.example.app)
}
