package actions_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/storesign/storesign/actions"
	"github.com/storesign/storesign/signing/signingtest"
	"github.com/storesign/storesign/store/play/playtest"
)

// The release action's Google Play step, against a fake Google Play: the
// release's play-* inputs, the signed build of the re-sign step, and the
// outputs and summary the step writes (outside a runner, to the log).
func ExamplePlayUpload() {
	fake, _ := playtest.New(playtest.Options{})
	defer fake.Close()
	fake.AddApp("com.example.game", playtest.App{})
	srv := httptest.NewServer(fake)
	defer srv.Close()

	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	build := filepath.Join(dir, "game.aab")
	os.WriteFile(build, signingtest.Bundle(signingtest.APKOptions{Package: "com.example.game", VersionName: "2.3.1", VersionCode: 231}), 0o644)

	env := map[string]string{
		"STORESIGN_PLAY_ENDPOINT":  srv.URL,
		"STORESIGN_ACTION":         "release",
		"INPUT_PATH":               build,
		"INPUT_PLAY_TRACK":         "beta",
		"INPUT_PLAY_STATUS":        "inProgress",
		"INPUT_PLAY_USER_FRACTION": "0.1",
	}
	var log bytes.Buffer
	a := actions.New(actions.Options{Stdout: &log, Getenv: func(k string) string { return env[k] }})
	if err := actions.PlayUpload(context.Background(), a); err != nil {
		fmt.Println(err)
	}
	for _, line := range strings.Split(log.String(), "\n") {
		if strings.HasPrefix(line, "output ") && !strings.HasPrefix(line, "output sha256") || strings.HasPrefix(line, "| Status") {
			fmt.Println(line)
		}
	}
	// Output:
	// output package-name=com.example.game
	// output version-code=231
	// output track=beta
	// output status=inProgress
	// output link=https://play.google.com/store/apps/details?id=com.example.game
	// | Status | inProgress to 10% of users |
}
