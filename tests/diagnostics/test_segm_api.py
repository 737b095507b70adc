"""The metrics of a model run with mask tools gain a `segm` block: mask predictions against mask and polygon ground
truth (rasterised at the row's size), equal to pycocotools' COCOeval(iouType="segm") on the same data."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest
from pycocotools import mask as cmask
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from apps.labeling import services as labeling_services
from apps.ontologies import services as ontology_services
from apps.ontologies.domain import rle as R
from apps.predictions import services as prediction_services
from tests.diagnostics.conftest import label_all, ndjson

pytestmark = pytest.mark.django_db
H, W = 480, 640
FIELD = [(100.0, 100.0), (300.0, 120.0), (250.0, 300.0), (90.0, 260.0)]


@pytest.fixture
def ontology(org, org_admin):
    return ontology_services.ontology_create(
        organization=org,
        name="farm",
        tools=[
            {"name": "weed", "tool": "mask"},
            {"name": "field", "tool": "polygon"},
            {"name": "stone", "tool": "bbox"},
        ],
        classifications=[],
        actor=org_admin,
    )


def _rect(y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
    m = np.zeros((H, W), np.uint8)
    m[y0:y1, x0:x1] = 1
    return m


GT_MASKS = {0: [_rect(10, 60, 10, 80)], 1: [_rect(200, 260, 300, 420)], 2: []}
PRED_MASKS = {
    0: [(_rect(14, 62, 12, 84), 0.9), ("field", 0.8)],
    1: [(_rect(400, 450, 10, 60), 0.7)],
    2: [(_rect(5, 25, 5, 25), 0.6)],
}


def _field_prediction() -> np.ndarray:
    xy = [v for p in FIELD for v in p]
    return np.roll(cmask.decode(cmask.frPyObjects([xy], H, W)[0]), 6, axis=1)


def test_segm_block_equals_cocoeval(project, members, org_admin, make_rows, post_ndjson, client_for):
    rows = make_rows(3)
    labeling_services.batch_create(actor=org_admin, project=project, name="b", data_row_ids=[str(r.id) for r in rows])

    def document(i: int) -> list[dict]:
        doc = [{"name": "weed", "mask": R.encode(m).document()} for m in GT_MASKS[i]]
        if i == 0:
            doc.append({"name": "field", "polygon": [{"x": x, "y": y} for x, y in FIELD]})
        return doc

    label_all(project, members["labeler"], rows, document)
    model = prediction_services.model_create(actor=org_admin, name="segmenter", ontology=project.ontology)
    run = prediction_services.model_run_create(actor=org_admin, model=model, name="v1")
    lines = []
    for i, entries in PRED_MASKS.items():
        for n, (m, score) in enumerate(entries):
            name = "field" if isinstance(m, str) else "weed"
            pixels = _field_prediction() if isinstance(m, str) else m
            tool_line = {"name": name, "confidence": score, "data_row": {"global_key": rows[i].global_key}}
            if name == "field":  # a polygon tool predicted as a polygon of the shifted outline
                tool_line["polygon"] = [{"x": x + 6, "y": y} for x, y in FIELD]
            else:
                tool_line["mask"] = R.encode(pixels).document()
            tool_line["uuid"] = f"00000000-0000-4000-8000-{i:06d}{n:06d}"
            lines.append(tool_line)
    response = post_ndjson(org_admin, f"/api/v1/model_runs/{run.id}/predictions", ndjson(lines))
    assert response.status_code == 200 and response.json()["failed"] == 0, response.content
    admin = client_for(org_admin)
    snap = admin.post(f"/api/v1/model_runs/{run.id}/ground_truth", {"project": str(project.id)}, format="json")
    assert snap.status_code == 201, snap.content
    metrics = admin.get(f"/api/v1/model_runs/{run.id}/metrics?iou=0.5&confidence=0").json()
    segm = metrics["segm"]

    # The reference: the same objects through pycocotools.
    cats = {"weed": 1, "field": 2}
    gt, dt = [], []
    for i in range(3):
        for m in GT_MASKS[i]:
            gt.append(
                {
                    "image_id": i + 1,
                    "category_id": 1,
                    "segmentation": cmask.encode(np.asfortranarray(m)),
                    "area": float(m.sum()),
                    "iscrowd": 0,
                }
            )
        if i == 0:
            xy = [v for p in FIELD for v in p]
            gt.append({"image_id": 1, "category_id": 2, "segmentation": [xy], "area": 1.0, "iscrowd": 0})
        for m, score in PRED_MASKS[i]:
            if isinstance(m, str):
                xy = [v for x, y in FIELD for v in (x + 6, y)]
                dt.append(
                    {
                        "image_id": i + 1,
                        "category_id": 2,
                        "segmentation": cmask.frPyObjects([xy], H, W)[0],
                        "score": score,
                    }
                )
            else:
                dt.append(
                    {
                        "image_id": i + 1,
                        "category_id": 1,
                        "segmentation": cmask.encode(np.asfortranarray(m)),
                        "score": score,
                    }
                )
    dataset = {
        "images": [{"id": i + 1, "width": W, "height": H} for i in range(3)],
        "categories": [{"id": v, "name": k} for k, v in cats.items()],
        "annotations": [{**a, "id": n + 1} for n, a in enumerate(gt)],
    }
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO()
        coco.dataset = dataset
        coco.createIndex()
        ev = COCOeval(coco, coco.loadRes(dt), "segm")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    assert segm["map"] == pytest.approx(ev.stats[0], abs=1e-3)
    assert segm["map50"] == pytest.approx(ev.stats[1], abs=1e-3)
    assert segm["map75"] == pytest.approx(ev.stats[2], abs=1e-3)
    by_name = {c["name"]: c for c in segm["classes"]}
    assert set(by_name) == {"weed", "field"}
    assert (
        by_name["weed"]["true_positives"],
        by_name["weed"]["false_positives"],
        by_name["weed"]["false_negatives"],
    ) == (1, 2, 1)
    assert by_name["field"]["true_positives"] == 1
    # The box block is unchanged by masks: no box in ground truth or predictions.
    assert all(c["support"] == 0 for c in metrics["classes"])
