#!/usr/bin/env bash
# Runs the example workflows end to end with nektos/act against a fake
# Google Drive (internal/e2e): no Docker, no network beyond installing act
# once into a cache folder.
#
#   bash scripts/e2e-actions.sh            # install act if needed, run the tests
#   STORESIGN_ACTIONS_TOOLS=DIR ...        # where tools are cached
set -euo pipefail
cd "$(dirname "$0")/.."

ACT_VERSION=v0.2.89
tools="${STORESIGN_ACTIONS_TOOLS:-$HOME/.cache/storesign-actions}"
act="$tools/bin/act"
if [ ! -x "$act" ] || [ "$("$act" --version 2>/dev/null)" != "act version ${ACT_VERSION#v}" ]; then
  echo "installing act $ACT_VERSION into $tools/bin"
  GOBIN="$tools/bin" GOFLAGS=-mod=mod go install "github.com/nektos/act@$ACT_VERSION"
fi
export STORESIGN_ACT="$act" STORESIGN_E2E=1
go test -count=1 -timeout 45m -v ./internal/e2e/
