// Command sign-apk signs an APK with a key from a keystore and checks the
// result, as a team's own release tool would with the storesign library:
//
//	KEYSTORE_PASSWORD=... go run ./examples/sign-apk -keystore release.jks -alias upload -in app.apk -out app-signed.apk
//
// The password comes from the environment, never from the command line.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strings"

	"github.com/storesign/storesign/signing"
	"github.com/storesign/storesign/signing/apk"
)

func main() {
	in := flag.String("in", "", "the APK to sign")
	out := flag.String("out", "", "where to write the signed APK")
	keystore := flag.String("keystore", "", "the keystore (.jks or .p12)")
	alias := flag.String("alias", "", "the key's alias; may be empty when the keystore holds one key")
	flag.Parse()
	if *in == "" || *out == "" || *keystore == "" {
		flag.Usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *in, *out, *keystore, *alias); err != nil {
		log.Fatalf("sign-apk: %v", err)
	}
}

func run(ctx context.Context, in, out, keystore, alias string) error {
	password, err := signing.ReadPassword("env:KEYSTORE_PASSWORD")
	if err != nil {
		return err
	}
	data, err := os.ReadFile(keystore)
	if err != nil {
		return err
	}
	id, err := signing.LoadKeystore(data, signing.KeystoreOptions{StorePassword: password, Alias: alias})
	if err != nil {
		return fmt.Errorf("opening %s: %w", keystore, err)
	}
	// SignFile writes through a temporary file, verifies it with
	// apk.Verify and only then renames it into place; the input is never
	// modified.
	res, err := apk.SignFile(ctx, in, out, apk.Options{Identity: id})
	if err != nil {
		return err
	}
	fmt.Printf("signed %s with %s (SHA-256 %s), schemes %s; verifies from API %d\n",
		out, id.Certificate.Subject.CommonName, id.Fingerprint(), strings.Join(res.Schemes(), ", "), res.MinSDKVersion)
	return nil
}
