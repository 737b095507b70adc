"""One scenario run on PostgreSQL and on SQLite (`test_sqlite_bulk_paths.py`): data rows (new, re-imported unchanged
and changed, a repeated key, a bad row, a key of another dataset), pre-labels (new, re-imported with a change, an
unknown row) and submitted labels (their normalized annotation rows, nested classifications included), through the
services; `run()` returns what was stored, without ids and times."""

from __future__ import annotations

import json
import time
from typing import Any

from apps.accounts import services as account_services
from apps.datasets import services as dataset_services
from apps.datasets.models import DataRow
from apps.labeling import services as labeling_services
from apps.labeling.benchmarks import LABEL
from apps.labeling.models import Annotation
from apps.ontologies import services as ontology_services
from apps.ontologies.demo import VEHICLES
from apps.predictions.models import Prelabel
from apps.predictions.services import annotations_import, prelabel_target


def _ndjson(lines: list[dict[str, Any]]) -> bytes:
    return ("\n".join(json.dumps(line) for line in lines) + "\n").encode()


def _row(key: str, n: int, **extra: Any) -> dict[str, Any]:
    return {
        "global_key": key,
        "row_data": f"https://images.example.com/{key}-{n}.jpg",
        "metadata": {"camera": f"cam-{n}", "score": n / 4},
        **extra,
    }


def _box(key: str, top: float, confidence: float | None, kind: str = "ambulance") -> dict[str, Any]:
    line: dict[str, Any] = {
        "name": "vehicle",
        "bbox": {"top": top, "left": 20.5, "height": 40, "width": 60.25},
        "classifications": [{"name": "kind", "answer": {"name": kind}}],
        "data_row": {"global_key": key},
    }
    if confidence is not None:
        line["confidence"] = confidence
    return line


def _without_ids(value: Any) -> Any:
    """The annotation without its `schema_id`s (the ontology's features get new ids in each database)."""
    if isinstance(value, dict):
        return {k: _without_ids(v) for k, v in value.items() if k != "schema_id"}
    if isinstance(value, list):
        return [_without_ids(v) for v in value]
    return value


def _counts(result: dict[str, Any]) -> dict[str, Any]:
    return {
        "created": result["created"],
        "updated": result["updated"],
        "failed": result["failed"],
        "errors": sorted(json.dumps(e, sort_keys=True) for e in result["errors"]),
    }


def run() -> dict[str, Any]:
    created = account_services.organization_create(
        name="Bulk scenario", admin={"username": "bulk-admin", "password": "Bulk-scenario-pass-2026"}, actor=None
    )
    admin = created.admin
    dataset_services.metadata_field_create(actor=admin, name="camera", kind="string")
    dataset_services.metadata_field_create(actor=admin, name="score", kind="number")
    one = dataset_services.dataset_create(actor=admin, name="one")
    two = dataset_services.dataset_create(actor=admin, name="two")

    def load(dataset: Any, lines: list[dict[str, Any]]) -> dict[str, Any]:
        result = dataset_services.data_rows_import(actor=admin, dataset=dataset, fmt="ndjson", chunks=[_ndjson(lines)])
        time.sleep(0.02)  # later writes get later times
        return _counts(result)

    imports = [
        load(
            one,
            [
                _row("k0", 0, external_id="ext-0", media_type="image"),
                _row("k1", 1),
                _row("k2", 2, media_type="text", row_data="plain text row"),
                {"global_key": "bad", "row_data": "https://x.example.com/b.jpg", "metadata": {"score": "high"}},
                _row("k1", 5),  # the same key again in one body
            ],
        )
    ]
    stamps = dict(DataRow.objects.filter(dataset=one).values_list("global_key", "updated_at"))
    imports.append(load(one, [_row("k0", 0, external_id="ext-0", media_type="image"), _row("k2", 7), _row("k3", 3)]))
    imports.append(load(two, [_row("k0", 9), _row("k4", 4)]))
    after = dict(DataRow.objects.filter(dataset=one).values_list("global_key", "updated_at"))
    columns = ("dataset__name", "global_key", "external_id", "row_data", "media_type", "width", "height", "metadata")
    rows = [list(values) for values in DataRow.objects.order_by("global_key").values_list(*columns)]

    ontology = ontology_services.ontology_create(organization=created.organization, actor=admin, **VEHICLES)
    project = labeling_services.project_create(actor=admin, name="bulk", ontology=ontology, settings={})
    row_ids = [
        str(pk) for pk in DataRow.objects.filter(dataset=one).order_by("global_key").values_list("pk", flat=True)
    ]
    labeling_services.batch_create(actor=admin, project=project, name="all", data_row_ids=row_ids, priority=3)
    target = prelabel_target(project)

    def prelabel(lines: list[dict[str, Any]]) -> dict[str, Any]:
        body = _ndjson(lines)
        return _counts(annotations_import(actor=admin, target=target, chunks=iter([body]), size=len(body)))

    first = [_box("k0", 10, 0.9), _box("k0", 60.5, 0.25, "police"), _box("k1", 10, None), _box("nope", 10, 0.5)]
    prelabels = [prelabel(first), prelabel([*first[:2], _box("k1", 11, 0.75), _box("k3", 10, 0.5)])]
    stored = sorted(
        [key, name, kind, json.dumps(_without_ids(annotation), sort_keys=True), confidence]
        for key, name, kind, annotation, confidence in Prelabel.objects.filter(project=project).values_list(
            "data_row__global_key", "name", "kind", "annotation", "confidence"
        )
    )
    labeler = account_services.user_create(
        organization=created.organization, username="bulk-labeler", password=None, role="labeler"
    )
    labeling_services.project_member_set(actor=admin, project=project, user=labeler, role="labeler")
    for document in (LABEL, [_box("k0", 5, None)], LABEL[:1]):  # nested classifications, one box, a box
        task = labeling_services.queue_claim(actor=labeler, project=project)
        assert task is not None
        for line in document:
            line.pop("data_row", None)
        labeling_services.label_submit(actor=labeler, task=task, annotations=document, seconds_spent=2.0)
    parents = dict(Annotation.objects.filter(project=project).values_list("id", "name"))
    annotation_rows = sorted(
        [
            key,
            index,
            parents.get(parent, ""),
            name,
            kind,
            [x, y, width, height],
            json.dumps(_without_ids(geometry), sort_keys=True),
            json.dumps(_without_ids(answer), sort_keys=True),
            confidence,
            parent is None or parent < pk,  # parents are written before their children
        ]
        for pk, key, index, parent, name, kind, x, y, width, height, geometry, answer, confidence in (
            Annotation.objects.filter(project=project).values_list(
                "id",
                "data_row__global_key",
                "index",
                "parent_id",
                "name",
                "kind",
                "x",
                "y",
                "width",
                "height",
                "geometry",
                "answer",
                "confidence",
            )
        )
    )
    return {
        "imports": imports,
        "annotation_rows": annotation_rows,
        "rows": rows,
        # The re-import left the unchanged row alone and rewrote the changed one (as on PostgreSQL).
        "unchanged_row_kept_its_time": after["k0"] == stamps["k0"],
        "changed_row_rewritten": after["k2"] > stamps["k2"],
        "prelabel_imports": prelabels,
        "prelabels": stored,
    }
