package main

import (
	"context"
	"errors"
)

func runAAB(ctx context.Context, e *env, args []string) error {
	return errors.New("aab: not implemented yet")
}
