"""`python manage.py benchmark diagnostics_app [--size ROWS] [--option boxes=10] [--option repeat=2]`.

The app's metrics computation end to end on PostgreSQL (what the request does for a small run and the job for a
large one): read the ground-truth snapshot and the predictions of a run of ROWS (2,000, the synchronous limit) data
rows × `boxes` boxes, compute metrics, COCO mAP, radio metrics and the error analysis, write the cached result and
its match records. Setup (rows, ground truth and predictions inserted in bulk) is reused between runs of one size.
"""

from __future__ import annotations

import secrets
import time
import uuid
from typing import Any

import numpy as np
from django.db import transaction
from django.utils import timezone

from apps.accounts import services as account_services
from apps.accounts.models import Organization, User
from apps.core.benchmarks import benchmark
from apps.datasets.models import DataRow, Dataset
from apps.diagnostics import services
from apps.diagnostics.models import GroundTruth, MatchRecord
from apps.labeling import services as labeling_services
from apps.labeling.models import Project
from apps.ontologies import services as ontology_services
from apps.ontologies.demo import VEHICLES
from apps.ontologies.models import Ontology
from apps.predictions import services as prediction_services
from apps.predictions.models import Model, ModelRun, ModelRunDataRow, Prediction

ORG_NAME = "Diagnostics benchmark"
ADMIN = "diagnostics-bench-admin"


def _organization() -> tuple[User, Ontology]:
    organization = Organization.objects.filter(name=ORG_NAME).first()
    if organization is None:
        created = account_services.organization_create(
            name=ORG_NAME, admin={"username": ADMIN, "password": secrets.token_urlsafe(24)}, actor=None
        )
        organization, admin = created.organization, created.admin
    else:
        admin = User.objects.get(username=ADMIN)
    ontology = Ontology.objects.filter(organization=organization, name="vehicles").first()
    if ontology is None:
        ontology = ontology_services.ontology_create(organization=organization, actor=admin, **VEHICLES)
    return admin, ontology


def _setup(size: int, boxes: int) -> ModelRun:
    admin, ontology = _organization()
    org_id = ontology.organization_id
    name = f"{size}x{boxes}"
    model = Model.objects.filter(organization_id=org_id, name="bench").first()
    if model is None:
        model = prediction_services.model_create(actor=admin, name="bench", ontology=ontology)
    run = ModelRun.objects.filter(model=model, name=name).first()
    if run is not None and GroundTruth.objects.filter(model_run=run).count() == size:
        return run
    vehicle = next(t for t in run_tree(model) if t.get("tool") == "bbox")
    rng = np.random.default_rng(0)
    with transaction.atomic():
        ModelRun.objects.filter(model=model, name=name).delete()
        Dataset.objects.filter(organization_id=org_id, name=name).delete()
        Project.objects.filter(organization_id=org_id, name=name).delete()
        run = prediction_services.model_run_create(actor=admin, model=model, name=name)
        project = labeling_services.project_create(actor=admin, name=name, ontology=ontology)
        dataset = Dataset.objects.create(organization_id=org_id, name=name)
        rows = DataRow.objects.bulk_create(
            [
                DataRow(
                    organization_id=org_id,
                    dataset=dataset,
                    global_key=f"diag-{name}-{i}",
                    row_data=f"https://example.com/{i}.jpg",
                    width=1024,
                    height=1024,
                    metadata={"sensor": ("a", "b", "c", "d")[i % 4]},
                )
                for i in range(size)
            ],
            batch_size=5000,
        )
        splits = ("train", "valid", "test")
        ModelRunDataRow.objects.bulk_create(
            [ModelRunDataRow(model_run=run, data_row=r, split=splits[i % 3]) for i, r in enumerate(rows)],
            batch_size=5000,
        )
        now = timezone.now()
        gt, preds = [], []
        for row in rows:
            xy = rng.uniform(0, 900, (boxes, 2))
            wh = rng.uniform(10, 120, (boxes, 2))
            document = []
            for b in range(boxes):
                x, y = float(xy[b, 0]), float(xy[b, 1])
                w, h = float(wh[b, 0]), float(wh[b, 1])
                document.append(_box(vehicle, x, y, w, h))
                if rng.random() < 0.1:  # a false positive elsewhere
                    x, y = float(rng.uniform(0, 900)), float(rng.uniform(0, 900))
                jitter = rng.normal(0, 0.06, 2)
                annotation = _box(vehicle, x + jitter[0] * w, y + jitter[1] * h, w, h)
                preds.append(
                    Prediction(
                        model_run=run,
                        data_row=row,
                        uuid=uuid.uuid4(),
                        schema_id=vehicle["schema_id"],
                        name=vehicle["name"],
                        kind="bbox",
                        annotation=annotation,
                        confidence=float(rng.random()),
                        created_at=now,
                        updated_at=now,
                    )
                )
            gt.append(
                GroundTruth(
                    model_run=run,
                    project=project,
                    data_row=row,
                    label_revision=1,
                    annotations=document,
                    created_at=now,
                )
            )
        GroundTruth.objects.bulk_create(gt, batch_size=5000)
        Prediction.objects.bulk_create(preds, batch_size=5000)
    return run


def run_tree(model: Model) -> list[dict[str, Any]]:
    version = model.ontology.versions.get(number=model.ontology.current_version)
    tools: list[dict[str, Any]] = version.tree.get("tools", [])
    return tools


def _box(tool: dict[str, Any], x: float, y: float, w: float, h: float) -> dict[str, Any]:
    return {
        "schema_id": tool["schema_id"],
        "name": tool["name"],
        "bbox": {"left": max(x, 0.0), "top": max(y, 0.0), "width": w, "height": h},
        "classifications": [],
    }


@benchmark("diagnostics_app")
def diagnostics_app(params: dict[str, Any]) -> dict[str, Any]:
    size = int(params.get("size") or 2000)
    boxes = int(params.get("boxes") or 10)
    repeat = max(1, int(params.get("repeat") or 2))
    started = time.perf_counter()
    run = ModelRun.objects.select_related("model", "ontology_version").get(pk=_setup(size, boxes).pk)
    setup = time.perf_counter() - started
    wall, cpu = [], []
    result = None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        result = services.metrics_compute(model_run=run, iou=0.5, confidence=0.3)
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    assert result is not None
    return {
        "rows": size,
        "boxes_per_row": boxes,
        "setup_seconds": round(setup, 2),
        "seconds": round(min(wall), 3),
        "seconds_median": round(sorted(wall)[len(wall) // 2], 3),
        "cpu_seconds": round(min(cpu), 3),
        "match_records": MatchRecord.objects.filter(result=result).count(),
        "check": {"map50": result.metrics["map50"], "map": result.metrics["map"]},
    }
