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
# Compiled once, beside the lint and type checks (mypy keeps one core busy; the other is
# free). Where PYTHONDONTWRITEBYTECODE is set (this reference machine sets it), every Python
# process would otherwise compile again what it imports: the project's modules (importing
# the console and the engine took 3.4 s of CPU instead of 1.6 s, in each worker and each
# engine or CLI the tests start as a child process) and, in each pytest worker, the test
# modules as pytest rewrites their asserts (collecting them took 17 s of CPU instead of 6 s).
# pytest reads the rewritten modules it finds cached whatever that variable says.
precompile_log=$(mktemp)
(
  python -m compileall -q -j 0 engine console widgets benchmarks tests resources scripts &&
    PYTHONDONTWRITEBYTECODE= pytest --collect-only -q -p no:cacheprovider -p no:xvfb
) >"$precompile_log" 2>&1 &
precompile=$!
# Each check is a command of its own: under `set -e` a failure on the left of `&&` does not
# stop the script (a lint error once passed the whole run this way).
echo "== ruff";          ruff check .; ruff format --check .;    lap ruff
echo "== mypy";          mypy;                                   lap mypy
echo "== import-linter"; lint-imports;                           lap import-linter
if ! wait "$precompile"; then cat "$precompile_log"; echo "compiling the modules failed" >&2; exit 1; fi
rm -f "$precompile_log";                                         lap compile
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
