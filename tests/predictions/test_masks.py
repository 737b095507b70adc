"""Masks through labels and imports: stored as COCO RLE with the box and area as row columns; bad masks get a 4xx
per line (imports) or a 400 (labels)."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image
from pycocotools import mask as cmask

from apps.labeling.models import Annotation, Label
from apps.ontologies import services as ontology_services
from apps.ontologies.demo import VEHICLES
from apps.ontologies.domain import rle as R
from apps.predictions.models import Prelabel
from tests.predictions.conftest import ndjson

pytestmark = pytest.mark.django_db
H, W = 480, 640  # the rows' size (make_rows)


@pytest.fixture
def ontology(org, org_admin):
    return ontology_services.ontology_create(
        organization=org,
        name="vehicles and roads",
        tools=[*VEHICLES["tools"], {"name": "road", "tool": "mask"}],
        classifications=[],
        actor=org_admin,
    )


def _mask(y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
    m = np.zeros((H, W), np.uint8)
    m[y0:y1, x0:x1] = 1
    return m


def _coco_counts(m: np.ndarray) -> str:
    return cmask.encode(np.asfortranarray(m))["counts"].decode()


def test_a_label_with_a_mask_stores_rle_box_and_area(project, org_admin, members, make_rows, client_for):
    from tests.predictions.conftest import add_batch

    add_batch(project, org_admin, make_rows(1))
    client = client_for(members["labeler"])
    claim = client.post(f"/api/v1/projects/{project.id}/queue/next").json()
    m = _mask(100, 150, 200, 260)
    m[120, 230] = 0  # a hole
    bad = client.post(
        f"/api/v1/tasks/{claim['task']}/labels",
        {"annotations": [{"name": "road", "mask": {"size": [H, W + 1], "counts": "0"}}]},
        format="json",
    )
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] and "annotations[0].mask" in bad.content.decode()
    response = client.post(
        f"/api/v1/tasks/{claim['task']}/labels",
        {"annotations": [{"name": "road", "mask": {"size": [H, W], "counts": _coco_counts(m)}}]},
        format="json",
    )
    assert response.status_code == 201, response.content
    label = Label.objects.get(pk=response.json()["id"])
    assert label.annotations[0]["mask"] == {"size": [H, W], "counts": _coco_counts(m)}
    row = Annotation.objects.get(label=label)
    assert row.kind == "mask"
    assert (row.x, row.y, row.width, row.height, row.area) == (200, 100, 60, 50, 50 * 60 - 1)
    assert np.array_equal(R.decode(R.from_document(row.geometry)), m)


def test_prelabels_accept_rle_png_and_polygon_and_report_bad_masks(project, rows, org_admin, post_ndjson):
    m = _mask(10, 20, 30, 50)
    buffer = io.BytesIO()
    rgb = np.zeros((H, W, 3), np.uint8)
    rgb[m == 1] = (0, 128, 255)
    Image.fromarray(rgb, "RGB").save(buffer, format="PNG")
    png = base64.b64encode(buffer.getvalue()).decode()
    polygon = [{"x": 5, "y": 5}, {"x": 25, "y": 5}, {"x": 25, "y": 30}]
    lines = [
        {"name": "road", "mask": {"size": [H, W], "counts": _coco_counts(m)}, "data_row": {"global_key": "img-0"}},
        {"name": "road", "mask": {"png": png, "color": "#0080ff"}, "data_row": {"global_key": "img-1"}},
        {"name": "road", "mask": {"polygon": polygon}, "data_row": {"global_key": "img-2"}},
        {"name": "road", "mask": {"png": png, "color": "#ffffff"}, "data_row": {"global_key": "img-3"}},  # empty
        {"name": "road", "mask": {"size": [10, 10], "counts": "0"}, "data_row": {"global_key": "img-3"}},  # size
        {"name": "road", "mask": {"png": "%%%"}, "data_row": {"global_key": "img-3"}},  # base64
    ]
    response = post_ndjson(org_admin, f"/api/v1/projects/{project.id}/prelabels", ndjson(lines))
    assert response.status_code == 200, response.content
    result = response.json()
    assert (result["created"], result["failed"]) == (3, 3), result
    errors = {e["line"]: e["message"] for e in result["errors"]}
    assert "empty" in errors[4] and "image is" in errors[5] and "base64" in errors[6]
    stored = {p.data_row.global_key: p for p in Prelabel.objects.filter(project=project).select_related("data_row")}
    assert stored["img-0"].annotation["mask"]["counts"] == _coco_counts(m)
    assert stored["img-1"].annotation["mask"]["counts"] == _coco_counts(m)
    coco_polygon = cmask.frPyObjects([[5, 5, 25, 5, 25, 30]], H, W)[0]["counts"].decode()
    assert stored["img-2"].annotation["mask"]["counts"] == coco_polygon
    assert stored["img-2"].kind == "mask"
