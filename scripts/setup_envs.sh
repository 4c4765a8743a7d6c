#!/usr/bin/env bash
# Creates (or refreshes) the two Python environments: the bot's (3.10, Rasa) and the service's.
# Re-running is cheap: an environment is rebuilt only when pyproject.toml changed.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
stamp="$(deps_stamp)"

if [ ! -x "$UV" ]; then
  log "installing uv (fast installer) into .venv-tools"
  "$(python_modern)" -m venv "$TOOLS_VENV"
  "$TOOLS_VENV/bin/pip" install --quiet --disable-pip-version-check uv
fi
export UV_LINK_MODE=copy

if [ "$(cat "$BOT_VENV/.stamp" 2>/dev/null)" != "$stamp" ]; then
  log "creating the bot environment (Python 3.10, Rasa 3.6.21) in .venv-bot"
  [ -d "$BOT_VENV" ] || "$UV" venv --quiet --python "$(python310)" "$BOT_VENV"
  "$UV" pip install --quiet --python "$BOT_VENV/bin/python" -e ".[bot,bot-test]"
  echo "$stamp" > "$BOT_VENV/.stamp"
fi

if [ ! -f "$SPACY_DA_DIR/meta.json" ] || [ "$(cat "$SPACY_DA_DIR/.stamp" 2>/dev/null)" != "$stamp" ]; then
  log "building the Danish spaCy pipeline (blank da + lookup lemmatizer) in build/spacy_da"
  "$BOT_VENV/bin/python" -m bot.build_spacy_da "$SPACY_DA_DIR"
  echo "$stamp" > "$SPACY_DA_DIR/.stamp"
fi

if [ "$(cat "$SERVICE_VENV/.stamp" 2>/dev/null)" != "$stamp" ]; then
  log "creating the handoff service environment in .venv-service"
  [ -d "$SERVICE_VENV" ] || "$UV" venv --quiet --python "$(python_modern)" "$SERVICE_VENV"
  "$UV" pip install --quiet --python "$SERVICE_VENV/bin/python" -e ".[service,service-test]"
  echo "$stamp" > "$SERVICE_VENV/.stamp"
fi
log "environments ready"
