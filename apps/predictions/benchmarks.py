"""`python manage.py benchmark prelabels [--size ROWS] [--option boxes=5] [--option repeat=3]`.

Imports ROWS (10,000) data rows x `boxes` (5) boxes, each with a radio answer and a confidence, as pre-labels into a
project through the import service in-process on PostgreSQL (the server time of `POST /projects/{id}/prelabels`
without HTTP): parse, resolve rows, validate with the ontology validator, COPY. Each repetition deletes the project's
pre-labels first, times a first import (all new), then a re-import of the same body (all updates, by the uuids
derived from row + content). Prints the best and median seconds, rows/s and boxes/s of both. Setup (rows inserted
in bulk, one batch) is reused between runs of the same size.
"""

from __future__ import annotations

import json
import os
import secrets
import statistics
import time
from typing import Any

from django.db import connection, transaction

from apps.accounts import services as account_services
from apps.accounts.models import Organization, User
from apps.core.benchmarks import benchmark
from apps.core.proc_stats import backend_pid, process_cpu_seconds
from apps.datasets.benchmark_support import bulk_image_rows
from apps.datasets.models import Dataset
from apps.labeling import services as labeling_services
from apps.labeling.models import Project, Task
from apps.ontologies import services as ontology_services
from apps.ontologies.demo import VEHICLES
from apps.ontologies.models import Ontology
from apps.predictions.models import Prelabel
from apps.predictions.services import annotations_import, prelabel_target

ORG_NAME = "Prelabel benchmark"
TARGET_SECONDS = 2.0
CHUNK_BYTES = 256 * 1024


def _setup(size: int) -> tuple[User, Project]:
    organization = Organization.objects.filter(name=ORG_NAME).first()
    if organization is None:
        created = account_services.organization_create(
            name=ORG_NAME,
            admin={"username": "prelabel-bench-admin", "password": secrets.token_urlsafe(24)},
            actor=None,
        )
        organization, admin = created.organization, created.admin
    else:
        admin = User.objects.get(username="prelabel-bench-admin")
    ontology = Ontology.objects.filter(organization=organization, name="vehicles").first()
    if ontology is None:
        ontology = ontology_services.ontology_create(organization=organization, actor=admin, **VEHICLES)
    name = f"Prelabel benchmark {size}"
    project = Project.objects.filter(organization=organization, name=name).first()
    if project is not None and Task.objects.filter(project=project).count() == size:
        return admin, project
    with transaction.atomic():
        Project.objects.filter(organization=organization, name=name).delete()
        Dataset.objects.filter(organization=organization, name=name).delete()
    project = labeling_services.project_create(actor=admin, name=name, ontology=ontology, instructions="", settings={})
    dataset = Dataset.objects.create(organization=organization, name=name, created_by=admin)
    row_ids = bulk_image_rows(
        dataset,
        size,
        key=lambda i: f"pb{size}-{i}",
        url=lambda i: f"https://example.com/prelabel-bench/{i}.jpg",
        width=1280,
        height=720,
    )
    labeling_services.batch_create(actor=admin, project=project, name="all", data_row_ids=row_ids, priority=3)
    return admin, project


def _body(size: int, boxes: int) -> bytes:
    lines = []
    for i in range(size):
        for k in range(boxes):
            line = {
                "name": "vehicle",
                "bbox": {"top": 10 + 50 * k, "left": 20 + 3 * (i % 100), "height": 40.5, "width": 60.25},
                "classifications": [{"name": "kind", "answer": {"name": "police" if k % 2 else "ambulance"}}],
                "confidence": round(((i * 7 + k * 13) % 100) / 100, 2),
                "data_row": {"global_key": f"pb{size}-{i}"},
            }
            lines.append(json.dumps(line))
    return ("\n".join(lines) + "\n").encode()


def _chunks(body: bytes) -> list[bytes]:
    return [body[i : i + CHUNK_BYTES] for i in range(0, len(body), CHUNK_BYTES)]


def _timed(admin: User, project: Project, body: bytes) -> tuple[float, float, float, dict[str, Any]]:
    """(wall seconds, this process's CPU seconds, the database backend's CPU seconds, result)."""
    target = prelabel_target(project)
    chunks = _chunks(body)
    pid = backend_pid()
    backend = process_cpu_seconds(pid) if pid is not None else None
    cpu = time.process_time()
    started = time.perf_counter()
    result = annotations_import(actor=admin, target=target, chunks=iter(chunks), size=len(body))
    wall = time.perf_counter() - started
    after = process_cpu_seconds(pid) if pid is not None and backend_pid() == pid else None
    db_cpu = after - backend if after is not None and backend is not None else float("nan")
    return wall, time.process_time() - cpu, db_cpu, result


@benchmark("prelabels")
def prelabels_benchmark(options: dict[str, Any]) -> dict[str, Any]:
    size = int(options.get("size") or 10_000)
    boxes = int(options.get("boxes", 5))
    repeat = int(options.get("repeat", 3))
    setup_started = time.perf_counter()
    admin, project = _setup(size)
    body = _body(size, boxes)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE datasets_datarow; ANALYZE labeling_task")
    setup_seconds = time.perf_counter() - setup_started
    first_times: list[float] = []
    again_times: list[float] = []
    first_cpu: list[tuple[float, float]] = []
    again_cpu: list[tuple[float, float]] = []
    total = size * boxes
    for _ in range(repeat):
        with transaction.atomic():
            Prelabel.objects.filter(project=project).delete()
        seconds, app_cpu, db_cpu, result = _timed(admin, project, body)
        assert result["created"] == total and result["failed"] == 0, result
        first_times.append(seconds)
        first_cpu.append((app_cpu, db_cpu))
        seconds, app_cpu, db_cpu, result = _timed(admin, project, body)
        assert result["updated"] == total and result["failed"] == 0, result
        again_times.append(seconds)
        again_cpu.append((app_cpu, db_cpu))

    def figures(times: list[float], cpu: list[tuple[float, float]]) -> dict[str, Any]:
        best, typical = min(times), statistics.median(times)
        app_best = min(c[0] for c in cpu)
        db_best = min((c[1] for c in cpu if c[1] == c[1]), default=float("nan"))
        return {
            # CPU seconds do not grow with other processes' load the way wall time does on a shared machine: the
            # app (both import threads) and its PostgreSQL backend; pipelined, wall ~ the larger of the two.
            "app_cpu_s_best": round(app_best, 3),
            "db_cpu_s_best": round(db_best, 3),
            "best_s": round(best, 3),
            "median_s": round(typical, 3),
            "all_s": [round(t, 3) for t in times],
            "rows_per_s_best": round(size / best),
            "boxes_per_s_best": round(total / best),
            "boxes_per_s_median": round(total / typical),
        }

    first = figures(first_times, first_cpu)
    return {
        "rows": size,
        "boxes": total,
        "body_mb": round(len(body) / 1e6, 1),
        "setup_s": round(setup_seconds, 1),
        "first_import": first,
        "reimport": figures(again_times, again_cpu),
        "load_average": round(os.getloadavg()[0], 2),
        "target_s": TARGET_SECONDS,
        "meets_target_best": first["best_s"] < TARGET_SECONDS,
    }


# Registers `model-endpoint` and `queue_order`.
from apps.predictions import endpoint_benchmarks, queue_order_benchmarks  # noqa: E402, F401
