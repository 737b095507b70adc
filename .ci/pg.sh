#!/usr/bin/env bash
# Private PostgreSQL cluster for tests: `source .ci/pg.sh; pg_start; ...; pg_stop`.
# Runs as the `postgres` OS user (PostgreSQL refuses root), in a temporary folder, on a free loopback port.
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}

pg_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

pg_as() {
  if [ "$(id -u)" = "0" ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

pg_start() {
  PG_DIR=$(mktemp -d /tmp/tdp-pg.XXXXXX)
  PG_PORT=$(pg_free_port)
  if [ "$(id -u)" = "0" ]; then chown postgres "$PG_DIR"; fi
  pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -U tdp --auth=trust -E UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1 \
    || { cat "$PG_DIR/initdb.log"; return 1; }
  pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 start \
    -o "-h 127.0.0.1 -p $PG_PORT -k $PG_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    >/dev/null || { cat "$PG_DIR/server.log"; return 1; }
  export DATABASE_URL="postgres://tdp@127.0.0.1:$PG_PORT/tdp"
  pg_as "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U tdp tdp
  echo "PostgreSQL running on 127.0.0.1:$PG_PORT ($PG_DIR)"
}

pg_stop() {
  if [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR/data" ]; then
    pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
  fi
}
