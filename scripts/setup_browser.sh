#!/usr/bin/env bash
# Installs what the browser tests need, idempotently: Debian's Chromium (Playwright drives it; no
# browser download) and axe-core from npm into build/npm, served to the page under test locally.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

apt_install() {
  # apt-get update only when the package is not known to apt yet (fresh machine, empty lists).
  if ! apt-cache show "$@" >/dev/null 2>&1; then
    apt-get update -qq
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

if [ ! -x /usr/bin/chromium ]; then
  log "installing Debian's chromium"
  apt_install chromium
fi
# Young people write emoji; without a colour emoji font the screenshots show empty boxes.
if ! dpkg -s fonts-noto-color-emoji >/dev/null 2>&1; then
  log "installing an emoji font for the browser"
  apt_install fonts-noto-color-emoji
fi
if ! command -v npm >/dev/null 2>&1; then
  log "installing node and npm"
  apt_install nodejs npm
fi
if [ ! -f build/npm/node_modules/axe-core/axe.min.js ]; then
  log "installing axe-core (npm) into build/npm"
  mkdir -p build/npm
  npm install --silent --no-save --no-audit --no-fund --prefix build/npm axe-core@4 >/dev/null
fi
log "browser test tools ready: $(/usr/bin/chromium --version 2>/dev/null | head -n1), axe-core $(node -p "require('./build/npm/node_modules/axe-core/package.json').version")"
