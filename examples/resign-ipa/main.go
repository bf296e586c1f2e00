// Command resign-ipa re-signs an iOS app for the App Store with the
// storesign library, as a publisher's internal tool would:
//
//	P12_PASSWORD=... go run ./examples/resign-ipa -p12 dist.p12 \
//	    -profile app.mobileprovision -profile widget.mobileprovision \
//	    -in studio.ipa -out signed.ipa [-bundle-id com.example.game] [-build 142]
//
// Each app and extension gets the profile that matches its bundle ID.
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
	"github.com/storesign/storesign/signing/ipa"
	"github.com/storesign/storesign/signing/provision"
)

// list is a repeatable flag.
type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	var profiles list
	in := flag.String("in", "", "the .ipa to re-sign")
	out := flag.String("out", "", "where to write the re-signed .ipa")
	p12 := flag.String("p12", "", "the distribution certificate and key (.p12)")
	bundleID := flag.String("bundle-id", "", "a new bundle ID (empty keeps the app's)")
	build := flag.String("build", "", "a new build number, CFBundleVersion (empty keeps the app's)")
	flag.Var(&profiles, "profile", "a provisioning profile (repeat for each extension)")
	flag.Parse()
	if *in == "" || *out == "" || *p12 == "" || len(profiles) == 0 {
		flag.Usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	opts := ipa.Options{BundleID: *bundleID, BundleVersion: *build}
	if err := run(ctx, *in, *out, *p12, profiles, opts); err != nil {
		log.Fatalf("resign-ipa: %v", err)
	}
}

func run(ctx context.Context, in, out, p12 string, profiles []string, opts ipa.Options) error {
	password, err := signing.ReadPassword("env:P12_PASSWORD")
	if err != nil {
		return err
	}
	data, err := os.ReadFile(p12)
	if err != nil {
		return err
	}
	if opts.Identity, err = signing.LoadPKCS12(data, password); err != nil {
		return fmt.Errorf("opening %s: %w", p12, err)
	}
	for _, p := range profiles {
		prof, err := provision.ReadFile(p)
		if err != nil {
			return err
		}
		opts.Profiles = append(opts.Profiles, prof)
	}
	rep, err := ipa.ResignFile(ctx, in, out, opts)
	if err != nil {
		return err
	}
	if _, err := ipa.VerifyFile(ctx, out, ipa.VerifyOptions{}); err != nil {
		return fmt.Errorf("verifying %s: %w", out, err)
	}
	fmt.Printf("%s %s (%s): %s (%s)\n", rep.Name, rep.BundleID, out, rep.Version, rep.Build)
	for _, b := range rep.Bundles {
		profile := "-"
		if b.Profile != nil {
			profile = fmt.Sprintf("%s, expires %s", b.Profile.Name, b.Profile.Expires.Format("2006-01-02"))
		}
		fmt.Printf("  %-8s %-50s %s\n", b.Kind, b.Path, profile)
	}
	for _, w := range rep.Warnings {
		fmt.Println("warning:", w)
	}
	return nil
}
