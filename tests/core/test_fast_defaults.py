"""`make run` (issue #30): every SQLite database gets the measured options, the run settings keep DEBUG off, and the
Makefile starts gunicorn on them; background scoring on SQLite is coalesced into one task per flush."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from apps.core.sqlite.base import DatabaseWrapper
from tdp.settings import base

EXPECTED_PRAGMAS = {
    "journal_mode": "wal",
    "synchronous": 1,  # NORMAL
    "foreign_keys": 1,
    "busy_timeout": 20000,
    "cache_size": -65536,  # 64 MB
    "mmap_size": 268435456,  # 256 MB
    "temp_store": 2,  # MEMORY
}


def _pragmas(config: dict, path: Path) -> tuple[dict, DatabaseWrapper]:
    """The PRAGMAs of a connection Django's SQLite backend opens with `config` (on the file `path`)."""
    full = {"AUTOCOMMIT": True, "ATOMIC_REQUESTS": False, "CONN_MAX_AGE": 0, "CONN_HEALTH_CHECKS": False}
    full.update({**config, "NAME": str(path), "TIME_ZONE": None, "TEST": {}})
    wrapper = DatabaseWrapper(full, alias="pragma-probe")
    wrapper.ensure_connection()
    try:
        with wrapper.cursor() as cursor:
            found = {}
            for name in EXPECTED_PRAGMAS:
                cursor.execute(f"PRAGMA {name}")
                found[name] = cursor.fetchone()[0]
        return found, wrapper
    finally:
        wrapper.close()


@pytest.mark.django_db  # lets the probe open its own SQLite connection
def test_default_sqlite_database_gets_the_measured_pragmas(monkeypatch, tmp_path):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    config = base.database_config()
    assert config["ENGINE"] == "apps.core.sqlite"
    assert Path(config["NAME"]).name == "tdp.sqlite3"
    found, wrapper = _pragmas(config, tmp_path / "default.sqlite3")
    assert found == EXPECTED_PRAGMAS
    assert wrapper.transaction_mode == "IMMEDIATE"
    assert config["OPTIONS"]["timeout"] == 20
    assert config["CONN_MAX_AGE"] == 60


@pytest.mark.django_db
def test_database_url_sqlite_gets_the_same_options(monkeypatch, tmp_path):
    """DATABASE_URL=sqlite:///... used to skip WAL, IMMEDIATE and the busy timeout (issue #28)."""
    path = tmp_path / "from-url.sqlite3"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    config = base.database_config()
    assert config["NAME"] == str(path) and config["ENGINE"] == "apps.core.sqlite"
    found, wrapper = _pragmas(config, path)
    assert found == EXPECTED_PRAGMAS
    assert wrapper.transaction_mode == "IMMEDIATE"


@pytest.mark.django_db
def test_sqlite_write_transactions_of_one_process_queue_in_python(tmp_path):
    """A second IMMEDIATE transaction waits for the first one's commit on the process's lock (no busy-handler
    sleeps), and gives up with SQLite's own error after the busy timeout."""
    import threading
    import time

    from django.db import OperationalError

    config = base.sqlite_options({"ENGINE": "django.db.backends.sqlite3", "NAME": str(tmp_path / "lock.sqlite3")})
    config["OPTIONS"]["timeout"] = 0.5
    full = {"AUTOCOMMIT": True, "ATOMIC_REQUESTS": False, "CONN_MAX_AGE": 0, "CONN_HEALTH_CHECKS": False}
    first = DatabaseWrapper({**full, **config, "TIME_ZONE": None, "TEST": {}}, alias="first")
    with first.cursor() as cursor:
        cursor.execute("CREATE TABLE t (v integer)")
    order: list[str] = []
    first.set_autocommit(False)  # as atomic() does: BEGIN IMMEDIATE under the lock
    first._start_transaction_under_autocommit()
    first.cursor().execute("INSERT INTO t VALUES (1)")

    def later() -> None:
        second = DatabaseWrapper({**full, **config, "TIME_ZONE": None, "TEST": {}}, alias="second")
        second.set_autocommit(False)
        second._start_transaction_under_autocommit()
        order.append("second began")
        second.cursor().execute("INSERT INTO t VALUES (2)")
        second.commit()
        second.set_autocommit(True)
        second.close()

    thread = threading.Thread(target=later)
    thread.start()
    time.sleep(0.2)
    order.append("first commits")
    first.commit()
    first.set_autocommit(True)
    thread.join(timeout=5)
    assert order == ["first commits", "second began"]
    first.set_autocommit(False)
    first._start_transaction_under_autocommit()
    stuck = DatabaseWrapper({**full, **config, "TIME_ZONE": None, "TEST": {}}, alias="stuck")
    stuck.set_autocommit(False)
    started = time.monotonic()
    with pytest.raises(OperationalError, match="database is locked"):
        stuck._start_transaction_under_autocommit()
    assert 0.4 < time.monotonic() - started < 3
    first.rollback()
    first.set_autocommit(True)
    stuck.close()
    with first.cursor() as cursor:
        cursor.execute("SELECT v FROM t ORDER BY v")
        assert [v for (v,) in cursor.fetchall()] == [1, 2]
    first.close()


def test_postgresql_url_gets_no_sqlite_options(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://u@127.0.0.1:5432/x")
    options = base.database_config().get("OPTIONS", {})
    assert "init_command" not in options and "transaction_mode" not in options


def _settings_of(module: str, code: str, **env: str) -> str:
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": module, **env}
    environment.pop("DATABASE_URL", None)
    environment.pop("SECRET_KEY", None)
    done = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); from django.conf import settings as s; {code}"],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip()


def test_make_run_settings_have_debug_off_even_when_the_environment_asks():
    out = _settings_of(
        "tdp.settings.run",
        "print(s.DEBUG, s.WHITENOISE_USE_FINDERS, s.STORAGES['staticfiles']['BACKEND'], s.ALLOWED_HOSTS, "
        "len(s.SECRET_KEY) >= 50, s.DATABASES['default']['ENGINE'])",
        DEBUG="true",
    )
    assert out == (
        "False False apps.core.staticfiles.RunStaticFilesStorage ['127.0.0.1', 'localhost', '[::1]'] True "
        "apps.core.sqlite"
    )


def test_make_dev_keeps_debug_on():
    assert _settings_of("tdp.settings.dev", "print(s.DEBUG)") == "True"


def _target(makefile: str, name: str) -> str:
    found = re.search(rf"^{name}:(.*?)\n\n", makefile, re.S | re.M)
    assert found, name
    return found.group(1)


def test_makefile_runs_gunicorn_on_the_run_settings_and_dev_on_runserver():
    makefile = (Path(settings.BASE_DIR) / "Makefile").read_text()
    assert "RUN_SETTINGS := DJANGO_SETTINGS_MODULE=tdp.settings.run" in makefile
    run, dev, static = _target(makefile, "run"), _target(makefile, "dev"), _target(makefile, "static")
    assert "static" in run.split("\n")[0]  # collectstatic before serving
    assert "$(RUN_SETTINGS) $(VENV)/bin/gunicorn -c tdp/gunicorn_run.py tdp.wsgi" in run
    assert "$(RUN_SETTINGS) $(PY) manage.py qcluster" in run
    assert "runserver" not in run and "runserver" in dev
    assert "$(RUN_SETTINGS) $(PY) manage.py collectstatic --noinput" in static


def _gunicorn_config(**env: str) -> dict:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("WEB_")}
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json, runpy; c = runpy.run_path('tdp/gunicorn_run.py'); "
            "print(json.dumps({k: c[k] for k in ('workers', 'threads', 'worker_class', 'keepalive', 'preload_app')}))",
        ],
        cwd=settings.BASE_DIR,
        env={**environment, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_gunicorn_configuration_is_the_measured_and_documented_one():
    from tdp.gunicorn_run import SETUPS

    run = _gunicorn_config()
    assert (run["workers"], run["threads"], run["worker_class"]) == (*SETUPS["run"], "gthread")
    assert run["keepalive"] >= 60 and run["preload_app"] is True
    production = _gunicorn_config(WEB_SETUP="production")
    workers, threads = SETUPS["production"]
    assert (production["workers"], production["threads"]) == (workers, threads)
    documented = f"WEB_SETUP=production WEB_WORKERS={workers} WEB_THREADS={threads} BIND=0.0.0.0:8000 gunicorn -c"
    assert documented in (Path(settings.BASE_DIR) / "docs" / "deploy.md").read_text()
    assert documented in (Path(settings.BASE_DIR) / "README.md").read_text()


def test_benchmarks_start_the_documented_setups():
    from apps.exports.defaults_benchmark import PRODUCTION_SERVER, RUN_SERVER
    from tdp.gunicorn_run import SETUPS

    assert (SETUPS["run"], SETUPS["production"]) == (RUN_SERVER, PRODUCTION_SERVER)
    queue_source = (Path(settings.BASE_DIR) / "apps" / "labeling" / "benchmarks.py").read_text()
    assert 'default_workers, default_threads = SETUPS["production"]' in queue_source
    assert '"WEB_SETUP": "production"' in queue_source


class _AliveThread:
    def is_alive(self) -> bool:
        return True


@pytest.mark.django_db
def test_scoring_on_sqlite_is_coalesced_into_one_task_per_flush(monkeypatch, django_capture_on_commit_callbacks):
    """Three labels of one consensus row and one of another: nothing per submit, then one broker message at the
    flush, each row once."""
    from django.db import connection, transaction
    from django_q.conf import Conf

    from apps.core import queue
    from apps.quality.services import scores_enqueue

    sent: list[tuple] = []
    monkeypatch.setattr(Conf, "SYNC", False)
    monkeypatch.setattr(connection, "vendor", "sqlite")
    monkeypatch.setattr(queue, "async_task", lambda func, *args, **kwargs: sent.append((func, args)) or "id")
    monkeypatch.setattr(queue._coalescer, "thread", _AliveThread())  # no flusher thread: flushed by hand below
    monkeypatch.setattr(queue._coalescer, "pid", os.getpid())
    for row in ("r1", "r1", "r2", "r1"):
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            scores_enqueue(project_id="p", data_row_id=row)
        assert sent == []
    queue.flush_coalesced()
    assert sent == [("apps.core.tasks.run_each", ("apps.quality.tasks.score_data_row", [("p", "r1"), ("p", "r2")]))]


@pytest.mark.django_db
def test_scoring_on_postgresql_is_one_task_per_submit(monkeypatch, django_capture_on_commit_callbacks):
    from django.db import transaction
    from django_q.conf import Conf

    from apps.core import queue
    from apps.quality.services import scores_enqueue

    sent: list[tuple] = []
    monkeypatch.setattr(Conf, "SYNC", False)
    monkeypatch.setattr(queue, "async_task", lambda func, *args, **kwargs: sent.append((func, args)) or "id")
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        scores_enqueue(project_id="p", data_row_id="r1")
    assert sent == [("apps.quality.tasks.score_data_row", ("p", "r1"))]


def test_coalesced_calls_run_each_once_and_survive_one_failure(caplog):
    from apps.core.tasks import run_each

    assert run_each("apps.core.tasks.add", [[1, 2], [3, 4]]) == 2
    assert run_each("apps.core.tasks.add", [[1, 2], ["x", 4]]) == 1
    assert "apps.core.tasks.add" in caplog.text
