#!/usr/bin/env bash
# Removes the folder of decoded secrets a "storesign action secrets" step
# made (SECRETS_DIR), whatever happened before. Runs with if: always().
set -euo pipefail
dir="${SECRETS_DIR:-}"
if [ -z "$dir" ]; then
  exit 0
fi
case "$(basename -- "$dir")" in
storesign-secrets-*) ;;
*)
  echo "::warning title=Secrets not removed::$dir is not a storesign secrets folder"
  exit 0
  ;;
esac
rm -rf -- "$dir"
echo "Removed the decoded secrets."
