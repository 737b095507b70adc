"""`python manage.py benchmark model-endpoint [--size 10000] [--option batch=32] [--option concurrency=4]`.

Starts the reference model server (examples/model_server/server.py) as a process in `--instant` mode (it answers one
box per row without looking at the image: a model that answers at once), points a detector endpoint at it, queues
ROWS rows of a project for it and runs the dispatcher in-process, as the worker would: claim due rows, build the
requests, call the server over HTTP through the outbound guard (`concurrency` calls of `batch` rows in flight), parse,
store pre-labels and predictions, record each row. Prints rows/s and the platform's own time per row: the wall time
outside the model calls (the dispatcher waiting on the calls is the model's time, HTTP included).
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
from apps.core.queue import held_back
from apps.datasets.models import DataRow, Dataset
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
    ids: list[str] = []
    for start in range(0, size, 5000):
        rows = DataRow.objects.bulk_create(
            DataRow(
                organization=organization,
                dataset=dataset,
                global_key=f"eb-{stamp}-{i}",
                row_data=f"https://example.com/endpoint-bench/{i}.jpg",
                width=640,
                height=480,
            )
            for i in range(start, min(size, start + 5000))
        )
        ids.extend(str(r.pk) for r in rows)
    return endpoint, project, ids


@benchmark("model-endpoint")
def model_endpoint_benchmark(options: dict[str, Any]) -> dict[str, Any]:
    size = int(options.get("size") or 10_000)
    batch = int(options.get("batch", 32))
    concurrency = int(options.get("concurrency", 4))
    process, url = _start_server()
    allowed = list(settings.TDP_OUTBOUND_ALLOWED_HOSTS)
    settings.TDP_OUTBOUND_ALLOWED_HOSTS = [*allowed, url.removeprefix("http://")]
    try:
        admin = _admin()
        endpoint, project, ids = _setup(admin, url, size, batch, concurrency)
        with held_back(), transaction.atomic():  # rows join in a batch; the dispatcher runs below, in this process
            labeling_services.batch_create(actor=admin, project=project, name="all", data_row_ids=ids)
        started = time.perf_counter()
        totals = endpoint_dispatch(endpoint_id=endpoint.pk, time_budget=3600)
        wall = time.perf_counter() - started
    finally:
        settings.TDP_OUTBOUND_ALLOWED_HOSTS = allowed
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
    answered = EndpointRow.objects.filter(endpoint=endpoint, status="answered").count()
    platform = wall - float(totals["call_seconds"])
    return {
        "rows": size,
        "batch_size": batch,
        "concurrency": concurrency,
        "answered": answered,
        "prelabels": Prelabel.objects.filter(project=project).count(),
        "predictions": Prediction.objects.filter(model_run__model=endpoint.model).count(),
        "calls": int(totals["calls"]),
        "wall_s": round(wall, 2),
        "rows_per_s": round(size / wall),
        "model_call_s": round(float(totals["call_seconds"]), 2),
        "platform_s": round(platform, 2),
        "platform_ms_per_row": round(1000 * platform / size, 3),
        "platform_share_of_model_time": round(platform / max(1e-9, float(totals["call_seconds"])), 2),
        "load_average": round(os.getloadavg()[0], 2),
        "goal_rows_per_s": 2000,
    }


def _labeler_times(project: Any, labeler: User, count: int) -> list[float]:
    """Milliseconds of `count` claim + submit pairs by one labeler through the API (Django's test client)."""
    from django.test import Client

    client = Client()
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
