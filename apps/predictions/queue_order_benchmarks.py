"""`python manage.py benchmark queue_order [--size ROWS] [--option dims=64] [--option claims=200]`.

A project with ROWS (20,000) queued rows, one scored prediction each, a `dims`-d vector each, and ROWS/10 labeled
rows with vectors (PostgreSQL). Times the background recompute of the `mix` order (uncertainty + distance to the
nearest labeled row, numpy in batches) — a first run writing every rank and a second one with nothing changed — and
the claim itself (`queue_claim`, in-process) with the ranks in place and with the `priority` order, `claims` each:
the claim must not get slower because of the order (it only reads the indexed `queue_rank`).
"""

from __future__ import annotations

import os
import secrets
import time
from typing import Any

import numpy as np
from django.db import connection
from django.utils import timezone

from apps.accounts import services as account_services
from apps.accounts.models import Organization, User
from apps.catalog.domain.vectors import encode
from apps.catalog.models import EmbeddingSpace, EmbeddingVector
from apps.core.benchmarks import benchmark
from apps.core.proc_stats import backend_cpu_seconds
from apps.datasets.models import DataRow, Dataset
from apps.labeling import services as labeling_services
from apps.labeling.models import Label, Project, Task, TaskState
from apps.ontologies import services as ontology_services
from apps.ontologies.demo import VEHICLES
from apps.predictions.models import ModelRun, Prediction
from apps.predictions.services import model_create, model_run_create, queue_order_compute

ORG_NAME = "Queue order benchmark"


def _admin() -> tuple[Organization, User]:
    organization = Organization.objects.filter(name=ORG_NAME).first()
    if organization is None:
        created = account_services.organization_create(
            name=ORG_NAME,
            admin={"username": "queue-order-bench-admin", "password": secrets.token_urlsafe(24)},
            actor=None,
        )
        return created.organization, created.admin
    return organization, User.objects.get(username="queue-order-bench-admin")


def _rows(organization: Organization, admin: User, name: str, n: int) -> list[DataRow]:
    dataset = Dataset.objects.create(organization=organization, name=name, created_by=admin)
    return DataRow.objects.bulk_create(
        (
            DataRow(organization=organization, dataset=dataset, global_key=f"{name}-{i}", row_data=f"https://e.x/{i}")
            for i in range(n)
        ),
        batch_size=5000,
    )


def _setup(size: int, dims: int) -> tuple[Project, ModelRun, EmbeddingSpace, User]:
    organization, admin = _admin()
    name = f"queue-order-{size}-{secrets.token_hex(3)}"
    ontology = ontology_services.ontology_create(
        organization=organization, actor=admin, name=name, **{k: v for k, v in VEHICLES.items() if k != "name"}
    )
    project = labeling_services.project_create(actor=admin, name=name, ontology=ontology, settings={})
    rng = np.random.default_rng(size)
    queued = _rows(organization, admin, f"{name}-q", size)
    labeled = _rows(organization, admin, f"{name}-l", max(1, size // 10))
    labeling_services.batch_create(
        actor=admin, project=project, name="labeled", data_row_ids=[str(r.pk) for r in labeled], priority=1
    )
    version = project.ontology_version
    now = timezone.now()
    Label.objects.bulk_create(
        (
            Label(task=task, project=project, data_row_id=task.data_row_id, labeler=admin, ontology_version=version)
            for task in Task.objects.filter(project=project)
        ),
        batch_size=5000,
    )
    Task.objects.filter(project=project).update(state=TaskState.DONE, done_at=now)
    labeling_services.batch_create(
        actor=admin, project=project, name="queued", data_row_ids=[str(r.pk) for r in queued], priority=3
    )
    model = model_create(actor=admin, name=name, ontology=ontology)
    run = model_run_create(actor=admin, model=model, name="v1")
    vehicle = next(t for t in version.tree["tools"] if t["name"] == "vehicle")
    Prediction.objects.bulk_create(
        (
            Prediction(
                model_run=run,
                data_row_id=row.pk,
                uuid=f"00000000-0000-4000-8000-{i:012d}",
                schema_id=vehicle["schema_id"],
                name="vehicle",
                kind="bbox",
                annotation={"name": "vehicle", "bbox": {"left": 1, "top": 1, "width": 5, "height": 5}},
                confidence=float(c),
                created_at=now,
                updated_at=now,
            )
            for i, (row, c) in enumerate(zip(queued, rng.uniform(0, 1, size), strict=True))
        ),
        batch_size=5000,
    )
    space = EmbeddingSpace.objects.create(organization=organization, name=name, dims=dims, version=1)
    vectors = rng.normal(size=(len(queued) + len(labeled), dims)).astype(np.float32)
    EmbeddingVector.objects.bulk_create(
        (
            EmbeddingVector(space=space, data_row_id=row.pk, vector=encode(v))
            for row, v in zip([*queued, *labeled], vectors, strict=True)
        ),
        batch_size=5000,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE labeling_task")
    return project, run, space, admin


def _timed(func: Any) -> tuple[Any, dict[str, float]]:
    db = backend_cpu_seconds()
    cpu, started = time.process_time(), time.perf_counter()
    result = func()
    wall, app = time.perf_counter() - started, time.process_time() - cpu
    after = backend_cpu_seconds()
    db_cpu = after - db if after is not None and db is not None else float("nan")
    return result, {"wall_s": round(wall, 3), "app_cpu_s": round(app, 3), "db_cpu_s": round(db_cpu, 3)}


def _claims(project: Project, labeler: User, n: int) -> dict[str, float]:
    """n claims by one labeler, each task then put out of the queue (done) outside the timing."""
    seconds: list[float] = []
    for _ in range(n):
        started = time.perf_counter()
        task = labeling_services.queue_claim(actor=labeler, project=project)
        seconds.append(time.perf_counter() - started)
        assert task is not None
        Task.objects.filter(pk=task.pk).update(state=TaskState.DONE, assignee=None)
    ms = np.asarray(seconds) * 1000
    return {
        "mean_ms": round(float(ms.mean()), 3),
        "p50_ms": round(float(np.median(ms)), 3),
        "p95_ms": round(float(np.percentile(ms, 95)), 3),
    }


@benchmark("queue_order")
def queue_order_benchmark(options: dict[str, Any]) -> dict[str, Any]:
    if connection.vendor != "postgresql":
        raise RuntimeError("The queue order benchmark runs on PostgreSQL (DATABASE_URL).")
    size = int(options.get("size") or 20_000)
    dims = int(options.get("dims", 64))
    claims = int(options.get("claims", 200))
    started = time.perf_counter()
    project, run, space, admin = _setup(size, dims)
    setup = round(time.perf_counter() - started, 1)
    project.settings["queue"] = {
        **project.settings["queue"],
        "order": "mix",
        "model_run": str(run.pk),
        "embedding": str(space.pk),
    }
    Project.objects.filter(pk=project.pk).update(settings=project.settings)
    first, first_t = _timed(lambda: queue_order_compute(project=project))
    again, again_t = _timed(lambda: queue_order_compute(project=project))
    ranked = _claims(project, admin, claims)
    project.settings["queue"]["order"] = "priority"
    Project.objects.filter(pk=project.pk).update(settings=project.settings)
    queue_order_compute(project=project)
    by_priority = _claims(project, admin, claims)
    return {
        "rows": size,
        "labeled": max(1, size // 10),
        "dims": dims,
        "setup_s": setup,
        "recompute_first": {**first_t, "written": first["written"]},
        "recompute_unchanged": {**again_t, "written": again["written"]},
        "claim_ranked": ranked,
        "claim_priority": by_priority,
        "load_average": round(os.getloadavg()[0], 2),
    }
