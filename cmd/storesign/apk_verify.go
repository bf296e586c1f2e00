package main

import (
	"context"
	"errors"
)

func apkVerifyCmd(ctx context.Context, e *env, args []string) error {
	return errors.New("apk verify: not implemented yet")
}
