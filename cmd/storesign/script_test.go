package main

import (
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/storesign/storesign/internal/testenv"
)

// scriptParams sets up the script environment. Commands that scripts can
// use to make fixtures are added in scriptCmds (one file per area).
func scriptParams(t *testing.T) testscript.Params {
	return testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			if c := os.Getenv("STORESIGN_CORPUS"); c != "" {
				env.Setenv("STORESIGN_CORPUS", c)
			}
			env.Setenv("STORESIGN_ORACLES", testenv.OraclesDir())
			return nil
		},
		Cmds:      scriptCmds(),
		Condition: toolCondition(hostileCondition),
	}
}
