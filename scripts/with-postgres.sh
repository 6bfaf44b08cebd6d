#!/usr/bin/env bash
# Runs a command with a throw-away PostgreSQL: initdb + pg_ctl as the `postgres` user in a
# temporary folder, on a private loopback port; stopped and deleted when the command ends.
# The database URL is in $FIELDPOST_PG_URL for the command.
#
#   scripts/with-postgres.sh cargo run --release -p fieldpost-cli -- serve --db '$FIELDPOST_PG_URL' ...
#   scripts/with-postgres.sh sh -c 'fieldpost serve --db "$FIELDPOST_PG_URL" --data-dir /tmp/pgdata --demo'
#
# The Rust tests do not need this script: crates/server/tests/common/postgres.rs does the same.
# Installs the Debian package `postgresql` when its binaries are absent (needs root).
set -euo pipefail

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
    echo "with-postgres: installing the Debian package postgresql" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql
    bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)
fi

as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

dir=$(mktemp -d /tmp/fieldpost-pg.XXXXXX)
[ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

cleanup() {
    as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
}
trap cleanup EXIT

as_pg "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 >/dev/null
as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1" start >/dev/null
as_pg "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -q -c "CREATE DATABASE fieldpost"

export FIELDPOST_PG_URL="postgres://postgres@127.0.0.1:$port/fieldpost"
echo "with-postgres: PostgreSQL $("$bin/postgres" --version | awk '{print $3}') at $FIELDPOST_PG_URL" >&2
"$@"
