#!/usr/bin/env bash
# Builds the docs site and the one-folder PyInstaller app (dist/watchfloor/, the site inside
# it), and runs its --selftest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
# The docs site, bundled by build.spec as the data folder docs-site (the console's Help opens it).
rm -rf build/docs-site
NO_MKDOCS_2_WARNING=1 .venv/bin/mkdocs build --strict --quiet --site-dir build/docs-site
.venv/bin/pyinstaller --noconfirm --clean --log-level WARN build.spec
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
QT_QPA_PLATFORM=offscreen WATCHFLOOR_DATA_DIR="$tmp" WATCHFLOOR_CONFIG_DIR="$tmp" \
  dist/watchfloor/watchfloor --selftest
