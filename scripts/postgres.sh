#!/usr/bin/env bash
# A throw-away PostgreSQL for the test suite and the benchmark: Debian's server, a cluster in a
# temporary folder, listening on loopback only, stopped and deleted again by `stop`.
#
#   scripts/postgres.sh start   # installs postgresql if missing, prints DATABASE_URL on stdout
#   scripts/postgres.sh url     # prints DATABASE_URL of the running cluster
#   scripts/postgres.sh restart [PAUSE]  # stops the cluster, waits PAUSE s, starts it again
#   scripts/postgres.sh stop    # stops the cluster and deletes its folder
#
# The cluster runs with fsync off: it holds test data only and is deleted after the run.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
STATE_FILE="$ROOT/var/postgres-test.env"
DB_NAME="handoff_test"
DB_USER="handoff"

pg_bindir() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    [ -x "$dir/pg_ctl" ] && { echo "$dir"; return 0; }
  done
  return 1
}

ensure_installed() {
  pg_bindir >/dev/null && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "PostgreSQL is not installed; run as root or: sudo apt-get install -y postgresql" >&2
    return 1
  fi
  log "installing Debian's postgresql"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2 ||
    { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2; }
  pg_bindir >/dev/null
}

# pg_ctl and initdb refuse to run as root, so root hands them to the postgres system user.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  "$(python_modern)" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The server's options, the same at every start: loopback only, the socket in the cluster's folder.
server_options() {
  echo "-c listen_addresses=127.0.0.1 -p $2 -k $1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
}

url_from_state() {
  # shellcheck disable=SC1090
  source "$STATE_FILE"
  echo "postgresql+psycopg://$DB_USER:$PG_PASSWORD@127.0.0.1:$PG_PORT/$DB_NAME"
}

start() {
  if [ -f "$STATE_FILE" ]; then
    # shellcheck disable=SC1090
    source "$STATE_FILE"
    if [ -n "${PG_DIR:-}" ] && as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" status >/dev/null 2>&1; then
      url_from_state
      return 0
    fi
    rm -f "$STATE_FILE"
  fi
  ensure_installed
  local bin dir port password
  bin="$(pg_bindir)"
  dir="$(mktemp -d /tmp/handoff-pg.XXXXXX)"
  port="$(free_port)"
  password="$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')"
  printf '%s\n' "$password" > "$dir/pwfile"
  chmod 700 "$dir"
  [ "$(id -u)" -eq 0 ] && chown -R postgres: "$dir"
  log "PostgreSQL cluster in $dir on 127.0.0.1:$port"
  as_owner "$bin/initdb" -D "$dir/data" -U "$DB_USER" --pwfile="$dir/pwfile" \
    --auth-host=scram-sha-256 --auth-local=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; return 1; }
  rm -f "$dir/pwfile"
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
    -o "$(server_options "$dir" "$port")" \
    >/dev/null || { cat "$dir/server.log" >&2; return 1; }
  PGPASSWORD="$password" "$bin/createdb" -h 127.0.0.1 -p "$port" -U "$DB_USER" "$DB_NAME"
  mkdir -p "$(dirname "$STATE_FILE")"
  umask 077
  printf 'PG_BIN=%q\nPG_DIR=%q\nPG_PORT=%q\nPG_PASSWORD=%q\n' "$bin" "$dir" "$port" "$password" > "$STATE_FILE"
  url_from_state
}

stop() {
  [ -f "$STATE_FILE" ] || return 0
  # shellcheck disable=SC1090
  source "$STATE_FILE"
  if [ -d "$PG_DIR/data" ]; then
    as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  case "$PG_DIR" in /tmp/handoff-pg.*) rm -rf "$PG_DIR" ;; esac
  rm -f "$STATE_FILE"
  log "PostgreSQL stopped"
}

# Stops the running cluster (fast: open connections are cut) and starts it again after PAUSE
# seconds with the same port, options and data: tests/faults/ restarts PostgreSQL under load.
restart() {
  [ -f "$STATE_FILE" ] || { echo "not running" >&2; return 1; }
  # shellcheck disable=SC1090
  source "$STATE_FILE"
  # Already stopped (a restart that failed half-way) is fine: it is started below.
  as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 60 stop >/dev/null 2>&1 || true
  sleep "${1:-0}"
  as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 start \
    -o "$(server_options "$PG_DIR" "$PG_PORT")" >/dev/null || { cat "$PG_DIR/server.log" >&2; return 1; }
  log "PostgreSQL restarted"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  restart) restart "${2:-0}" ;;
  url) [ -f "$STATE_FILE" ] && url_from_state || { echo "not running" >&2; exit 1; } ;;
  *) echo "usage: $0 start|url|restart [PAUSE]|stop" >&2; exit 2 ;;
esac
