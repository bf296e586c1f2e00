#!/usr/bin/env bash
# The store steps of the release action (action.yml): uploads the signed
# build (INPUT_FILE) to Google Play ("store-upload.sh play") or to App
# Store Connect ("store-upload.sh appstore") with the upload script of
# actions/play-upload or actions/appstore-upload, which sets the step
# outputs and appends the store's result and link to the step summary.
#
# The release names its store inputs play-* and asc-*: they are handed to
# the upload script under its own names. Errors speak the planner's words:
# an empty input, and each storesign flag an error mentions, is named as
# planner-names (INPUT_PLANNER_NAMES) says ("Fix the secret
# ASC_KEY_BASE64"). The Play credentials are play-credentials, else
# credentials-json (the service account that reads Drive usually does
# Play too), else the ones google-github-actions/auth set up.
set -euo pipefail

store=${1:-}
case "$store" in
play) flags=(--track=play-track --status=play-status --user-fraction=play-user-fraction
  --release-name=play-release-name --release-notes-dir=play-release-notes-dir
  --expect-cert-sha256=play-expect-cert-sha256
  --changes-not-sent-for-review=play-changes-not-sent-for-review) ;;
appstore) flags=(--api-key-id=asc-key-id --api-issuer=asc-issuer-id --api-key=asc-key-base64 --wait=asc-wait) ;;
*)
  echo "usage: store-upload.sh play|appstore" >&2
  exit 2
  ;;
esac

# planner-names: input -> the planner's words.
declare -A words=()
while IFS= read -r line; do
  line=${line%$'\r'}
  case "$line" in *=*) ;; *) continue ;; esac
  in=${line%%=*}
  in=${in//[[:space:]]/}
  read -r -a w <<<"${line#*=}"
  [ -n "$in" ] && [ "${in:0:1}" != "#" ] && [ "${#w[@]}" -gt 0 ] || continue
  words[$in]="${w[*]}"
done <<<"${INPUT_PLANNER_NAMES:-}"

# name is how the planner sees an input.
name() {
  if [ -n "${words[$1]:-}" ]; then echo "${words[$1]}"; else echo "input $1"; fi
}

# rename names the planner's words in place of the inputs (with a dash,
# such as asc-key-id) a message mentions.
rename() {
  local msg=$1 in w
  for in in "${!words[@]}"; do
    [[ "$in" == *-* && "$in" =~ ^[a-z0-9-]+$ ]] || continue
    w=$(sed 's/[\/&]/\\&/g' <<<"${words[$in]}")
    msg=$(sed -E ":a;s/(^|[^a-z0-9_-])$in([^a-z0-9_-]|\$)/\1$w\2/;ta" <<<"$msg")
  done
  printf '%s' "$msg"
}

# fail writes an annotation about input $1 and the step summary, and exits.
fail() {
  local in=$1 msg title head
  msg=$(rename "$2")
  if [ -n "${words[$in]:-}" ]; then
    title="Fix the ${words[$in]}"
    head="${words[$in]} (input $in)"
  else
    title="Fix the $in input"
    head="input $in"
  fi
  printf '### %s\n\n%s %s\n' "$title" "$head" "$msg" >>"${GITHUB_STEP_SUMMARY:-/dev/null}"
  echo "::error title=$title::$head $msg"
  exit 1
}

if [ -z "${INPUT_FILE:-}" ]; then
  echo "::error title=No signed build::the re-sign step left no signed build to upload"
  exit 1
fi

if [ "$store" = play ]; then
  creds=play-credentials
  INPUT_PLAY_CREDENTIALS=${INPUT_PLAY_CREDENTIALS:-}
  if [ -z "${INPUT_PLAY_CREDENTIALS//[[:space:]]/}" ]; then
    creds=credentials-json
    INPUT_PLAY_CREDENTIALS=${INPUT_CREDENTIALS_JSON:-}
  fi
  flags+=(--credentials="$creds")
  export INPUT_TRACK=${INPUT_PLAY_TRACK:-}
  export INPUT_STATUS=${INPUT_PLAY_STATUS:-}
  export INPUT_USER_FRACTION=${INPUT_PLAY_USER_FRACTION:-}
  export INPUT_RELEASE_NAME=${INPUT_PLAY_RELEASE_NAME:-}
  export INPUT_RELEASE_NOTES_DIR=${INPUT_PLAY_RELEASE_NOTES_DIR:-}
  export INPUT_CHANGES_NOT_SENT_FOR_REVIEW=${INPUT_PLAY_CHANGES_NOT_SENT_FOR_REVIEW:-}
  export INPUT_EXPECT_CERT_SHA256=${INPUT_PLAY_EXPECT_CERT_SHA256:-}
  export INPUT_CREDENTIALS=$INPUT_PLAY_CREDENTIALS
  export INPUT_PACKAGE_NAME=""
  export INPUT_MAPPING=""
  case "${INPUT_CHANGES_NOT_SENT_FOR_REVIEW}" in
  true | True | TRUE | yes | false | False | FALSE | no | "") ;;
  *) fail play-changes-not-sent-for-review "is \"$INPUT_CHANGES_NOT_SENT_FOR_REVIEW\": use true or false" ;;
  esac
  [ -n "${INPUT_TRACK//[[:space:]]/}" ] || fail play-track "is empty: set the track (internal, alpha, beta, production or a closed testing track)"
  unset INPUT_PLAY_CREDENTIALS INPUT_CREDENTIALS_JSON
else
  for in in asc-key-id asc-issuer-id asc-key-base64; do
    v=INPUT_${in^^}
    v=${v//-/_}
    v=${!v:-}
    [ -n "${v//[[:space:]]/}" ] || fail "$in" "is empty: the App Store Connect upload needs asc-key-id, asc-issuer-id and asc-key-base64 (App Store Connect > Users and Access > Integrations)"
  done
  export INPUT_WAIT=${INPUT_ASC_WAIT:-}
fi

# flagwords names the planner's words in place of the storesign flags
# a text mentions. Whole flags only: --api-key is not --api-key-id.
flagwords() {
  local text=$1 f flag w
  for f in "${flags[@]}"; do
    flag=${f%%=*}
    w=$(name "${f#*=}" | sed 's/[\/&]/\\&/g')
    text=$(sed -E ":a;s/(^|[^a-z-])$flag([^a-z-]|\$)/\1$w\2/;ta" <<<"$text")
  done
  # Play's wrong signer: "... or correct the expected fingerprint".
  local fp="the expected fingerprint" in=play-expect-cert-sha256
  if [ "$store" = play ] && [ -n "${words[$in]:-}" ]; then
    text=${text//"$fp"/"$fp (${words[$in]})"}
  fi
  printf '%s' "$text"
}

# firstflag is the input of the first flag a text mentions that
# planner-names names, if any.
firstflag() {
  local f
  for f in "${flags[@]}"; do
    if [[ "$1" =~ (^|[^a-z-])"${f%%=*}"([^a-z-]|$) ]] && [ -n "${words[${f#*=}]:-}" ]; then
      echo "${f#*=}"
      return
    fi
  done
}

# translate rewrites the upload script's error annotations in the
# planner's words, titled with the first input they mention.
translate() {
  local line title rest in
  while IFS= read -r line; do
    if [[ "$line" != "::error title="* ]]; then
      printf '%s\n' "$line"
      continue
    fi
    rest=${line#::error title=}
    title=${rest%%::*}
    rest=${rest#*::}
    in=$(firstflag "$rest")
    [ -z "$in" ] || title="Fix the ${words[$in]}"
    printf '::error title=%s::%s\n' "$title" "$(flagwords "$rest")"
  done
}

# The upload script's own files go to a folder removed on the way out.
tmp=$(mktemp -d "${RUNNER_TEMP:-/tmp}/storesign-store-XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT
script="$STORESIGN_SRC/actions/play-upload/upload.sh"
[ "$store" = play ] || script="$STORESIGN_SRC/actions/appstore-upload/upload.sh"
summary=${GITHUB_STEP_SUMMARY:-}
before=0
[ -z "$summary" ] || [ ! -f "$summary" ] || before=$(wc -c <"$summary")
set +e
RUNNER_TEMP=$tmp bash "$script" | translate
status=${PIPESTATUS[0]}
set -e
if [ "$status" != 0 ] && [ -n "$summary" ] && [ -f "$summary" ]; then
  # The failure's summary, in the planner's words too.
  part=$(tail -c "+$((before + 1))" "$summary")
  truncate -s "$before" "$summary"
  printf '%s\n' "$(flagwords "$part")" >>"$summary"
fi
exit "$status"
