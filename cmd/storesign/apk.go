package main

import (
	"context"
	"errors"
)

func runAPK(ctx context.Context, e *env, args []string) error {
	return errors.New("apk: not implemented yet")
}
