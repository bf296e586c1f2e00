#!/usr/bin/env bash
# Prints the section of CHANGELOG.md for one version, the release notes of
# its GitHub release (.github/workflows/release.yml). Fails when there is no
# such section, so that a tag without its changelog entry is not released.
#
#   bash scripts/release-notes.sh v1.2.3 [CHANGELOG.md]
set -euo pipefail

version="${1:?usage: release-notes.sh vX.Y.Z [CHANGELOG.md]}"
version="${version#v}"
changelog="${2:-$(dirname "$0")/../CHANGELOG.md}"

notes=$(awk -v v="$version" '
  /^## \[/ {
    if (found) exit
    h = $0; sub(/^## \[/, "", h); sub(/\].*$/, "", h)
    if (h == v) { found = 1; next }
  }
  /^\[[^]]+\]: / { if (found) exit }
  found { print }
' "$changelog")
if [ -z "$(printf '%s' "$notes" | tr -d '[:space:]')" ]; then
  echo "release-notes: $changelog has no section \"## [$version]\": add one (move the Unreleased entries into it) before tagging v$version" >&2
  exit 1
fi
printf '%s\n' "$notes" | sed -e '/./,$!d'
