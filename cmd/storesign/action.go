package main

import (
	"context"
	"errors"
)

func runAction(ctx context.Context, e *env, args []string) error {
	return errors.New("action: not implemented yet")
}
