#!/usr/bin/env bash
# Uploads INPUT_FILE to App Store Connect with "storesign appstore upload
# --json" and reports the result: step outputs (build-id, build-upload-id,
# state, link), the step summary and, on failure, an error annotation
# with storesign's one-line reason. The API key is read by storesign from
# the environment (env:INPUT_ASC_KEY_BASE64): it never touches the disk.
set -euo pipefail

# shellcheck source=../scripts/upload-common.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/../scripts/upload-common.sh"

require_inputs " (the key and IDs come from App Store Connect > Users and Access > Integrations)" INPUT_FILE INPUT_ASC_KEY_ID INPUT_ASC_ISSUER_ID INPUT_ASC_KEY_BASE64
upload_dir

wait=${INPUT_WAIT:-0}
[ -n "$wait" ] || wait=0
# A bare number is minutes.
if [[ "$wait" =~ ^[0-9]+$ ]]; then wait="${wait}m"; fi

summary=${GITHUB_STEP_SUMMARY:-/dev/null}
# stdout (the JSON) to a file; stderr (progress, the error) both to the
# log and to a file, for the summary.
set +e
"$STORESIGN" appstore upload --json \
  --api-key env:INPUT_ASC_KEY_BASE64 --api-key-id "$INPUT_ASC_KEY_ID" --api-issuer "$INPUT_ASC_ISSUER_ID" \
  --wait "$wait" --progress -- "$INPUT_FILE" 2>&1 >"$dir/result.json" | tee "$dir/stderr.txt" >&2
status=${PIPESTATUS[0]}
set -e
[ "$status" = 0 ] || upload_failed "App Store Connect upload failed" "App Store upload failed" "$status"

build_id=$(field build_id)
upload_id=$(field build_upload_id)
state=$(field state)
link=$(field url)
bundle=$(field bundle_id)
version=$(field version)
build=$(field build)
final=$(field final)
{
  echo "build-id=$build_id"
  echo "build-upload-id=$upload_id"
  echo "state=$state"
  echo "link=$link"
} >> "${GITHUB_OUTPUT:-/dev/null}"
note=""
if [ "$final" != "true" ]; then
  note=" (App Store Connect is still processing it: it shows in TestFlight when done)"
fi
{
  echo "### Uploaded to App Store Connect"
  echo
  echo "| | |"
  echo "|---|---|"
  echo "| App | \`$bundle\` $version ($build) |"
  echo "| Build upload | \`$upload_id\` |"
  echo "| Build | \`${build_id:-not yet}\` |"
  echo "| State | $state$note |"
  echo "| Link | [$link]($link) |"
} >>"$summary"
echo "Uploaded $bundle $version ($build): $state$note"
echo "$link"
