"""`python manage.py benchmark model-endpoint [--size 10000] [--option batch=32] [--option concurrency=4]
[--option work_ms=5]`.

Two phases, each over ROWS rows of a fresh project, the dispatcher run in-process as the worker runs it (claim due
rows, build the requests, call the server over HTTP through the outbound guard with `concurrency` calls in flight,
parse, store pre-labels and predictions, record each row), against the reference model server
(examples/model_server/server.py) started as a process:

- `instant`: `--instant`, one box per row without looking at the image: a model that answers at once. The figure is
  rows/s (goal: >= 2,000) and the platform's CPU per 1,000 rows.
- `model`: `--instant --work-ms W`: a model that takes W ms per row (it waits: a GPU model's time, not this machine's
  CPU). The figure is what the platform adds to the model's own time.

Definitions (honest, measured on both sides): the model's own time is what the server reports for each call
(`X-Model-Seconds`: from reading the request to encoding the answer, measured by the server); with `concurrency`
calls in flight the model alone would need `model_own_s / concurrency` of wall time (`model_busy_s`). What the
platform adds is `wall_s - model_busy_s` (`added_s`: everything that is not the model: claiming, building requests,
signing, HTTP both ways, parsing, mapping, validating, storing, bookkeeping, and any time the model sat idle waiting
for the platform), and `added_share` = `added_s / model_busy_s` (goal: < 0.05). `platform_cpu_s` is the CPU time of
this process (all its threads) during the dispatch; `db_cpu_s` that of its PostgreSQL backend.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction

from apps.accounts import services as account_services
from apps.accounts.models import Organization, User
from apps.core.benchmarks import benchmark
from apps.core.proc_stats import backend_cpu_seconds
from apps.core.queue import held_back
from apps.datasets.benchmark_support import bulk_image_rows
from apps.datasets.models import Dataset
from apps.labeling import services as labeling_services
from apps.ontologies import services as ontology_services
from apps.predictions.models import EndpointRow, ModelEndpoint, Prediction, Prelabel
from apps.predictions.services import endpoints as endpoint_services
from apps.predictions.services.prelabeling import endpoint_dispatch

ORG_NAME = "Model endpoint benchmark"
SERVER = Path(settings.BASE_DIR) / "examples" / "model_server" / "server.py"


def _start_server(*extra: str) -> tuple[subprocess.Popen[bytes], str]:
    process = subprocess.Popen(  # noqa: S603 (our own example server, fixed arguments)
        [sys.executable, str(SERVER), "--port", "0", "--instant", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    line = process.stdout.readline().decode() if process.stdout else ""
    found = re.search(r"(http://127\.0\.0\.1:\d+)", line)
    if not found:
        os.killpg(process.pid, signal.SIGTERM)
        raise RuntimeError(f"the reference model server did not start: {line!r}")
    return process, found.group(1)


def _admin() -> User:
    organization = Organization.objects.filter(name=ORG_NAME).first()
    if organization is None:
        created = account_services.organization_create(
            name=ORG_NAME,
            admin={"username": "endpoint-bench-admin", "password": secrets.token_urlsafe(24)},
            actor=None,
        )
        return created.admin
    return User.objects.get(username="endpoint-bench-admin")


def _setup(admin: User, url: str, size: int, batch: int, concurrency: int) -> tuple[ModelEndpoint, Any, list[str]]:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    organization = admin.organization
    assert organization is not None
    ontology = ontology_services.ontology_create(
        organization=organization,
        actor=admin,
        name=f"bench {stamp}",
        tools=[{"name": "vehicle", "tool": "bbox"}],
        classifications=[],
    )
    values = {
        "name": f"bench {stamp}",
        "url": url,
        "ontology": ontology,
        "batch_size": batch,
        "max_concurrency": concurrency,
    }
    endpoint = endpoint_services.model_endpoint_create(actor=admin, values=values)
    project = labeling_services.project_create(
        actor=admin,
        name=f"bench {stamp}",
        ontology=ontology,
        settings={"model": {"prelabel_endpoint": str(endpoint.pk)}},
    )
    dataset = Dataset.objects.create(organization=organization, name=f"bench {stamp}", created_by=admin)
    ids = bulk_image_rows(
        dataset,
        size,
        key=lambda i: f"eb-{stamp}-{i}",
        url=lambda i: f"https://example.com/endpoint-bench/{i}.jpg",
        width=640,
        height=480,
    )
    return endpoint, project, ids


def _phase(size: int, batch: int, concurrency: int, work_ms: float) -> dict[str, Any]:
    extra = ("--work-ms", str(work_ms)) if work_ms else ()
    process, url = _start_server(*extra)
    allowed = list(settings.TDP_OUTBOUND_ALLOWED_HOSTS)
    settings.TDP_OUTBOUND_ALLOWED_HOSTS = [*allowed, url.removeprefix("http://")]
    try:
        admin = _admin()
        endpoint, project, ids = _setup(admin, url, size, batch, concurrency)
        with held_back(), transaction.atomic():  # rows join in a batch; the dispatcher runs below, in this process
            labeling_services.batch_create(actor=admin, project=project, name="all", data_row_ids=ids)
        load_before = os.getloadavg()[0]
        db_before = backend_cpu_seconds()
        cpu_before = time.process_time()
        started = time.perf_counter()
        with held_back():  # the tasks the imports start (routing, queue order) are not part of the dispatch
            totals = endpoint_dispatch(endpoint_id=endpoint.pk, time_budget=3600)
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu_before
        db_after = backend_cpu_seconds()
    finally:
        settings.TDP_OUTBOUND_ALLOWED_HOSTS = allowed
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
    model_own = float(totals["model_seconds"])
    model_busy = model_own / concurrency
    added = wall - model_busy
    db_cpu = None if db_before is None or db_after is None else db_after - db_before
    return {
        "work_ms_per_row": work_ms,
        "answered": EndpointRow.objects.filter(endpoint=endpoint, status="answered").count(),
        "prelabels": Prelabel.objects.filter(project=project).count(),
        "predictions": Prediction.objects.filter(model_run__model=endpoint.model).count(),
        "calls": int(totals["calls"]),
        "wall_s": round(wall, 2),
        "rows_per_s": round(size / wall),
        "model_own_s": round(model_own, 3),
        "model_busy_s": round(model_busy, 3),
        "added_s": round(added, 2),
        "added_share": round(added / model_busy, 3) if model_busy > 0.5 else None,
        "call_seconds_summed": round(float(totals["call_seconds"]), 2),
        "dispatcher_idle_s": round(float(totals["wait_seconds"]), 2),
        "dispatcher_claim_s": round(float(totals["claim_seconds"]), 2),
        "dispatcher_store_s": round(float(totals["store_seconds"]), 2),
        "platform_cpu_s": round(cpu, 2),
        "platform_cpu_s_per_1000_rows": round(1000 * cpu / size, 3),
        "db_cpu_s_per_1000_rows": None if db_cpu is None else round(1000 * db_cpu / size, 3),
        "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }


@benchmark("model-endpoint")
def model_endpoint_benchmark(options: dict[str, Any]) -> dict[str, Any]:
    size = int(options.get("size") or 10_000)
    batch = int(options.get("batch", 32))
    concurrency = int(options.get("concurrency", 4))
    work_ms = float(options.get("work_ms", 5))
    instant = _phase(size, batch, concurrency, 0.0)
    model = _phase(size, batch, concurrency, work_ms) if work_ms > 0 else None
    return {
        "rows": size,
        "batch_size": batch,
        "concurrency": concurrency,
        "instant": instant,
        "model": model,
        "goal_rows_per_s": 2000,
        "rows_per_s_met": instant["rows_per_s"] >= 2000,
        "goal_added_share": 0.05,
        "added_share_met": None if model is None or model["added_share"] is None else model["added_share"] < 0.05,
    }


def _labeler_times(project: Any, labeler: User, count: int) -> list[float]:
    """Milliseconds of `count` claim + submit pairs by one labeler through the API (Django's test client)."""
    from django.test import Client

    client = Client(HTTP_HOST="localhost")  # a host every settings module allows ("testserver" is refused by dev's)
    client.force_login(labeler)
    times: list[float] = []
    for _ in range(count):
        started = time.perf_counter()
        claim = client.post(f"/api/v1/projects/{project.pk}/queue/next")
        if claim.status_code != 200:
            break
        task = claim.json()["task"]
        client.post(f"/api/v1/tasks/{task}/labels", {"annotations": []}, content_type="application/json")
        times.append(1000 * (time.perf_counter() - started))
    return times


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 1) if ordered else float("nan")


@benchmark("model-endpoint-labelers")
def model_endpoint_labelers_benchmark(options: dict[str, Any]) -> dict[str, Any]:
    """Labelers' claim + submit p95 while a dispatcher (a thread here, the worker in production) sends rows to a
    model that times out every call (`--delay` 3 s, endpoint timeout 1 s, concurrency 4), against the same figure
    with no dispatcher running."""
    import threading

    from django.db import connection

    size = int(options.get("size") or 400)
    count = int(options.get("claims", 100))
    process, url = _start_server("--delay", "3")
    allowed = list(settings.TDP_OUTBOUND_ALLOWED_HOSTS)
    breaker = settings.TDP_ENDPOINT_BREAKER_FAILURES, settings.TDP_ENDPOINT_MAX_ATTEMPTS
    # Every call times out and the breaker stays closed: the dispatcher keeps calling while labelers work.
    settings.TDP_ENDPOINT_BREAKER_FAILURES, settings.TDP_ENDPOINT_MAX_ATTEMPTS = 1_000_000, 1
    settings.TDP_OUTBOUND_ALLOWED_HOSTS = [*allowed, url.removeprefix("http://")]
    try:
        admin = _admin()
        endpoint, project, ids = _setup(admin, url, size, 8, 4)
        endpoint.timeout_seconds = 1.0
        endpoint.save(update_fields=["timeout_seconds"])
        labeler = User.objects.filter(username="endpoint-bench-labeler").first()
        if labeler is None:
            labeler = account_services.user_create(
                organization=admin.organization,  # type: ignore[arg-type]
                actor=admin,
                username="endpoint-bench-labeler",
                password=secrets.token_urlsafe(24),
                role="labeler",
            )
        labeling_services.project_member_set(actor=admin, project=project, user=labeler, role="labeler")
        with held_back(), transaction.atomic():
            labeling_services.batch_create(actor=admin, project=project, name="all", data_row_ids=ids)
        baseline = _labeler_times(project, labeler, count)
        done = threading.Event()

        def dispatch() -> None:
            try:
                endpoint_dispatch(endpoint_id=endpoint.pk, time_budget=600)
            finally:
                connection.close()
                done.set()

        thread = threading.Thread(target=dispatch, daemon=True)
        thread.start()
        time.sleep(0.5)
        during = _labeler_times(project, labeler, count)
        calls_running = not done.is_set()
        thread.join(timeout=120)
    finally:
        settings.TDP_OUTBOUND_ALLOWED_HOSTS = allowed
        settings.TDP_ENDPOINT_BREAKER_FAILURES, settings.TDP_ENDPOINT_MAX_ATTEMPTS = breaker
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
    failed_rows = EndpointRow.objects.filter(endpoint=endpoint).exclude(error="").count()
    return {
        "claims": len(during),
        "baseline_p95_ms": _p95(baseline),
        "during_faults_p95_ms": _p95(during),
        "dispatcher_was_calling": calls_running,
        "rows_with_recorded_timeouts": failed_rows,
        "load_average": round(os.getloadavg()[0], 2),
    }
