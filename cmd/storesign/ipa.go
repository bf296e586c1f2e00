package main

import (
	"context"
	"errors"
)

func runIPA(ctx context.Context, e *env, args []string) error {
	return errors.New("ipa: not implemented yet")
}
