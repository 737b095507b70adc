"""The model run page's gallery draws masks (issue 25) in Chromium: pixels of the row image under a ground-truth mask
are tinted green, under a predicted mask orange, elsewhere untouched. Screenshots at 1440×900 and 1366×768 when
TDP_E2E_SCREENSHOTS is set."""

from __future__ import annotations

import io
import os

import numpy as np
import pytest
from PIL import Image

from apps.labeling import services
from apps.ontologies import services as ontology_services
from apps.ontologies.domain import rle as R
from apps.predictions import services as prediction_services
from tests.e2e.test_labeling import IMAGE_H, IMAGE_W, uploaded_image_row
from tests.e2e.test_login import login
from tests.factories import TEST_PASSWORD
from tests.predictions.conftest import ndjson, post_ndjson  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SCREENSHOTS = os.environ.get("TDP_E2E_SCREENSHOTS", "")


def rect(y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
    m = np.zeros((IMAGE_H, IMAGE_W), np.uint8)
    m[y0:y1, x0:x1] = 1
    return m


GT = rect(20, 120, 20, 160)  # a weed
PRED = rect(180, 280, 220, 380)  # a prediction far from it: a false positive, and the weed is missed


@pytest.fixture
def mask_run(settings, tmp_path, org, org_admin, make_user, client_for, post_ndjson):  # noqa: F811
    settings.MEDIA_ROOT = str(tmp_path)
    row = uploaded_image_row(org, org_admin)
    ontology = ontology_services.ontology_create(
        organization=org, name="weeds", tools=[{"name": "weed", "tool": "mask"}], classifications=[], actor=org_admin
    )
    project = services.project_create(
        actor=org_admin, name="Weeds", ontology=ontology, instructions="", settings={"review": {"sample_rate": 0.0}}
    )
    labeler = make_user(role="labeler", organization=org, username="lana")
    services.project_member_set(actor=org_admin, project=project, user=labeler, role="labeler")
    services.batch_create(actor=org_admin, project=project, name="b1", data_row_ids=[str(row.pk)], priority=3)
    task = services.queue_claim(actor=labeler, project=project)
    services.label_submit(actor=labeler, task=task, annotations=[{"name": "weed", "mask": R.encode(GT).document()}])
    model = prediction_services.model_create(actor=org_admin, name="segmenter", ontology=project.ontology)
    run = prediction_services.model_run_create(actor=org_admin, model=model, name="v1")
    line = {
        "name": "weed",
        "mask": R.encode(PRED).document(),
        "confidence": 0.8,
        "data_row": {"global_key": row.global_key},
    }
    response = post_ndjson(org_admin, f"/api/v1/model_runs/{run.id}/predictions", ndjson([line]))
    assert response.status_code == 200 and response.json()["failed"] == 0, response.content
    snap = client_for(org_admin).post(
        f"/api/v1/model_runs/{run.id}/ground_truth", {"project": str(project.id)}, format="json"
    )
    assert snap.status_code == 201, snap.content
    return run


def test_gallery_tints_the_pixels_under_masks(page, mask_run, org_admin):
    org_admin.set_password(TEST_PASSWORD)
    org_admin.save()
    login(page, org_admin.username, TEST_PASSWORD)
    page.wait_for_url("**/")
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"/model_runs/{mask_run.id}/diagnostics/")
    figure = page.locator("#row-gallery figure").first
    figure.wait_for()
    assert page.locator("#row-gallery figure").count() == 1
    assert figure.locator("g.gt image.mask-layer").count() == 1
    assert figure.locator("g.pred image.mask-layer").count() == 1
    page.wait_for_function("() => [...document.querySelectorAll('#row-gallery img')].every((i) => i.complete)")
    overlay = figure.locator(".overlay")
    overlay.scroll_into_view_if_needed()
    shot = np.asarray(Image.open(io.BytesIO(overlay.screenshot())).convert("RGB")).astype(int)
    sh, sw = shot.shape[:2]

    def at(x: float, y: float) -> np.ndarray:  # image px → the screenshot's pixel
        return shot[int(y * sh / IMAGE_H), int(x * sw / IMAGE_W)]

    # The image is a gradient along y only: compare a point under a mask with one at the same height outside all.
    under_gt, beside_gt = at(90, 70), at(300, 70)
    under_pred, beside_pred = at(300, 230), at(100, 230)
    assert under_gt[1] - beside_gt[1] > 25 and under_gt[2] < beside_gt[2]  # greener (#16a34a), less blue
    assert under_pred[0] - beside_pred[0] > 60 and under_pred[2] < beside_pred[2]  # oranger (#f97316)
    assert np.abs(at(300, 150) - at(100, 150)).max() <= 3  # no mask on this line: untouched
    if SCREENSHOTS:
        os.makedirs(SCREENSHOTS, exist_ok=True)
        for width, height in ((1440, 900), (1366, 768)):
            page.set_viewport_size({"width": width, "height": height})
            figure.scroll_into_view_if_needed()
            page.wait_for_timeout(150)
            page.screenshot(path=os.path.join(SCREENSHOTS, f"mask-gallery-{width}x{height}.png"))
            page.locator("#error-kinds").scroll_into_view_if_needed()
            page.screenshot(path=os.path.join(SCREENSHOTS, f"mask-error-kinds-{width}x{height}.png"))
            page.evaluate("() => window.scrollTo(0, 0)")
            page.screenshot(path=os.path.join(SCREENSHOTS, f"mask-run-top-{width}x{height}.png"))
