# Sourced by actions/play-upload/upload.sh and actions/appstore-upload/upload.sh:
# what the two store upload scripts share.

# require_inputs HINT VAR...: each INPUT_* variable must not be blank, else
# an annotation names its input (INPUT_FILE is file) and the step fails.
require_inputs() {
  local hint=$1 v input
  shift
  for v in "$@"; do
    if [ -z "${!v//[[:space:]]/}" ]; then
      input=${v#INPUT_}
      input=${input,,}
      input=${input//_/-}
      echo "::error title=Missing input::the input $input is empty: set it$hint"
      exit 1
    fi
  done
}

# upload_dir makes the private folder of the upload's result and stderr
# (dir), and names it in the step output dir for the cleanup step.
upload_dir() {
  dir=$(mktemp -d "${RUNNER_TEMP:-/tmp}/storesign-secrets-XXXXXX")
  chmod 700 "$dir"
  echo "dir=$dir" >>"${GITHUB_OUTPUT:-/dev/null}"
}

# upload_failed HEAD TITLE STATUS: storesign's one-line reason (from
# $dir/stderr.txt) goes to the step summary under "### HEAD" and to an
# error annotation titled TITLE; the step exits with STATUS.
upload_failed() {
  local head=$1 title=$2 status=$3 msg
  msg=$(grep -m1 '^storesign: ' "$dir/stderr.txt" || tail -n 1 "$dir/stderr.txt" || true)
  msg=${msg#storesign: }
  {
    echo "### $head"
    echo
    echo "$(basename -- "$INPUT_FILE"): ${msg//$'\n'/ }"
  } >>"${GITHUB_STEP_SUMMARY:-/dev/null}"
  msg=${msg//'%'/'%25'}
  echo "::error title=$title::$msg"
  exit "$status"
}

# field prints the value of key $1 of the JSON storesign wrote to
# $dir/result.json (one "key": value per line).
field() {
  sed -n "s/^  \"$1\": \"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}$/\1/p" "$dir/result.json" | head -n 1
}
