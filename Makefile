# TDP: `make run` serves the demo on http://127.0.0.1:8000 (gunicorn, DEBUG off, SQLite + a django-q2 worker);
# `make test` runs lint and every test on a private PostgreSQL it starts itself; `make dev` is the autoreloading
# development server (DEBUG on) for people changing the code.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run dev static test install lint format migrate demo benchmark loadtest clean sdk

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py createcachetable

demo: migrate
	$(PY) manage.py load_demo

# `make run`: gunicorn (tdp/gunicorn_run.py: 2 workers x 4 threads, keep-alive) on tdp.settings.run (DEBUG off,
# static files collected into var/staticfiles and served by whitenoise) and one django-q2 worker. Ctrl-C (or either
# one ending) stops both.
RUN_SETTINGS := DJANGO_SETTINGS_MODULE=tdp.settings.run

static: install
	$(RUN_SETTINGS) $(PY) manage.py collectstatic --noinput --verbosity 0

run: demo static
	@$(RUN_SETTINGS) $(PY) manage.py qcluster & worker=$$!; \
	$(RUN_SETTINGS) $(VENV)/bin/gunicorn -c tdp/gunicorn_run.py tdp.wsgi & web=$$!; \
	trap 'kill $$web $$worker 2>/dev/null; wait $$web $$worker 2>/dev/null' EXIT INT TERM; \
	echo "TDP on http://127.0.0.1:$${PORT:-8000}/ (gunicorn, DEBUG off) with a background worker. Ctrl-C stops both."; \
	wait -n $$web $$worker

# `make dev`: Django's autoreloading server with DEBUG on (tdp.settings.dev) and a django-q2 worker.
dev: demo
	@DB_CONN_MAX_AGE=0 $(PY) manage.py qcluster & worker=$$!; \
	DB_CONN_MAX_AGE=0 $(PY) manage.py runserver 127.0.0.1:$${PORT:-8000} & web=$$!; \
	trap 'kill $$web $$worker 2>/dev/null; wait $$web $$worker 2>/dev/null' EXIT INT TERM; \
	echo "TDP (development server, DEBUG on) on http://127.0.0.1:$${PORT:-8000}/ with a background worker."; \
	wait -n $$web $$worker

test:
	bash .ci/test.sh

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

benchmark: install
	$(PY) manage.py benchmark

# The full load test (3 minutes: 50 labelers, 5 reviewers, a 100,000-row import and exports at once) on a
# scaled-out stack it starts itself; prints p50/p95 per endpoint as JSON (also written to var/loadtest.json).
loadtest: install
	mkdir -p var
	source .ci/pg.sh && trap pg_stop EXIT && pg_start && \
	TDP_LOAD_SECONDS=$${TDP_LOAD_SECONDS:-180} TDP_LOAD_IMPORT_ROWS=$${TDP_LOAD_IMPORT_ROWS:-100000} \
	TDP_LOAD_LABEL_ROWS=$${TDP_LOAD_LABEL_ROWS:-20000} TDP_LOAD_REPORT=$(CURDIR)/var/loadtest.json \
	$(VENV)/bin/pytest tests/scale/test_load.py -n 0 -s -q

# The Python SDK and `tdp` CLI as a wheel in dist/ (docs/sdk.md).
sdk: install
	$(PY) -m pip wheel --quiet --no-deps -w dist ./sdk
	@ls dist/tdp_sdk-*.whl

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache dist sdk/build sdk/*.egg-info
