package cms_test

import (
	"fmt"

	"github.com/storesign/storesign/internal/cms"
	"github.com/storesign/storesign/signing/signingtest"
)

// Sign a JAR signature file as jarsigner does, then read and verify the
// block.
func Example() {
	id := signingtest.SelfSigned("example", nil)
	sf := []byte("Signature-Version: 1.0\r\n\r\n")
	block, err := cms.Sign(sf, id.Signer, id.Certificates(), cms.SignOptions{SignedAttributes: true, AlgorithmProtection: true})
	if err != nil {
		panic(err)
	}
	sd, err := cms.Parse(block, cms.ParseOptions{})
	if err != nil {
		panic(err)
	}
	si := sd.Signers[0]
	fmt.Println(len(sd.Certificates), "certificate; detached:", sd.Content == nil)
	fmt.Println("signature algorithm:", si.SignatureAlgorithm.Algorithm)
	fmt.Println("verify:", sd.Verify(si, sd.SignerCertificate(si), sf))
	// Output:
	// 1 certificate; detached: true
	// signature algorithm: 1.2.840.113549.1.1.11
	// verify: <nil>
}
