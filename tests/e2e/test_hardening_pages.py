"""Pages changed for issue #28, in Chromium at two sizes: the run page states its thresholds and what its ground
truth leaves out; the project page counts data rows besides tasks. Screenshots go to $TDP_SHOTS_DIR when set."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from apps.predictions import services as prediction_services
from tests.diagnostics.conftest import PREDS, prediction_lines, scene  # noqa: F401
from tests.e2e.test_login import login
from tests.factories import TEST_PASSWORD
from tests.labeling.conftest import make_rows, members, ontology, project, project_factory  # noqa: F401
from tests.predictions.conftest import ndjson, post_ndjson  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SIZES = ((1440, 900), (1366, 768))


def shoot(page, name: str) -> None:
    folder = os.environ.get("TDP_SHOTS_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{folder}/{name}.png", full_page=False)


def test_run_page_thresholds_and_left_out_rows(page, scene, org_admin, client_for, post_ndjson):  # noqa: F811
    run = prediction_services.model_run_create(actor=org_admin, model=scene["model"], name="partial")
    partial = {i: PREDS[i] for i in (0, 2, 3)}
    assert (
        post_ndjson(
            org_admin, f"/api/v1/model_runs/{run.id}/predictions", ndjson(prediction_lines(scene["rows"], partial))
        ).status_code
        == 200
    )
    body = {"project": str(scene["project"].id), "scope": "run"}
    assert (
        client_for(org_admin).post(f"/api/v1/model_runs/{run.id}/ground_truth", body, format="json").status_code == 201
    )
    org_admin.set_password(TEST_PASSWORD)
    org_admin.save()
    login(page, org_admin.username, TEST_PASSWORD)
    page.wait_for_url("**/")
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"/model_runs/{run.id}/diagnostics/?confidence=0.3")
        thresholds = page.locator("#metric-thresholds")
        assert "IoU ≥ 0.5 and confidence ≥ 0.3" in thresholds.inner_text()
        warning = page.locator("#gt-left-out")
        assert warning.is_visible() and "1 done row of the project is not in this ground truth" in warning.inner_text()
        shoot(page, f"run-{width}")


def test_project_page_counts_rows(page, scene, org_admin):  # noqa: F811
    org_admin.set_password(TEST_PASSWORD)
    org_admin.save()
    login(page, org_admin.username, TEST_PASSWORD)
    page.wait_for_url("**/")
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"/projects/{scene['project'].id}/")
        assert page.locator("#row-progress").inner_text() == "4 of 4 data rows done"
        shoot(page, f"project-{width}")
