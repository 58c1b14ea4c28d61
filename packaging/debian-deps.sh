#!/usr/bin/env bash
# Installs what building and testing wp needs on Debian 12 (as root).
# Quiet and quick when everything is already there.
set -euo pipefail

packages=(
  g++ cmake make pkg-config
  libcli11-dev libtomlplusplus-dev libspdlog-dev libfmt-dev libsqlite3-dev catch2
  # For the tests: xmllint checks JUnit reports against a schema; script(1)
  # runs wp under a pseudo-terminal.
  libxml2-utils bsdutils
  # mandoc lints the man pages; python3-jsonschema checks the manifest schema.
  mandoc python3 python3-jsonschema
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "packaging/debian-deps.sh: missing ${missing[*]}; run as root or install them" >&2
  exit 1
fi
echo "installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
