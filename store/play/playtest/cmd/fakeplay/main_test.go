package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/storesign/storesign/internal/fakeserver/fakeservertest"
	"github.com/storesign/storesign/signing/signingtest"
	"github.com/storesign/storesign/store/play"
	"github.com/storesign/storesign/store/play/playtest"
)

func TestServe(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state.json")
	ctx := context.Background()
	vals, stop := fakeservertest.Start(t, run, []string{"-addr", "127.0.0.1:0", "-app", "com.example.app", "-app", "com.example.new:draft", "-track", "qa", "-state", state}, 1)
	url := vals["url"]
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("printed %v", vals)
	}
	c, err := play.New(ctx, play.WithEndpoint(url), play.WithoutEnvironment())
	if err != nil {
		t.Fatal(err)
	}
	data := signingtest.Bundle(signingtest.APKOptions{Package: "com.example.app", VersionCode: 3})
	if _, err := c.Upload(ctx, bytes.NewReader(data), int64(len(data)), play.UploadOptions{Track: "qa"}); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(url + playtest.StatePath)
	if err != nil {
		t.Fatal(err)
	}
	var st []playtest.AppState
	err = json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if err != nil || len(st) != 2 || st[0].Package != "com.example.app" || len(st[0].Commits) != 1 || !st[1].Draft {
		t.Fatalf("state %+v, %v", st, err)
	}
	stop()
	if b, err := os.ReadFile(state); err != nil || !bytes.Contains(b, []byte(`"versionCodes": [`)) {
		t.Errorf("state file: %s %v", b, err)
	}
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-app", "x:weird"}, {"extra"}, {"-nope"}} {
		if err := run(context.Background(), append([]string{"-addr", "127.0.0.1:0"}, args...), io.Discard); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}
