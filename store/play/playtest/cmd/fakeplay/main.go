// Command fakeplay serves a fake Google Play Developer API (package
// store/play/playtest) for workflows and manual runs:
//
//	go run ./store/play/playtest/cmd/fakeplay -addr 127.0.0.1:8090 -app com.example.app -app com.example.new:draft
//
// It prints the base URL to give storesign (STORESIGN_PLAY_ENDPOINT), then
// serves until interrupted. Each -app creates an app (":draft" for one
// never published, ":noaccess" for one the account was not invited to,
// ":managed" for one whose changes are not sent for review by themselves);
// -track adds a closed testing track to every app. GET /playtest/v1/state
// answers the committed tracks and commits as JSON; with -state FILE they
// are also written there on exit.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/storesign/storesign/internal/fakeserver"
	"github.com/storesign/storesign/store/play/playtest"
)

func main() { fakeserver.Main("fakeplay", run) }

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("fakeplay", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8090", "listen address (loopback)")
	var apps, tracks fakeserver.List
	fs.Var(&apps, "app", "create an app: PKG, PKG:draft, PKG:noaccess or PKG:managed (repeatable)")
	fs.Var(&tracks, "track", "add a closed testing track to every app (repeatable)")
	token := fs.String("token", "", "OAuth access token to require")
	state := fs.String("state", "", "write the final state as JSON to this file on exit")
	rate := fs.Float64("fault-rate", 0, "share of requests to fault (0..1)")
	faultSeed := fs.Uint64("fault-seed", 1, "seed of the fault sequence")
	verbose := fs.Bool("v", false, "log every request on stderr")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	opts := playtest.Options{Token: *token, Faults: playtest.Faults{Rate: *rate, Seed: *faultSeed}}
	opts.Log = fakeserver.Logger(*verbose)
	s, err := playtest.New(opts)
	if err != nil {
		return err
	}
	defer s.Close()
	for _, a := range apps {
		pkg, mode, _ := strings.Cut(a, ":")
		app := playtest.App{Tracks: tracks}
		switch mode {
		case "":
		case "draft":
			app.Draft = true
		case "noaccess":
			app.NoAccess = true
		case "managed":
			app.ManagedReview = true
		default:
			return fmt.Errorf("-app %s: unknown mode %q (want draft, noaccess or managed)", a, mode)
		}
		s.AddApp(pkg, app)
	}
	err = fakeserver.Serve(ctx, *addr, s, func(url string) { fmt.Fprintf(stdout, "url=%s\n", url) })
	if err != nil {
		return err
	}
	if *state != "" {
		b, err := json.MarshalIndent(s.State(), "", "  ")
		if err != nil {
			return err
		}
		return os.WriteFile(*state, append(b, '\n'), 0o644)
	}
	return nil
}
