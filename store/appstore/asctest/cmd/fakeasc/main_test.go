package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/storesign/storesign/internal/fakeserver/fakeservertest"
	"github.com/storesign/storesign/store/appstore"
	"github.com/storesign/storesign/store/appstore/asctest"
)

func TestServe(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "AuthKey_TESTKEY123.p8")
	ctx := context.Background()
	vals, stop := fakeservertest.Start(t, run, []string{"-addr", "127.0.0.1:0", "-gen-key", keyFile, "-issuer", "iss-1", "-app", "com.example.app=Example", "-save", dir, "-part-size", "65536"}, 3)
	if !strings.HasPrefix(vals["url"], "http://127.0.0.1:") || vals["key_id"] != "TESTKEY123" || vals["issuer"] != "iss-1" {
		t.Fatalf("printed %v", vals)
	}
	key, err := appstore.ParseKeyFile(keyFile, "", "iss-1")
	if err != nil {
		t.Fatal(err)
	}
	c, err := appstore.New(ctx, key, appstore.WithEndpoint(vals["url"]))
	if err != nil {
		t.Fatal(err)
	}
	data, err := asctest.IPA(asctest.IPAOptions{Build: "3", Padding: 100 << 10})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Upload(ctx, bytes.NewReader(data), int64(len(data)), appstore.UploadOptions{Wait: time.Minute, PollInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.State != appstore.StateValid {
		t.Errorf("state %s", res.State)
	}
	saved, err := os.ReadFile(filepath.Join(dir, res.AppID+"-1.0-3.ipa"))
	if err != nil || !bytes.Equal(saved, data) {
		t.Errorf("saved upload: %d bytes, %v", len(saved), err)
	}
	stop()
}
