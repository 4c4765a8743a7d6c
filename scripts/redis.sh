#!/usr/bin/env bash
# A throw-away Redis for the cluster (make run-cluster, tests/cluster, bench/cluster_bench.py):
# Debian's redis-server, listening on 127.0.0.1 only, a password, its own folder under var/,
# nothing persisted (it holds Rasa's conversation locks only), stopped and deleted by `stop`.
#
#   scripts/redis.sh start   # installs redis-server if missing, prints redis://:PASSWORD@127.0.0.1:PORT
#   scripts/redis.sh url     # prints the URL of the running server
#   scripts/redis.sh stop    # stops the server and deletes its folder
#
# REDIS_PORT=<port> picks a fixed port; by default a free one.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
STATE_FILE="$ROOT/var/redis-cluster.env"
REDIS_DIR="$ROOT/var/redis-cluster"

ensure_installed() {
  command -v redis-server >/dev/null 2>&1 && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "Redis is not installed; run as root or: sudo apt-get install -y redis-server" >&2
    return 1
  fi
  log "installing Debian's redis-server"
  # --no-install-recommends: the server alone (redis-tools comes with it); Debian's service
  # is not started in a container without systemd, and this script never uses it.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends redis-server >&2 ||
    { apt-get update -q >&2 &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends redis-server >&2; }
  command -v redis-server >/dev/null 2>&1
}

free_port() {
  "$(python_modern)" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

url_from_state() {
  # shellcheck disable=SC1090
  source "$STATE_FILE"
  echo "redis://:$REDIS_PASSWORD@127.0.0.1:$REDIS_PORT"
}

running() {
  [ -f "$STATE_FILE" ] || return 1
  # shellcheck disable=SC1090
  source "$STATE_FILE"
  [ -f "$REDIS_DIR/redis.pid" ] && kill -0 "$(cat "$REDIS_DIR/redis.pid")" 2>/dev/null
}

start() {
  if running; then
    url_from_state
    return 0
  fi
  rm -f "$STATE_FILE"
  ensure_installed
  local port password
  port="${REDIS_PORT:-$(free_port)}"
  password="$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')"
  rm -rf "$REDIS_DIR"
  mkdir -p "$REDIS_DIR"
  chmod 700 "$REDIS_DIR"
  umask 077
  # The password is in the owner-only config file, never on a command line (ps shows those).
  cat > "$REDIS_DIR/redis.conf" <<EOF
bind 127.0.0.1
protected-mode yes
port $port
requirepass $password
daemonize yes
pidfile $REDIS_DIR/redis.pid
logfile $REDIS_DIR/redis.log
dir $REDIS_DIR
save ""
appendonly no
databases 4
EOF
  log "Redis in $REDIS_DIR on 127.0.0.1:$port"
  redis-server "$REDIS_DIR/redis.conf" >/dev/null
  local i
  for i in $(seq 1 50); do
    if REDISCLI_AUTH="$password" redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null | grep -q PONG; then
      printf 'REDIS_PORT=%q\nREDIS_PASSWORD=%q\n' "$port" "$password" > "$STATE_FILE"
      url_from_state
      return 0
    fi
    sleep 0.1
  done
  cat "$REDIS_DIR/redis.log" >&2 || true
  echo "redis-server did not answer on 127.0.0.1:$port" >&2
  return 1
}

stop() {
  if [ -f "$REDIS_DIR/redis.pid" ]; then
    local pid
    pid="$(cat "$REDIS_DIR/redis.pid")"
    if kill "$pid" 2>/dev/null; then
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
  fi
  [ -f "$STATE_FILE" ] || [ -d "$REDIS_DIR" ] || return 0
  rm -rf "$REDIS_DIR"
  rm -f "$STATE_FILE"
  log "Redis stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  url) running && url_from_state || { echo "not running" >&2; exit 1; } ;;
  *) echo "usage: $0 start|url|stop" >&2; exit 2 ;;
esac
