package main

import (
	"context"
	"errors"
)

func runDrive(ctx context.Context, e *env, args []string) error {
	return errors.New("drive: not implemented yet")
}
