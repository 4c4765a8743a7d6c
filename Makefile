# Entry points. `make run` and `make test` work from a fresh clone: they install what they need.
SHELL := /bin/bash
BOT_PY := .venv-bot/bin/python
SERVICE_PY := .venv-service/bin/python
export TF_CPP_MIN_LOG_LEVEL := 2
NLU ?= data/tests/nlu_holdout.yml
OUT ?= results/eval-nlu

.PHONY: envs run test train eval-nlu content-check validate lint clean purge bench nlu-report

envs:
	@bash scripts/setup_envs.sh

run: envs
	@$(SERVICE_PY) scripts/stack.py run

test:
	@bash scripts/test.sh

train: envs
	@$(SERVICE_PY) scripts/stack.py train

# Rasa's standard NLU reports for the newest model on any NLU file (see docs/architecture.md).
eval-nlu: envs
	@$(SERVICE_PY) scripts/stack.py train
	@mkdir -p "$(OUT)"
	$(BOT_PY) -m rasa test nlu --model "$$($(SERVICE_PY) scripts/stack.py model)" --nlu "$(NLU)" --out "$(OUT)" --successes

# Compares NLU pipelines (every independent file in data/tests, 5-fold CV), times `make train`,
# benchmarks /model/parse and rewrites docs/nlu.md and docs/nlu_confusion.png (slow: about an
# hour from scratch; runs are cached in results/nlu_report/).
nlu-report: envs
	@$(SERVICE_PY) scripts/stack.py train
	$(BOT_PY) scripts/nlu_report.py --measure

content-check: envs
	@$(BOT_PY) -m bot.content_check

validate: envs
	$(BOT_PY) -m rasa data validate --fail-on-warnings --config bot/config.yml --domain bot/domain.yml --data data/nlu data/rules

# Hard-deletes closed conversations older than RETENTION_DAYS (the service also does it hourly).
purge: envs
	@$(SERVICE_PY) -m handoff_service.retention

# Claim, position and push costs at 100/1,000/10,000 waiting (docs/performance.md).
bench: envs
	@$(SERVICE_PY) bench/queue_bench.py --postgres

# ruff check, ruff format --check and mypy (files in pyproject.toml); make test runs it first.
lint: envs
	.venv-service/bin/ruff check handoff_service bot scripts tests bench
	.venv-service/bin/ruff format --check handoff_service bot scripts tests bench
	.venv-service/bin/mypy

clean:
	rm -rf .venv-bot .venv-service .venv-tools build var results
