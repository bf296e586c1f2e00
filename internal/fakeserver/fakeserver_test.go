package fakeserver

import (
	"context"
	"flag"
	"io"
	"net/http"
	"testing"
	"time"
)

func TestServe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	urls := make(chan string, 1)
	errc := make(chan error, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	go func() { errc <- Serve(ctx, "127.0.0.1:0", h, func(u string) { urls <- u }) }()
	var u string
	select {
	case u = <-urls:
	case err := <-errc:
		t.Fatal(err)
	}
	resp, err := http.Get(u + "/x")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "ok" {
		t.Errorf("body %q", b)
	}
	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Errorf("Serve after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
}

func TestServeBadAddr(t *testing.T) {
	if err := Serve(context.Background(), "256.0.0.1:x", http.NotFoundHandler(), nil); err == nil {
		t.Fatal("Serve on a bad address succeeded")
	}
}

func TestList(t *testing.T) {
	var l List
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.Var(&l, "app", "")
	if err := fs.Parse([]string{"-app", "a", "-app", "b:draft"}); err != nil {
		t.Fatal(err)
	}
	if l.String() != "a,b:draft" || len(l) != 2 {
		t.Errorf("List = %q", l)
	}
	if Logger(false) != nil || Logger(true) == nil {
		t.Error("Logger")
	}
}
