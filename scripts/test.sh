#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs, trains if needed, runs every test layer.
# Any failing step fails the run; pytest's "no tests ran" (exit 5) counts as a failure.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
export TF_CPP_MIN_LOG_LEVEL=2
mkdir -p artifacts

step() { log "$*"; }

step "environments"
bash scripts/setup_envs.sh

step "lint (ruff check, ruff format --check, mypy)"
make --no-print-directory lint

step "content library check"
"$BOT_VENV/bin/python" -m triage_core.content_check

step "rasa data validate --fail-on-warnings"
"$BOT_VENV/bin/python" -m rasa data validate --fail-on-warnings \
  --config bot/config.yml --domain bot/domain.yml --data data/nlu data/rules

step "model for the current data"
"$SERVICE_VENV/bin/python" scripts/stack.py train

step "dialogue test conversations (rasa test core --fail-on-prediction-errors)"
"$BOT_VENV/bin/python" -m rasa test core --model "$("$SERVICE_VENV/bin/python" scripts/stack.py model)" \
  --stories data/tests/test_dialogue.yml --fail-on-prediction-errors --out artifacts/rasa-core

step "bot tests (actions, components, content, NLU regression)"
"$BOT_VENV/bin/python" -m pytest tests/bot -q

step "PostgreSQL for the handoff service tests (Debian's server, temporary folder, loopback)"
trap 'bash scripts/postgres.sh stop' EXIT
PG_TEST_URL="$(bash scripts/postgres.sh start)"

# The in-process service tests run on two workers (each its own database); the ones marked
# `alone` measure load or timing and run after them with the machine to themselves.
service_tests() {
  "$SERVICE_VENV/bin/python" -m pytest tests/handoff_service -q -n 2 --dist loadfile \
    -m "not alone" --durations=12
  "$SERVICE_VENV/bin/python" -m pytest tests/handoff_service -q -m alone
}

step "handoff service (SQLite), faults under a minute (on PostgreSQL; make faults runs the slow ones), end-to-end tests"
service_tests
# MODEL_LOOP=1: the trainer's whole loop on its tiny fixture (three real trainings, ~2 min) is
# part of it; the page's own model test stays in make test-model-loop.
MODEL_LOOP=1 "$SERVICE_VENV/bin/python" -m pytest tests/e2e -q --durations=12
TEST_DATABASE_URL="$PG_TEST_URL" "$SERVICE_VENV/bin/python" -m pytest tests/faults -q -m "not slow"

step "the cluster: 2 service processes behind haproxy, 2 Rasa, PostgreSQL, Redis (tests/cluster, ~2-4 min)"
TEST_DATABASE_URL="$PG_TEST_URL" "$SERVICE_VENV/bin/python" -m pytest tests/cluster -q -m cluster

step "browser test tools (chromium, axe-core)"
bash scripts/setup_browser.sh

step "browser tests (Playwright on Debian's Chromium)"
"$SERVICE_VENV/bin/python" -m pytest tests/browser -q --durations=8

step "handoff service against PostgreSQL (incl. 20 counsellors claiming 1,000 concurrently)"
TEST_DATABASE_URL="$PG_TEST_URL" service_tests

log "all tests passed"
