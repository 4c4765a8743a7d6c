# Entry points. `make run` and `make test` work from a fresh clone: they install what they need.
SHELL := /bin/bash
BOT_PY := .venv-bot/bin/python
SERVICE_PY := .venv-service/bin/python
export TF_CPP_MIN_LOG_LEVEL := 2
NLU ?= data/tests/nlu_holdout.yml
OUT ?= results/eval-nlu

.PHONY: help envs run test train eval-nlu content-check validate lint clean distclean purge bench bench-turn faults nlu-report export-labels compare-models promote test-model-loop run-cluster test-cluster

.DEFAULT_GOAL := help

envs: ## create or refresh the two Python environments
	@bash scripts/setup_envs.sh

run: envs ## start the chat, the dashboard, Rasa and the action server (SQLite)
	@$(SERVICE_PY) scripts/stack.py run

# The system as several processes (issue #18; docs/performance.md, "Several processes"):
# PostgreSQL and Redis from Debian (throw-away, loopback), 2 service processes behind haproxy,
# 2 Rasa servers (trackers in PostgreSQL, locks in Redis), the action server. PORT=<balancer>.
run-cluster: envs ## start 2 services + 2 Rasa behind haproxy, on PostgreSQL and Redis
	@$(SERVICE_PY) scripts/cluster.py run

# The cluster's end-to-end tests (tests/cluster: events across processes, a process killed
# mid-stream, Rasa crash and restart, retention once): about 2 min, up to 4-5 min on the busy
# shared 2 cores; make test runs them too (docs/performance.md).
test-cluster: envs ## the cluster's end-to-end tests (tests/cluster)
	@$(SERVICE_PY) scripts/stack.py train
	$(SERVICE_PY) -m pytest tests/cluster -q -m cluster

test: ## the whole suite, as CI runs it (installs everything first)
	@bash scripts/test.sh

train: envs ## train a model into models/ when the inputs changed
	@$(SERVICE_PY) scripts/stack.py train

# Rasa's standard NLU reports for the newest model on any NLU file (see docs/architecture.md).
eval-nlu: envs ## Rasa's NLU reports on NLU=<file> into OUT=<dir>
	@$(SERVICE_PY) scripts/stack.py train
	@mkdir -p "$(OUT)"
	$(BOT_PY) -m rasa test nlu --model "$$($(SERVICE_PY) scripts/stack.py model)" --nlu "$(NLU)" --out "$(OUT)" --successes

# Compares NLU pipelines (every independent file in data/tests, 5-fold CV), times `make train`,
# benchmarks /model/parse and rewrites docs/nlu.md and docs/nlu_confusion.png (slow: about an
# hour from scratch; runs are cached in results/nlu_report/).
nlu-report: envs ## compare NLU pipelines and rewrite docs/nlu.md (slow)
	@$(SERVICE_PY) scripts/stack.py train
	$(BOT_PY) scripts/nlu_report.py --measure

content-check: envs ## validate the approved content library
	@$(BOT_PY) -m triage_core.content_check

validate: envs ## rasa data validate --fail-on-warnings
	$(BOT_PY) -m rasa data validate --fail-on-warnings --config bot/config.yml --domain bot/domain.yml --data data/nlu data/rules

# The trainer's accepted labels into data/nlu (docs/trainer.md): written without marking them,
# validated with Rasa, then marked exported; a failed validation leaves them unmarked and the
# change in the working tree to review or revert. DRY_RUN=1 prints what would be written;
# NLU_DIR=<dir> writes into another copy of the NLU files (the database is DATABASE_URL's).
NLU_DIR ?= data/nlu
export-labels: envs ## accepted inbox labels into data/nlu, then rasa data validate (DRY_RUN=1)
ifdef DRY_RUN
	@$(SERVICE_PY) -m handoff_service.label_export --data-dir "$(NLU_DIR)" --dry-run
else
	@$(SERVICE_PY) -m handoff_service.label_export --data-dir "$(NLU_DIR)" --no-mark
	$(BOT_PY) -m rasa data validate --fail-on-warnings --config bot/config.yml --domain bot/domain.yml --data "$(NLU_DIR)" data/rules
	@$(SERVICE_PY) -m handoff_service.label_export --data-dir "$(NLU_DIR)" --mark-only
endif

# Trains a candidate model from the current config, domain and data into models/candidates/ (low
# CPU priority, one training at a time), scores it and the current model on every independent
# test file and writes reports/model_comparison.md/.json with its images; the gate there says
# whether `make promote` may use it (docs/trainer.md).
compare-models: envs ## train a candidate and compare it with the current model (reports/)
	nice -n 19 $(BOT_PY) scripts/compare_models.py

# The compared candidate becomes the current model (refused when the gate refused it); the
# running Rasa (make run) switches to it; audited. RESTORE=<promotion id> restores an older one.
promote: envs ## make the gated candidate the current model (RESTORE=<id>: an older one)
	@$(SERVICE_PY) -m handoff_service.model_registry $(if $(RESTORE),restore $(RESTORE),promote)

# The trainer's model loop on a tiny fixture with real processes and real trainings (2-5 min,
# so not in make test): inbox, label, export, a worse candidate refused, a better one promoted,
# restore; and the trainer page's model controls in Chromium (docs/trainer.md).
test-model-loop: envs ## the label-train-compare-promote loop, API (also in make test) and browser (tiny fixture)
	MODEL_LOOP=1 $(SERVICE_PY) -m pytest tests/e2e/test_model_loop.py -q
	MODEL_LOOP=1 $(SERVICE_PY) -m pytest tests/browser/test_trainer.py -q -k train_compare_promote

# Hard-deletes closed conversations older than RETENTION_DAYS (the service also does it hourly).
purge: envs ## hard-delete conversations past retention
	@$(SERVICE_PY) -m handoff_service.retention

# Claim, position and push costs at 100/1,000/10,000 waiting (docs/performance.md).
bench: envs ## queue costs at 100/1,000/10,000 waiting (PostgreSQL)
	@$(SERVICE_PY) bench/queue_bench.py --postgres

# ruff check, ruff format --check and mypy (files in pyproject.toml); make test runs it first.
lint: envs ## ruff check, ruff format --check, mypy
	.venv-service/bin/ruff check handoff_service triage_core bot scripts tests bench
	.venv-service/bin/ruff format --check handoff_service triage_core bot scripts tests bench
	.venv-service/bin/mypy

# Fault tests (tests/faults/, on a throw-away PostgreSQL; the ones under a minute also run in
# make test, the `slow` ones only here) and the burst measurement with and without the
# admission gate (docs/reliability.md).
faults: envs ## fault tests: kill -9, Rasa and PostgreSQL faults, restarts, a burst
	@$(SERVICE_PY) scripts/stack.py train
	@trap 'bash scripts/postgres.sh stop' EXIT; \
	  TEST_DATABASE_URL="$$(bash scripts/postgres.sh start)" $(SERVICE_PY) -m pytest tests/faults -q
	$(SERVICE_PY) scripts/measure_burst.py

# Reply latency through the whole stack; BEFORE=<checkout> compares with an older tree.
bench-turn: envs ## reply latency of a young person's turn (BEFORE=<dir> to compare)
	@$(SERVICE_PY) scripts/stack.py train
	$(SERVICE_PY) bench/turn_latency.py $(if $(BEFORE),--before $(BEFORE))

clean: ## remove test output and caches (keeps environments, models, var/, results/)
	rm -rf artifacts .pytest_cache .ruff_cache .mypy_cache *.egg-info
	find . -path ./.venv-bot -prune -o -path ./.venv-service -prune -o -path ./.venv-tools -prune \
	  -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean ## also environments, build/, models, results/ and var/ (database, secret)
	rm -rf .venv-bot .venv-service .venv-tools build var results
	find models -name '*.tar.gz' -delete

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z-]+):.*## (.*)/\1\t\2/' | \
	  awk -F'\t' '{printf "  make %-14s %s\n", $$1, $$2}'
