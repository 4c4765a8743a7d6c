#!/usr/bin/env bash
# The cluster's load balancer: Debian's haproxy on loopback, with scripts/haproxy-cluster.cfg
# (ports and run folder from the environment; scripts/cluster.py sets them).
#
#   scripts/haproxy.sh install      # installs haproxy if missing
#   scripts/haproxy.sh check        # validates the configuration with the current environment
#   scripts/haproxy.sh run          # runs haproxy in the foreground (scripts/cluster.py stops it)
#
# Environment: HAPROXY_RUN_DIR (socket and pid file), CLUSTER_HTTP_PORT, SERVICE_A_PORT,
# SERVICE_B_PORT, CLUSTER_RASA_PORT, RASA_1_PORT, RASA_2_PORT; HAPROXY_CONFIG another file.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
CONFIG="${HAPROXY_CONFIG:-$ROOT/scripts/haproxy-cluster.cfg}"

haproxy_bin() {
  local candidate
  for candidate in "$(command -v haproxy 2>/dev/null)" /usr/sbin/haproxy; do
    [ -n "$candidate" ] && [ -x "$candidate" ] && { echo "$candidate"; return 0; }
  done
  return 1
}

ensure_installed() {
  haproxy_bin >/dev/null && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "haproxy is not installed; run as root or: sudo apt-get install -y haproxy" >&2
    return 1
  fi
  log "installing Debian's haproxy"
  # Debian's own service is never started here (no systemd in the container; not used).
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends haproxy >&2 ||
    { apt-get update -q >&2 &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends haproxy >&2; }
  haproxy_bin >/dev/null
}

case "${1:-}" in
  install) ensure_installed ;;
  check) ensure_installed && "$(haproxy_bin)" -c -q -f "$CONFIG" ;;
  # -db: stay in the foreground, so the caller's process group holds it and stops it.
  run) ensure_installed && exec "$(haproxy_bin)" -db -f "$CONFIG" ;;
  *) echo "usage: $0 install|check|run" >&2; exit 2 ;;
esac
