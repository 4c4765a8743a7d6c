# Shared helpers for the project's scripts. Source it; do not run it.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BOT_VENV="$ROOT/.venv-bot"
SERVICE_VENV="$ROOT/.venv-service"
TOOLS_VENV="$ROOT/.venv-tools"
UV="$TOOLS_VENV/bin/uv"
SPACY_DA_DIR="$ROOT/build/spacy_da"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

python310() {
  local candidate
  if command -v pyenv >/dev/null 2>&1; then
    candidate="$(pyenv prefix 3.10 2>/dev/null | head -n1)/bin/python3.10"
    [ -x "$candidate" ] && { echo "$candidate"; return; }
  fi
  for candidate in python3.10 /usr/bin/python3.10 /usr/local/bin/python3.10; do
    command -v "$candidate" >/dev/null 2>&1 && { command -v "$candidate"; return; }
  done
  echo "no Python 3.10 found (pyenv prefix 3.10 or python3.10 on PATH); Rasa 3.6 needs it" >&2
  return 1
}

python_modern() {
  local candidate
  for candidate in python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      command -v "$candidate"; return
    fi
  done
  echo "no Python >= 3.11 found for the handoff service" >&2
  return 1
}

# A stamp that changes when the dependency declarations change.
deps_stamp() { sha256sum "$ROOT/pyproject.toml" | cut -c1-16; }
