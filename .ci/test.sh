#!/usr/bin/env bash
# `make test`: install what a fresh machine lacks, start a private PostgreSQL, lint, type-check, run every test
# (tests/scale starts its own PostgreSQL, Redis, S3, web and worker processes), and stop the database even when
# something fails.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql)
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
command -v runuser >/dev/null || need_apt+=(util-linux)
[ -x /usr/bin/redis-server ] || need_apt+=(redis-server)  # tests/scale: the django-q2 broker of a scaled-out stack
ldconfig -p | grep -q 'libvips\.so\.42' || need_apt+=(libvips42)  # pyvips (ABI mode): tile pyramids of large images
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "Installing system packages: ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" = "0" ] || SUDO="sudo"
  # wait for another apt (unattended upgrades, a parallel install) instead of failing on its lock
  $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${need_apt[@]}" >/dev/null
fi

make --no-print-directory install

source .ci/pg.sh
trap pg_stop EXIT
pg_start

export DJANGO_SETTINGS_MODULE=tdp.settings.test
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/lint-imports --no-cache  # the architecture contracts in pyproject.toml (docs/architecture.md)
.venv/bin/python manage.py makemigrations --check --dry-run >/dev/null \
  || { echo "Models changed without a migration: run makemigrations"; exit 1; }

set +e
# loadgroup: the scale tests (one xdist group) run one after another on one worker, beside everything else.
.venv/bin/pytest -n "${PYTEST_WORKERS:-2}" --dist loadgroup "$@"
status=$?
set -e
if [ $status -eq 5 ]; then echo "pytest collected no tests"; fi
exit $status
