#!/usr/bin/env bash
# Finds, downloads or builds the storesign binary the actions run, once per
# job.
#
#   storesign-bin.sh check   reuses the binary of an earlier step, or
#                            downloads the release binary of the action's
#                            ref; sets the step outputs path, need-build,
#                            need-go (and gocache, gomodcache, cache-key
#                            for the build from source)
#   storesign-bin.sh build   builds $RUNNER_TEMP/storesign-bin/storesign
#
# Environment:
#   STORESIGN_SRC                the module root of the action
#                                (github.action_path, or two folders up for
#                                actions/*); required
#   STORESIGN_ACTION_REF         github.action_ref: v1, v1.2.3, a commit SHA
#                                or a branch; empty for a local action
#                                (uses: ./), which is built from source.
#                                The runner's folder of the action
#                                (_actions/OWNER/NAME/REF) wins over it.
#   STORESIGN_ACTION_REPOSITORY  github.action_repository (owner/name)
#   STORESIGN_RELEASE_BASE_URL   where releases are downloaded from:
#                                $BASE/v1.2.3/storesign_1.2.3_linux_amd64.tar.gz
#                                (default $GITHUB_SERVER_URL/OWNER/NAME/releases/download)
#   STORESIGN_RELEASE_GIT_URL    the Git remote whose tags say which release
#                                a moving tag (v1) or a commit SHA is
#                                (default $GITHUB_SERVER_URL/OWNER/NAME.git)
#   STORESIGN_BUILD_FROM_SOURCE  true: never download, always build
#
# The release binary is used only when its SHA-256 matches the release's
# checksums file: a mismatch fails the step. No release for the ref (a
# branch, a commit no release tag points at), no network or a failed
# download fall back to building from source, with the Go module and build
# caches restored by actions/cache under a key of go.sum.
set -euo pipefail

src=$(cd "${STORESIGN_SRC:?STORESIGN_SRC is not set}" && pwd -P)
bindir="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/storesign-bin"
exe=""
case "${RUNNER_OS:-$(uname -s)}" in
Windows | MINGW* | MSYS* | CYGWIN*) exe=".exe" ;;
esac
bin="$bindir/storesign$exe"
stamp="$bindir/source"
out="${GITHUB_OUTPUT:-/dev/stdout}"

tmp=""
trap 'if [ -n "$tmp" ]; then rm -rf "$tmp"; fi' EXIT

semver='^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$'

# platform prints GoReleaser's os_arch for this runner, or nothing.
platform() {
  local os arch
  case "${RUNNER_OS:-$(uname -s)}" in
  Linux) os=linux ;;
  macOS | Darwin) os=darwin ;;
  Windows | MINGW* | MSYS* | CYGWIN*) os=windows ;;
  *) return 0 ;;
  esac
  case "${RUNNER_ARCH:-$(uname -m)}" in
  X64 | x86_64 | amd64) arch=amd64 ;;
  ARM64 | aarch64 | arm64) arch=arm64 ;;
  *) return 0 ;;
  esac
  echo "${os}_$arch"
}

# action_ref prints the repository and ref of the action: from where the
# runner put it (.../_actions/OWNER/NAME/REF), else from the environment.
# The folder comes first: in a composite action github.action_ref can be
# empty, or the ref of an outer composite action (actions/runner#2473).
action_ref() {
  local ref="${STORESIGN_ACTION_REF:-}" repo="${STORESIGN_ACTION_REPOSITORY:-}"
  if [[ "$src" =~ /_actions/([^/]+)/([^/]+)/([^/]+)$ ]]; then
    ref=${BASH_REMATCH[3]}
    repo="${BASH_REMATCH[1]}/${BASH_REMATCH[2]}"
  fi
  printf '%s %s\n' "${repo:-storesign/storesign}" "$ref"
}

# tag_commits prints "COMMIT TAG" for each tag of the remote, annotated
# tags peeled to their commit.
tag_commits() {
  GIT_TERMINAL_PROMPT=0 GIT_ASKPASS=false git -c http.lowSpeedLimit=1000 -c http.lowSpeedTime=15 \
    ls-remote --tags "$1" 2>/dev/null |
    awk '{
      name = $2; sub("^refs/tags/", "", name)
      if (name ~ /\^\{\}$/) { sub(/\^\{\}$/, "", name); peeled[name] = $1 } else { direct[name] = $1 }
    }
    END { for (n in direct) print ((n in peeled) ? peeled[n] : direct[n]), n }'
}

# release_version prints the version (1.2.3) of the release the ref is:
# a release tag itself, a moving tag (v1, v1.2) or a commit SHA that a
# release tag points at. Nothing for any other ref.
release_version() {
  local ref=$1 git_url=$2 tags commit prefix="" v
  if [[ "$ref" =~ $semver ]]; then
    echo "${ref#v}"
    return 0
  fi
  if [[ "$ref" =~ ^v[0-9]+(\.[0-9]+)?$ ]]; then
    prefix="$ref."
  elif ! [[ "$ref" =~ ^[0-9a-f]{40}$ ]]; then
    return 0 # a branch, a short SHA: no release
  fi
  command -v git >/dev/null || return 0
  tags=$(tag_commits "$git_url") || return 0
  if [ -n "$prefix" ]; then
    commit=$(awk -v t="$ref" '$2 == t { print $1 }' <<<"$tags")
  else
    commit=$ref
  fi
  [ -n "$commit" ] || return 0
  # The release tags on that commit (of the moving tag's series): the
  # newest, a final release before a pre-release.
  v=$(awk -v c="$commit" -v p="$prefix" '$1 == c && index($2, p) == 1 { print $2 }' <<<"$tags" | grep -E "$semver" |
    awk '{ print (index($0, "-") ? 0 : 1), $0 }' | sort -k1,1n -k2,2V | tail -n 1 | cut -d' ' -f2) || true
  if [ -n "$v" ]; then
    echo "${v#v}"
  fi
}

sha256() {
  if command -v sha256sum >/dev/null; then
    sha256sum "$1" | cut -d' ' -f1
  else
    shasum -a 256 "$1" | cut -d' ' -f1
  fi
}

fetch() {
  curl -fsSL --proto '=https,http' --retry 2 --connect-timeout 10 --max-time 300 -o "$2" "$1"
}

# download installs the release binary of version into $bin. It returns 1
# when the release cannot be downloaded (the caller builds instead) and
# exits 1 when the archive does not match the checksums file.
download() {
  local version=$1 base=$2 plat=$3 ext=tar.gz asset sums want got start=$SECONDS
  [ "${plat%%_*}" != windows ] || ext=zip
  command -v curl >/dev/null || return 1
  asset="storesign_${version}_${plat}.$ext"
  sums="storesign_${version}_checksums.txt"
  tmp=$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/storesign-download.XXXXXX")
  if ! fetch "$base/v$version/$sums" "$tmp/$sums" || ! fetch "$base/v$version/$asset" "$tmp/$asset"; then
    echo "::warning title=storesign setup::Could not download $asset of release v$version: building storesign from source instead."
    return 1
  fi
  want=$(awk -v f="$asset" '$2 == f || $2 == "*" f { print tolower($1); exit }' "$tmp/$sums")
  got=$(sha256 "$tmp/$asset")
  if [ -z "$want" ]; then
    echo "::error title=storesign setup::$sums of release v$version lists no $asset: the release is incomplete or was changed; not running it."
    exit 1
  fi
  if [ "$want" != "$got" ]; then
    echo "::error title=storesign setup::$asset of release v$version has SHA-256 $got, but $sums says $want: the download was damaged or tampered with; not running it."
    exit 1
  fi
  # Called as an if condition, this function runs without set -e: each
  # step that can fail says so.
  mkdir -p "$tmp/x" "$bindir" || return 1
  if [ "$ext" = zip ]; then
    if command -v unzip >/dev/null; then unzip -q "$tmp/$asset" -d "$tmp/x"; else tar -xf "$tmp/$asset" -C "$tmp/x"; fi
  else
    tar -xzf "$tmp/$asset" -C "$tmp/x"
  fi || true
  if [ ! -f "$tmp/x/storesign$exe" ]; then
    echo "::warning title=storesign setup::$asset holds no storesign$exe: building storesign from source instead."
    return 1
  fi
  chmod +x "$tmp/x/storesign$exe"
  if ! "$tmp/x/storesign$exe" version >/dev/null 2>&1; then
    echo "::warning title=storesign setup::storesign$exe of $asset does not run here: building storesign from source instead."
    return 1
  fi
  mv -f "$tmp/x/storesign$exe" "$bin" || return 1
  printf '%s\n' "$src" >"$stamp" || return 1
  echo "Downloaded storesign v$version ($plat) in $((SECONDS - start))s, SHA-256 $got matches $sums."
}

case "${1:-}" in
check)
  need_build=true
  if [ -x "$bin" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$src" ]; then
    need_build=false
    echo "Reusing storesign set up earlier in this job."
  elif [ "${STORESIGN_BUILD_FROM_SOURCE:-}" = true ]; then
    echo "STORESIGN_BUILD_FROM_SOURCE is true: building storesign from source."
  else
    read -r repo ref <<<"$(action_ref)"
    server="${GITHUB_SERVER_URL:-https://github.com}"
    version=""
    if [ -n "$ref" ]; then
      version=$(release_version "$ref" "${STORESIGN_RELEASE_GIT_URL:-$server/$repo.git}")
    fi
    plat=$(platform)
    if [ -z "$version" ]; then
      echo "No storesign release for ${ref:+ref }${ref:-this local action}: building storesign from source."
    elif [ -z "$plat" ]; then
      echo "No storesign release binary for this runner ($(uname -s) $(uname -m)): building storesign from source."
    elif download "$version" "${STORESIGN_RELEASE_BASE_URL:-$server/$repo/releases/download}" "$plat"; then
      need_build=false
    fi
  fi
  need_go=false
  gocache="" gomodcache="" key=""
  if [ "$need_build" = true ]; then
    # A Go on PATH at least as new as go.mod's go line is used as it is;
    # otherwise actions/setup-go installs the version go.mod names.
    want=$(awk '$1 == "go" { print $2; exit }' "$src/go.mod")
    have=$(go env GOVERSION 2>/dev/null | sed -e 's/^go//' -e 's/[^0-9.].*$//') || have=""
    if [ -z "$have" ] || [ "$(printf '%s\n%s\n' "$want" "$have" | sort -V | head -n 1)" != "$want" ]; then
      need_go=true
      echo "Go ${have:-(none)} on PATH is older than go $want: installing it."
      gocache="${GOCACHE:-$HOME/.cache/go-build}"
      gomodcache="${GOMODCACHE:-${GOPATH:-$HOME/go}/pkg/mod}"
    else
      echo "Using Go $have from PATH."
      gocache=$(go env GOCACHE)
      gomodcache=$(go env GOMODCACHE)
    fi
    key="storesign-go-${RUNNER_OS:-$(uname -s)}-${RUNNER_ARCH:-$(uname -m)}-go$want-$(sha256 "$src/go.sum" | cut -c1-16)"
  fi
  {
    echo "path=$bin"
    echo "need-build=$need_build"
    echo "need-go=$need_go"
    if [ "$need_build" = true ]; then
      echo "gocache=$gocache"
      echo "gomodcache=$gomodcache"
      echo "cache-key=$key"
    fi
  } >>"$out"
  ;;
build)
  mkdir -p "$bindir"
  start=$SECONDS
  (
    cd "$src"
    if [ -n "${STORESIGN_GOCACHE:-}" ]; then export GOCACHE="$STORESIGN_GOCACHE"; fi
    if [ -n "${STORESIGN_GOMODCACHE:-}" ]; then export GOMODCACHE="$STORESIGN_GOMODCACHE"; fi
    # -trimpath: the build cache's entries do not depend on where the
    # runner put the action (its ref is in the path), so a restored cache
    # serves every ref.
    GOTOOLCHAIN=local GOFLAGS=-mod=readonly go build -trimpath -o "$bin.tmp.$$" ./cmd/storesign
  )
  mv -f "$bin.tmp.$$" "$bin"
  printf '%s\n' "$src" >"$stamp"
  echo "Built storesign from source in $((SECONDS - start))s."
  ;;
*)
  echo "usage: storesign-bin.sh check|build" >&2
  exit 2
  ;;
esac
