package main

import (
	"context"
	"errors"
)

func apkSignCmd(ctx context.Context, e *env, args []string) error {
	return errors.New("apk sign: not implemented yet")
}
