package actions

import (
	"strings"
	"testing"

	"github.com/storesign/storesign/signing"
	"github.com/storesign/storesign/signing/signingtest"
)

// TestKeystoreErr checks which password input a keystore that does not
// open blames: key-password once keystore-password opened a JKS keystore
// but not its key, keystore-password when it did not open it.
func TestKeystoreErr(t *testing.T) {
	id := signingtest.SelfSigned("keystore-err", signingtest.RSAKey("keystore-err", 2048))
	jks := signingtest.JKS(id, "Upload", "store-pw", "key-pw")
	p12 := signingtest.PKCS12(id, "store-pw")
	str := func(s string) *string { return &s }
	for _, tc := range []struct {
		name      string
		data      []byte
		storePass string
		keyPass   *string
		input     string
		msg       string
	}{
		{"jks key own password, key-password empty", jks, "store-pw", nil, "key-password", `is empty, and the key "upload" in keystore-base64 has a password of its own`},
		{"jks wrong key-password", jks, "store-pw", str("not-key-pw"), "key-password", `does not open the key "upload" in keystore-base64 (keystore-password opens the keystore)`},
		{"jks key-password same as keystore's", jks, "store-pw", str("store-pw"), "key-password", `does not open the key "upload"`},
		{"jks wrong keystore-password", jks, "not-store-pw", nil, "keystore-password", "does not open keystore-base64"},
		{"jks wrong keystore-password, right key-password", jks, "not-store-pw", str("key-pw"), "keystore-password", "does not open keystore-base64"},
		{"p12 wrong keystore-password", p12, "not-store-pw", nil, "keystore-password", "does not open keystore-base64"},
		{"p12 both wrong", p12, "not-store-pw", str("not-key-pw"), "keystore-password or key-password", "does not open keystore-base64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := signing.KeystoreOptions{StorePassword: tc.storePass, KeyPassword: tc.keyPass}
			_, err := signing.LoadKeystore(tc.data, opts)
			if err == nil {
				t.Fatal("LoadKeystore: no error")
			}
			ie := keystoreErr(tc.data, opts, err)
			if ie.Input != tc.input || !strings.HasPrefix(ie.Msg, tc.msg) {
				t.Errorf("keystoreErr = input %q, %q; want input %q, %q...", ie.Input, ie.Msg, tc.input, tc.msg)
			}
			for _, pw := range []string{"store-pw", "key-pw"} {
				if strings.Contains(ie.Error(), pw) {
					t.Errorf("keystoreErr %q holds a password", ie.Error())
				}
			}
		})
	}
}
