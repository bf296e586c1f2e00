package main

import (
	"bytes"
	"context"
	"crypto/elliptic"
	"fmt"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/storesign/storesign/signing"
	"github.com/storesign/storesign/signing/aab"
	"github.com/storesign/storesign/signing/apk"
	"github.com/storesign/storesign/signing/signingtest"
	"github.com/storesign/storesign/store/play/playtest"
)

// playServers holds each script's fake Play.
var playServers sync.Map // *testscript.TestScript -> *playtest.Server

func playServer(ts *testscript.TestScript) *playtest.Server {
	s, ok := playServers.Load(ts)
	if !ok {
		ts.Fatalf("no fake Play: run play-server first")
	}
	return s.(*playtest.Server)
}

// playIdentities holds the throwaway signers of the play_*.txtar scripts
// by name: a certificate is made once, so that play-cert names the one
// play-build signed with.
var playIdentities sync.Map // string -> *signing.Identity

func playIdentity(name string) *signing.Identity {
	id, _ := playIdentities.LoadOrStore(name, signingtest.SelfSigned("play "+name, signingtest.ECKey("play "+name, elliptic.P256())))
	return id.(*signing.Identity)
}

// playScriptCmds are the fixtures of the play_*.txtar scripts:
//
//	play-server [-token T] [-fault-rate R]
//	    start a fake Play with app com.example.app (and a closed testing
//	    track "qa") and set STORESIGN_PLAY_ENDPOINT
//	play-app PKG [draft|noaccess]       create another app
//	play-release PKG TRACK STATUS CODE  a release made earlier
//	play-build FILE PKG CODE [-signed-by NAME]
//	    write an app bundle (FILE ending .aab) or APK (.apk), unsigned or
//	    signed by the throwaway identity NAME
//	play-cert VAR NAME                  set $VAR to NAME's certificate SHA-256
//	play-track PKG TRACK                print the committed track's releases
//	play-commits PKG                    print the commits
//	play-open-edits PKG                 print the number of open edits
func playScriptCmds() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	return map[string]func(ts *testscript.TestScript, neg bool, args []string){
		"play-server": func(ts *testscript.TestScript, neg bool, args []string) {
			var opts playtest.Options
			for i := 0; i < len(args); i++ {
				switch args[i] {
				case "-token":
					i++
					opts.Token = args[i]
				case "-fault-rate":
					i++
					r, err := strconv.ParseFloat(args[i], 64)
					ts.Check(err)
					opts.Faults = playtest.Faults{Rate: r, Seed: 1, Delay: 5 * time.Millisecond}
				default:
					ts.Fatalf("play-server: unknown flag %s", args[i])
				}
			}
			opts.Dir = ts.MkAbs(".playtest")
			s, err := playtest.New(opts)
			ts.Check(err)
			s.AddApp("com.example.app", playtest.App{Tracks: []string{"qa"}})
			srv := httptest.NewServer(s)
			playServers.Store(ts, s)
			ts.Defer(func() {
				srv.Close()
				s.Close()
				playServers.Delete(ts)
			})
			ts.Setenv("STORESIGN_PLAY_ENDPOINT", srv.URL)
		},
		"play-app": func(ts *testscript.TestScript, neg bool, args []string) {
			var app playtest.App
			for _, a := range args[1:] {
				switch a {
				case "draft":
					app.Draft = true
				case "noaccess":
					app.NoAccess = true
				default:
					ts.Fatalf("play-app: unknown mode %s", a)
				}
			}
			playServer(ts).AddApp(args[0], app)
		},
		"play-release": func(ts *testscript.TestScript, neg bool, args []string) {
			code, err := strconv.ParseInt(args[3], 10, 64)
			ts.Check(err)
			r := playtest.Release{Status: args[2], VersionCodes: []int64{code}}
			if r.Status == "inProgress" || r.Status == "halted" {
				r.UserFraction = 0.5
			}
			ts.Check(playServer(ts).AddRelease(args[0], args[1], r))
		},
		"play-build": func(ts *testscript.TestScript, neg bool, args []string) {
			if len(args) != 3 && len(args) != 5 {
				ts.Fatalf("usage: play-build FILE PKG CODE [-signed-by NAME]")
			}
			code, err := strconv.Atoi(args[2])
			ts.Check(err)
			o := signingtest.APKOptions{Package: args[1], VersionCode: code, VersionName: "1." + args[2]}
			isAAB := strings.HasSuffix(args[0], ".aab")
			data := signingtest.APK(o)
			if isAAB {
				data = signingtest.Bundle(o)
			}
			if len(args) == 5 {
				id := playIdentity(args[4])
				var out bytes.Buffer
				if isAAB {
					_, err = aab.Sign(context.Background(), bytes.NewReader(data), int64(len(data)), &out, aab.Options{Identity: id})
				} else {
					_, err = apk.Sign(context.Background(), bytes.NewReader(data), int64(len(data)), &out, apk.Options{Identity: id})
				}
				ts.Check(err)
				data = out.Bytes()
			}
			ts.Check(os.WriteFile(ts.MkAbs(args[0]), data, 0o644))
		},
		"play-cert": func(ts *testscript.TestScript, neg bool, args []string) {
			ts.Setenv(args[0], signing.CertificateSHA256(playIdentity(args[1]).Certificate))
		},
		"play-track": func(ts *testscript.TestScript, neg bool, args []string) {
			t, ok := playServer(ts).Track(args[0], args[1])
			if !ok {
				ts.Fatalf("no track %s of %s", args[1], args[0])
			}
			for _, r := range t.Releases {
				fmt.Fprintf(ts.Stdout(), "%s %v fraction=%v name=%q", r.Status, r.VersionCodes, r.UserFraction, r.Name)
				for _, l := range sortedKeys(r.Notes) {
					fmt.Fprintf(ts.Stdout(), " %s=%q", l, r.Notes[l])
				}
				fmt.Fprintln(ts.Stdout())
			}
		},
		"play-commits": func(ts *testscript.TestScript, neg bool, args []string) {
			for _, c := range playServer(ts).Commits(args[0]) {
				var kinds []string
				for _, u := range c.Uploads {
					kinds = append(kinds, fmt.Sprintf("%s:%d", u.Kind, u.VersionCode))
				}
				fmt.Fprintf(ts.Stdout(), "commit notForReview=%v uploads=%s\n", c.ChangesNotSentForReview, strings.Join(kinds, ","))
			}
		},
		"play-open-edits": func(ts *testscript.TestScript, neg bool, args []string) {
			fmt.Fprintf(ts.Stdout(), "open=%d\n", playServer(ts).OpenEdits(args[0]))
		},
	}
}

func sortedKeys(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sortStrings(ks)
	return ks
}
