#!/usr/bin/env bash
# Sets everything up, then runs every check: ruff, mypy, import-linter, and pytest
# (with pytest-qt and pytest-xvfb) against SQLite and a real PostgreSQL server, in one
# pytest-xdist worker per core and one more (each worker has its own Xvfb, data dirs and
# databases).
# Extra arguments go to pytest.
#
#   scripts/check.sh           everything (the README's test command; CI runs this)
#   scripts/check.sh --quick   the inner loop while developing: the same lint and type checks,
#                              then the tests not marked `slow`, on SQLite only (no server).
#                              Not a substitute for the full run before landing.
set -euo pipefail
cd "$(dirname "$0")/.."
quick=0
if [[ "${1:-}" == "--quick" ]]; then quick=1; shift; fi
SECONDS=0
lap() { echo "== $1 done in ${SECONDS}s"; SECONDS=0; }
scripts/bootstrap.sh --dev;                                      lap bootstrap
export PATH="$PWD/.venv/bin:$PATH"
# Each check is a command of its own: under `set -e` a failure on the left of `&&` does not
# stop the script (a lint error once passed the whole run this way).
echo "== ruff";          ruff check .; ruff format --check .;    lap ruff
echo "== mypy";          mypy;                                   lap mypy
echo "== import-linter"; lint-imports;                           lap import-linter
# The project's modules compiled once. Where PYTHONDONTWRITEBYTECODE is set (this reference
# machine sets it), every Python process the tests start (each worker, each engine or CLI
# run as a child process) would otherwise compile them again: importing the console and the
# engine took 3.4 s of CPU instead of 1.6 s.
python -m compileall -q -j 0 engine console widgets benchmarks tests resources scripts
lap compile
# One worker per core and one more: with a worker per core, a quarter of the CPU stayed idle
# while tests waited on child processes, sockets and real-time video (vmstat over a whole run);
# idle workers take queued tests from busy ones; the 20 slowest tests printed, so each run says
# where time went.
workers=$(( $(nproc) + 1 ))
pytest_args=(-n "$workers" --dist worksteal --durations=20)
if (( quick )); then
  echo "== pytest (quick: not slow, SQLite only)"
  WATCHFLOOR_TEST_PG_URL= pytest "${pytest_args[@]}" -m "not slow and not postgres" "$@"
else
  echo "== pytest"
  scripts/with-postgres.sh pytest "${pytest_args[@]}" "$@"
fi
lap pytest
