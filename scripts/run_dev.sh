#!/usr/bin/env bash
# Serve the app and a django-q2 worker together; Ctrl-C (or either one dying) stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
export DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE:-tdp.settings.dev}

$PY manage.py qcluster &
worker=$!
$PY manage.py runserver 127.0.0.1:${PORT:-8000} &
web=$!

stop() {
  trap - INT TERM EXIT
  kill "$web" "$worker" 2>/dev/null || true
  wait "$web" "$worker" 2>/dev/null || true
}
trap stop INT TERM EXIT
echo "TDP on http://127.0.0.1:${PORT:-8000}/ with a background worker. Ctrl-C stops both."
wait -n "$web" "$worker"
