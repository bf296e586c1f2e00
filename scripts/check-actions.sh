#!/usr/bin/env bash
# Lints the GitHub Actions of this repository:
#   - actionlint (pinned, run with "go run mod@version": nothing is added to
#     go.mod) over every workflow: .github/workflows/*.yml, whose self-test
#     uses ./ and each ./actions/* so that their inputs and outputs are
#     checked, and examples/workflows/*.yml;
#   - @action-validator/cli (pinned, npm-installed into a cache folder) over
#     every action.yml and every workflow, against the official schemas.
# The test that no run: script contains ${{ }} is a Go test (actions/).
#
#   bash scripts/check-actions.sh
#   STORESIGN_ACTIONS_TOOLS=DIR ...   where the npm tool is cached
set -euo pipefail
cd "$(dirname "$0")/.."

ACTIONLINT_VERSION=v1.7.12
ACTION_VALIDATOR_VERSION=0.6.0
tools="${STORESIGN_ACTIONS_TOOLS:-$HOME/.cache/storesign-actions}"

shopt -s nullglob
workflows=(.github/workflows/*.yml .github/workflows/*.yaml examples/workflows/*.yml examples/workflows/*.yaml)
actions=(action.yml actions/*/action.yml)
if [ "${#actions[@]}" -lt 5 ] || [ "${#workflows[@]}" -lt 1 ]; then
  echo "check-actions: found ${#actions[@]} action.yml and ${#workflows[@]} workflows: wrong folder?" >&2
  exit 1
fi

echo "== actionlint $ACTIONLINT_VERSION (${#workflows[@]} workflows)"
go run "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION" "${workflows[@]}"

validator="$tools/npm/node_modules/.bin/action-validator"
installed=$(node -p "require('$tools/npm/node_modules/@action-validator/cli/package.json').version" 2>/dev/null || true)
if [ "$installed" != "$ACTION_VALIDATOR_VERSION" ]; then
  echo "installing @action-validator/cli@$ACTION_VALIDATOR_VERSION into $tools/npm"
  mkdir -p "$tools/npm"
  npm install --prefix "$tools/npm" --no-audit --no-fund --no-save --silent "@action-validator/cli@$ACTION_VALIDATOR_VERSION"
fi
echo "== action-validator $ACTION_VALIDATOR_VERSION (${#actions[@]} actions, ${#workflows[@]} workflows)"
failed=0
for f in "${actions[@]}" "${workflows[@]}"; do
  if ! out=$("$validator" "$f" 2>&1); then
    echo "$f:"
    echo "$out"
    failed=1
  fi
done
if [ "$failed" != 0 ]; then
  exit 1
fi
echo "actions OK"
