// Package e2e runs the example workflows of examples/workflows and the
// project's own action self-test end to end with nektos/act, on this
// machine (act's -self-hosted platform) and without network: a fake Google
// Drive (drive/drivetest) serves throwaway builds, the workflows download,
// re-sign, verify and upload them through the composite actions, and the
// test checks what was uploaded, the step outputs and summary, and that no
// secret reached the log.
//
// act is not a Go dependency of the module: scripts/e2e-actions.sh installs
// a pinned version into a cache folder and runs these tests with
// STORESIGN_E2E=1. Without that variable they skip, so that a plain
// "go test ./..." stays fast; with it, a missing act is a failure.
package e2e
