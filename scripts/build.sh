#!/usr/bin/env bash
# Builds the one-folder PyInstaller app (dist/watchfloor/) and runs its --selftest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
.venv/bin/pyinstaller --noconfirm --clean --log-level WARN build.spec
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
QT_QPA_PLATFORM=offscreen WATCHFLOOR_DATA_DIR="$tmp" WATCHFLOOR_CONFIG_DIR="$tmp" \
  dist/watchfloor/watchfloor --selftest
