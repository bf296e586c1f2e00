package main

import "github.com/rogpeppe/go-internal/testscript"

func actionScriptCmds() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	return map[string]func(ts *testscript.TestScript, neg bool, args []string){}
}
