package macho_test

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"time"

	"github.com/storesign/storesign/signing/macho"
	"github.com/storesign/storesign/signing/signingtest"
)

func ExampleSign() {
	apple := signingtest.NewApple(signingtest.AppleOptions{}) // a fake Apple PKI
	bin := signingtest.MinimalMachO("15.0")                   // an unsigned iOS executable

	var out bytes.Buffer
	res, err := macho.Sign(context.Background(), bytes.NewReader(bin), int64(len(bin)), &out, macho.SignOptions{
		Identity:     apple.Identity,
		Identifier:   "com.example.app",
		Entitlements: []byte(`<plist version="1.0"><dict><key>application-identifier</key><string>ABCDE12345.com.example.app</string></dict></plist>`),
		Now:          func() time.Time { return time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC) },
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, h := range res.CDHashes {
		fmt.Println(h.Arch, len(h.Primary), "byte cdhash")
	}
	fmt.Println(res.DesignatedRequirement)
	// Output:
	// arm64 20 byte cdhash
	// identifier "com.example.app" and anchor apple generic and certificate leaf[subject.CN] = "Apple Distribution: Example Corp (ABCDE12345)" and certificate 1[field.1.2.840.113635.100.6.2.1] /* exists */
}

func ExampleVerify() {
	apple := signingtest.NewApple(signingtest.AppleOptions{})
	bin := signingtest.MinimalMachO("10.0") // below iOS 11: SHA-1 and SHA-256
	var signed bytes.Buffer
	if _, err := macho.Sign(context.Background(), bytes.NewReader(bin), int64(len(bin)), &signed, macho.SignOptions{
		Identity: apple.Identity, Identifier: "com.example.app.widget",
	}); err != nil {
		log.Fatal(err)
	}

	info, err := macho.Verify(context.Background(), bytes.NewReader(signed.Bytes()), int64(signed.Len()), macho.VerifyOptions{
		Roots: apple.Root.Pool(),
	})
	if err != nil {
		log.Fatal(err)
	}
	s := info.Slices[0]
	fmt.Println(s.Arch, s.Identifier, s.TeamID, s.HashTypes, s.Platform, s.MinOS)
	fmt.Printf("%q\n", s.Authority)
	// Output:
	// arm64 com.example.app.widget ABCDE12345 [sha1 sha256] 2 10.0
	// ["Apple Distribution: Example Corp (ABCDE12345)" "Test Apple Worldwide Developer Relations Certification Authority" "Test Apple Root CA"]
}

func ExampleResolveChain() {
	apple := signingtest.NewApple(signingtest.AppleOptions{})
	// The leaf alone, as many .p12 files hold it; the intermediate comes
	// from a --chain file (here: the test PKI's certificates). Without
	// Offline, a missing issuer is fetched from the leaf's AIA URL.
	chain, err := macho.ResolveChain(context.Background(), apple.Identity.Certificate, macho.ChainOptions{
		Chain:   apple.Identity.Chain,
		Offline: true,
		NoCache: true,
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, c := range chain {
		fmt.Println(c.Subject.CommonName)
	}
	// Output:
	// Test Apple Worldwide Developer Relations Certification Authority
	// Test Apple Root CA
}

func ExampleIsEncrypted() {
	bin := signingtest.MinimalMachO("15.0")
	enc, err := signingtest.EncryptMachO(bin) // as the App Store delivers it
	if err != nil {
		log.Fatal(err)
	}
	for _, b := range [][]byte{bin, enc} {
		yes, err := macho.IsEncrypted(bytes.NewReader(b), int64(len(b)))
		fmt.Println(yes, err)
	}
	// Output:
	// false <nil>
	// true <nil>
}
