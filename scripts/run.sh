#!/usr/bin/env bash
# Sets everything up, then opens the Watchfloor console on the built-in demo site.
# Extra arguments go to `watchfloor` (e.g. --site my_site.toml, --db URL).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
exec .venv/bin/watchfloor "$@"
