# Developer entry points. With no environment variables everything runs on the embedded defaults
# (SQLite in var/, kombu's filesystem broker); DATABASE_URL / CELERY_BROKER_URL switch to PostgreSQL / Redis.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.requirements-installed
DEMO_PORT ?= 8000
CLAIMS ?= 100000
PYTEST_ARGS ?=

.PHONY: setup migrate demo test lint bench-adjudication bench-payments

## setup: create .venv (if missing) and install requirements-dev.txt; a no-op when nothing changed
setup: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check -q -r requirements-dev.txt
	@touch $@

## migrate: apply the database migrations
migrate: setup
	$(BIN)/python manage.py migrate --noinput

## demo: seed the demo data, then run web + Celery worker + beat until Ctrl-C
demo: migrate
	$(BIN)/python manage.py seed_demo
	@pids=(); \
	stop() { \
		trap - INT TERM; \
		echo; echo "Stopping web, worker and beat..."; \
		kill -TERM "$${pids[@]}" 2>/dev/null; \
		wait "$${pids[@]}" 2>/dev/null; \
		echo "Stopped."; \
	}; \
	trap 'stop; exit 0' INT TERM; \
	$(BIN)/python manage.py runserver --noreload 0.0.0.0:$(DEMO_PORT) & pids+=($$!); \
	$(BIN)/celery -A config worker -l info --concurrency 2 & pids+=($$!); \
	$(BIN)/celery -A config beat -l info \
		--scheduler django_celery_beat.schedulers:DatabaseScheduler & pids+=($$!); \
	sleep 3; \
	echo; \
	echo "================================================================"; \
	echo " TPA claims demo: http://127.0.0.1:$(DEMO_PORT)/ (dashboards; the admin at /admin/)"; \
	echo " Training sessions at /training/; the API's docs at /api/docs/"; \
	echo " Logins (password: demo): provider, examiner, supervisor, trainer (/training/),"; \
	echo "   employer, carrier, member, admin; provider2, employer2, member2"; \
	echo " Web, Celery worker and beat are running; Ctrl-C stops all three."; \
	echo "================================================================"; \
	echo; \
	wait -n "$${pids[@]}"; rc=$$?; \
	echo "A demo process exited (status $$rc)."; \
	stop; exit 1

## test: the whole test suite (PYTEST_ARGS="-k foo" to narrow it)
test: setup
	@$(BIN)/pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: that is a failure"; fi; \
	exit $$rc

## lint: ruff over the whole tree, and the floors of the code (import-linter, pyproject.toml)
lint: setup
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache

## bench-adjudication / bench-payments: time the batch jobs on CLAIMS (default 100000) claims
bench-adjudication: migrate
	$(BIN)/python manage.py bench_adjudication --claims $(CLAIMS)

bench-payments: migrate
	$(BIN)/python manage.py bench_payments --claims $(CLAIMS)

## mutation: mutation testing of claims/engine.py (mutmut; configuration in pyproject.toml [tool.mutmut]).
## Runs on a copy of the tree in var/mutation with mutmut in its own venv (var/mutation-venv), so neither
## the tree nor .venv is touched; prints the counts and the survivors. Not part of CI (10-20 min on 2 cores).
MUTMUT_VERSION ?= 3.8.1
MUTATION_JOBS ?= 2
MUTATION_VENV := var/mutation-venv
MUTATION_DIR := var/mutation
MUTATION_STAMP := $(MUTATION_VENV)/.installed-$(MUTMUT_VERSION)

.PHONY: mutation
mutation: $(MUTATION_STAMP)
	rm -rf $(MUTATION_DIR)
	mkdir -p $(MUTATION_DIR)
	tar -cf - --exclude=./.git --exclude=./.venv --exclude=./var --exclude='__pycache__' --exclude=./mutants . \
		| tar -xf - -C $(MUTATION_DIR)
	cd $(MUTATION_DIR) && HYPOTHESIS_PROFILE=ci PYTHONHASHSEED=0 nice -n 10 \
		$(CURDIR)/$(MUTATION_VENV)/bin/mutmut run --max-children $(MUTATION_JOBS) > mutmut-run.log 2>&1 \
		|| { tail -c 3000 mutmut-run.log; exit 1; }
	cd $(MUTATION_DIR) && $(CURDIR)/$(MUTATION_VENV)/bin/mutmut export-cicd-stats >/dev/null \
		&& cat mutants/mutmut-cicd-stats.json && echo \
		&& echo "Not killed (see the equivalent ones listed in tests/claims/test_engine_pins.py):" \
		&& $(CURDIR)/$(MUTATION_VENV)/bin/mutmut results

$(MUTATION_STAMP): requirements.txt requirements-dev.txt
	@test -x $(MUTATION_VENV)/bin/python || $(PYTHON) -m venv $(MUTATION_VENV)
	$(MUTATION_VENV)/bin/python -m pip install --disable-pip-version-check -q -r requirements-dev.txt \
		mutmut==$(MUTMUT_VERSION)
	@touch $@
