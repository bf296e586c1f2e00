module github.com/storesign/storesign

go 1.26.8

require (
	github.com/pavlo-v-chernykh/keystore-go/v4 v4.5.0
	github.com/rogpeppe/go-internal v1.16.0
	software.sslmate.com/src/go-pkcs12 v0.7.4
)

require (
	cloud.google.com/go/auth v0.24.1-0.20261001053825-dbc26066f70a // indirect
	cloud.google.com/go/compute/metadata v0.10.0 // indirect
	github.com/blacktop/go-dwarf v1.1.0 // indirect
	github.com/blacktop/go-macho v1.1.296 // indirect
	github.com/googleapis/gax-go/v2 v2.27.0 // indirect
	github.com/sethvargo/go-githubactions v1.4.0 // indirect
	go.mozilla.org/pkcs7 v0.10.0 // indirect
	golang.org/x/crypto v0.58.0 // indirect
	golang.org/x/oauth2 v0.38.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/tools v0.26.0 // indirect
	google.golang.org/api v0.311.0 // indirect
	howett.net/plist v1.0.1 // indirect
)
