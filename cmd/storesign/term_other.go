//go:build !linux

package main

import "os"

// isTerminal reports false: prompting without echo is supported on
// Linux only; elsewhere stdin is read as a pipe.
func isTerminal(f *os.File) bool { return false }

func readNoEcho(f *os.File) ([]byte, error) { return nil, errNoTerminal }
