package fakeservertest

import (
	"context"
	"fmt"
	"io"
	"testing"
)

func TestStart(t *testing.T) {
	stopped := false
	run := func(ctx context.Context, args []string, stdout io.Writer) error {
		fmt.Fprintf(stdout, "url=http://x\nname=%s\nignored=1\n", args[0])
		<-ctx.Done()
		stopped = true
		return nil
	}
	vals, stop := Start(t, run, []string{"n"}, 2)
	if vals["url"] != "http://x" || vals["name"] != "n" || len(vals) != 2 {
		t.Errorf("vals %v", vals)
	}
	stop()
	if !stopped {
		t.Error("run still going after stop")
	}
	stop()
}
