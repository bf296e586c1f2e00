package main

import "github.com/rogpeppe/go-internal/testscript"

// scriptCmds returns the fixture commands scripts may call, e.g.
// "gen-apk out.apk" (added by each area's own *_script_test.go file
// through the registries below).
func scriptCmds() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	cmds := map[string]func(ts *testscript.TestScript, neg bool, args []string){}
	for _, reg := range []map[string]func(ts *testscript.TestScript, neg bool, args []string){
		androidScriptCmds(), iosScriptCmds(), driveScriptCmds(), actionScriptCmds(), aabScriptCmds(),
	} {
		for k, v := range reg {
			cmds[k] = v
		}
	}
	return cmds
}
