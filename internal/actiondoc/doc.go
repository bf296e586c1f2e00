// Package actiondoc writes the README of each storesign GitHub Action from
// its action.yml: the description, a usage example taken from the example
// workflows under examples/workflows (or made from the required inputs
// when no example uses the action), and tables of the inputs and outputs.
//
// [Parse] reads the subset of YAML action.yml files use (mappings,
// plain, quoted and block scalars; sequences are kept as opaque lines),
// [Example] finds a workflow step that uses an action, and
// [Action.Markdown] renders the README. The package's test checks that
// every README is up to date and rewrites them with -update:
//
//	go generate ./internal/actiondoc
//
// READMEs go next to each action/*/action.yml; the root action.yml's goes
// to docs/release-action.md, the repository's README.md being the
// project's.
package actiondoc

//go:generate go test -run TestREADMEs -update
