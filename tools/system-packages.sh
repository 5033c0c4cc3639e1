#!/usr/bin/env bash
# Make sure the Debian packages Parley's tests and reports use are installed:
#
#     tools/system-packages.sh PACKAGE...
#
# Installs, with apt-get, those of the named packages that dpkg does not report as installed. Only
# root may install: anyone else gets one line naming what is missing and the command to run, and a
# non-zero exit. Already-installed packages cost one dpkg query and nothing is downloaded.
set -euo pipefail

missing=()
for package in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]]; then
    echo "tools/system-packages.sh: missing Debian packages: ${missing[*]} (as root: apt-get install -y ${missing[*]})" >&2
    exit 1
fi
echo "tools/system-packages.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
