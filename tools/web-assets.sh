#!/usr/bin/env bash
# Install the desk's front-end libraries from the npm registry and copy the files the browser
# loads into src/parley/web/static/vendor/ (not committed; see .gitignore):
#
#     tools/web-assets.sh
#
# `npm ci` installs exactly what web/package-lock.json pins (integrity-checked) into
# web/node_modules; no package script runs. The copy is skipped when the vendor folder already
# holds the files of this lock (a stamp of the lock's checksum), so a second run costs nothing.
# Nothing is fetched while the server runs: the desk only loads files copied here.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
web="$repo/web"
vendor="$repo/src/parley/web/static/vendor"
stamp="$vendor/.lock-$(cksum < "$web/package-lock.json" | cut -d' ' -f1)"

[[ -f "$stamp" ]] && exit 0

if ! command -v npm > /dev/null; then
    # a fresh machine may have no Node.js: Debian's npm package brings it (as root)
    bash "$repo/tools/system-packages.sh" npm || {
        echo "tools/web-assets.sh: npm not found and cannot be installed (apt-get install npm as root)" >&2
        exit 1
    }
fi
(cd "$web" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)

# source (under web/node_modules) -> name in the vendor folder. MapLibre 6 is an ES module that
# starts its worker from the file beside it (maplibre-gl-worker.mjs). milsymbol's one-file build
# (UMD) defines globalThis.ms when imported as a module (symbols.js does).
files=(
    "maplibre-gl/dist/maplibre-gl.mjs maplibre-gl.mjs"
    "maplibre-gl/dist/maplibre-gl-worker.mjs maplibre-gl-worker.mjs"
    "maplibre-gl/dist/maplibre-gl.css maplibre-gl.css"
    "maplibre-gl/LICENSE.txt maplibre-gl.LICENSE.txt"
    "milsymbol/dist/milsymbol.js milsymbol.js"
    "milsymbol/LICENSE milsymbol.LICENSE.txt"
)
rm -rf "$vendor"
mkdir -p "$vendor"
for pair in "${files[@]}"; do
    read -r source name <<< "$pair"
    cp "$web/node_modules/$source" "$vendor/$name"
done
touch "$stamp"
echo "tools/web-assets.sh: copied ${#files[@]} files into ${vendor#"$repo"/}" >&2
