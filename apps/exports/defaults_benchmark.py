"""`python manage.py benchmark defaults`: the REST workloads of issue #30 on the two setups people run (README).

- `run`: what `make run` starts: gunicorn with `tdp/gunicorn_run.py` (its defaults: `RUN_SERVER`) on
  `tdp.settings.run` (DEBUG off) and one django-q2 worker, on a fresh SQLite file (migrated here, in a temporary
  folder, opened with the SQLite options every SQLite database gets);
- `production`: the documented production setup (docs/deploy.md: the same gunicorn configuration with
  `PRODUCTION_SERVER` workers x threads, `tdp.settings.prod`, one django-q2 worker) on PostgreSQL: this process's
  database when it is PostgreSQL (`DATABASE_URL`), else a private cluster started with `.ci/pg.sh` and removed after.

Each setup runs in a child process (`benchmark defaults-setup --option setup=...`, `defaults_workloads.py`) whose
database is the setup's own; this one prints one JSON object: the figures of both setups and which goals are met.
Options (all optional): `setups` (`run,production`), `rows` (10000: the one-request import, the pre-labeled rows,
the exported rows), `chunk_rows` (50000) and `chunk` (1000), `boxes` (5 per row), `seconds` (20 per concurrent
workload) and `warmup` (3), `consensus_rows` (3000), `queue_rows` (5000), `workloads` (a comma-separated subset of
`import_one,import_chunks,prelabels,label_writes,claim_submit,export`, all by default, and
`label_writes_shared_lease`, not by default), `run_workers`/`run_threads`
and `production_workers`/`production_threads` (gunicorn processes x threads). Rate limits are raised for the load
clients (they are 12 and 8 users sending hundreds of requests a second).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from typing import Any

from django.core.management.base import CommandError
from django.db import connection

from apps.core.benchmarks import benchmark, database_url
from apps.exports import defaults_workloads as workloads
from apps.labeling import benchmarks as queue
from tdp.env import BASE_DIR
from tdp.gunicorn_run import SETUPS

# gunicorn workers x threads of each setup (tdp/gunicorn_run.py): the fastest measured on 2 cores (README).
RUN_SERVER = SETUPS["run"]
PRODUCTION_SERVER = SETUPS["production"]
GOALS: dict[str, dict[str, tuple[str, str, float]]] = {
    # goal name: (workload, figure, bound); figures ending in _ms are upper bounds, the others lower bounds.
    "run": {
        "import_one_rows_per_s": ("import_one", "rows_per_s", 25_000),
        "import_chunks_rows_per_s": ("import_chunks", "rows_per_s", 15_000),
        "prelabels_boxes_per_s": ("prelabels", "boxes_per_s", 25_000),
        "label_writes_per_s": ("label_writes", "writes_per_s", 60),
        "label_writes_submit_ms_p95": ("label_writes", "submit_ms_p95", 150),
        "claim_submit_cycles_per_s": ("claim_submit", "cycles_per_s", 60),
        "export_rows_per_s": ("export", "rows_per_s", 15_000),
    },
    "production": {
        "claim_submit_cycles_per_s": ("claim_submit", "cycles_per_s", 100),
        "claim_submit_claim_ms_p95": ("claim_submit", "claim_ms_p95", 50),
        "label_writes_per_s": ("label_writes", "writes_per_s", 100),
        "label_writes_submit_ms_p95": ("label_writes", "submit_ms_p95", 100),
    },
}
_NO_THROTTLE = {"THROTTLE_USER": "1000000/minute", "THROTTLE_ANON": "1000000/minute"}


def setup_env(setup: str) -> dict[str, str]:
    """The environment of a setup's server and worker (besides DATABASE_URL)."""
    if setup == "run":
        return {"DJANGO_SETTINGS_MODULE": "tdp.settings.run", "DEBUG": "false", **_NO_THROTTLE}
    if setup == "production":
        return {
            "DJANGO_SETTINGS_MODULE": "tdp.settings.prod",
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            # One machine, TLS left out (a load balancer ends it in docs/deploy.md): files on disk, the ORM broker.
            "TDP_REQUIRE_SHARED_STORAGE": "false",
            "TDP_REQUIRE_REDIS": "false",
            "SECURE_SSL_REDIRECT": "false",
            **_NO_THROTTLE,
        }
    raise CommandError(f"Unknown setup {setup!r}: run or production.")


def _manage(args: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode:
        raise CommandError(f"manage.py {' '.join(args)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}")


def _migrated(url: str) -> None:
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "tdp.settings.run"}
    _manage(["migrate", "--noinput"], env)
    _manage(["createcachetable"], env)


@contextlib.contextmanager
def sqlite_database() -> Iterator[str]:
    folder = tempfile.mkdtemp(prefix="tdp-defaults-sqlite-")
    try:
        url = f"sqlite:///{folder}/tdp.sqlite3"
        _migrated(url)
        yield url
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    if connection.vendor == "postgresql":
        yield database_url()  # this process's database (under tests: the test database), migrated
        return
    started = subprocess.run(
        ["bash", "-c", "source .ci/pg.sh && pg_start"],  # noqa: S607
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    found = re.search(r"PostgreSQL running on ([\d.]+):(\d+) \((\S+)\)", started.stdout)
    if started.returncode or not found:
        raise CommandError(f"Could not start a private PostgreSQL (.ci/pg.sh):\n{started.stdout}\n{started.stderr}")
    host, port, folder = found.groups()
    try:
        url = f"postgres://tdp@{host}:{port}/tdp"
        _migrated(url)
        yield url
    finally:
        subprocess.run(  # noqa: S603
            ["bash", "-c", f"source .ci/pg.sh && PG_DIR={folder} pg_stop"],  # noqa: S607
            cwd=BASE_DIR,
            capture_output=True,
            check=False,
        )


def _run_child(setup: str, url: str, params: dict[str, Any]) -> dict[str, Any]:
    options = [f"setup={setup}"]
    options += [f"{key}={value}" for key, value in params.items() if value is not None and key not in ("setups",)]
    command = [sys.executable, "manage.py", "benchmark", "defaults-setup"]
    for option in options:
        command += ["--option", option]
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "tdp.settings.run", **_NO_THROTTLE}
    if setup == "production":  # as docs/deploy.md deploys it: the manifest storage needs collected files
        _manage(["collectstatic", "--noinput", "-v", "0"], {**os.environ, **setup_env(setup), "DATABASE_URL": url})
    result = subprocess.run(command, cwd=BASE_DIR, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode:
        tail = f"{result.stdout[-2000:]}\n{result.stderr[-4000:]}"
        raise CommandError(f"benchmark defaults-setup {setup} failed:\n{tail}")
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def goals_met(setup: str, figures: dict[str, Any]) -> dict[str, bool]:
    met = {}
    for name, (workload, figure, bound) in GOALS[setup].items():
        value = figures.get(workload, {}).get(figure)
        met[name] = value is not None and (value < bound if figure.endswith("_ms_p95") else value >= bound)
    claims = figures.get("claim_submit", {})
    met["claim_submit_no_duplicates_or_losses"] = claims.get("duplicates") == 0 and claims.get("lost") == 0
    return met


@benchmark("defaults")
def defaults_benchmark(params: dict[str, Any]) -> dict[str, Any]:
    setups = [s for s in str(params.get("setups") or "run,production").split(",") if s]
    for setup in setups:
        setup_env(setup)  # an unknown name fails before anything starts
    _selected_workloads(params)
    load_before = [round(x, 2) for x in os.getloadavg()]
    started = time.perf_counter()
    results: dict[str, Any] = {}
    for setup in setups:
        database = sqlite_database() if setup == "run" else postgres_database()
        with database as url:
            figures = _run_child(setup, url, params)
        figures.pop("benchmark", None)
        met = goals_met(setup, figures)
        results[setup] = {
            **figures,
            "goals": {name: bound for name, (_w, _f, bound) in GOALS[setup].items()},
            "goals_met": met,
            "all_goals_met": all(met.values()),
        }
    return {
        "cpus": os.cpu_count(),
        "loadavg_before": load_before,
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        "wall_s": round(time.perf_counter() - started, 1),
        "setups": results,
        "all_goals_met": all(r["all_goals_met"] for r in results.values()),
    }


WORKLOADS = (
    "import_one",
    "import_chunks",
    "prelabels",
    "label_writes",
    "label_writes_shared_lease",
    "claim_submit",
    "export",
)
DEFAULT_WORKLOADS = tuple(name for name in WORKLOADS if name != "label_writes_shared_lease")


def _selected_workloads(params: dict[str, Any]) -> set[str]:
    """The `workloads` option (comma-separated names, all by default); goals of workloads not run count as unmet."""
    selected = {name for name in str(params.get("workloads") or ",".join(DEFAULT_WORKLOADS)).split(",") if name}
    unknown = selected - set(WORKLOADS)
    if unknown:
        raise CommandError(f"Unknown workloads {sorted(unknown)}: choose from {', '.join(WORKLOADS)}.")
    return selected


def _int(params: dict[str, Any], key: str, default: int) -> int:
    return int(params.get(key) or default)


@benchmark("defaults-setup")
def defaults_setup_benchmark(params: dict[str, Any]) -> dict[str, Any]:
    """One setup's workloads, on this process's database (started by `defaults`)."""
    setup = str(params.get("setup") or "")
    env = setup_env(setup)
    default_workers, default_threads = RUN_SERVER if setup == "run" else PRODUCTION_SERVER
    workers = _int(params, f"{setup}_workers", default_workers)
    threads = _int(params, f"{setup}_threads", default_threads)
    rows, boxes = _int(params, "rows", 10_000), _int(params, "boxes", 5)
    seconds, warmup = float(params.get("seconds") or 20), float(params.get("warmup") or 3)
    setup_started = time.perf_counter()
    organization, admin = workloads._organization()
    ontology = queue._ontology(organization, admin)
    token = workloads._token(admin)
    if "export" in _selected_workloads(params):
        export_project, export_token = workloads.export_project(rows)
    connection.close()
    figures: dict[str, Any] = {
        "setup": setup,
        "database": connection.vendor,
        "server": {
            "gunicorn_workers": workers,
            "threads": threads,
            "worker_class": "gthread" if threads > 1 else "sync",
            "qcluster": 1,
        },
        "settings": env["DJANGO_SETTINGS_MODULE"],
        "loadavg_before": [round(x, 2) for x in os.getloadavg()],
    }
    stack = workloads.Stack({**env, "WEB_SETUP": setup}, workers, threads)
    try:
        figures["setup_s"] = round(time.perf_counter() - setup_started, 1)
        base = stack.server.base_url
        chunk_rows, chunk = _int(params, "chunk_rows", 50_000), _int(params, "chunk", 1000)
        selected = _selected_workloads(params)
        if {"import_one", "prelabels"} & selected:
            imported = stack.measured(lambda: workloads.run_import_one(base, token, admin, rows))
            dataset_id, keys = imported.pop("dataset"), imported.pop("keys")
            if "import_one" in selected:
                figures["import_one"] = imported
        if "import_chunks" in selected:
            figures["import_chunks"] = stack.measured(
                lambda: workloads.run_import_chunks(base, token, admin, chunk_rows, chunk)
            )
        if "prelabels" in selected:
            figures["prelabels"] = stack.measured(
                lambda: workloads.run_prelabels(base, token, admin, ontology, dataset_id, keys, boxes)
            )
        if "label_writes" in selected:
            figures["label_writes"] = stack.measured(
                lambda: workloads.run_label_writes(
                    base, admin, organization, _int(params, "consensus_rows", 3000), warmup, seconds
                )
            )
        if "label_writes_shared_lease" in selected:
            figures["label_writes_shared_lease"] = stack.measured(
                lambda: workloads.run_label_writes(
                    base, admin, organization, _int(params, "consensus_rows", 3000), warmup, seconds, shared_lease=True
                )
            )
        if "claim_submit" in selected:
            figures["claim_submit"] = stack.measured(
                lambda: workloads.run_claim_submit(
                    base, admin, organization, _int(params, "queue_rows", 5000), warmup, seconds
                )
            )
        if "export" in selected:
            figures["export"] = stack.measured(lambda: workloads.run_export(base, export_project, export_token))
    finally:
        stack.stop()
    figures["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
    return figures
