#!/usr/bin/env bash
# Finds or builds the storesign binary the actions run, once per job.
#
#   storesign-bin.sh check   sets the step outputs path, need-build, need-go
#   storesign-bin.sh build   builds $RUNNER_TEMP/storesign-bin/storesign
#
# STORESIGN_SRC is the module root of the action (github.action_path, or
# two folders up for actions/*). A binary already built in this job from the
# same source is reused by later steps and actions.
set -euo pipefail

src=$(cd "${STORESIGN_SRC:?STORESIGN_SRC is not set}" && pwd -P)
bindir="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/storesign-bin"
bin="$bindir/storesign"
stamp="$bindir/source"
out="${GITHUB_OUTPUT:-/dev/stdout}"

case "${1:-}" in
check)
  need_build=true
  if [ -x "$bin" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$src" ]; then
    need_build=false
  fi
  need_go=false
  if [ "$need_build" = true ]; then
    # A Go on PATH at least as new as go.mod's go line is used as it is;
    # otherwise actions/setup-go installs the version go.mod names.
    want=$(awk '$1 == "go" { print $2; exit }' "$src/go.mod")
    have=$(go env GOVERSION 2>/dev/null | sed -e 's/^go//' -e 's/[^0-9.].*$//') || have=""
    if [ -z "$have" ] || [ "$(printf '%s\n%s\n' "$want" "$have" | sort -V | head -n 1)" != "$want" ]; then
      need_go=true
      echo "Go ${have:-(none)} on PATH is older than go $want: installing it."
    else
      echo "Using Go $have from PATH."
    fi
  else
    echo "Reusing storesign built earlier in this job."
  fi
  {
    echo "path=$bin"
    echo "need-build=$need_build"
    echo "need-go=$need_go"
  } >>"$out"
  ;;
build)
  mkdir -p "$bindir"
  start=$SECONDS
  (cd "$src" && GOTOOLCHAIN=local GOFLAGS=-mod=readonly go build -o "$bin.tmp.$$" ./cmd/storesign)
  mv -f "$bin.tmp.$$" "$bin"
  printf '%s\n' "$src" >"$stamp"
  echo "Built storesign in $((SECONDS - start))s."
  ;;
*)
  echo "usage: storesign-bin.sh check|build" >&2
  exit 2
  ;;
esac
