# TDP: `make run` serves the demo on http://127.0.0.1:8000 (SQLite + a django-q2 worker); `make test` runs lint and
# every test on a private PostgreSQL it starts itself.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test install lint format migrate demo benchmark clean

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

# The web server and a django-q2 worker together; Ctrl-C (or either one ending) stops both.
run: demo
	@$(PY) manage.py qcluster & worker=$$!; \
	$(PY) manage.py runserver 127.0.0.1:$${PORT:-8000} & web=$$!; \
	trap 'kill $$web $$worker 2>/dev/null; wait $$web $$worker 2>/dev/null' EXIT INT TERM; \
	echo "TDP on http://127.0.0.1:$${PORT:-8000}/ with a background worker. Ctrl-C stops both."; \
	wait -n $$web $$worker

test:
	bash .ci/test.sh

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

benchmark: install
	$(PY) manage.py benchmark

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
