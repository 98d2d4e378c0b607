#!/usr/bin/env bash
# Writes PNG screenshots of every view of the console on the demo site (first-run and lock
# screens, layouts, panes, administration pages, dialogs; 1400x860 and 1920x1080) to
# artifacts/screenshots/
# (the test starts its own Xvfb through pytest-xvfb).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
export WATCHFLOOR_SCREENSHOT_DIR="$PWD/artifacts/screenshots"
.venv/bin/pytest -q tests/e2e/test_screenshots.py
ls -1 "$WATCHFLOOR_SCREENSHOT_DIR"
