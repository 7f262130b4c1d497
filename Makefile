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
	echo " TPA claims demo: http://127.0.0.1:$(DEMO_PORT)/admin/"; \
	echo " Logins (password: demo): provider, examiner, supervisor,"; \
	echo "   employer, carrier, member, admin"; \
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
