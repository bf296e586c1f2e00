#!/usr/bin/env bash
# Points the major tag (v1) at a release's commit, through the GitHub API
# (gh, with GH_TOKEN), after .github/workflows/release.yml published it.
# Users who pin "@v1" then run the newest v1.x.y. A pre-release, or a patch
# of an older line (v1.2.9 once v1.3.0 is out), leaves the tag where it is.
#
#   bash scripts/move-major-tag.sh v1.2.3 COMMIT OWNER/NAME
#   STORESIGN_DRY_RUN=1 ...   print what it would do, with the local tags
set -euo pipefail

tag="${1:?usage: move-major-tag.sh vX.Y.Z COMMIT OWNER/NAME}"
sha="${2:?usage: move-major-tag.sh vX.Y.Z COMMIT OWNER/NAME}"
repo="${3:?usage: move-major-tag.sh vX.Y.Z COMMIT OWNER/NAME}"

if ! [[ "$tag" =~ ^v[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  echo "$tag is a pre-release: the major tag stays where it is."
  exit 0
fi
major="${tag%%.*}"
newest=$(git tag --list "$major.*" | grep -E '^v[0-9]+\.[0-9]+\.[0-9]+$' | sort -V | tail -n 1)
if [ "$newest" != "$tag" ]; then
  echo "$newest is newer than $tag: $major stays on $newest."
  exit 0
fi
if [ -n "${STORESIGN_DRY_RUN:-}" ]; then
  echo "would move $major of $repo to $tag ($sha)"
  exit 0
fi
if gh api "repos/$repo/git/ref/tags/$major" >/dev/null 2>&1; then
  gh api --method PATCH "repos/$repo/git/refs/tags/$major" -f sha="$sha" -F force=true >/dev/null
else
  gh api --method POST "repos/$repo/git/refs" -f ref="refs/tags/$major" -f sha="$sha" >/dev/null
fi
echo "Moved $major to $tag ($sha): workflows using $repo@$major run it."
