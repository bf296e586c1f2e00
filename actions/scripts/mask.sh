#!/usr/bin/env bash
# Masks every secret input before anything else runs or prints: each
# INPUT_* variable whose name says it holds a secret (base64 files,
# passwords, credentials), whole and line by line. The storesign step that
# decodes them masks what it derives from them (decoded text, canonical
# base64) in turn.
set -euo pipefail

mask() {
  local v=$1
  v=${v//'%'/'%25'}
  v=${v//$'\r'/'%0D'}
  printf '::add-mask::%s\n' "$v"
}

n=0
while IFS= read -r var; do
  value=${!var-}
  [ -n "${value//[[:space:]]/}" ] || continue
  # A trailing line break, which pasting a secret often adds, is not part
  # of it.
  while [[ "$value" == *$'\n' || "$value" == *$'\r' ]]; do value=${value%?}; done
  n=$((n + 1))
  if [[ "$value" != *$'\n'* ]]; then
    # One line: masked whole, however short.
    mask "$value"
    trimmed=${value#"${value%%[![:space:]]*}"}
    trimmed=${trimmed%"${trimmed##*[![:space:]]}"}
    [ "$trimmed" = "$value" ] || mask "$trimmed"
    continue
  fi
  # A pipe, not a here-string: bash may put a long here-string in a
  # temporary file, and the secret must not touch the disk.
  printf '%s\n' "$value" | while IFS= read -r line; do
    line=${line%$'\r'}
    trimmed=${line#"${line%%[![:space:]]*}"}
    trimmed=${trimmed%"${trimmed##*[![:space:]]}"}
    # Lines of punctuation ("{", "},") in a JSON key are no secret: masking
    # them would hide every brace of the log.
    if [ "${#trimmed}" -lt 3 ] || [[ ! "$trimmed" =~ [[:alnum:]] ]]; then continue; fi
    mask "$line"
    [ "$trimmed" = "$line" ] || mask "$trimmed"
  done
done < <(compgen -e | grep -E '^INPUT_.*(BASE64|PASSWORD|CREDENTIALS|SECRET|TOKEN|KEY_JSON).*$' || true)
echo "Masked $n secret inputs."
