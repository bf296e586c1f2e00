package main

import (
	"crypto/elliptic"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/storesign/storesign/signing/signingtest"
	"github.com/storesign/storesign/store/appstore"
	"github.com/storesign/storesign/store/appstore/asctest"
)

// ascServers holds each script's fake App Store Connect.
var ascServers sync.Map // *testscript.TestScript -> *asctest.Server

func ascServer(ts *testscript.TestScript) *asctest.Server {
	s, ok := ascServers.Load(ts)
	if !ok {
		ts.Fatalf("no fake App Store Connect: run asc-server first")
	}
	return s.(*asctest.Server)
}

// appStoreScriptCmds are the fixtures of the appstore_*.txtar and
// ipa_check*.txtar scripts:
//
//	asc-server [-role ROLE] [-polls N]
//	    start a fake App Store Connect (16 KiB parts) with the app
//	    com.example.app, set STORESIGN_ASC_ENDPOINT, write the API key to
//	    AuthKey_ABC123DEFG.p8 and set $ASC_ISSUER, $ASC_KEY (its PEM
//	    text), $ASC_APP (the app's ID)
//	asc-ipa FILE [-version V] [-build N] [-bundle ID] [-kind KIND] [-padding N]
//	    write an IPA that passes ipa check (KIND development does not)
//	asc-build VERSION BUILD            record a build already uploaded
//	asc-fault METHOD PATH STATUS|drop [TIMES]
//	asc-fail-processing CODE TEXT      the next upload fails processing
//	asc-uploads                        print each upload: state version build parts once|resent
func appStoreScriptCmds() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	return map[string]func(ts *testscript.TestScript, neg bool, args []string){
		"asc-server": func(ts *testscript.TestScript, neg bool, args []string) {
			role, polls := "", 0
			for i := 0; i < len(args); i++ {
				switch args[i] {
				case "-role":
					i++
					role = args[i]
				case "-polls":
					i++
					n, err := strconv.Atoi(args[i])
					ts.Check(err)
					polls = n
				default:
					ts.Fatalf("asc-server: unknown flag %s", args[i])
				}
			}
			s := asctest.New(asctest.Options{PartSize: 16 << 10, ProcessingPolls: polls})
			srv := httptest.NewServer(s)
			ascServers.Store(ts, s)
			ts.Defer(func() {
				srv.Close()
				ascServers.Delete(ts)
			})
			priv := signingtest.ECKey("script asc key", elliptic.P256())
			der, err := x509.MarshalPKCS8PrivateKey(priv)
			ts.Check(err)
			p8 := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
			ts.Check(os.WriteFile(ts.MkAbs("AuthKey_ABC123DEFG.p8"), p8, 0o600))
			const issuer = "69a6de7e-0000-47e3-e053-5b8c7c11a4d1"
			key, err := appstore.NewKey(priv, "ABC123DEFG", issuer)
			ts.Check(err)
			s.AddKey(key, role)
			ts.Setenv("ASC_APP", s.AddApp("com.example.app", "Example"))
			ts.Setenv("STORESIGN_ASC_ENDPOINT", srv.URL)
			ts.Setenv("ASC_ISSUER", issuer)
			ts.Setenv("ASC_KEY", string(p8))
		},
		"asc-ipa": func(ts *testscript.TestScript, neg bool, args []string) {
			if len(args) < 1 {
				ts.Fatalf("usage: asc-ipa FILE [-version V] [-build N] [-bundle ID] [-kind KIND] [-padding N] (a value may be Go-quoted)")
			}
			var opts asctest.IPAOptions
			for i := 1; i+1 < len(args); i += 2 {
				if strings.HasPrefix(args[i+1], `"`) { // a Go-quoted value: control characters
					v, err := strconv.Unquote(args[i+1])
					ts.Check(err)
					args[i+1] = v
				}
				switch args[i] {
				case "-version":
					opts.Version = args[i+1]
				case "-build":
					opts.Build = args[i+1]
				case "-bundle":
					opts.BundleID = args[i+1]
				case "-kind":
					opts.ProfileKind = args[i+1]
				case "-padding":
					n, err := strconv.Atoi(args[i+1])
					ts.Check(err)
					opts.Padding = n
				default:
					ts.Fatalf("asc-ipa: unknown flag %s", args[i])
				}
			}
			b, err := asctest.IPA(opts)
			ts.Check(err)
			ts.Check(os.WriteFile(ts.MkAbs(args[0]), b, 0o644))
		},
		"asc-build": func(ts *testscript.TestScript, neg bool, args []string) {
			s := ascServer(ts)
			s.AddBuild(ts.Getenv("ASC_APP"), args[0], args[1])
		},
		"asc-fault": func(ts *testscript.TestScript, neg bool, args []string) {
			if len(args) < 3 {
				ts.Fatalf("usage: asc-fault METHOD PATH STATUS|drop [TIMES]")
			}
			f := asctest.Fault{Method: args[0], Path: args[1]}
			if f.Method == "any" {
				f.Method = ""
			}
			if args[2] == "drop" {
				f.Drop = true
			} else {
				n, err := strconv.Atoi(args[2])
				ts.Check(err)
				f.Status = n
			}
			if len(args) > 3 {
				n, err := strconv.Atoi(args[3])
				ts.Check(err)
				f.Times = n
			}
			ascServer(ts).Inject(f)
		},
		"asc-fail-processing": func(ts *testscript.TestScript, neg bool, args []string) {
			ascServer(ts).FailProcessing(appstore.StateDetail{Code: args[0], Description: args[1]})
		},
		"asc-uploads": func(ts *testscript.TestScript, neg bool, args []string) {
			for _, u := range ascServer(ts).Uploads() {
				parts, how := 0, "once"
				if u.File != nil {
					parts = len(u.File.Puts)
					for _, n := range u.File.Puts {
						if n != 1 {
							how = "resent"
						}
					}
				}
				fmt.Fprintf(ts.Stdout(), "%s %s %s %d %s\n", u.State, u.Version, u.Build, parts, how)
			}
		},
	}
}
