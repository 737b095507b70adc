"""The four error kinds on masks (issue 25): a generated scene where each row has one known kind, decided by the
masks' IoU (not their boxes'): through `/errors` (`segm.errors`) and the run page's error table."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from django.test import Client
from PIL import Image

from apps.labeling import services as labeling_services
from apps.ontologies import services as ontology_services
from apps.ontologies.domain import rle as R
from apps.predictions import services as prediction_services
from tests.diagnostics.conftest import label_all, ndjson

pytestmark = pytest.mark.django_db
H, W = 480, 640


@pytest.fixture
def ontology(org, org_admin):
    return ontology_services.ontology_create(
        organization=org,
        name="farm",
        tools=[{"name": "weed", "tool": "mask"}, {"name": "crop", "tool": "mask"}, {"name": "stone", "tool": "bbox"}],
        classifications=[],
        actor=org_admin,
    )


def rect(y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
    m = np.zeros((H, W), np.uint8)
    m[y0:y1, x0:x1] = 1
    return m


def triangle(upper: bool) -> np.ndarray:
    """The part of the square [200, 300)² above (or below) its diagonal, diagonal excluded: the two triangles have
    almost the same box but no pixel in common."""
    m = np.zeros((H, W), np.uint8)
    ys, xs = np.mgrid[0:100, 0:100]
    m[200:300, 200:300] = (xs > ys) if upper else (xs < ys)
    return m


def mask_iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())


def box_iou(a: np.ndarray, b: np.ndarray) -> float:
    def box(m: np.ndarray) -> tuple[int, int, int, int]:
        ys, xs = np.nonzero(m)
        return xs.min(), ys.min(), xs.max() + 1, ys.max() + 1

    (ax0, ay0, ax1, ay1), (bx0, by0, bx1, by1) = box(a), box(b)
    inter = max(0, min(ax1, bx1) - max(ax0, bx0)) * max(0, min(ay1, by1) - max(ay0, by0))
    return inter / ((ax1 - ax0) * (ay1 - ay0) + (bx1 - bx0) * (by1 - by0) - inter)


# row → (ground truth [(class, mask)], predictions [(class, mask, score)]); the kind each row is built to show.
SCENE = {
    0: ([("weed", rect(10, 60, 10, 80))], [("weed", rect(12, 60, 10, 80), 0.9)]),  # true positive
    1: ([("weed", rect(100, 200, 100, 200))], [("crop", rect(100, 200, 100, 200), 0.8)]),  # confusion
    2: ([("weed", rect(0, 100, 0, 100))], [("weed", rect(0, 100, 70, 170), 0.7)]),  # localisation
    3: ([], [("crop", rect(300, 350, 300, 350), 0.6)]),  # false positive
    4: ([("crop", rect(50, 90, 400, 500))], []),  # false negative
    5: ([("weed", triangle(upper=True))], [("weed", triangle(upper=False), 0.95)]),  # boxes agree, pixels do not
}


def test_mask_error_kinds_follow_mask_iou(project, members, org_admin, make_rows, post_ndjson, client_for):
    # The scene is what it says, by an independent NumPy computation.
    assert mask_iou(SCENE[0][0][0][1], SCENE[0][1][0][1]) >= 0.5
    assert 0.1 <= mask_iou(SCENE[2][0][0][1], SCENE[2][1][0][1]) < 0.5
    assert mask_iou(SCENE[5][0][0][1], SCENE[5][1][0][1]) == 0.0
    assert box_iou(SCENE[5][0][0][1], SCENE[5][1][0][1]) > 0.95  # a box matcher would call row 5 a true positive

    rows = make_rows(len(SCENE))
    labeling_services.batch_create(actor=org_admin, project=project, name="b", data_row_ids=[str(r.id) for r in rows])
    label_all(
        project,
        members["labeler"],
        rows,
        lambda i: [{"name": c, "mask": R.encode(m).document()} for c, m in SCENE[i][0]],
    )
    model = prediction_services.model_create(actor=org_admin, name="segmenter", ontology=project.ontology)
    run = prediction_services.model_run_create(actor=org_admin, model=model, name="v1")
    lines = [
        {
            "name": c,
            "mask": R.encode(m).document(),
            "confidence": score,
            "data_row": {"global_key": rows[i].global_key},
        }
        for i, (_, preds) in SCENE.items()
        for c, m, score in preds
    ]
    response = post_ndjson(org_admin, f"/api/v1/model_runs/{run.id}/predictions", ndjson(lines))
    assert response.status_code == 200 and response.json()["failed"] == 0, response.content
    admin = client_for(org_admin)
    snap = admin.post(f"/api/v1/model_runs/{run.id}/ground_truth", {"project": str(project.id)}, format="json")
    assert snap.status_code == 201, snap.content

    report = admin.get(f"/api/v1/model_runs/{run.id}/errors?iou=0.5&confidence=0").json()
    errors = report["segm"]["errors"]
    keys = {kind: {r["global_key"] for r in entry["rows"]} for kind, entry in errors.items()}
    assert {kind: entry["count"] for kind, entry in errors.items()} == {
        "false_positive": 2,
        "false_negative": 2,
        "confusion": 1,
        "localisation": 1,
    }
    key = [r.global_key for r in rows]
    assert keys["false_positive"] == {key[3], key[5]}
    assert keys["false_negative"] == {key[4], key[5]}
    assert keys["confusion"] == {key[1]}
    assert keys["localisation"] == {key[2]}
    weed, crop = (str(t["schema_id"]) for t in project.ontology_version.tree["tools"][:2])
    assert errors["false_positive"]["by_class"] == {weed: 1, crop: 1}
    assert errors["false_negative"]["by_class"] == {weed: 1, crop: 1}
    assert errors["confusion"]["by_class"] == {weed: 1}  # a confusion counts for the truth's class
    assert errors["localisation"]["by_class"] == {weed: 1} and errors["localisation"]["row_count"] == 1
    # No box in the scene: the box kinds are all zero; the masks' do not leak into them.
    assert all(entry["count"] == 0 for entry in report["errors"].values())

    # At IoU 0.15 the localisation pair (IoU 0.176) becomes a true positive.
    loose = admin.get(f"/api/v1/model_runs/{run.id}/errors?iou=0.15&confidence=0").json()["segm"]["errors"]
    assert loose["localisation"]["count"] == 0 and loose["false_positive"]["count"] == 2

    # The run page shows the mask column of the error table.
    browser = Client()
    browser.force_login(org_admin)
    page = browser.get(f"/model_runs/{run.id}/diagnostics/", {"iou": "0.5", "confidence": "0"}).content.decode()
    assert 'id="error-kinds"' in page and "mask IoU" in page
    assert 'class="box-count"' not in page  # masks only: no box columns
    # Masks only: the summary, the class table and the charts are the masks' (the `segm` block), not empty box ones.
    segm = admin.get(f"/api/v1/model_runs/{run.id}/metrics?iou=0.5&confidence=0").json()["segm"]
    assert 'id="segm-summary"' in page and 'id="map50"' not in page
    assert f'<strong id="segm-map50">{segm["map50"]:.3f}</strong>' in page
    table = page.split('id="metric-table"', 1)[1].split("</table>", 1)[0]
    assert table.count("<tr data-schema-id=") == 2 and ">weed<" in table and ">crop<" in table
    assert "Confusion matrix · masks" in page and "Precision–recall per class · masks" in page
    for kind, count in (("false_positive", 2), ("false_negative", 2), ("confusion", 1), ("localisation", 1)):
        row = page.split(f'data-kind="{kind}"', 1)[1].split("</tr>", 1)[0]
        assert f'status={kind}#row-gallery">{count}</a></td>' in row.split('class="mask-count"', 1)[1]

    # No box records: the gallery shows the run's rows, and a mask error kind's rows through `status`.
    gallery = page.split('id="row-gallery"', 1)[1]
    assert gallery.count("<figure") == len(SCENE) and gallery.count('class="mask-layer"') == 10  # 5 gt + 5 pred sides
    local = browser.get(
        f"/model_runs/{run.id}/diagnostics/", {"iou": "0.5", "confidence": "0", "status": "localisation"}
    ).content.decode()
    figures = local.split('id="row-gallery"', 1)[1].split("<figure")[1:]
    assert len(figures) == 1 and rows[2].global_key in figures[0]
    # Its two layers: the ground truth in green over x 0-100, the prediction in orange over x 70-170 (image px).
    gt_png, pred_png = (
        figures[0].split(f'class="{side}"', 1)[1].split('href="data:image/png;base64,', 1)[1].split('"', 1)[0]
        for side in ("gt", "pred")
    )
    gt_layer, pred_layer = (np.asarray(Image.open(io.BytesIO(base64.b64decode(b)))) for b in (gt_png, pred_png))
    assert gt_layer.shape == pred_layer.shape == (300, 400, 4)  # 640 × 480 scaled to 400 px on the long side
    scale = 400 / 640
    inside, outside = (int(50 * scale), int(50 * scale)), (int(50 * scale), int(120 * scale))  # (y, x)
    assert tuple(gt_layer[inside][:3]) == (0x16, 0xA3, 0x4A) and gt_layer[inside][3] > 0
    assert gt_layer[outside][3] == 0 and pred_layer[outside][3] > 0 and pred_layer[inside][3] == 0
