#!/usr/bin/env bash
# Uploads INPUT_FILE to Google Play with "storesign play upload --json" and
# reports the result: step outputs (package-name, version-code, track,
# status, sha256, link), the step summary and, on failure, an error
# annotation with storesign's one-line reason (Play's, in plain words).
# The service account key is read by storesign from the environment
# (--credentials env:INPUT_CREDENTIALS): it never touches the disk.
set -euo pipefail

# shellcheck source=../scripts/upload-common.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/../scripts/upload-common.sh"

require_inputs "" INPUT_FILE INPUT_TRACK
upload_dir

args=(play upload --json --track "$INPUT_TRACK" --status "${INPUT_STATUS:-completed}")
[ -z "${INPUT_PACKAGE_NAME:-}" ] || args+=(--package "$INPUT_PACKAGE_NAME")
[ -z "${INPUT_USER_FRACTION:-}" ] || args+=(--user-fraction "$INPUT_USER_FRACTION")
[ -z "${INPUT_RELEASE_NAME:-}" ] || args+=(--release-name "$INPUT_RELEASE_NAME")
[ -z "${INPUT_RELEASE_NOTES_DIR:-}" ] || args+=(--release-notes-dir "$INPUT_RELEASE_NOTES_DIR")
[ -z "${INPUT_MAPPING:-}" ] || args+=(--mapping "$INPUT_MAPPING")
[ -z "${INPUT_EXPECT_CERT_SHA256:-}" ] || args+=(--expect-cert-sha256 "$INPUT_EXPECT_CERT_SHA256")
case "${INPUT_CHANGES_NOT_SENT_FOR_REVIEW:-false}" in
true | True | TRUE | yes) args+=(--changes-not-sent-for-review) ;;
false | False | FALSE | no | "") ;;
*)
  echo "::error title=Bad input::changes-not-sent-for-review must be true or false"
  exit 1
  ;;
esac
if [ -n "${INPUT_CREDENTIALS//[[:space:]]/}" ]; then
  args+=(--credentials env:INPUT_CREDENTIALS)
fi

summary=${GITHUB_STEP_SUMMARY:-/dev/null}
status=0
"$STORESIGN" "${args[@]}" -- "$INPUT_FILE" >"$dir/result.json" 2> >(tee "$dir/stderr.txt" >&2) || status=$?
wait
[ "$status" = 0 ] || upload_failed "Google Play upload failed" "Google Play upload failed" "$status"

pkg=$(field package)
code=$(field versionCode)
name=$(field versionName)
track=$(field track)
state=$(field status)
fraction=$(field userFraction)
release=$(field releaseName)
sha=$(field sha256)
link=$(field storeUrl)
{
  echo "package-name=$pkg"
  echo "version-code=$code"
  echo "track=$track"
  echo "status=$state"
  echo "sha256=$sha"
  echo "link=$link"
} >> "${GITHUB_OUTPUT:-/dev/null}"
rollout=$state
if [ -n "$fraction" ]; then
  rollout="$state to $(awk -v f="$fraction" 'BEGIN { printf "%g%%", f * 100 }') of users"
fi
{
  echo "### Uploaded to Google Play"
  echo
  echo "| | |"
  echo "|---|---|"
  echo "| App | \`$pkg\` ${name:+$name }($code) |"
  echo "| Track | $track |"
  echo "| Status | $rollout |"
  [ -z "$release" ] || echo "| Release | $release |"
  echo "| SHA-256 | \`$sha\` |"
  echo "| Link | [$link]($link) |"
} >>"$summary"
echo "Uploaded $pkg ($code) to $track: $rollout"
