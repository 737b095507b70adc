"""Diagnostics fixtures: a project whose four rows are labeled `done`, a model run with splits and predictions.

The hand-made scene (one box class, `vehicle`; boxes are left, top, width, height):

| row   | split | sensor | ground truth                      | predictions (confidence)                          |
|-------|-------|--------|-----------------------------------|---------------------------------------------------|
| img-0 | train | a      | A (0,0,100,100), B (200,200,100,100) | on A exactly (0.9); B shifted by 10 px (0.8): TP, TP |
| img-1 | train | b      | C (0,0,100,100)                   | far away (300,300,50,50) (0.7): FP; C missed: FN    |
| img-2 | valid | a      | D (0,0,100,100)                   | on D exactly (0.6): TP                              |
| img-3 | valid | b      | no box (weather only)             | (10,10,20,20) (0.95): FP                            |
"""

from __future__ import annotations

import pytest

from apps.datasets.models import DataRow, MetadataField
from apps.labeling import services as labeling_services
from apps.predictions import services as prediction_services
from tests.labeling.conftest import make_rows, members, ontology, project, project_factory  # noqa: F401
from tests.predictions.conftest import ndjson, post_ndjson  # noqa: F401

GT = {
    0: [(0, 0, 100, 100), (200, 200, 100, 100)],
    1: [(0, 0, 100, 100)],
    2: [(0, 0, 100, 100)],
    3: [],
}
PREDS = {
    0: [((0, 0, 100, 100), 0.9), ((210, 200, 100, 100), 0.8)],
    1: [((300, 300, 50, 50), 0.7)],
    2: [((0, 0, 100, 100), 0.6)],
    3: [((10, 10, 20, 20), 0.95)],
}
SPLITS = {0: "train", 1: "train", 2: "valid", 3: "valid"}
SENSORS = {0: "a", 1: "b", 2: "a", 3: "b"}


def vehicle(left, top, width, height, **extra) -> dict:
    return {
        "name": "vehicle",
        "bbox": {"left": left, "top": top, "width": width, "height": height},
        "classifications": [{"name": "kind", "answer": {"name": "police"}}],
        **extra,
    }


def label_document(i: int) -> list[dict]:
    return [vehicle(*b) for b in GT[i]] + [{"name": "weather", "answer": {"name": "sunny"}}]


def prediction_lines(rows, preds=None) -> list[dict]:
    lines = []
    for i, entries in (preds or PREDS).items():
        for n, (b, score) in enumerate(entries):
            uuid = f"00000000-0000-4000-8000-{i:06d}{n:06d}"
            lines.append(vehicle(*b, confidence=score, uuid=uuid, data_row={"global_key": rows[i].global_key}))
    for i, answer in ((0, "sunny"), (3, "rain")):
        lines.append(
            {
                "name": "weather",
                "answer": {"name": answer},
                "confidence": 0.9,
                "uuid": f"00000000-0000-4000-8000-{i:06d}999999",
                "data_row": {"global_key": rows[i].global_key},
            }
        )
    return lines


def label_all(target, labeler, rows, document=label_document) -> dict:
    """The labeler labels every row (review is off: each task is done). Returns data_row id → label."""
    index = {row.id: i for i, row in enumerate(rows)}
    labels = {}
    for _ in rows:
        task = labeling_services.queue_claim(actor=labeler, project=target)
        assert task is not None
        labels[task.data_row_id] = labeling_services.label_submit(
            actor=labeler, task=task, annotations=document(index[task.data_row_id])
        )
    return labels


@pytest.fixture
def scene(project, members, org, org_admin, make_rows, post_ndjson):  # noqa: F811
    rows = make_rows(4)
    MetadataField.objects.create(organization=org, name="sensor", kind="string")
    for i, row in enumerate(rows):
        row.metadata = {"sensor": SENSORS[i]}
    DataRow.objects.bulk_update(rows, ["metadata"])
    labeling_services.batch_create(actor=org_admin, project=project, name="all", data_row_ids=[str(r.id) for r in rows])
    labels = label_all(project, members["labeler"], rows)
    model = prediction_services.model_create(actor=org_admin, name="detector", ontology=project.ontology)
    run = prediction_services.model_run_create(actor=org_admin, model=model, name="v1")
    for split in ("train", "valid"):
        prediction_services.model_run_rows_set(
            actor=org_admin,
            model_run=run,
            split=split,
            data_row_ids=[str(rows[i].id) for i in SPLITS if SPLITS[i] == split],
        )
    response = post_ndjson(org_admin, f"/api/v1/model_runs/{run.id}/predictions", ndjson(prediction_lines(rows)))
    assert response.status_code == 200, response.content
    assert response.json()["failed"] == 0, response.json()
    return {"project": project, "rows": rows, "labels": labels, "model": model, "run": run, "members": members}
