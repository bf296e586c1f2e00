#!/usr/bin/env bash
# Installs the reference tools storesign's oracle tests compare against:
#   - Debian's apksigner (31) and zipalign, and Java's jarsigner (openjdk);
#   - apksigner 35.0.2 from Debian trixie, unpacked into a private folder
#     (it needs a newer libapksig-java than bookworm ships, so it is not
#     installed system-wide).
# It prints nothing secret and is safe to run again.
#
# After it runs, $STORESIGN_ORACLES/bin holds apksigner35 (a wrapper).
set -euo pipefail

root="${STORESIGN_ORACLES:-$HOME/.cache/storesign-oracles}"
mkdir -p "$root/bin"

sudo_cmd=()
if [ "$(id -u)" != 0 ]; then sudo_cmd=(sudo); fi

need=()
command -v apksigner >/dev/null || need+=(apksigner)
command -v zipalign >/dev/null || need+=(zipalign)
command -v jarsigner >/dev/null || need+=(openjdk-17-jdk-headless)
command -v openssl >/dev/null || need+=(openssl)
command -v npm >/dev/null || need+=(nodejs npm)   # scripts/check-actions.sh
if [ ${#need[@]} -gt 0 ]; then
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# apksigner 35.0.2: Debian trixie's packages, fetched with a private apt state
# whose source is the machine's own Debian mirror with the suite set to trixie.
if [ ! -f "$root/apksigner35/usr/share/java/apksig.jar" ]; then
  state="$root/apt-trixie"
  rm -rf "$state"
  mkdir -p "$state/lists/partial" "$state/cache/archives/partial" "$state/etc" "$state/debs"
  src=/etc/apt/sources.list.d/debian.sources
  if [ -f "$src" ]; then
    uri=$(awk '/^URIs:/{print $2; exit}' "$src")
    keyring=$(awk '/^Signed-By:/{print $2; exit}' "$src")
  else
    uri=$(awk '$1=="deb"{print $2; exit}' /etc/apt/sources.list)
    keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  fi
  cat >"$state/etc/trixie.sources" <<SRC
Types: deb
URIs: $uri
Suites: trixie
Components: main
Signed-By: $keyring
SRC
  opts=(-o "Dir::Etc::SourceList=/dev/null"
        -o "Dir::Etc::SourceParts=$state/etc"
        -o "Dir::State=$state"
        -o "Dir::State::Lists=$state/lists"
        -o "Dir::State::status=/dev/null"
        -o "Dir::Cache=$state/cache"
        -o "Debug::NoLocking=1")
  apt-get "${opts[@]}" update -qq
  (cd "$state/debs" && apt-get "${opts[@]}" download apksigner libapksig-java libconscrypt-java libbcprov-java >/dev/null 2>&1 \
    || apt-get "${opts[@]}" download apksigner libapksig-java)
  rm -rf "$root/apksigner35"
  for d in "$state"/debs/*.deb; do dpkg -x "$d" "$root/apksigner35"; done
  rm -rf "$state"
fi

cat >"$root/bin/apksigner35" <<WRAP
#!/bin/sh
cp=""
for j in "$root"/apksigner35/usr/share/java/*.jar "$root"/apksigner35/usr/lib/android-sdk/build-tools/*/lib/*.jar; do
  [ -f "\$j" ] && cp="\$cp:\$j"
done
exec java \${APKSIGNER_JAVA_OPTS:-} -cp "\${cp#:}" com.android.apksigner.ApkSignerTool "\$@"
WRAP
chmod +x "$root/bin/apksigner35"
ls "$root"/apksigner35/usr/share/java/apksigner-35*.jar >/dev/null
echo "oracles in $root/bin"
