#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL server on 127.0.0.1 and its URL in
# WATCHFLOOR_TEST_PG_URL. Uses an already-set WATCHFLOOR_TEST_PG_URL as is.
set -euo pipefail
if [[ -n "${WATCHFLOOR_TEST_PG_URL:-}" ]]; then exec "$@"; fi
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [[ -z "$bindir" ]]; then
  if [[ "${CI:-}" == "true" ]]; then
    echo "with-postgres: no PostgreSQL server installed; CI must test against one" >&2
    exit 1
  fi
  echo "with-postgres: WARNING: no PostgreSQL server; PostgreSQL tests will be skipped" >&2
  exec "$@"
fi
# The server's files go in memory (/dev/shm) when it has room: each test copies a database
# from a template and drops it (~1,000 files each time), and on this machine's ext4 the
# kernel spent 0.36 s of CPU on each copy and drop (scanning for free inodes), against
# 0.03 s on tmpfs: 150 copies and drops took 54.5 s instead of 5.0 s, and PostgreSQL was
# 11 % of the test suite's CPU. The data is thrown away at the end either way.
parent=/tmp
if [[ -d /dev/shm && -w /dev/shm ]] &&
  (( $(df -Pk /dev/shm | awk 'NR == 2 {print $4}') > 2 * 1024 * 1024 )); then
  parent=/dev/shm
fi
datadir=$(mktemp -d "$parent/watchfloor-pg.XXXXXX")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_pg=()
if [[ $(id -u) -eq 0 ]]; then
  chown postgres "$datadir"
  as_pg=(runuser -u postgres --)
fi
"${as_pg[@]}" "$bindir/initdb" -D "$datadir" -A trust -U postgres -E UTF8 >/dev/null
"${as_pg[@]}" "$bindir/pg_ctl" -D "$datadir" -l "$datadir/server.log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $datadir -c fsync=off" start >/dev/null
cleanup() { "${as_pg[@]}" "$bindir/pg_ctl" -D "$datadir" -m fast -w stop >/dev/null || true; rm -rf "$datadir"; }
trap cleanup EXIT
export WATCHFLOOR_TEST_PG_URL="postgresql+psycopg://postgres@127.0.0.1:$port/postgres"
echo "with-postgres: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"
"$@"
