package jar_test

import (
	"crypto"
	"fmt"
	"strings"

	"github.com/storesign/storesign/internal/jar"
)

func ExampleManifest_Marshal() {
	m := &jar.Manifest{
		Main: jar.Attributes{{Name: "Manifest-Version", Value: "1.0"}, {Name: "Created-By", Value: "1.0 (storesign)"}},
		Sections: []*jar.Section{{
			Name:  "classes.dex",
			Attrs: jar.Attributes{{Name: "SHA-256-Digest", Value: jar.Digest(crypto.SHA256, []byte("dex"))}},
		}},
	}
	fmt.Printf("%q\n", m.Marshal())
	// Output:
	// "Manifest-Version: 1.0\r\nCreated-By: 1.0 (storesign)\r\n\r\nName: classes.dex\r\nSHA-256-Digest: nQ+/k0n2RvFDUHLysCEghHUu9GAb1rAS+75htsXgOTA=\r\n\r\n"
}

func ExampleBuildSignatureFile() {
	mf := []byte("Manifest-Version: 1.0\r\n\r\nName: classes.dex\r\nSHA-256-Digest: nQ+/k0n2RvFDUHLysCEghHUu9GAb1rAS+75htsXgOTA=\r\n\r\n")
	sf, err := jar.BuildSignatureFile(mf, jar.SignatureFileOptions{
		Main:                 jar.Attributes{{Name: "Created-By", Value: "1.0 (storesign)"}},
		MainAttributesDigest: true,
	})
	if err != nil {
		panic(err)
	}
	// Lines end in CRLF; print them one per line.
	for _, line := range strings.Split(strings.TrimSuffix(string(sf), "\r\n"), "\r\n") {
		fmt.Println(line)
	}
	// Output:
	// Signature-Version: 1.0
	// Created-By: 1.0 (storesign)
	// SHA-256-Digest-Manifest: JMTD/rxGftgKEfCN1q1R4iIgFyW1VS8MncSIpo9A8Bg=
	// SHA-256-Digest-Manifest-Main-Attributes: VmrRqAIgAm0FCZViZFzpaP8OfDbN4iY
	//  0MyYFuzTMPv8=
	//
	// Name: classes.dex
	// SHA-256-Digest: A+CkyNFJiTYwGOxZoDa3DApAYxKo+nc22ANLc05s8oc=
}

func ExampleSignerName() {
	fmt.Println(jar.SignerName("my.upload-key"))
	// Output: MY_UPLOA
}
