#!/usr/bin/env bash
# Sets everything up, then runs every check: ruff, mypy, import-linter, and pytest
# (with pytest-qt and pytest-xvfb) against SQLite and a real PostgreSQL server.
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh --dev
export PATH="$PWD/.venv/bin:$PATH"
echo "== ruff";          ruff check . && ruff format --check .
echo "== mypy";          mypy
echo "== import-linter"; lint-imports
echo "== pytest";        scripts/with-postgres.sh pytest "$@"
