#!/usr/bin/env bash
# Writes PNG screenshots of every view of the console on the demo site (first-run and lock
# screens, layouts, panes, administration pages, dialogs; 1400x860 and 1920x1080), and the
# pictures of the journeys through it (adding a camera, an operator's shift, lock and
# handover, an alert's evidence), to artifacts/screenshots/ (the tests start their own Xvfb
# through pytest-xvfb). Then refreshes the docs' pictures from them (scripts/docs_images.py:
# docs/images/, the screenshots the guides embed).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
export WATCHFLOOR_SCREENSHOT_DIR="$PWD/artifacts/screenshots"
.venv/bin/pytest -q tests/e2e/test_screenshots.py tests/console/test_camera_journey.py \
    tests/console/test_shift_journey.py tests/console/test_lock_screenshots.py \
    tests/widgets/test_alert_preview.py
.venv/bin/python scripts/docs_images.py
ls -1 "$WATCHFLOOR_SCREENSHOT_DIR"
